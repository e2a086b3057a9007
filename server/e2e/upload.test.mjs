// The upload page (#/upload) in Chromium against a real `tocky serve` (see
// harness.mjs): a stenographer picks a recording named by date and title,
// sees them prefilled, uploads it in chunks with a progress bar and finds
// the queued job in the list; an upload cut off half-way (the page closed)
// resumes from the server's offset (HEAD) in a new page, and the stored
// file is the file; a reader has no upload link and is told so.
// Run: scripts/e2e   (or: node --test --test-concurrency=1 server/e2e/)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertNoPageErrors, callFromPage, repoRoot, shot, useDesk } from './harness.mjs';

const desk = useDesk();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tocky-e2e-upload-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of a fixture clip under `name`; returns its path. */
function clip(fixture, name) {
  const to = path.join(tmp, name);
  fs.copyFileSync(path.join(repoRoot, 'fixtures', 'vi', fixture), to);
  return to;
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('a recording is uploaded with progress and listed as a queued job', { timeout: 120_000 }, async () => {
  const p = await desk.page('steno1');
  await p.waitForSelector('#nav-upload:not([hidden])');
  await p.goto(`${desk.env.base}#/upload?chunk=32768`);
  await p.waitForSelector('#upload-drop');
  const file = clip('vivos_VIVOSDEV01_R002.wav', '2026-10-21 Phiên họp sáng.wav');
  await p.setInputFiles('#upload-files', file);
  const item = p.locator('.upload-item');
  await item.waitFor();
  assert.equal(await item.locator('.upload-title').inputValue(), 'Phiên họp sáng');
  assert.equal(await item.locator('.upload-date').inputValue(), '2026-10-21');

  // Every PATCH's progress is recorded, so that the bar is seen to move.
  await p.evaluate(() => {
    window.seen = [];
    const bar = document.querySelector('.upload-progress');
    new MutationObserver(() => window.seen.push(bar.value)).observe(document.querySelector('.upload-item'), { attributes: true, attributeFilter: ['data-sent'] });
  });
  await item.locator('.upload-one').click();
  await p.waitForSelector('.upload-item[data-state="stored"]');
  await p.waitForFunction(() => /xếp hàng/.test(document.querySelector('.upload-status').textContent));
  const seen = await p.evaluate(() => window.seen);
  assert.ok(seen.length >= 3, `several chunks: ${seen}`);
  assert.ok(seen.some((v) => v > 0 && v < 1), `a partial bar was shown: ${seen}`);
  assert.equal(await item.locator('.upload-pct').textContent(), '100%');

  // The job list shows it, queued, titled from the file name.
  const row = p.locator('#job-table .job-row').first();
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'queued');
  assert.match(await row.textContent(), /Phiên họp sáng/);
  assert.match(await row.textContent(), /2026-10-21/);
  const jobs = await callFromPage(p, 'GET', '/api/jobs');
  assert.equal(jobs.status, 200);
  assert.equal(jobs.body[0].audio.sha256, sha256(file));
  assert.equal(jobs.body[0].title, 'Phiên họp sáng');
  await shot(p, 'upload-done');
  assertNoPageErrors(p);
});

test('an upload cut off half-way resumes from the server\'s offset in a new page', { timeout: 120_000 }, async () => {
  const first = await desk.page('steno1');
  const context = first.context();
  const chunk = 16384;
  const file = clip('cv_common_voice_vi_23397238.wav', 'phien-chieu.wav');
  const size = fs.statSync(file).size;
  assert.ok(size > 6 * chunk);

  // Three chunks go through; from the fourth on the connection fails
  // before the server sees a byte (the page retries from HEAD, in vain).
  let patches = 0;
  await first.route('**/api/uploads/*', async (route) => {
    if (route.request().method() === 'PATCH' && ++patches > 3) await route.abort('connectionreset');
    else await route.continue();
  });
  await first.goto(`${desk.env.base}#/upload?chunk=${chunk}`);
  await first.waitForSelector('#upload-drop');
  await first.setInputFiles('#upload-files', file);
  await first.locator('.upload-one').click();
  await first.waitForFunction((n) => Number(document.querySelector('.upload-item').dataset.sent) === n, 3 * chunk);
  const shownBefore = await first.locator('.upload-pct').textContent();
  assert.equal(shownBefore, `${Math.floor((300 * chunk) / size)}%`);
  await first.close();

  // A new page of the same browser: the file picked again resumes where
  // the server says (HEAD), not from 0.
  const second = await context.newPage();
  second.uncaught = [];
  second.on('pageerror', (err) => second.uncaught.push(err));
  const patchOffsets = [];
  second.on('request', (r) => {
    if (r.method() === 'PATCH') patchOffsets.push(Number(r.headers()['upload-offset']));
  });
  await second.goto(`${desk.env.base}#/upload?chunk=${chunk}`);
  await second.waitForSelector('#upload-drop');
  await second.setInputFiles('#upload-files', file);
  const item = second.locator('.upload-item');
  assert.equal(await item.locator('.upload-one').textContent(), 'Tiếp tục tải lên');
  await item.locator('.upload-one').click();
  await second.waitForSelector('.upload-item[data-state="stored"]');
  // Stored, then submitted as a job: wait for the row to say so.
  await second.waitForFunction(() => /xếp hàng/.test(document.querySelector('.upload-status').textContent));
  assert.equal(await item.getAttribute('data-resumed-at'), String(3 * chunk));
  assert.equal(patchOffsets[0], 3 * chunk, `the first PATCH resumed at the server's offset: ${patchOffsets}`);

  // The stored file is the file, whole.
  const jobs = await callFromPage(second, 'GET', '/api/jobs?mine=true');
  const job = jobs.body.find((j) => j.audio.name === 'phien-chieu.wav');
  assert.ok(job, 'the resumed upload became a job');
  assert.equal(job.audio.sha256, sha256(file));
  assert.equal(job.audio.bytes, size);
  await second.locator(`#job-table .job-row[data-id="${job.id}"]`).waitFor();
  assertNoPageErrors(second);
});

test('a file that is not audio is uploaded but refused as a job, clearly', { timeout: 60_000 }, async () => {
  const p = await desk.page('steno2');
  await p.goto(`${desk.env.base}#/upload`);
  await p.waitForSelector('#upload-drop');
  const notes = path.join(tmp, 'ghi-chu.txt');
  fs.writeFileSync(notes, 'Biên bản, không phải âm thanh.\n');
  await p.setInputFiles('#upload-files', notes);
  await p.locator('.upload-one').click();
  await p.waitForSelector('.upload-item[data-state="stored"]');
  assert.match(await p.locator('.upload-status').textContent(), /không phải âm thanh/);
  assertNoPageErrors(p);
});

test('a reader has no upload link and the page says why', { timeout: 60_000 }, async () => {
  const p = await desk.page('reader1');
  assert.equal(await p.locator('#nav-upload').isHidden(), true);
  await p.goto(`${desk.env.base}#/upload`);
  await p.waitForSelector('main .error');
  assert.match(await p.locator('main .error').textContent(), /Chỉ thư ký tốc ký/);
  const created = await callFromPage(p, 'POST', '/api/jobs', { upload_id: '0'.repeat(32) });
  assert.equal(created.status, 403);
});
