// The public record in Chromium against a real `tocky serve --public-read`
// (see harness.mjs): the sitting is reviewed, checked, approved and
// published through the API (stenographer, editor), then corrected again
// without publishing. A visitor without a login, a reader and an editor
// read the published page: the same page for all, no draft text, no
// script, a print stylesheet (serif, no navigation or links, each agenda
// item on a new page), permalinks that land on their speech, and audio
// links that play the sitting's audio from the speech's start.
// Run: scripts/e2e

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { artifacts, shot, useDesk, SESSION_TITLE, USERS } from './harness.mjs';

const EDITOR = 'editor1';
const DRAFT = 'đoạn nháp chưa công bố';

/** Logs `user` in through the API: its cookie and CSRF token. */
async function apiLogin(user) {
  const res = await fetch(`${desk.env.base}api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: USERS[user].password }),
  });
  assert.equal(res.status, 200, `login ${user}`);
  const me = await res.json();
  return { cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), csrf: me.csrf_token };
}

async function call(who, method, path, body) {
  const res = await fetch(`${desk.env.base}${path.replace(/^\//, '')}`, {
    method,
    headers: { Cookie: who.cookie, 'X-CSRF-Token': who.csrf, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json };
}

const desk = useDesk({ publicRead: true }, async () => {
  const admin = await apiLogin('admin');
  USERS[EDITOR] = { role: 'editor', password: 'e2e-editor1-Passw0rd!' };
  let r = await call(admin, 'POST', '/api/users', { username: EDITOR, password: USERS[EDITOR].password, role: 'editor' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const steno = await apiLogin('steno1');
  const editor = await apiLogin(EDITOR);
  for (const s of desk.env.segments) {
    r = await call(steno, 'PATCH', `/api/segments/${s.id}`, { version: s.version, review_status: 'reviewed' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  for (const [who, to] of [[steno, 'checked'], [editor, 'approved'], [editor, 'published']]) {
    r = await call(who, 'POST', `/api/sessions/${desk.env.sessionId}/workflow`, { to });
    assert.equal(r.status, 200, `${to}: ${JSON.stringify(r.body)}`);
  }
  // A correction after publication: the next version's draft.
  const first = (await call(steno, 'GET', `/api/sessions/${desk.env.sessionId}/segments`)).body[0];
  r = await call(steno, 'PATCH', `/api/segments/${first.id}`, { version: first.version, text: DRAFT });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

/** A visitor's page, without a login. */
const anonymous = () => desk.page();
/** A page logged in as `user`. */
const as = (user) => desk.page(user);

/** The published page of the sitting, opened from the list. */
async function openRecord(page) {
  await page.goto(`${desk.env.base}records`);
  await page.click(`text=${SESSION_TITLE}`);
  await page.waitForSelector('article.speech');
  assert.equal(new URL(page.url()).pathname, `/records/${desk.env.sessionId}`);
}

let published;

test('1. a visitor without a login reads the published page, never the draft', { timeout: 120_000 }, async () => {
  const page = await anonymous();
  // The desk is closed to visitors: they are sent to the published record.
  await page.goto(desk.env.base);
  await page.waitForURL(/\/records$/);
  await openRecord(page);
  assert.equal(await page.textContent('h1'), SESSION_TITLE);
  assert.match(await page.textContent('#version'), /^1 \(tạm thời\)$/);
  const body = await page.textContent('body');
  assert.ok(!body.includes(DRAFT), 'the draft is not on the public page');
  assert.equal(await page.evaluate(() => document.scripts.length), 0);
  assert.ok((await page.locator('article.speech').count()) >= 1);
  assert.equal(await page.locator('article.speech').count(), await page.locator('article.speech a.audio').count());
  assert.equal(await page.locator('article.speech').count(), await page.locator('article.speech a.permalink').count());
  published = await page.innerHTML('main');
  // The page may fetch nothing (its CSP: default-src 'none').
  const fetched = await page.evaluate(async () => fetch('/api/me').then(() => 'fetched', () => 'refused'));
  assert.equal(fetched, 'refused');
  // The API gives a visitor no draft either.
  assert.equal((await fetch(`${desk.env.base}api/sessions/${desk.env.sessionId}/segments`)).status, 401);
  const search = await (await fetch(`${desk.env.base}api/search?q=nhap+chua+cong+bo`)).json();
  assert.equal(search.hits.length, 0);
  const found = await (await fetch(`${desk.env.base}api/search?q=kinh+thua&published=false`)).json();
  assert.ok(found.hits.every((h) => h.version === 1), JSON.stringify(found));
  await shot(page, 'public-page');
  assert.deepEqual(page.uncaught, []);
});

test('2. a reader and an editor see the same published page', { timeout: 120_000 }, async () => {
  for (const user of ['reader1', EDITOR]) {
    const page = await as(user);
    await openRecord(page);
    assert.equal(await page.innerHTML('main'), published, user);
    assert.ok(!(await page.textContent('body')).includes(DRAFT), user);
  }
});

test('3. the print stylesheet: serif, no navigation or links, items on new pages', { timeout: 60_000 }, async () => {
  const page = await anonymous();
  await openRecord(page);
  const rules = await page.evaluate(() => [...document.styleSheets].flatMap((s) => [...s.cssRules])
    .filter((r) => r.media && [...r.media].includes('print'))
    .map((r) => r.cssText).join('\n'));
  assert.match(rules, /break-before: page/);
  await page.emulateMedia({ media: 'print' });
  const look = await page.evaluate(() => ({
    nav: getComputedStyle(document.querySelector('nav')).display,
    links: getComputedStyle(document.querySelector('.links')).display,
    font: getComputedStyle(document.body).fontFamily,
  }));
  assert.equal(look.nav, 'none');
  assert.equal(look.links, 'none');
  assert.match(look.font, /Times/);
  // Printed as a person would, for a look (server/e2e/artifacts/).
  await page.pdf({ path: path.join(artifacts, 'public-page.pdf') }).catch(() => {});
});

test('4. a permalink lands on its speech; an audio link plays from its start', { timeout: 120_000 }, async () => {
  const page = await anonymous();
  await openRecord(page);
  const speeches = page.locator('article.speech');
  const last = speeches.nth((await speeches.count()) - 1);
  const id = await last.getAttribute('id');
  const permalink = await last.locator('a.permalink').getAttribute('href');
  assert.equal(permalink, `/records/${desk.env.sessionId}/v/1#${id}`);
  await last.locator('a.permalink').click();
  await page.waitForURL(new RegExp(`#${id}$`));
  assert.equal(await page.evaluate(() => document.querySelector(':target')?.id), id);

  const audio = await last.locator('a.audio').getAttribute('href');
  const m = /^\/api\/sessions\/(\d+)\/audio#t=(\d+\.\d{3})$/.exec(audio);
  assert.ok(m, audio);
  const t = Number(m[2]);
  // A visitor may fetch the audio of a published sitting.
  const res = await fetch(new URL(audio.split('#')[0], desk.env.base));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^audio\//);
  await res.body.cancel();
  // Followed, the link opens the audio at the speech's start.
  await last.locator('a.audio').click();
  await page.waitForFunction(() => {
    const media = document.querySelector('video, audio');
    return media && media.readyState >= 1;
  }, null, { timeout: 30_000 });
  const at = await page.evaluate(() => document.querySelector('video, audio').currentTime);
  assert.ok(Math.abs(at - t) < 0.5, `the audio starts at ${at} s, the speech at ${t} s`);
});

test('5. the search form finds the published text, and a hit opens its speech', { timeout: 120_000 }, async () => {
  const page = await anonymous();
  await page.goto(`${desk.env.base}records`);
  // A word of the published page's first speech, typed without diacritics.
  await openRecord(page);
  const word = (await page.textContent('article.speech p.text')).trim().split(/\s+/)[0];
  await page.goto(`${desk.env.base}records`);
  await page.fill('form.search input[name="q"]', word);
  await page.click('form.search button');
  await page.waitForURL(/\/records\/search\?q=/);
  const hits = page.locator('ol.hits > li');
  assert.ok((await hits.count()) >= 1, await page.textContent('main'));
  assert.ok(!(await page.textContent('main')).includes(DRAFT));
  const link = hits.first().locator('a').first();
  const href = await link.getAttribute('href');
  assert.match(href, new RegExp(`^/records/${desk.env.sessionId}/v/1#s\\d+$`));
  await link.click();
  await page.waitForSelector('article.speech:target');
  assert.equal(await page.evaluate(() => document.querySelector(':target').id), href.split('#')[1]);
  await shot(page, 'public-search');
});
