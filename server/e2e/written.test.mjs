// The written form in the review desk's record view, in Chromium against a
// real `tocky serve` (see harness.mjs and session/record.js): before
// approval the reporter sees what the record will print, fillers struck
// through and each replacement with its spoken words in its title; an edit
// brings the new written form; the segment view keeps the verbatim text.
// Run: scripts/e2e

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, shot, patchFromPage, useDesk, serverSegments } from './harness.mjs';


const desk = useDesk();
const page = desk.page;

test('w1. the record view marks what the written form drops and changes, and follows an edit', { timeout: 90_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  const [seg] = await serverSegments(p, desk.env);
  const spoken = 'ờ, Quốc hội khóa mười lăm <b>có</b> bốn trăm tám mươi hai đại biểu';
  const res = await patchFromPage(p, desk.env, seg.id, { text: spoken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const row = `.segment[data-id="${seg.id}"]`;
  await p.waitForFunction(([sel, t]) => document.querySelector(`${sel} > .body > .text`)?.textContent === t, [row, spoken]);

  await p.keyboard.press('v');
  await p.waitForSelector(`#segments.record-mode ${row}.has-written .written`);
  const written = p.locator(`${row} .written`);
  assert.equal(await p.locator(`${row} > .body > .text`).isVisible(), false, 'the verbatim text gives way');
  // The filler, struck through and titled.
  const drop = written.locator('del.itn-drop');
  assert.equal(await drop.count(), 1);
  assert.equal(await drop.textContent(), 'ờ');
  assert.equal(await drop.getAttribute('data-kind'), 'filler');
  assert.match(await drop.getAttribute('title'), /Bỏ khi in \(từ đệm\)/);
  // The replacements, with the spoken words in their titles.
  const roman = written.locator('.itn-change[data-kind="roman"]');
  assert.equal(await roman.textContent(), 'XV');
  assert.equal(await roman.getAttribute('title'), 'Lời nói: mười lăm (số La Mã)');
  const number = written.locator('.itn-change[data-kind="number"]');
  assert.equal(await number.textContent(), '482');
  assert.match(await number.getAttribute('title'), /bốn trăm tám mươi hai/);
  // As printed (the struck filler aside), and text only.
  const printed = await written.evaluate((w) => [...w.childNodes]
    .filter((n) => !(n instanceof Element && n.matches('del')))
    .map((n) => n.textContent).join('').trim());
  assert.equal(printed, 'Quốc hội khóa XV <b>có</b> 482 đại biểu');
  assert.equal(await p.locator('.written b').count(), 0, 'text, never markup');
  await shot(p, 'written-record-view');

  // An edit brings its written form.
  const again = await patchFromPage(p, desk.env, seg.id, { text: 'ừm, điều mười hai khoản ba' });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  await p.waitForFunction((sel) => /điều 12 khoản 3/.test(document.querySelector(`${sel} .written`)?.textContent || ''), row);
  assert.equal(await p.locator(`${row} .written .itn-change[data-kind="legal"]`).first().textContent(), '12');

  // The segment view shows what was said.
  await p.keyboard.press('v');
  await p.waitForFunction(() => !document.querySelector('#segments').classList.contains('record-mode'));
  assert.equal(await p.locator(`${row} .written`).isVisible(), false);
  assert.equal((await p.locator(`${row} > .body > .text`).textContent()).trim(), 'ừm, điều mười hai khoản ba');
  assert.deepEqual(p.uncaught.map(String), [], 'uncaught errors in the page');
});
