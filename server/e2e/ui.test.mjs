// The review UI in Chromium against a real `tocky serve` (see harness.mjs).
// Run: scripts/e2e   (or: node --test --test-concurrency=1 server/e2e/)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { login, openSession, shot, patchFromPage, SESSION_TITLE, BIG_SEGMENTS, useDesk, callFromPage, assertNoPageErrors } from './harness.mjs';


const desk = useDesk();
const page = desk.page;

/** Segment ids by role in these tests, so that tests do not edit the same rows. */
function segmentFor(purpose) {
  const n = desk.env.segments.length;
  const pick = { xss: 0, keyboard: 1, conflict: 2, search: n - 1 }[purpose];
  return desk.env.segments[Math.min(pick, n - 1)];
}

test('the setup produced a session with several segments', () => {
  assert.ok(desk.env.segments.length >= 2, `expected at least 2 segments, got ${desk.env.segments.length}`);
});

test('1. a stenographer logs in through the login page', { timeout: 60_000 }, async () => {
  const p = await page();
  await p.goto(desk.env.base);
  // Not logged in and not public: the app sends us to the login page.
  await p.waitForSelector('#login-username');
  assert.match(p.url(), /#\/login/);
  assert.equal(await p.textContent('#login-link'), 'Đăng nhập');
  await shot(p, 'login');

  // A wrong password is refused with the server's message.
  await p.fill('#login-username', 'steno1');
  await p.fill('#login-password', 'wrong password');
  await p.click('#login-submit');
  await p.waitForSelector('#login-error:not([hidden])');
  assert.ok((await p.textContent('#login-error')).trim().length > 0);

  await login(p, desk.env, 'steno1');
  assert.equal(await p.textContent('#user-name'), 'steno1');
  assert.equal(await p.textContent('#user-role'), 'Thư ký tốc ký');
  // The session list shows the sessions.
  await p.waitForSelector('.session-link');
  assert.equal(await p.locator(`.session-link:text-is("${SESSION_TITLE}")`).count(), 1);
  assertNoPageErrors(p);
});

test('1b. too many login attempts are refused with the server\'s message', { timeout: 60_000 }, async () => {
  const p = await page();
  await p.goto(`${desk.env.base}#/login`);
  await p.waitForSelector('#login-username');
  let message = '';
  for (let i = 0; i < 12 && !/thử lại sau/.test(message); i++) {
    await p.fill('#login-username', 'intruder');
    await p.fill('#login-password', `guess ${i}`);
    await p.click('#login-submit');
    await p.waitForSelector('#login-error:not([hidden])');
    await p.waitForFunction(() => !document.querySelector('#login-submit').disabled);
    message = await p.textContent('#login-error');
  }
  // 429 with Retry-After: the server's message and the wait are shown.
  assert.match(message, /thử lại sau \d+ giây/);
  assert.match(p.url(), /#\/login/);
  assertNoPageErrors(p);
});

test('2. playback highlights the segment under the playhead', { timeout: 90_000 }, async () => {
  const p = await page('steno1');
  await p.click(`.session-link >> text=${SESSION_TITLE}`);
  await p.waitForSelector('.segment[data-id]');
  assert.equal(await p.locator('.segment').count(), desk.env.segments.length);
  await p.waitForFunction(() => document.querySelector('#audio').readyState >= 1);

  await p.keyboard.press('Space');
  await p.waitForFunction(() => !document.querySelector('#audio').paused && document.querySelector('#audio').currentTime > 0);

  const starts = desk.env.segments.map((s) => s.start_ms);
  const target = starts[1] + 300; // well into the second segment
  const seen = new Set();
  const deadline = Date.now() + 60_000;
  const began = Date.now();
  let lastSkip = 0;
  let checks = 0;
  while (Date.now() < deadline) {
    const snap = await p.evaluate(() => {
      const a = document.querySelector('#audio');
      const t = a.currentTime * 1000;
      const cur = document.querySelector('.segment.current');
      const rows = [...document.querySelectorAll('.segment')].map((r) => Number(r.dataset.start));
      return { t, cur: cur ? Number(cur.dataset.id) : null, curStart: cur ? Number(cur.dataset.start) : null, rows, paused: a.paused };
    });
    const expected = snap.rows.filter((s) => s <= snap.t).length - 1;
    if (expected >= 0) {
      // The highlight follows within a frame: the current row started at or
      // before t, and it is the last such row (or the one just before, if a
      // boundary was crossed in the last few milliseconds).
      assert.ok(snap.cur !== null, `no current segment at t=${snap.t}`);
      assert.ok(snap.curStart <= snap.t, `current segment starts at ${snap.curStart} > t=${snap.t}`);
      const idx = desk.env.segments.findIndex((s) => s.id === snap.cur);
      const lagging = idx === expected - 1 && snap.t - snap.rows[expected] < 300;
      assert.ok(idx === expected || lagging, `current is #${idx}, expected #${expected} at t=${snap.t}`);
      seen.add(snap.cur);
      checks++;
    }
    if (snap.t >= target && seen.size >= 2) break;
    // If playback is slow to get there, → skips ahead 3 s.
    if (Date.now() - began > 15_000 && snap.t < target - 3000 && Date.now() - lastSkip > 2000) {
      await p.keyboard.press('ArrowRight');
      lastSkip = Date.now();
    }
    await p.waitForTimeout(150);
  }
  assert.ok(seen.size >= 2, `highlighted ${seen.size} distinct segment(s) over ${checks} checks`);
  const t = await p.evaluate(() => document.querySelector('#audio').currentTime * 1000);
  assert.ok(t > target - 300, `audio reached ${t} ms, expected past ${target}`);
  // The current row is on screen.
  const visible = await p.evaluate(() => {
    const r = document.querySelector('.segment.current').getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  });
  assert.ok(visible, 'the current segment is scrolled into view');
  await p.evaluate(() => document.querySelector('#audio').pause());
  await shot(p, 'session');
  assertNoPageErrors(p);
});

test('3. a segment is edited with the keyboard only and the edit persists', { timeout: 60_000 }, async () => {
  const seg = segmentFor('keyboard');
  const idx = desk.env.segments.indexOf(seg);
  const p = await page('steno1');
  await openSession(p, desk.env);
  // n and ↓ select the next segment (the first one, or the one after the
  // playhead's); p and ↑ the previous one. Each press moves by one.
  const selected = async () => {
    const id = await p.getAttribute('.segment.selected', 'data-id');
    return desk.env.segments.findIndex((s) => String(s.id) === id);
  };
  await p.keyboard.press('n');
  let at = await selected();
  assert.ok(at >= 0, 'n selects a segment');
  for (let i = 0; at !== idx && i < desk.env.segments.length + 2; i++) {
    const key = at < idx ? (i % 2 ? 'n' : 'ArrowDown') : (i % 2 ? 'p' : 'ArrowUp');
    const was = at;
    await p.keyboard.press(key);
    at = await selected();
    assert.equal(Math.abs(at - was), 1, `${key} moves the selection by one`);
  }
  assert.equal(at, idx);
  // Selecting a segment seeks to it.
  const t = await p.evaluate(() => document.querySelector('#audio').currentTime * 1000);
  assert.ok(Math.abs(t - seg.start_ms) < 1000, `seeked to ${t}, segment starts at ${seg.start_ms}`);

  await p.keyboard.press('Enter');
  const row = p.locator(`.segment[data-id="${seg.id}"]`);
  await row.locator('textarea.edit-text').waitFor();
  assert.equal(await p.evaluate(() => document.activeElement.classList.contains('edit-text')), true);
  const text = 'Kính thưa Quốc hội, đây là đoạn sửa bằng bàn phím.';
  await p.keyboard.press('Control+a');
  await p.keyboard.type(text);
  // Unsaved work is marked and kept in localStorage.
  assert.match(await row.getAttribute('class'), /\bdirty\b/);
  assert.equal(await row.locator('.unsaved').isVisible(), true);
  const draft = await p.evaluate((id) => localStorage.getItem(`tocky.draft.steno1.${id}`), seg.id);
  assert.ok(draft && JSON.parse(draft).text === text, 'the draft is in localStorage');

  await p.keyboard.press('Control+Enter');
  await row.locator('textarea').waitFor({ state: 'detached' });
  await p.waitForFunction((id) => !document.querySelector(`.segment[data-id="${id}"]`).classList.contains('dirty'), seg.id);
  assert.equal(await p.evaluate((id) => localStorage.getItem(`tocky.draft.steno1.${id}`), seg.id), null);

  await p.reload();
  await p.waitForSelector('.segment[data-id]');
  assert.equal((await row.locator('.text').textContent()).trim(), text);
  assert.doesNotMatch(await row.getAttribute('class'), /\bdirty\b/);
  assertNoPageErrors(p);
});

test('4. concurrent edits end in the conflict view, resolved by a merge', { timeout: 90_000 }, async () => {
  const seg = segmentFor('conflict');
  const a = await page('steno1');
  const b = await page('steno2');
  await openSession(a, desk.env);
  await openSession(b, desk.env);
  const textA = 'Bản của steno1: kỳ họp thứ mười của Quốc hội.';
  const textB = 'Bản của steno2: kỳ họp thứ mười.';
  for (const [p, text] of [[a, textA], [b, textB]]) {
    const row = p.locator(`.segment[data-id="${seg.id}"]`);
    await row.locator('.time').click(); // selects the row
    await p.keyboard.press('Enter');
    await row.locator('textarea.edit-text').fill(text);
  }
  // steno1 saves first.
  await a.keyboard.press('Control+Enter');
  const rowA = a.locator(`.segment[data-id="${seg.id}"]`);
  await rowA.locator('textarea').waitFor({ state: 'detached' });
  assert.equal((await rowA.locator('.text').textContent()).trim(), textA);

  // steno2 saves on the old version: a conflict, shown with both texts.
  const rowB = b.locator(`.segment[data-id="${seg.id}"]`);
  await rowB.locator('textarea.edit-text').focus();
  await b.keyboard.press('Control+Enter');
  await b.waitForSelector(`.segment.conflict[data-id="${seg.id}"] .conflict-view`);
  const view = rowB.locator('.conflict-view');
  assert.match(await view.textContent(), /Bản của bạn/);
  assert.match(await view.textContent(), /Bản hiện tại/);
  assert.equal((await view.locator('.mine-text').textContent()).trim(), textB);
  assert.equal((await view.locator('.theirs-text').textContent()).trim(), textA);
  for (const label of ['Giữ bản của tôi', 'Lấy bản hiện tại', 'Lưu bản hợp nhất']) {
    assert.equal(await view.locator(`button:has-text("${label}")`).count(), 1, label);
  }
  // Nothing was overwritten: the server still has steno1's text.
  assert.equal((await rowB.locator('.text').textContent()).trim(), textA);
  await shot(b, 'conflict');

  const merged = 'Bản hợp nhất: kỳ họp thứ mười của Quốc hội (steno1 và steno2).';
  await view.locator('textarea.conflict-merge').fill(merged);
  await view.locator('button:has-text("Lưu bản hợp nhất")').click();
  await rowB.locator('.conflict-view').waitFor({ state: 'detached' });
  assert.doesNotMatch(await rowB.getAttribute('class'), /\b(conflict|dirty)\b/);
  assert.equal(await rowB.locator('.unsaved').isVisible(), false);
  assert.equal((await rowB.locator('.text').textContent()).trim(), merged);

  for (const p of [b, a]) {
    await p.reload();
    await p.waitForSelector('.segment[data-id]');
    assert.equal((await p.locator(`.segment[data-id="${seg.id}"] .text`).textContent()).trim(), merged);
  }
  assertNoPageErrors(a);
  assertNoPageErrors(b);
});

test('5. searching without diacritics finds the text and plays from the hit', { timeout: 90_000 }, async () => {
  const seg = segmentFor('search');
  const p = await page('steno1');
  await openSession(p, desk.env);
  const text = 'Xin thưa Quốc hội, đây là đoạn để tìm kiếm.';
  const r = await patchFromPage(p, desk.env, seg.id, { text });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  await p.goto(`${desk.env.base}#/search`);
  await p.waitForSelector('#search-input');
  let hit = null;
  const deadline = Date.now() + 20_000; // the index may lag an edit slightly
  while (!hit && Date.now() < deadline) {
    await p.selectOption('#search-session', String(desk.env.sessionId));
    await p.fill('#search-input', 'quoc hoi');
    await p.press('#search-input', 'Enter');
    await p.waitForSelector('#search-results .hit, #search-results .empty, #search-results .error');
    const h = p.locator(`.hit[data-segment-id="${seg.id}"]`);
    if (await h.count()) hit = h;
    else await p.waitForTimeout(1000);
  }
  assert.ok(hit, 'a hit for the edited segment');
  assert.match(p.url(), new RegExp(`#/search\\?q=quoc(\\+|%20)hoi&session=${desk.env.sessionId}`));
  // Only the chosen session's hits.
  const sessionsHit = await p.locator('.hit').evaluateAll((hits) => [...new Set(hits.map((h) => h.dataset.sessionId))]);
  assert.deepEqual(sessionsHit, [String(desk.env.sessionId)]);
  assert.ok((await hit.locator('.snippet b').count()) >= 1, 'the match is in <b>');
  assert.match(await hit.locator('.hit-title').textContent(), new RegExp(SESSION_TITLE));
  await shot(p, 'search');

  assert.equal(Number(await hit.getAttribute('data-start')), seg.start_ms);
  // The jump: where the match is said, inside the segment.
  const jump = Number(await hit.getAttribute('data-jump'));
  assert.ok(jump >= seg.start_ms && jump <= seg.end_ms, `jump ${jump} outside ${seg.start_ms}–${seg.end_ms}`);
  await hit.locator('a').click();
  await p.waitForSelector('.segment[data-id]');
  assert.match(p.url(), new RegExp(`#/sessions/${desk.env.sessionId}\\?t=${jump}&play=1`));
  await p.waitForFunction((jump) => {
    const a = document.querySelector('#audio');
    return a.readyState >= 1 && Math.abs(a.currentTime * 1000 - jump) < 1500;
  }, jump, { timeout: 15_000 });
  const state = await p.evaluate(() => ({ paused: document.querySelector('#audio').paused, t: document.querySelector('#audio').currentTime }));
  assert.equal(state.paused, false, 'playing from the hit');
  assert.equal(await p.getAttribute('.segment.selected', 'data-id'), String(seg.id));
  assertNoPageErrors(p);
});

test('6. a reader gets no editor, and the server refuses a reader\'s PATCH', { timeout: 60_000 }, async () => {
  const seg = segmentFor('keyboard');
  const p = await page('reader1');
  assert.equal(await p.textContent('#user-role'), 'Người đọc');
  await openSession(p, desk.env);
  assert.equal((await p.textContent('#readonly-note')).trim(), 'Chỉ đọc');
  assert.equal(await p.locator('select.speaker').count(), 0);
  assert.equal(await p.locator('.review-btn').count(), 0);
  await p.locator(`.segment[data-id="${seg.id}"] .time`).click();
  await p.keyboard.press('Enter');
  await p.keyboard.press('e');
  await p.waitForTimeout(300);
  assert.equal(await p.locator('textarea').count(), 0);
  const r = await patchFromPage(p, desk.env, seg.id, { text: 'a reader may not edit' });
  assert.equal(r.status, 403);
  assertNoPageErrors(p);
});

test('7. transcript text is shown as text, never run as markup', { timeout: 60_000 }, async () => {
  const seg = segmentFor('xss');
  const payload = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
  const p = await page('steno1');
  await openSession(p, desk.env);
  const row = p.locator(`.segment[data-id="${seg.id}"]`);
  await row.locator('.time').click();
  await p.keyboard.press('Enter');
  await row.locator('textarea.edit-text').fill(payload);
  await p.keyboard.press('Control+Enter');
  await row.locator('textarea').waitFor({ state: 'detached' });

  await p.reload();
  await p.waitForSelector('.segment[data-id]');
  assert.equal((await row.locator('.text').textContent()).trim(), payload);
  assert.ok((await row.locator('.text').textContent()).includes('<script>'));
  assert.equal(await row.locator('img').count(), 0);
  assert.equal(await row.locator('script').count(), 0);
  assert.equal(await p.evaluate(() => window.__xss), undefined);

  // Also in search results and the revision history.
  await row.locator('.history-btn').click();
  await row.locator('.revision').first().waitFor();
  assert.equal(await row.locator('.revisions img').count(), 0);
  await p.goto(`${desk.env.base}#/search?q=xss`);
  await p.waitForSelector('#search-results .hit, #search-results .empty, #search-results .error');
  assert.equal(await p.locator('#search-results img').count(), 0);
  assert.equal(await p.evaluate(() => window.__xss), undefined);
  assertNoPageErrors(p);
});

test('8. the help overlay opens with ? and lists the keys', { timeout: 60_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  assert.equal(await p.locator('#help-overlay').isVisible().catch(() => false), false);
  await p.keyboard.press('?');
  await p.waitForSelector('#help-overlay', { state: 'visible' });
  const help = await p.textContent('#help-overlay');
  for (const key of ['Space', 'Ctrl+Space', 'Alt+k', 'Alt+←', 'Enter', 'Ctrl+Enter', 'Ctrl+S', 'Esc', 'Alt+r', '?']) {
    assert.ok(help.includes(key), `the help lists ${key}`);
  }
  assert.match(help, /Phát \/ tạm dừng/);
  assert.ok((await p.locator('#help-overlay tr').count()) >= 10);
  await shot(p, 'help');
  await p.keyboard.press('Escape');
  await p.waitForSelector('#help-overlay', { state: 'hidden' });
  assertNoPageErrors(p);
});

test('9. an edit made elsewhere appears live, and a draft survives a reload', { timeout: 60_000 }, async () => {
  const seg = segmentFor('keyboard');
  const other = segmentFor('conflict');
  const a = await page('steno1');
  const b = await page('steno2');
  await openSession(a, desk.env);
  await openSession(b, desk.env);
  await b.waitForSelector('#live-status.live-on');
  const text = 'Đoạn này được sửa ở trình duyệt khác, Quốc hội.';
  const r = await patchFromPage(a, desk.env, seg.id, { text });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await b.waitForFunction(({ id, text }) => document.querySelector(`.segment[data-id="${id}"] .text`).textContent.trim() === text, { id: seg.id, text });

  // A draft typed but not saved is restored after a reload, still unsaved.
  const row = b.locator(`.segment[data-id="${other.id}"]`);
  await row.locator('.time').click();
  await b.keyboard.press('Enter');
  await row.locator('textarea.edit-text').fill('Bản nháp chưa lưu.');
  await b.keyboard.press('Escape');
  await row.locator('textarea').waitFor({ state: 'detached' });
  assert.match(await row.getAttribute('class'), /\bdirty\b/);
  // Leaving asks first (the harness accepts), and the draft stays in localStorage.
  await b.goto('about:blank');
  assert.ok(b.dialogs.includes('beforeunload'), `leaving with a draft warns (dialogs: ${b.dialogs})`);
  await b.goto(`${desk.env.base}#/sessions/${desk.env.sessionId}`);
  await b.waitForSelector('.segment[data-id]');
  assert.match(await row.getAttribute('class'), /\bdirty\b/);
  assert.equal((await row.locator('.draft-text').textContent()).trim(), 'Bản nháp chưa lưu.');
  await b.keyboard.press('Escape');
  await row.locator('.time').click();
  await b.keyboard.press('Enter');
  assert.equal(await row.locator('textarea.edit-text').inputValue(), 'Bản nháp chưa lưu.');
  assertNoPageErrors(a);
  assertNoPageErrors(b);
});

test('9b. a page whose login ends while it watches live goes to the login page', { timeout: 60_000 }, async () => {
  // A login of its own: the cached one stays for the other tests.
  const p = await desk.page();
  await login(p, desk.env, 'steno2');
  await openSession(p, desk.env);
  await p.waitForSelector('#live-status.live-on');
  // Logged out elsewhere (the same login, as from another tab): the server
  // closes the socket (4401) and the page must not go on as if logged in.
  const status = await p.evaluate(async () => {
    const me = await (await fetch('/api/me', { credentials: 'same-origin' })).json();
    const res = await fetch('/api/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': me.csrf_token || '' },
    });
    return res.status;
  });
  assert.ok(status < 300, `logout answered ${status}`);
  await p.waitForFunction(() => location.hash.startsWith('#/login'), null, { timeout: 15_000 });
  await p.waitForSelector('#login-username');
});

