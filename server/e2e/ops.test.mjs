// The segment operations in Chromium against a real `tocky serve` (see
// harness.mjs and session/ops.js): split, merge, not speech, bounds, insert
// (and its recognition refused without a model),
// undo, the agenda and scene notes, by keyboard only; two editors at once;
// a reader. Run: scripts/e2e

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, shot, patchFromPage, useDesk, assertNoPageErrors, serverSegments, selectByKeys, shownIds } from './harness.mjs';


const desk = useDesk();
const page = desk.page;

function waitShown(p, n) {
  return p.waitForFunction((n) => document.querySelectorAll('.segment:not(.gone)').length === n, n);
}

function rowText(p, id) {
  return p.locator(`.segment[data-id="${id}"] > .body > .text`).textContent().then((t) => t.trim());
}

/** Puts the playhead on word `i` of segment `seg` (as a click on the word would). */
async function playheadOnWord(p, seg, i) {
  await p.evaluate((ms) => { document.querySelector('#audio').currentTime = ms / 1000; }, seg.words[i].start_ms + 20);
  await p.waitForSelector(`.segment[data-id="${seg.id}"] .word.current-word[data-index="${i}"]`);
}

/** A segment with at least three words, from the server. */
async function wordySegment(p, skip = []) {
  const segs = (await serverSegments(p, desk.env)).filter((s) => s.state !== 'removed' && !skip.includes(s.id));
  const seg = segs.find((s) => (s.words || []).length >= 3);
  assert.ok(seg, 'a segment with three words');
  return seg;
}

test('o1. split at the caret (Alt+s), then before the word under the playhead (s), each undone with u', { timeout: 60_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  await p.waitForSelector('#live-status.live-on');
  const segs = await serverSegments(p, desk.env);
  const n = segs.length;
  const seg = segs[0];
  await selectByKeys(p, seg.id);
  await p.keyboard.press('Enter');
  const ta = p.locator(`.segment[data-id="${seg.id}"] textarea.edit-text`);
  await ta.waitFor();
  const value = await ta.inputValue();
  const cut = value.indexOf(' ', value.trim().length > 0 ? value.search(/\S/) + 1 : 0) + 1;
  assert.ok(cut > 0, `a space in "${value}"`);
  await p.keyboard.press('Control+Home');
  for (let i = 0; i < cut; i++) await p.keyboard.press('ArrowRight');
  await p.keyboard.press('Alt+s');
  await waitShown(p, n + 1);
  await ta.waitFor({ state: 'detached' });
  const ids = await shownIds(p);
  const newId = ids[ids.indexOf(seg.id) + 1];
  assert.equal(await rowText(p, seg.id), value.slice(0, cut).trim());
  assert.equal(await rowText(p, newId), value.slice(cut).trim());
  // Words not yet re-timed are marked, and the mark follows the server.
  await p.waitForFunction(async (sid) => {
    const all = await (await fetch(`/api/sessions/${sid}/segments`)).json();
    return all.filter((s) => s.state !== 'removed').every((s) =>
      document.querySelector(`.segment[data-id="${s.id}"]`).classList.contains('unaligned') === !s.words_aligned);
  }, desk.env.sessionId, { polling: 500, timeout: 30_000 });
  await shot(p, 'ops-split');

  await p.keyboard.press('u');
  await waitShown(p, n);
  assert.equal(await rowText(p, seg.id), value.trim());
  assert.equal(await p.locator(`.segment[data-id="${newId}"]:not(.gone)`).count(), 0);

  // Not editing: before the word under the playhead.
  const wordy = await wordySegment(p);
  await selectByKeys(p, wordy.id);
  await playheadOnWord(p, wordy, 2);
  await p.keyboard.press('s');
  await waitShown(p, n + 1);
  const after = await shownIds(p);
  const right = after[after.indexOf(wordy.id) + 1];
  assert.ok((await rowText(p, right)).startsWith(wordy.words[2].text.trim()));
  await p.keyboard.press('u');
  await waitShown(p, n);
  assert.equal(await rowText(p, wordy.id), wordy.text.trim());
  assertNoPageErrors(p);
});

