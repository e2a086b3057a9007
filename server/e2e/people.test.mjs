// The people registry page (#/people) in Chromium against a real
// `tocky serve` (see harness.mjs): an admin imports a pasted list, searches
// it without diacritics, adds and edits a person with the keyboard; a bad
// line is named; a reader sees the list but no forms; names stay text.
// Run: scripts/e2e   (or: node --test --test-concurrency=1 server/e2e/)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shot, useDesk } from './harness.mjs';


const desk = useDesk();
const page = desk.page;

const CSV = [
  'id,name,delegation,seat,role,title,from,to',
  'dbqh-0001,Trần Thanh Mẫn,Hậu Giang,,delegate,,2021-07-20,',
  'dbqh-0001,,,,chair,Chủ tịch Quốc hội,2024-05-20,',
  'dbqh-0123,Nguyễn Văn A,Hà Nội,A-12,delegate,,2021-07-20,',
].join('\n');

async function rowKeys(p) {
  return p.$$eval('#people-table .person-row', (rows) => rows.map((r) => r.dataset.key));
}

test('an admin imports a pasted list, searches it and re-imports it unchanged', { timeout: 120_000 }, async () => {
  const p = await page('admin');
  await p.click('#nav-people');
  await p.waitForSelector('#people-import');
  // The form is drawn at once, the list when it has loaded.
  await p.waitForFunction(() => /Chưa có ai/.test(document.querySelector('#people-count')?.textContent || ''));
  assert.match(await p.textContent('#people-count'), /Chưa có ai/);

  await p.fill('#import-text', CSV);
  await p.click('#import-submit');
  await p.waitForFunction(() => /thêm mới/.test(document.querySelector('#import-result').textContent));
  assert.match(await p.textContent('#import-result'), /2 thêm mới, 0 cập nhật, 0 không đổi/);
  await p.waitForFunction(() => document.querySelectorAll('#people-table .person-row').length === 2);
  assert.deepEqual(await rowKeys(p), ['dbqh-0001', 'dbqh-0123']);
  assert.match(await p.textContent('.person-row[data-key="dbqh-0001"] .person-roles'), /Chủ tịch Quốc hội/);

  // The same list again changes nothing.
  await p.click('#import-submit');
  await p.waitForFunction(() => /0 thêm mới, 0 cập nhật, 2 không đổi/.test(document.querySelector('#import-result').textContent));

  // Search without diacritics; the box has the focus on arrival.
  await p.focus('#people-search');
  await p.keyboard.type('tran thanh');
  await p.waitForFunction(() => document.querySelectorAll('#people-table .person-row').length === 1);
  assert.deepEqual(await rowKeys(p), ['dbqh-0001']);
  await p.fill('#people-search', '');
  await p.waitForFunction(() => document.querySelectorAll('#people-table .person-row').length === 2);
  await shot(p, 'people');
  assert.deepEqual(p.uncaught.map(String), []);
});

test('a bad line is named and nothing is imported', { timeout: 60_000 }, async () => {
  const p = await page('admin');
  await p.goto(`${desk.env.base}#/people`);
  await p.waitForSelector('#people-import');
  await p.fill('#import-text', `${CSV}\ndbqh-0200,Lê Văn B,,,speaker,,,`);
  await p.click('#import-submit');
  await p.waitForSelector('#import-result.error');
  assert.match(await p.textContent('#import-result'), /line 5: unknown role "speaker"/);
  await p.waitForSelector('#people-table .person-row');
  assert.ok(!(await rowKeys(p)).includes('dbqh-0200'));
});

test('an admin adds and edits a person with the keyboard; names stay text', { timeout: 60_000 }, async () => {
  const p = await page('admin');
  await p.goto(`${desk.env.base}#/people`);
  await p.waitForSelector('#person-form');
  await p.focus('#person-key');
  await p.keyboard.type('khach-01');
  await p.keyboard.press('Tab');
  await p.keyboard.type('<img src=x> Lê Thị Khách');
  // Add a role from the keyboard: the button focuses the new role's select.
  await p.focus('#role-add');
  await p.keyboard.press('Enter');
  await p.keyboard.press('End'); // the last role: invited
  await p.focus('#person-name');
  await p.keyboard.press('Enter');
  await p.waitForSelector('.person-row[data-key="khach-01"]');
  const name = '.person-row[data-key="khach-01"] .person-name';
  assert.equal(await p.textContent(name), '<img src=x> Lê Thị Khách');
  assert.equal(await p.locator('#people-table img').count(), 0);
  assert.equal(await p.textContent('.person-row[data-key="khach-01"] .person-roles'), 'Khách mời');

  // Edit: the form takes the person, a new name is saved in place.
  await p.click('.person-row[data-key="khach-01"] .person-edit');
  assert.equal(await p.inputValue('#person-key'), 'khach-01');
  await p.fill('#person-name', 'Lê Thị Khách');
  await p.click('#person-save');
  await p.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'Lê Thị Khách', name);

  // A person without a name is refused with the server's reason.
  await p.fill('#person-key', 'x-2');
  await p.click('#person-save');
  await p.waitForSelector('#person-error:not([hidden])');
  assert.match(await p.textContent('#person-error'), /name is required/);
  assert.deepEqual(p.uncaught.map(String), []);
});

test('a reader sees the registry but no forms', { timeout: 60_000 }, async () => {
  const p = await page('reader1');
  await p.goto(`${desk.env.base}#/people`);
  await p.waitForSelector('#people-table .person-row');
  assert.equal(await p.locator('#person-form').count(), 0);
  assert.equal(await p.locator('#people-import').count(), 0);
  assert.equal(await p.locator('.person-edit').count(), 0);
  assert.ok((await rowKeys(p)).includes('dbqh-0123'));
});