test('10. a session of 2,000 segments loads quickly and follows playback', { timeout: 120_000 }, async (t) => {
  const p = await page('steno1');
  const began = Date.now();
  await p.goto(`${desk.env.base}#/sessions/${desk.env.bigSessionId}`);
  await p.waitForFunction((n) => document.querySelectorAll('.segment').length === n, BIG_SEGMENTS);
  await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r))));
  const loadMs = Date.now() - began;
  // Generous bounds: CI machines are slow, but a quadratic page is far slower.
  assert.ok(loadMs < 10_000, `the page took ${loadMs} ms to show ${BIG_SEGMENTS} segments`);

  const selectedIndex = () => p.evaluate(() => [...document.querySelectorAll('.segment')].indexOf(document.querySelector('.segment.selected')));
  await p.keyboard.press('n');
  const first = await selectedIndex();
  const keysBegan = Date.now();
  for (let i = 0; i < 20; i++) await p.keyboard.press('n');
  const perKey = (Date.now() - keysBegan) / 20;
  assert.ok(perKey < 500, `${perKey} ms per key press`);
  t.diagnostic(`${BIG_SEGMENTS} segments shown in ${loadMs} ms; ${perKey} ms per key press`);
  assert.equal(await selectedIndex(), first + 20);

  // Play from the selection; the highlight moves with the audio (a segment every 0.6 s).
  await p.keyboard.press('Space');
  const seen = new Set();
  const deadline = Date.now() + 20_000;
  while (seen.size < 3 && Date.now() < deadline) {
    const cur = await p.evaluate(() => {
      const c = document.querySelector('.segment.current');
      const t = document.querySelector('#audio').currentTime * 1000;
      return c ? { id: c.dataset.id, start: Number(c.dataset.start), t } : null;
    });
    if (cur) {
      assert.ok(cur.start <= cur.t + 1, `current starts at ${cur.start} after t=${cur.t}`);
      seen.add(cur.id);
    }
    await p.waitForTimeout(200);
  }
  assert.ok(seen.size >= 3, `highlighted ${seen.size} segments`);
  await p.evaluate(() => document.querySelector('#audio').pause());
  assertNoPageErrors(p);
});