test('o2. merge with the next (m), not speech (x) hidden from the record, bounds ([ ] t) bounded by neighbours', { timeout: 60_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  const segs = await serverSegments(p, desk.env);
  const n = segs.length;
  const [a, b] = [segs[1], segs[2]];
  await selectByKeys(p, a.id);
  await p.keyboard.press('m');
  await waitShown(p, n - 1);
  assert.equal(await p.locator(`.segment.gone[data-id="${b.id}"]`).count(), 1);
  const merged = await rowText(p, a.id);
  assert.ok(merged.includes(b.text.trim()) && merged.startsWith(a.text.trim()), merged);
  assert.equal(await p.getAttribute('.segment.selected', 'data-id'), String(a.id));
  await p.keyboard.press('u');
  await waitShown(p, n);
  assert.equal(await rowText(p, a.id), a.text.trim());

  // Not speech, in the record view: the row leaves it, the selection moves on.
  await p.keyboard.press('v');
  await p.waitForSelector('#segments.record-mode');
  await selectByKeys(p, a.id);
  await p.keyboard.press('x');
  await p.waitForSelector(`.segment.not-speech[data-id="${a.id}"]`, { state: 'attached' });
  assert.equal(await p.locator(`.segment[data-id="${a.id}"]`).isVisible(), false);
  assert.notEqual(await p.getAttribute('.segment.selected', 'data-id'), String(a.id), 'the selection moved to a row shown');
  // The segment view still shows it, marked; x makes it speech again.
  await p.keyboard.press('v');
  await p.waitForSelector(`.segment.not-speech[data-id="${a.id}"]`, { state: 'visible' });
  await selectByKeys(p, a.id);
  await p.keyboard.press('x');
  await p.waitForSelector(`.segment[data-id="${a.id}"]:not(.not-speech)`);

  // ] moves the start 100 ms later, [ back.
  await p.keyboard.press(']');
  await p.waitForSelector(`.segment[data-id="${a.id}"][data-start="${a.start_ms + 100}"]`);
  await p.keyboard.press('[');
  await p.waitForSelector(`.segment[data-id="${a.id}"][data-start="${a.start_ms}"]`);
  // The end at a playhead inside the next segment crosses it: the server's 400.
  await p.evaluate((ms) => { document.querySelector('#audio').currentTime = ms / 1000; }, Math.round((b.start_ms + b.end_ms) / 2));
  await p.keyboard.press('t');
  await p.waitForSelector('#toast.toast-error:not([hidden])');
  assert.match(await p.textContent('#toast'), /Chưa làm được: \S/);
  const now = (await serverSegments(p, desk.env)).find((s) => s.id === a.id);
  assert.equal(now.end_ms, a.end_ms);
  assertNoPageErrors(p);
});

