// A session speaker linked to a registry person is named as the record
// prints them (the exports' heading: title, name and a delegate's
// delegation), in Chromium against a real `tocky serve` (see harness.mjs):
// in the record view's speaker headings and in a reader's read-only rows,
// and again after a relink arrives live. Run: scripts/e2e

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, patchFromPage, shot, useDesk, callFromPage } from './harness.mjs';


const desk = useDesk();
const page = desk.page;

const DELEGATE = 'Đại biểu Nguyễn Văn Hùng (Hà Nội)';
const CHAIR = 'Chủ tịch Quốc hội Trần Thanh Mẫn';

test('h1. a linked speaker is named with the exports\' heading in the record view and in read-only rows, live', { timeout: 120_000 }, async () => {
  const admin = await page('admin');
  const ids = [];
  for (const person of [
    { key: 'h-0001', name: 'Nguyễn Văn Hùng', delegation: 'Hà Nội', roles: [{ role: 'delegate', valid_from: '2021-07-20' }] },
    { key: 'h-0002', name: 'Trần Thanh Mẫn', delegation: 'Hậu Giang', roles: [{ role: 'chair', title: 'Chủ tịch Quốc hội', valid_from: '2021-07-20' }] },
  ]) {
    const r = await callFromPage(admin, 'POST', '/api/people', person);
    assert.equal(r.status, 201, r.text);
    ids.push(r.body.id);
  }
  const steno = await page('steno1');
  const sp = await callFromPage(steno, 'POST', `/api/sessions/${desk.env.sessionId}/speakers`, { name: 'ĐB Hùng' });
  assert.equal(sp.status, 201, sp.text);
  const link = await callFromPage(steno, 'PUT', `/api/sessions/${desk.env.sessionId}/speakers/${sp.body.id}`, { person_id: ids[0] });
  assert.equal(link.status, 200, link.text);
  const seg = desk.env.segments[0];
  const set = await patchFromPage(steno, desk.env, seg.id, { speaker_id: sp.body.id });
  assert.equal(set.status, 200, JSON.stringify(set.body));

  // The exports print this heading.
  const txt = await callFromPage(steno, 'GET', `/api/sessions/${desk.env.sessionId}/export/txt`);
  assert.equal(txt.status, 200);
  assert.ok(txt.text.includes(`${DELEGATE}:`), txt.text.slice(0, 600));

  // The record view (v) heads the speech with it.
  await openSession(steno, desk.env);
  await steno.keyboard.press('v');
  const heading = ({ id, want }) =>
    document.querySelector(`.record-speaker[data-speaker-id="${id}"] .record-speaker-name`)?.textContent === want;
  await steno.waitForFunction(heading, { id: sp.body.id, want: DELEGATE });

  // A reader's rows are read-only: the same name there.
  const reader = await page('reader1');
  await openSession(reader, desk.env);
  const rowName = ({ id, want }) =>
    document.querySelector(`.segment[data-id="${id}"] .speaker-name`)?.textContent === want;
  await reader.waitForFunction(rowName, { id: seg.id, want: DELEGATE });
  await reader.waitForSelector('#live-status.live-on');
  await shot(reader, 'headings-reader');

  // Relinked elsewhere: both pages follow the live message.
  const relink = await callFromPage(admin, 'PUT', `/api/sessions/${desk.env.sessionId}/speakers/${sp.body.id}`, { person_id: ids[1] });
  assert.equal(relink.status, 200, relink.text);
  await reader.waitForFunction(rowName, { id: seg.id, want: CHAIR });
  await steno.waitForFunction(heading, { id: sp.body.id, want: CHAIR });
  await shot(steno, 'headings-record');
  assert.deepEqual(steno.uncaught.map(String), []);
  assert.deepEqual(reader.uncaught.map(String), []);
});
