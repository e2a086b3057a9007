// The review desk's registry picker and recognition on request, in Chromium
// against a real `tocky serve` that has loaded the model (see harness.mjs):
// a stenographer links a row's speaker to a registry person by keyboard
// (searched without diacritics), another editor sees it live, a relink
// renames it there too; an insert's text is recognised from the gap's audio
// (Alt+N) and saved with its words. Run: scripts/e2e

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, shot, useDesk, callFromPage, selectByKeys } from './harness.mjs';


const desk = useDesk({ model: true });
const page = desk.page;

function selectedSpeakerText(p, id) {
  return p.$eval(`.segment[data-id="${id}"] select.speaker`, (s) => s.selectedOptions[0]?.text || '');
}

test('d1. a row\'s speaker is linked to a registry person by keyboard, live for another editor', { timeout: 120_000 }, async () => {
  const admin = await page('admin');
  for (const person of [
    { key: 'e2e-0001', name: 'Trần Thanh Mẫn', delegation: 'Hậu Giang', roles: [{ role: 'chair', title: 'Chủ tịch Quốc hội', valid_from: '2024-05-20' }] },
    { key: 'e2e-0002', name: 'Nguyễn Thị Thanh', delegation: 'Ninh Bình', roles: [{ role: 'vice_chair', valid_from: '2021-07-20' }] },
  ]) {
    const r = await callFromPage(admin, 'POST', '/api/people', person);
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const steno = await page('steno1');
  const other = await page('steno2');
  await openSession(steno, desk.env);
  await openSession(other, desk.env);
  await other.waitForSelector('#live-status.live-on');
  const seg = desk.env.segments[0];
  await selectByKeys(steno, seg.id);
  await steno.keyboard.press('l');
  await steno.waitForSelector('#person-search');
  // Without diacritics: the server folds them.
  await steno.keyboard.type('tran thanh');
  await steno.waitForFunction(() => {
    const opts = [...document.querySelectorAll('#person-results .person-option')];
    return opts.length === 1 && /Chủ tịch Quốc hội Trần Thanh Mẫn/.test(opts[0].textContent);
  });
  await shot(steno, 'desk-person-picker');
  await steno.keyboard.press('Enter');
  await steno.waitForSelector('#person-search', { state: 'detached' });
  // The row had no speaker: it gets one named after the person, linked.
  await steno.waitForFunction((id) => /Chủ tịch Quốc hội Trần Thanh Mẫn/.test(
    document.querySelector(`.segment[data-id="${id}"] select.speaker`).selectedOptions[0]?.text || ''), seg.id);
  const detail = (await callFromPage(steno, 'GET', `/api/sessions/${desk.env.sessionId}`)).body;
  const sp = detail.speakers.find((s) => s.name === 'Trần Thanh Mẫn');
  assert.ok(sp && sp.person_id != null, JSON.stringify(detail.speakers));
  // Focus is back on the row: the keys work again.
  assert.equal(await steno.evaluate(() => document.activeElement?.classList.contains('segment')), true);
  await other.waitForFunction((id) => /Chủ tịch Quốc hội Trần Thanh Mẫn/.test(
    document.querySelector(`.segment[data-id="${id}"] select.speaker`).selectedOptions[0]?.text || ''), seg.id);

  // Relinked (chosen with ↓ among two), and the other editor's page follows.
  await steno.keyboard.press('l');
  await steno.waitForSelector('#person-search');
  await steno.keyboard.type('thanh');
  await steno.waitForFunction(() => document.querySelectorAll('#person-results .person-option').length === 2);
  const names = await steno.$$eval('#person-results .person-option .person-name', (n) => n.map((x) => x.textContent));
  if (!/Nguyễn Thị Thanh/.test(names[0])) await steno.keyboard.press('ArrowDown');
  await steno.keyboard.press('Enter');
  await other.waitForFunction((id) => /Trần Thanh Mẫn — Phó Chủ tịch Quốc hội Nguyễn Thị Thanh/.test(
    document.querySelector(`.segment[data-id="${id}"] select.speaker`).selectedOptions[0]?.text || ''), seg.id);
  assert.match(await selectedSpeakerText(steno, seg.id), /Nguyễn Thị Thanh/);

  // Esc closes the picker without a change.
  await steno.keyboard.press('l');
  await steno.waitForSelector('#person-search');
  await steno.keyboard.press('Escape');
  await steno.waitForSelector('#person-search', { state: 'detached' });
  assert.deepEqual(steno.uncaught.map(String), []);
  assert.deepEqual(other.uncaught.map(String), []);
});

test('d2. an inserted range is recognised from the audio (Alt+N), checked and saved with its words', { timeout: 180_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  // A gap with speech in it: the second segment is cut down to its first
  // 100 ms, leaving the rest of what it said without a segment.
  const segs = (await callFromPage(p, 'GET', `/api/sessions/${desk.env.sessionId}/segments`)).body.filter((s) => s.state === 'speech');
  const seg = segs.find((s) => s.end_ms - s.start_ms > 1500 && s.text.trim().split(/\s+/).length >= 3);
  assert.ok(seg, 'a segment with speech');
  const cut = await callFromPage(p, 'POST', `/api/segments/${seg.id}/bounds`, { version: seg.version, start_ms: seg.start_ms, end_ms: seg.start_ms + 100 });
  assert.equal(cut.status, 200, JSON.stringify(cut.body));
  await p.waitForFunction((id) => document.querySelector(`.segment[data-id="${id}"]`), seg.id);
  await selectByKeys(p, seg.id);
  // The playhead out of the gap, so that the insert starts where the segment ends.
  await p.evaluate((ms) => { const a = document.querySelector('#audio'); a.pause(); a.currentTime = ms / 1000; }, seg.start_ms);
  await p.keyboard.press('i');
  const input = p.locator('.op-form input[name="text"]');
  await input.waitFor();
  await p.keyboard.press('Alt+n');
  await p.waitForFunction(() => document.querySelector('.op-form input[name="text"]')?.value.trim().length > 0
    || /Không/.test(document.querySelector('.op-status')?.textContent || ''), null, { timeout: 90_000 });
  const heard = await input.inputValue();
  assert.ok(heard.trim(), await p.textContent('.op-status'));
  // What it heard is (mostly) what the segment said.
  const said = new Set(seg.text.toLowerCase().split(/\s+/));
  const common = heard.toLowerCase().split(/\s+/).filter((w) => said.has(w)).length;
  assert.ok(common >= 2, `"${heard}" against "${seg.text}"`);
  await shot(p, 'desk-recognised');
  await p.keyboard.press('Enter');
  await p.waitForSelector('.op-form', { state: 'detached' });
  // The form closes at once; the row comes with the server's answer.
  await p.waitForFunction(({ id, start }) => [...document.querySelectorAll(`.segment[data-start="${start}"]`)]
    .some((r) => Number(r.dataset.id) !== id), { id: seg.id, start: seg.start_ms + 100 });
  const after = (await callFromPage(p, 'GET', `/api/sessions/${desk.env.sessionId}/segments`)).body;
  const known = new Set(segs.map((s) => s.id));
  const added = after.find((s) => !known.has(s.id) && s.start_ms === seg.start_ms + 100);
  assert.ok(added, JSON.stringify(after.map((s) => [s.id, s.start_ms])));
  assert.equal(added.text, heard.trim());
  // Saved unchanged: its recognised words, already aligned.
  assert.equal(added.words_aligned, true, JSON.stringify({ heard, added }));
  assert.equal(added.words.map((w) => w.text).join(' '), heard.trim());
  assert.ok(added.words.every((w) => w.start_ms >= added.start_ms && w.end_ms <= added.end_ms));
  await p.waitForFunction((id) => document.querySelector(`.segment[data-id="${id}"] .word`), added.id);
  assert.deepEqual(p.uncaught.map(String), []);
});