test('o3. insert into a gap (i), a new agenda item (a) and a scene note (c), shown in the record and undone', { timeout: 60_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  const segs = await serverSegments(p, desk.env);
  const n = segs.length;
  // The segment with the widest gap after it.
  let at = 0;
  for (let i = 0; i + 1 < n; i++) if (segs[i + 1].start_ms - segs[i].end_ms > segs[at + 1].start_ms - segs[at].end_ms) at = i;
  assert.ok(segs[at + 1].start_ms - segs[at].end_ms >= 100, 'a gap of 100 ms');
  await selectByKeys(p, segs[at].id);
  await p.keyboard.press('i');
  await p.waitForSelector('.op-form input:focus');
  // This server loads no model: asking for recognition (Alt+N) says so, and
  // the text is typed (desk.test.mjs recognises with the model).
  await p.keyboard.press('Alt+n');
  await p.waitForFunction(() => /chưa nạp mô hình/.test(document.querySelector('.op-status')?.textContent || ''));
  await p.waitForSelector('.op-form input:focus');
  const text = 'Đoạn chèn <b>thêm</b> bằng bàn phím';
  await p.keyboard.type(text);
  await p.keyboard.press('Enter');
  await waitShown(p, n + 1);
  const ids = await shownIds(p);
  const added = ids[ids.indexOf(segs[at].id) + 1];
  assert.equal(await rowText(p, added), text);
  assert.equal(await p.locator('.segment b').count(), 0, 'text only');
  // The new row is selected once its answer is in (the row itself may
  // arrive first, over the live channel).
  await p.waitForSelector(`.segment.selected[data-id="${added}"]`);
  await p.keyboard.press('u');
  await waitShown(p, n);

  // In the record view: an agenda item from the second segment, a note after it.
  await p.keyboard.press('v');
  await p.waitForSelector('#segments.record-mode');
  await selectByKeys(p, segs[1].id);
  await p.keyboard.press('a');
  await p.waitForSelector('.op-form input:focus');
  await p.keyboard.type('Mục thử nghiệm');
  await p.keyboard.press('Enter');
  await p.waitForSelector('.record-agenda-title:text-is("Mục thử nghiệm")');
  await p.keyboard.press('c');
  await p.waitForSelector('.op-form select:focus');
  await p.keyboard.press('ArrowDown'); // gavel
  await p.keyboard.press('Tab');
  await p.keyboard.type('kết thúc phần một');
  await p.keyboard.press('Enter');
  await p.waitForSelector('.record-note:text-is("(Gõ búa: kết thúc phần một)")');
  await shot(p, 'ops-record');
  await p.keyboard.press('u');
  await p.waitForSelector('.record-note', { state: 'detached' });
  await p.keyboard.press('u');
  await p.waitForSelector('.record-agenda-title:text-is("Mục thử nghiệm")', { state: 'detached' });
  assertNoPageErrors(p);
});

test('o4. an operation in the history is undone with its button', { timeout: 60_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  const n = (await serverSegments(p, desk.env)).length;
  const seg = await wordySegment(p);
  await selectByKeys(p, seg.id);
  await playheadOnWord(p, seg, 1);
  await p.keyboard.press('s');
  await waitShown(p, n + 1);
  const row = p.locator(`.segment[data-id="${seg.id}"]`);
  await p.keyboard.press('u');
  await waitShown(p, n);
  // A text selection in a word picks that word (before the playhead's).
  await p.evaluate(({ id, i }) => {
    const w = document.querySelector(`.segment[data-id="${id}"] .word[data-index="${i}"]`);
    window.getSelection().selectAllChildren(w);
  }, { id: seg.id, i: 2 });
  await p.locator(`.segment[data-id="${seg.id}"]`).focus();
  await p.keyboard.press('s');
  await waitShown(p, n + 1);
  const ids = await shownIds(p);
  assert.ok((await rowText(p, ids[ids.indexOf(seg.id) + 1])).startsWith(seg.words[2].text.trim()));
  await row.locator('.history-btn').click();
  await row.locator('.undo-op-btn').first().click();
  await waitShown(p, n);
  assert.equal(await rowText(p, seg.id), seg.text.trim());
  assertNoPageErrors(p);
});

