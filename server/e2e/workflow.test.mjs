// The sitting's workflow in the review desk, in Chromium against a real
// `tocky serve` (see harness.mjs): a stenographer asks to check a sitting
// with unreviewed segments and is refused with the server's reason, then
// reviews and checks it; an editor approves and publishes it while a second
// page follows live; a correction after publication sends the bar back to
// draft on every page, and is listed as pending (in the versions panel and
// the publish form); the editor publishes v2 with a reason for it; the
// versions panel lists v1 and v2 with the correction, where it is (a click
// goes there), before, after and why.
// Run: scripts/e2e

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, shot, patchFromPage, USERS, useDesk, callFromPage, assertNoPageErrors } from './harness.mjs';

const EDITOR = 'editor1';

const desk = useDesk({}, async () => {
  // An editor, added by the admin through the API as a person would.
  USERS[EDITOR] = { role: 'editor', password: 'e2e-editor1-Passw0rd!' };
  const admin = await page('admin');
  const r = await callFromPage(admin, 'POST', '/api/users', { username: EDITOR, password: USERS[EDITOR].password, role: 'editor' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
const page = desk.page;

/** Waits until the page's workflow bar says `state`. */
function barSays(p, state) {
  return p.waitForFunction((s) => document.querySelector('#workflow-bar')?.dataset.state === s, state, { timeout: 15_000 });
}

/** Marks every speech segment reviewed (through the API, as the desk's r key does). */
async function reviewAll(p) {
  const segs = await callFromPage(p, 'GET', `/api/sessions/${desk.env.sessionId}/segments`);
  for (const s of segs.body.filter((x) => x.state === 'speech' && x.review_status !== 'reviewed')) {
    const r = await patchFromPage(p, desk.env, s.id, { review_status: 'reviewed' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

// A correction after publication: hostile text must stay text.
const CORRECTED = 'đã sửa <img src=x onerror="window.__pwned=1"> & "trích dẫn"';
const REASON = 'Theo đề nghị của đại biểu <b>Lan</b>';
let corrected;
let steno;
let editor;
let watcher;

test('1. a stenographer is refused with the reason while segments are unreviewed, then reviews and checks', { timeout: 90_000 }, async () => {
  steno = await page('steno1');
  await openSession(steno, desk.env);
  await barSays(steno, 'draft');
  assert.equal(await steno.textContent('#workflow-state'), 'Bản nháp');
  assert.match(await steno.textContent('#workflow-counts'), /chưa duyệt/);
  // Only a stenographer's steps are offered: check (and send back, later).
  assert.equal(await steno.locator('.workflow-step[data-to="approved"], .workflow-step[data-to="published"], .workflow-step[data-to="final"]').count(), 0);
  assert.ok(await steno.isVisible('.workflow-step[data-to="checked"]'));

  // The key asks; the server refuses and says why, in place.
  await steno.evaluate(() => document.activeElement?.blur());
  await steno.keyboard.press('Alt+Shift+KeyC');
  await steno.waitForSelector('#workflow-message:not([hidden])');
  assert.match(await steno.textContent('#workflow-message'), /\d+ segments? (is|are) not reviewed yet/);
  await barSays(steno, 'draft');

  await reviewAll(steno);
  await steno.waitForFunction(() => /đã duyệt cả/.test(document.querySelector('#workflow-counts')?.textContent || ''), null, { timeout: 15_000 });
  await steno.click('.workflow-step[data-to="checked"]');
  await barSays(steno, 'checked');
  assert.ok(await steno.isHidden('#workflow-message'));
  assert.equal(await steno.textContent('#workflow-state'), 'Đã kiểm tra');
  assertNoPageErrors(steno);
});

test('2. an editor approves and publishes with a note; a second page follows live', { timeout: 90_000 }, async () => {
  editor = await page(EDITOR);
  await openSession(editor, desk.env);
  watcher = await page('reader1');
  await openSession(watcher, desk.env);
  await barSays(editor, 'checked');
  await barSays(watcher, 'checked');
  // A reader is offered no step at all.
  assert.equal(await watcher.locator('.workflow-step').count(), 0);
  await watcher.waitForSelector('#live-status.live-on');

  await editor.click('.workflow-step[data-to="approved"]');
  await barSays(editor, 'approved');
  await barSays(watcher, 'approved');

  await editor.evaluate(() => document.activeElement?.blur());
  await editor.keyboard.press('Alt+Shift+KeyP');
  await editor.waitForSelector('#workflow-form[data-to="published"] .pending-head');
  assert.equal(await editor.textContent('.pending-head'), 'Bản công bố đầu tiên: v1.');
  await editor.fill('#workflow-note', 'Bản tạm thời trong ngày');
  await editor.click('#workflow-submit');
  await barSays(editor, 'published');
  await barSays(watcher, 'published');
  assert.match(await watcher.textContent('#workflow-published'), /v1 \(tạm thời/);
  await shot(editor, 'workflow-published');
  assertNoPageErrors(editor);
  assertNoPageErrors(watcher);
});

test('3. a correction after publication sends every page back to draft and is pending', { timeout: 90_000 }, async () => {
  const segs = await callFromPage(steno, 'GET', `/api/sessions/${desk.env.sessionId}/segments`);
  corrected = segs.body.filter((s) => s.state === 'speech')[1];
  const r = await patchFromPage(steno, desk.env, corrected.id, { text: CORRECTED, review_status: 'reviewed' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // The store's triggers moved it; the pages hear it live, none reloads.
  await barSays(editor, 'draft');
  await barSays(watcher, 'draft');
  await barSays(steno, 'draft');
  // Readers still see v1.
  assert.match(await watcher.textContent('#workflow-published'), /v1/);
  // The versions panel shows the correction as pending, before v2 exists.
  await editor.click('#versions-toggle');
  const pendingItem = `#versions-panel .version-pending .correction[data-target-id="${corrected.id}"]`;
  await editor.waitForSelector(pendingItem);
  assert.equal(await editor.textContent(`${pendingItem} ins.after`), CORRECTED);
  assert.match(await editor.textContent('#versions-panel .version-pending .version-count'), /chưa công bố · 1 sửa đổi so với v1/);

  // Checked and approved again, the publish form lists the correction.
  await editor.click('.workflow-step[data-to="checked"]');
  await barSays(editor, 'checked');
  await editor.click('.workflow-step[data-to="approved"]');
  await barSays(editor, 'approved');
  await editor.click('.workflow-step[data-to="published"]');
  const item = `.pending-correction[data-target="segment"][data-target-id="${corrected.id}"]`;
  await editor.waitForSelector(item);
  assert.equal(await editor.textContent('.pending-head'), 'Phiên bản v2, sửa bản v1: 1 sửa đổi.');
  assert.equal(await editor.textContent(`${item} del.before`), corrected.text);
  assert.equal(await editor.textContent(`${item} ins.after`), CORRECTED);
  assert.equal(await editor.locator('#workflow-form img').count(), 0);
  await shot(editor, 'workflow-pending');

  await editor.fill(`${item} input.reason`, REASON);
  // Enter in a reason field does not publish.
  await editor.press(`${item} input.reason`, 'Enter');
  await barSays(editor, 'approved');
  await editor.fill('#workflow-note', 'Bản sửa');
  await editor.click('#workflow-submit');
  await barSays(editor, 'published');
  await barSays(watcher, 'published');
  // Published: the open panel lists v2, and nothing is pending.
  await editor.waitForSelector('#versions-panel .version[data-number="2"]');
  assert.equal(await editor.locator('#versions-panel .version-pending').count(), 0);
  assertNoPageErrors(editor);
});

test('4. the versions panel lists v1 and v2 with the correction, where, before, after and why', { timeout: 90_000 }, async () => {
  await watcher.click('#versions-toggle');
  await watcher.waitForSelector('#versions-panel .version[data-number="2"] .correction');
  const numbers = await watcher.$$eval('#versions-panel .version', (vs) => vs.map((v) => v.dataset.number));
  assert.deepEqual(numbers, ['2', '1']);
  const v2 = '#versions-panel .version[data-number="2"]';
  assert.match(await watcher.textContent(`${v2} .version-head`), /v2 tạm thời · công bố bởi editor1 .* SHA-256 [0-9a-f]{12}… · 1 sửa đổi so với v1/);
  assert.equal(await watcher.textContent(`${v2} .version-note`), 'Ghi chú: Bản sửa');
  assert.equal(await watcher.textContent(`${v2} .correction del.before`), corrected.text);
  assert.equal(await watcher.textContent(`${v2} .correction ins.after`), CORRECTED);
  assert.equal(await watcher.textContent(`${v2} .correction .reason-text`), REASON);
  assert.equal(await watcher.locator('#versions-panel img, #versions-panel b').count(), 0);
  assert.equal(await watcher.evaluate(() => window.__pwned), undefined);
  assert.match(await watcher.textContent('#versions-panel .version[data-number="1"] .version-count'), /bản đầu tiên/);

  // Links: the version's exports and its public page.
  assert.equal(await watcher.getAttribute(`${v2} .export-json`, 'href'), `/api/sessions/${desk.env.sessionId}/export/json?version=2`);
  assert.equal(await watcher.getAttribute(`${v2} .version-public`, 'href'), `/records/${desk.env.sessionId}/v/2`);
  const exported = await watcher.evaluate(async (href) => {
    const res = await fetch(href, { credentials: 'same-origin' });
    return { status: res.status, text: await res.text() };
  }, await watcher.getAttribute(`${v2} .export-json`, 'href'));
  assert.equal(exported.status, 200);
  assert.ok(exported.text.includes('trích dẫn'), 'v2 holds the correction');

  // The public page of v2 answers (helper B's /records pages).
  const publicPage = await watcher.evaluate(async (href) => (await fetch(href, { credentials: 'same-origin' })).status,
    await watcher.getAttribute(`${v2} .version-public`, 'href'));
  assert.equal(publicPage, 200);

  // Where: a click selects the corrected segment.
  await watcher.click(`${v2} .correction .where`);
  await watcher.waitForSelector(`.segment.selected[data-id="${corrected.id}"]`);
  await shot(watcher, 'workflow-versions');
  assertNoPageErrors(watcher);
});

test('5. the help overlay lists the workflow keys; the server still refuses a stenographer', { timeout: 60_000 }, async () => {
  await steno.evaluate(() => document.activeElement?.blur());
  await steno.keyboard.press('?');
  await steno.waitForSelector('#help-overlay:not([hidden])');
  const text = await steno.textContent('#help-overlay');
  assert.match(text, /Alt\+Shift\+C/);
  assert.match(text, /Alt\+Shift\+P/);
  await steno.keyboard.press('Escape');
  // No button, and the key says it is not this account's step; the API refuses.
  await steno.keyboard.press('Alt+Shift+KeyF');
  const r = await callFromPage(steno, 'POST', `/api/sessions/${desk.env.sessionId}/workflow`, { to: 'final' });
  assert.equal(r.status, 403);
  await barSays(steno, 'published');
  assertNoPageErrors(steno);
});

test('6. an editor makes v2 final through its form; every page follows', { timeout: 60_000 }, async () => {
  await editor.evaluate(() => document.activeElement?.blur());
  await editor.keyboard.press('Alt+Shift+KeyF');
  await editor.waitForSelector('#workflow-form[data-to="final"]');
  // Esc closes the form and nothing moves.
  await editor.press('#workflow-note', 'Escape');
  await editor.waitForSelector('#workflow-form', { state: 'detached' });
  await editor.click('.workflow-step[data-to="final"]');
  await editor.fill('#workflow-note', 'Bản chính thức');
  await editor.click('#workflow-submit');
  await barSays(editor, 'final');
  await barSays(watcher, 'final');
  assert.match(await watcher.textContent('#workflow-last'), /editor1 .*Đã công bố \(tạm thời\) → Bản chính thức \(«Bản chính thức»\)/);
  await watcher.waitForFunction(() => /chính thức · .*chốt bởi editor1/.test(document.querySelector('#versions-panel .version[data-number="2"] .version-head')?.textContent || ''), null, { timeout: 15_000 });
  assertNoPageErrors(editor);
  assertNoPageErrors(watcher);
});

test('7. a stenographer sends a checked sitting back to draft with a reason', { timeout: 60_000 }, async () => {
  // Errata after the final version: a change reopens it.
  const r = await patchFromPage(steno, desk.env, corrected.id, { text: 'đã sửa lần nữa', review_status: 'reviewed' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await barSays(steno, 'draft');
  assert.match(await steno.textContent('#workflow-last'), /biên bản thay đổi .*Bản chính thức → Bản nháp/);
  await steno.click('.workflow-step[data-to="checked"]');
  await barSays(steno, 'checked');
  await steno.evaluate(() => document.activeElement?.blur());
  await steno.keyboard.press('Alt+Shift+KeyD');
  await steno.waitForSelector('#workflow-form[data-to="draft"]');
  await steno.fill('#workflow-note', 'Thiếu một đoạn');
  await steno.click('#workflow-submit');
  await barSays(steno, 'draft');
  await barSays(editor, 'draft');
  assert.match(await editor.textContent('#workflow-last'), /steno1 .*Đã kiểm tra → Bản nháp \(«Thiếu một đoạn»\)/);
  // Readers still see the final v2.
  assert.match(await editor.textContent('#workflow-published'), /v2 \(chính thức/);
  assertNoPageErrors(steno);
  assertNoPageErrors(editor);
});