// ---- the record view (session/record.js) -----------------------------------
// These run last: they give the segments speakers.

const RECORD_SPEAKERS = ['Chủ tọa Nguyễn Văn A', 'Đại biểu <b>Trần</b> Thị B'];

/** Speakers for the record tests: the first two segments A, the rest B (A, B with two). */
function recordSpeakerIndex(i, n) {
  return n >= 3 ? (i < 2 ? 0 : 1) : i;
}

/** Adds the record tests' speakers and gives every segment one (once). */
let recordSpeakers = null;
async function giveSpeakers(p) {
  if (recordSpeakers) return recordSpeakers;
  const ids = await p.evaluate(async ({ sessionId, names }) => {
    const me = await (await fetch('/api/me', { credentials: 'same-origin' })).json();
    const out = [];
    for (const name of names) {
      const res = await fetch(`/api/sessions/${sessionId}/speakers`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token || '' },
        body: JSON.stringify({ name }),
      });
      out.push((await res.json()).id);
    }
    return out;
  }, { sessionId: desk.env.sessionId, names: RECORD_SPEAKERS });
  const n = desk.env.segments.length;
  for (let i = 0; i < n; i++) {
    const r = await patchFromPage(p, desk.env, desk.env.segments[i].id, { speaker_id: ids[recordSpeakerIndex(i, n)] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  recordSpeakers = ids;
  return ids;
}

async function recordOn(p) {
  await p.keyboard.press('v');
  await p.waitForSelector('#segments.record-mode .record-speaker');
}

test('11. v switches to the record view: speaker headings over speeches as paragraphs', { timeout: 60_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  await giveSpeakers(p);
  await p.reload();
  await p.waitForSelector('.segment[data-id]');
  assert.equal(await p.locator('.record-heading').count(), 0, 'no headings in the segment view');

  await recordOn(p);
  assert.match(p.url(), /[?&]view=record\b/);
  assert.equal(await p.getAttribute('#view-toggle', 'aria-pressed'), 'true');
  // Consecutive segments of one speaker are one speech under one heading.
  const n = desk.env.segments.length;
  const expected = [];
  for (let i = 0; i < n; i++) {
    const who = recordSpeakerIndex(i, n);
    if (!expected.length || expected[expected.length - 1].who !== who) expected.push({ who, ids: [] });
    expected[expected.length - 1].ids.push(desk.env.segments[i].id);
  }
  const layout = await p.evaluate(() => {
    const out = [];
    for (const node of document.querySelector('#segments').children) {
      if (node.classList.contains('record-speaker')) out.push({ name: node.querySelector('.record-speaker-name').textContent, ids: [] });
      else if (node.classList.contains('segment') && out.length) out[out.length - 1].ids.push(Number(node.dataset.id));
    }
    return out;
  });
  assert.deepEqual(layout, expected.map((s) => ({ name: RECORD_SPEAKERS[s.who], ids: s.ids })));
  // Names are text, never markup.
  assert.equal(await p.locator('.record-speaker b').count(), 0);
  // The rows are running text: no time, speaker or buttons column.
  const look = await p.evaluate(() => {
    const row = document.querySelector('.segment');
    return {
      display: getComputedStyle(row).display,
      time: getComputedStyle(row.querySelector('.time')).display,
      side: getComputedStyle(row.querySelector('.side')).display,
      heading: getComputedStyle(document.querySelector('.record-speaker')).display,
    };
  });
  assert.deepEqual(look, { display: 'inline', time: 'none', side: 'none', heading: 'flex' });
  await shot(p, 'record');

  // The help lists the key; a reload stays in the record view.
  await p.keyboard.press('?');
  await p.waitForSelector('#help-overlay', { state: 'visible' });
  assert.match(await p.textContent('#help-overlay'), /biên bản/);
  assert.ok((await p.locator('#help-overlay kbd', { hasText: /^v$/ }).count()) === 1, 'the help lists v');
  await p.keyboard.press('Escape');
  await p.reload();
  await p.waitForSelector('#segments.record-mode .record-speaker');

  // v again: back to the segment view, headings gone.
  await p.keyboard.press('v');
  await p.waitForFunction(() => !document.querySelector('#segments').classList.contains('record-mode'));
  assert.equal(await p.locator('.record-heading').count(), 0);
  assert.doesNotMatch(p.url(), /view=record/);
  assert.equal(await p.evaluate(() => getComputedStyle(document.querySelector('.segment')).display), 'grid');
  assertNoPageErrors(p);
});

test('12. the record groups speeches as the store does: not speech left out, agenda items start anew', { timeout: 30_000 }, async () => {
  const p = await page('steno1');
  await openSession(p, desk.env);
  const record = await p.evaluate(async () => {
    const { deriveRecord } = await import('/ui/session/record.js');
    const seg = (id, speaker_id, state) => ({ id, speaker_id, state, start_ms: id * 1000, end_ms: id * 1000 + 900 });
    return deriveRecord([
      seg(1, 1), // no state yet: speech
      seg(2, 2, 'not_speech'), // left out, and does not break speaker 1's speech
      seg(3, 1, 'speech'),
      seg(4, 2, 'speech'),
      seg(5, 2, 'speech'), // item 9 starts here: a new speech of the same speaker
      seg(6, null, 'not_speech'),
    ], [{ id: 9, title: 'Mục 2', reference: null, start_segment_id: 5 }, { id: 10, title: 'Chưa bắt đầu', start_segment_id: null }]);
  });
  const ids = (part) => part.entries.map((s) => [s.speaker_id, s.segment_ids]);
  assert.equal(record.items.length, 2);
  assert.equal(record.items[0].item, null);
  assert.deepEqual(ids(record.items[0]), [[1, [1, 3]], [2, [4]]]);
  assert.equal(record.items[1].item.id, 9);
  assert.deepEqual(ids(record.items[1]), [[2, [5]]]);
  assert.deepEqual([record.items[0].entries[0].start_ms, record.items[0].entries[0].end_ms], [1000, 3900]);
  assertNoPageErrors(p);
});

test('13. in the record view a word plays from itself and the playhead marks the word said', { timeout: 90_000 }, async () => {
  // The long sitting: its words are as transcribed (the tests above edit the other's).
  const p = await page('steno1');
  await p.goto(`${desk.env.base}#/sessions/${desk.env.bigSessionId}?view=record`);
  await p.waitForSelector('#segments.record-mode .record-speaker');
  await p.waitForFunction(() => document.querySelector('#audio').readyState >= 1);
  // A word well inside the record: the second word of the first segment with three.
  const pick = await p.evaluate(() => {
    const row = [...document.querySelectorAll('.segment')].find((r) => r.querySelectorAll('.word').length >= 3);
    const w = row.querySelectorAll('.word')[1];
    return { id: row.dataset.id, start: Number(w.dataset.start) };
  });
  const word = p.locator(`.segment[data-id="${pick.id}"] .word`).nth(1);
  await word.click();
  const t = await p.evaluate(() => document.querySelector('#audio').currentTime * 1000);
  assert.ok(Math.abs(t - pick.start) < 50, `seeked to ${t}, the word starts at ${pick.start}`);
  assert.equal(await p.getAttribute('.segment.selected', 'data-id'), pick.id);
  assert.match(await word.getAttribute('class'), /\bcurrent-word\b/);

  // Playing moves the mark to later words, never ahead of the audio.
  await p.keyboard.press('Space');
  await p.waitForFunction(() => !document.querySelector('#audio').paused);
  const deadline = Date.now() + 30_000;
  let moved = false;
  while (!moved && Date.now() < deadline) {
    const snap = await p.evaluate(() => {
      const w = document.querySelector('.word.current-word');
      return { t: document.querySelector('#audio').currentTime * 1000, start: w ? Number(w.dataset.start) : null, marks: document.querySelectorAll('.current-word').length };
    });
    assert.ok(snap.marks <= 1, 'one word at a time');
    if (snap.start !== null) {
      assert.ok(snap.start <= snap.t + 1, `the marked word starts at ${snap.start}, after t=${snap.t}`);
      if (snap.start > pick.start) moved = true;
    }
    await p.waitForTimeout(100);
  }
  assert.ok(moved, 'the marked word followed the audio');
  await p.evaluate(() => document.querySelector('#audio').pause());
  assertNoPageErrors(p);
});

test('14. the record view is usable by keyboard only: select, play, edit and save a speech\'s segment', { timeout: 60_000 }, async () => {
  const n = desk.env.segments.length;
  const seg = desk.env.segments[n - 1];
  const p = await page('steno1');
  await openSession(p, desk.env);
  await recordOn(p);
  // n walks the record's segments; the last one is reached by n presses.
  for (let i = 0; i < n; i++) await p.keyboard.press('n');
  assert.equal(await p.getAttribute('.segment.selected', 'data-id'), String(seg.id));
  assert.equal(await p.evaluate(() => document.activeElement.classList.contains('segment')), true, 'the row holds focus');
  await p.keyboard.press('Space');
  await p.waitForFunction(() => !document.querySelector('#audio').paused);
  await p.keyboard.press('k');
  await p.waitForFunction(() => document.querySelector('#audio').paused);

  // Enter opens the segment view's editor, in place in the paragraph.
  await p.keyboard.press('Enter');
  const row = p.locator(`.segment[data-id="${seg.id}"]`);
  await row.locator('textarea.edit-text').waitFor();
  assert.equal(await p.evaluate(() => document.activeElement.classList.contains('edit-text')), true);
  assert.ok(await p.locator('#segments.record-mode').count(), 'still the record view');
  const text = 'Xin cảm ơn Quốc hội, đoạn này được sửa trong biên bản.';
  await p.keyboard.press('Control+a');
  await p.keyboard.type(text);
  await p.keyboard.press('Control+Enter');
  await row.locator('textarea').waitFor({ state: 'detached' });
  assert.equal((await row.locator('.text').textContent()).trim(), text);
  assert.doesNotMatch(await row.getAttribute('class'), /\bdirty\b/);
  // Esc from the editor keeps the draft and returns to the row.
  await p.keyboard.press('Enter');
  await row.locator('textarea.edit-text').waitFor();
  await p.keyboard.press('End');
  await p.keyboard.type(' Nháp.');
  await p.keyboard.press('Escape');
  await row.locator('textarea').waitFor({ state: 'detached' });
  assert.match(await row.getAttribute('class'), /\bdirty\b/);
  assert.equal(await p.evaluate(() => document.activeElement.classList.contains('segment')), true);
  // Enter again: the draft; typing the saved text back leaves nothing unsaved.
  await p.keyboard.press('Enter');
  assert.equal(await row.locator('textarea.edit-text').inputValue(), `${text} Nháp.`);
  await p.keyboard.press('Control+a');
  await p.keyboard.type(text);
  await p.keyboard.press('Control+Enter');
  await row.locator('textarea').waitFor({ state: 'detached' });
  assert.doesNotMatch(await row.getAttribute('class'), /\bdirty\b/);

  await p.reload();
  await p.waitForSelector('#segments.record-mode .record-speaker');
  assert.equal((await row.locator('.text').textContent()).trim(), text);
  assertNoPageErrors(p);
});

test('15. a double click in the record view edits the segment clicked', { timeout: 60_000 }, async () => {
  const seg = desk.env.segments[0];
  const p = await page('steno1');
  await openSession(p, desk.env, '?view=record');
  await p.waitForSelector('#segments.record-mode .record-speaker');
  const row = p.locator(`.segment[data-id="${seg.id}"]`);
  // Where the segment's text begins (a paragraph's lines are shared).
  const at = await row.evaluate((r) => {
    const box = r.querySelector('.text').getClientRects()[0];
    return { x: box.left + 4, y: box.top + box.height / 2 };
  });
  await p.mouse.dblclick(at.x, at.y);
  await row.locator('textarea.edit-text').waitFor();
  const text = 'Thưa các vị đại biểu Quốc hội, phiên họp bắt đầu.';
  await row.locator('textarea.edit-text').fill(text);
  await row.locator('button:has-text("Lưu")').click();
  await row.locator('textarea').waitFor({ state: 'detached' });
  assert.equal((await row.locator('.text').textContent()).trim(), text);
  // A speaker heading's time plays that speech from its start.
  const time = p.locator('.record-time').first();
  const id = await time.getAttribute('data-id');
  await time.focus();
  await p.keyboard.press('Enter');
  const start = desk.env.segments.find((s) => String(s.id) === id).start_ms;
  await p.waitForFunction((ms) => Math.abs(document.querySelector('#audio').currentTime * 1000 - ms) < 50, start);
  assert.equal(await p.getAttribute('.segment.selected', 'data-id'), id);
  // A reader sees the record, without an editor.
  const r = await page('reader1');
  await openSession(r, desk.env, '?view=record');
  await r.waitForSelector('#segments.record-mode .record-speaker');
  await r.mouse.dblclick(at.x, at.y);
  await r.keyboard.press('Enter');
  await r.waitForTimeout(300);
  assert.equal(await r.locator('textarea').count(), 0);
  assertNoPageErrors(p);
  assertNoPageErrors(r);
});

test('16. the record view of 2,000 segments switches quickly', { timeout: 60_000 }, async (t) => {
  const p = await page('steno1');
  await p.goto(`${desk.env.base}#/sessions/${desk.env.bigSessionId}`);
  await p.waitForFunction((n) => document.querySelectorAll('.segment').length === n, BIG_SEGMENTS);
  const began = Date.now();
  await p.keyboard.press('v');
  await p.waitForSelector('#segments.record-mode .record-speaker');
  await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r))));
  const switchMs = Date.now() - began;
  assert.ok(switchMs < 5_000, `the record view took ${switchMs} ms`);
  const keysBegan = Date.now();
  for (let i = 0; i < 10; i++) await p.keyboard.press('n');
  const perKey = (Date.now() - keysBegan) / 10;
  assert.ok(perKey < 500, `${perKey} ms per key press`);
  t.diagnostic(`record view of ${BIG_SEGMENTS} segments in ${switchMs} ms; ${perKey} ms per key press`);
  assertNoPageErrors(p);
});