test('o5. one editor splits while another edits: live rows, then the conflict view', { timeout: 60_000 }, async () => {
  const a = await page('steno1');
  const b = await page('steno2');
  await openSession(a, desk.env);
  await openSession(b, desk.env);
  await a.waitForSelector('#live-status.live-on');
  const segs = await serverSegments(a, desk.env);
  const n = segs.length;
  const seg = await wordySegment(a);
  // steno1 edits the segment.
  await selectByKeys(a, seg.id);
  await a.keyboard.press('Enter');
  const ta = a.locator(`.segment[data-id="${seg.id}"] textarea.edit-text`);
  await ta.waitFor();
  await a.keyboard.press('Control+a');
  await a.keyboard.type('Bản sửa của steno1 trong lúc tách đoạn.');
  // steno2 splits it.
  await selectByKeys(b, seg.id);
  await playheadOnWord(b, seg, 1);
  await b.keyboard.press('s');
  await waitShown(b, n + 1);
  // The new row reaches steno1 live; the editor is kept, marked.
  await waitShown(a, n + 1);
  await a.waitForSelector(`.segment.server-changed[data-id="${seg.id}"]`);
  assert.equal(await ta.inputValue(), 'Bản sửa của steno1 trong lúc tách đoạn.');
  await ta.focus();
  await a.keyboard.press('Control+Enter');
  await a.waitForSelector(`.segment.conflict[data-id="${seg.id}"] .conflict-view`);
  await shot(a, 'ops-conflict');
  await a.locator(`.segment[data-id="${seg.id}"] button:has-text("Lấy bản hiện tại")`).click();

  // Not speech from steno2 reaches steno1 live.
  const other = segs.find((s) => s.id !== seg.id);
  await selectByKeys(b, other.id);
  await b.keyboard.press('x');
  await a.waitForSelector(`.segment.not-speech[data-id="${other.id}"]`);
  await b.keyboard.press('u');
  await a.waitForSelector(`.segment[data-id="${other.id}"]:not(.not-speech)`);
  assertNoPageErrors(a);
  assertNoPageErrors(b);
});

test('o6. a reader gets no operation keys, buttons or forms', { timeout: 60_000 }, async () => {
  const p = await page('reader1');
  await openSession(p, desk.env);
  const n = (await shownIds(p)).length;
  await p.keyboard.press('?');
  await p.waitForSelector('#help-overlay', { state: 'visible' });
  assert.doesNotMatch(await p.textContent('#help-overlay'), /Tách đoạn|Gộp đoạn|Hoàn tác/);
  await p.keyboard.press('Escape');
  await p.keyboard.press('n');
  for (const key of ['s', 'm', 'x', 'i', 'a', 'c', 'u', ']']) await p.keyboard.press(key);
  assert.match(await p.textContent('#toast'), /Chỉ đọc/);
  assert.equal(await p.locator('.op-form').count(), 0);
  assert.equal((await shownIds(p)).length, n);
  const row = p.locator('.segment.selected');
  await row.locator('.history-btn').click();
  await row.locator('.revisions .revisions-head').waitFor();
  assert.equal(await p.locator('.undo-op-btn, .restore-btn').count(), 0);
  assertNoPageErrors(p);
});

test('o7. a stale operation (the row changed unseen) says so and reloads the rows', { timeout: 60_000 }, async () => {
  const p = await page('steno1');
  // No live messages reach this page: it cannot know of the edit below.
  await p.routeWebSocket(/\/live$/, () => {});
  await openSession(p, desk.env);
  const seg = (await serverSegments(p, desk.env)).find((s) => s.state === 'speech');
  const text = 'Sửa ở nơi khác, trang này chưa biết.';
  const r = await patchFromPage(p, desk.env, seg.id, { text });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.notEqual(await rowText(p, seg.id), text);
  await selectByKeys(p, seg.id);
  await p.keyboard.press('x');
  await p.waitForSelector('#toast.toast-error:not([hidden])');
  assert.match(await p.textContent('#toast'), /tải lại/);
  await p.waitForFunction(({ id, text }) => document.querySelector(`.segment[data-id="${id}"] .text`).textContent.trim() === text, { id: seg.id, text });
  assert.equal(await p.locator(`.segment.not-speech[data-id="${seg.id}"]`).count(), 0);
  // Now on the current version, x works.
  await p.keyboard.press('x');
  await p.waitForSelector(`.segment.not-speech[data-id="${seg.id}"]`);
  assertNoPageErrors(p);
});