/** The record view as shown: headings, notes and visible rows, in order. */
function recordLayout(p) {
  return p.evaluate(() => [...document.querySelector('#segments').children]
    .filter((node) => getComputedStyle(node).display !== 'none')
    .map((node) => {
      if (node.classList.contains('record-agenda')) return `item ${node.querySelector('.record-agenda-title').textContent}`;
      if (node.classList.contains('record-speaker')) return `speaker ${node.querySelector('.record-speaker-name').textContent}`;
      if (node.classList.contains('record-note')) return `note ${node.textContent}`;
      if (node.classList.contains('segment')) return `segment ${node.dataset.id}`;
      return node.className;
    }));
}

test('17. the record view follows the agenda, scene notes and not-speech segments live', { timeout: 60_000 }, async () => {
  const segs = desk.env.segments;
  assert.ok(segs.length >= 4, 'needs four segments');
  const [A, B] = RECORD_SPEAKERS;
  const p = await page('steno1');
  await openSession(p, desk.env, '?view=record');
  await p.waitForSelector('#segments.record-mode .record-speaker');
  await p.waitForSelector('#live-status.live-on');

  // The agenda: item 2 starts at the second segment, so A's speech is cut in two.
  const title2 = 'Luật <i>Đất đai</i> (sửa đổi)';
  let r = await callFromPage(p, 'PUT', `/api/sessions/${desk.env.sessionId}/agenda`, {
    items: [
      { title: 'Khai mạc kỳ họp', start_segment_id: segs[0].id },
      { title: title2, reference: 'Dự án luật', start_segment_id: segs[1].id },
      { title: 'Bế mạc' },
    ],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await p.waitForFunction(() => document.querySelectorAll('.record-agenda').length === 2);
  assert.deepEqual(await recordLayout(p), [
    'item Khai mạc kỳ họp', `speaker ${A}`, `segment ${segs[0].id}`,
    `item ${title2}`, `speaker ${A}`, `segment ${segs[1].id}`, `speaker ${B}`, `segment ${segs[2].id}`, `segment ${segs[3].id}`,
  ]);
  assert.equal(await p.locator('.record-agenda i').count(), 0, 'titles are text');

  // Applause before the fourth segment closes B's speech; B speaks again after it.
  r = await callFromPage(p, 'POST', `/api/sessions/${desk.env.sessionId}/notes`, { at_ms: segs[3].start_ms, kind: 'applause', text: '' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await p.waitForSelector('.record-note');
  // The third segment is not speech: out of the record, and B's first speech with it.
  const seg2 = (await callFromPage(p, 'GET', `/api/sessions/${desk.env.sessionId}/segments`)).body.find((s) => s.id === segs[2].id);
  r = await callFromPage(p, 'POST', `/api/segments/${segs[2].id}/state`, { version: seg2.version, state: 'not_speech' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await p.waitForFunction((id) => document.querySelector(`.segment[data-id="${id}"]`).classList.contains('not-speech'), segs[2].id);
  const expected = [
    'item Khai mạc kỳ họp', `speaker ${A}`, `segment ${segs[0].id}`,
    `item ${title2}`, `speaker ${A}`, `segment ${segs[1].id}`, 'note (Vỗ tay)', `speaker ${B}`, `segment ${segs[3].id}`,
  ];
  await p.waitForFunction((n) => document.querySelectorAll('.record-speaker').length === n, 3);
  assert.deepEqual(await recordLayout(p), expected);
  await shot(p, 'record-agenda');
  // n passes over the segment that is not speech.
  await p.locator(`.record-time[data-id="${segs[1].id}"]`).click();
  assert.equal(await p.getAttribute('.segment.selected', 'data-id'), String(segs[1].id));
  await p.keyboard.press('n');
  assert.equal(await p.getAttribute('.segment.selected', 'data-id'), String(segs[3].id));

  // A reload builds the same record from the server's agenda and notes.
  await p.reload();
  await p.waitForSelector('#segments.record-mode .record-note');
  assert.deepEqual(await recordLayout(p), expected);
  // The segment view still lists the segment, marked.
  await p.keyboard.press('v');
  await p.waitForFunction(() => !document.querySelector('#segments').classList.contains('record-mode'));
  assert.equal(await p.locator(`.segment.not-speech[data-id="${segs[2].id}"]`).isVisible(), true);
  assertNoPageErrors(p);
});
