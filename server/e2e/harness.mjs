// Builds a real record and starts a real `tocky serve` for the browser tests:
// Vietnamese clips joined with sox, transcribed by Whisper, ingested, users
// added with the CLI. Nothing is mocked.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = path.join(repoRoot, 'server', 'e2e', 'artifacts');

export const SESSION_TITLE = 'Phiên họp thử';
export const BIG_TITLE = 'Phiên họp dài';
export const BIG_SEGMENTS = 2000;
const BIG_STEP_MS = 600;

/** The transcript `doc` repeated into BIG_SEGMENTS segments, one every 600 ms. */
function bigDocument(doc) {
  const real = doc.segments.filter((s) => s.text.trim());
  const segments = [];
  for (let k = 0; k < BIG_SEGMENTS; k++) {
    const src = real[k % real.length];
    const start = k * BIG_STEP_MS;
    const span = Math.max(1, src.end_ms - src.start_ms);
    const at = (ms) => start + Math.round(((ms - src.start_ms) / span) * (BIG_STEP_MS - 50));
    segments.push({
      ...src,
      start_ms: start,
      end_ms: start + BIG_STEP_MS - 50,
      words: (src.words || []).map((w) => ({ ...w, start_ms: at(w.start_ms), end_ms: Math.max(at(w.start_ms), at(w.end_ms)) })),
    });
  }
  return {
    ...doc,
    // Another recording as far as the record knows (the key of an ingest).
    source: { ...doc.source, sha256: 'b'.repeat(64) },
    duration_ms: BIG_SEGMENTS * BIG_STEP_MS,
    segments,
  };
}
export const USERS = {
  admin: { role: 'admin', password: 'e2e-admin-Passw0rd!' },
  steno1: { role: 'stenographer', password: 'e2e-steno1-Passw0rd!' },
  steno2: { role: 'stenographer', password: 'e2e-steno2-Passw0rd!' },
  reader1: { role: 'reader', password: 'e2e-reader1-Passw0rd!' },
};

// The first clip's reference is "trong số các quốc gia công nghiệp phát triển".
const CLIPS = [
  'vivos_VIVOSSPK01_R003.wav',
  'vivos_VIVOSDEV01_R012.wav',
  'cv_common_voice_vi_23397238.wav',
  'vivos_VIVOSSPK01_R019.wav',
];

function run(cmd, args, { input, cwd } = {}) {
  const r = spawnSync(cmd, args, { cwd: cwd || repoRoot, input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r.stdout;
}

/**
 * Everything the tests need: {base, sessionId, segments, browser, stop()}.
 * `segments` are the session's segments as ingested (id, start_ms, …).
 * `model`: the server loads the default model (re-timing in the background,
 * recognition on request) instead of running with --no-retime.
 * `publicRead`: the server runs with --public-read.
 */
export async function setUp({ model = false, publicRead = false } = {}) {
  const bin = path.resolve(repoRoot, process.env.TOCKY_BIN || 'target/debug/tocky');
  if (!fs.existsSync(bin)) throw new Error(`no tocky binary at ${bin}: build it (cargo build -p tocky-cli) or set TOCKY_BIN`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tocky-e2e-'));
  const media = path.join(tmp, 'media');
  const out = path.join(tmp, 'out');
  const db = path.join(tmp, 'tocky.db');
  fs.mkdirSync(media);
  fs.mkdirSync(artifacts, { recursive: true });

  // One recording of several speakers' clips, with a pause after each so
  // that voice activity detection splits it into several segments.
  const parts = CLIPS.map((clip, i) => {
    const part = path.join(tmp, `part${i}.wav`);
    run('sox', [path.join(repoRoot, 'fixtures', 'vi', clip), '-r', '16000', '-c', '1', '-b', '16', part, 'pad', '0', '1.2']);
    return part;
  });
  const wav = path.join(media, 'session.wav');
  run('sox', [...parts, wav]);

  run(bin, ['transcribe', '-o', out, '-f', 'json', wav]);
  run(bin, ['--db', db, 'ingest', '--title', SESSION_TITLE, '--date', '2026-10-21', path.join(out, 'session.json')]);
  // A long sitting for the scale test: BIG_SEGMENTS segments made from the
  // real ones (same words, new times) over the same audio file.
  const bigJson = path.join(out, 'big.json');
  fs.writeFileSync(bigJson, JSON.stringify(bigDocument(JSON.parse(fs.readFileSync(path.join(out, 'session.json'), 'utf8')))));
  run(bin, ['--db', db, 'ingest', '--title', BIG_TITLE, '--date', '2026-10-22', bigJson]);
  for (const [name, u] of Object.entries(USERS)) {
    run(bin, ['--db', db, 'user', 'add', name, '--role', u.role], { input: `${u.password}\n` });
  }

  // Without background re-timing: it would move words under tests that
  // seek to a word's time (crates/retime's own test covers it, with the
  // model). Tests of recognition on request ask for the model.
  const serveArgs = ['--db', db, 'serve', '--bind', '127.0.0.1:0', '--media-dir', media];
  if (!model) serveArgs.push('--no-retime');
  if (publicRead) serveArgs.push('--public-read');
  const server = spawn(bin, serveArgs, {
    cwd: repoRoot,
    // Every browser context of every test comes from 127.0.0.1 and keeps
    // its connections open until the file ends: past the per-address cap
    // (64, meant for one client each), new pages stalled and tests timed
    // out at random. Real clients each have their own address.
    env: { ...process.env, TOCKY_SERVER_LIMITS__MAX_CONNECTIONS_PER_ADDRESS: '4096' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let serverLog = '';
  server.stderr.on('data', (d) => { serverLog += d; });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tocky serve did not say where it listens within 60 s\n${serverLog}`)), 60_000);
    const lines = readline.createInterface({ input: server.stdout });
    lines.on('line', (line) => {
      serverLog += `${line}\n`;
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].endsWith('/') ? m[1] : `${m[1]}/`);
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tocky serve exited with ${code}\n${serverLog}`));
    });
  });

  // The session and its segments, read through the API as an admin.
  const cookie = await apiLogin(base, 'admin');
  const sessions = await apiGet(base, cookie, 'api/sessions');
  const session = sessions.find((s) => s.title === SESSION_TITLE);
  const big = sessions.find((s) => s.title === BIG_TITLE);
  if (!session || !big) throw new Error(`sessions "${SESSION_TITLE}" and "${BIG_TITLE}" not listed: ${JSON.stringify(sessions)}`);
  const segments = await apiGet(base, cookie, `api/sessions/${session.id}/segments`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });

  return {
    base,
    sessionId: session.id,
    segments,
    bigSessionId: big.id,
    browser,
    serverLog: () => serverLog,
    async stop() {
      await browser.close().catch(() => {});
      server.kill('SIGTERM');
      await new Promise((r) => {
        if (server.exitCode !== null) r();
        else {
          const t = setTimeout(() => { server.kill('SIGKILL'); r(); }, 5000);
          server.on('exit', () => { clearTimeout(t); r(); });
        }
      });
      if (!process.env.E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
      else console.log(`e2e data kept in ${tmp}`);
    },
  };
}

async function apiLogin(base, user) {
  const res = await fetch(`${base}api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: USERS[user].password }),
  });
  if (!res.ok) throw new Error(`login as ${user}: HTTP ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return cookie;
}

async function apiGet(base, cookie, p) {
  const res = await fetch(`${base}${p}`, { headers: { Cookie: cookie, Accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${p}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * A fresh browser context (own cookies and storage) at 1280×800; with
 * `storageState`, one that starts with that login's cookie.
 */
export async function newPage(env, storageState) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, storageState });
  const page = await context.newPage();
  page.uncaught = [];
  page.on('pageerror', (err) => page.uncaught.push(err));
  // Leaving with unsaved drafts asks first (beforeunload): recorded and
  // accepted; prompts and confirms are dismissed.
  page.dialogs = [];
  page.on('dialog', (d) => {
    page.dialogs.push(d.type());
    (d.type() === 'beforeunload' ? d.accept() : d.dismiss()).catch(() => {});
  });
  return page;
}

/** Logs in through the login page. */
export async function login(page, env, user) {
  await page.goto(`${env.base}#/login`);
  await page.waitForSelector('#login-username');
  await page.fill('#login-username', user);
  await page.fill('#login-password', USERS[user].password);
  await page.click('#login-submit');
  await page.waitForSelector('#user-name, #login-error:not([hidden])');
  if (!(await page.locator('#user-name').count())) {
    throw new Error(`login as ${user} refused: ${await page.textContent('#login-error')}`);
  }
}

/**
 * A page logged in as `user`. The login page is used once per user; later
 * pages reuse that login's cookie (the server limits login attempts per user
 * name, as it should).
 */
const logins = new Map();
export async function loggedInPage(env, user) {
  if (logins.has(user)) {
    const page = await newPage(env, logins.get(user));
    await page.goto(env.base);
    await page.waitForSelector('#user-name');
    return page;
  }
  const page = await newPage(env);
  await login(page, env, user);
  logins.set(user, await page.context().storageState());
  return page;
}

export async function openSession(page, env, query = '') {
  await page.goto(`${env.base}#/sessions/${env.sessionId}${query}`);
  await page.waitForSelector('.segment[data-id]');
}

export function shot(page, name) {
  return page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

/**
 * PATCHes a segment from inside the page, as its logged-in user, with the
 * segment's current version (unless body.version is given).
 */
export function patchFromPage(page, env, segmentId, body) {
  return page.evaluate(async ({ sessionId, segmentId, body }) => {
    const me = await (await fetch('/api/me', { credentials: 'same-origin' })).json();
    const segs = await (await fetch(`/api/sessions/${sessionId}/segments`, { credentials: 'same-origin' })).json();
    const seg = segs.find((s) => s.id === segmentId);
    const res = await fetch(`/api/segments/${segmentId}`, {
      method: 'PATCH',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token || '' },
      body: JSON.stringify({ version: seg ? seg.version : 1, ...body }),
    });
    let json = null;
    try { json = await res.json(); } catch { json = null; }
    return { status: res.status, body: json };
  }, { sessionId: env.sessionId, segmentId, body });
}

/**
 * One suite's server and pages: `tocky serve` is started (`setUp(options)`)
 * before the file's tests and stopped after them, with every page the suite
 * opened. `desk.env` is the running server; `desk.page(user)` opens a page
 * logged in as `user`, or a visitor's page when `user` is omitted.
 * `prepare(desk)`, when given, runs once the server is up: in the same hook,
 * because Node 20 runs a file's top-level `before` hooks concurrently.
 */
export function useDesk(options = {}, prepare = async () => {}) {
  const pages = [];
  const desk = {
    env: null,
    async page(user) {
      const p = user ? await loggedInPage(desk.env, user) : await newPage(desk.env);
      pages.push(p);
      return p;
    },
  };
  before(async () => {
    desk.env = await setUp(options);
    await prepare(desk);
  }, { timeout: 20 * 60_000 });
  after(async () => {
    for (const p of pages) await p.context().close().catch(() => {});
    if (desk.env) await desk.env.stop();
  });
  return desk;
}

/**
 * Sends a request from inside the page, as its logged-in user (with its
 * CSRF token): `{status, body, text}`, `body` being the JSON answer or null.
 */
export function callFromPage(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const me = await (await fetch('/api/me', { credentials: 'same-origin' })).json();
    const res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token || '' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = null; }
    return { status: res.status, body: json, text };
  }, { method, path, body });
}

/** No uncaught exception happened in the page. */
export function assertNoPageErrors(page) {
  assert.deepEqual(page.uncaught.map(String), [], 'uncaught errors in the page');
}

/** The session's segments as the server has them now. */
export function serverSegments(page, env) {
  return page.evaluate(async (id) => (await fetch(`/api/sessions/${id}/segments`, { credentials: 'same-origin' })).json(), env.sessionId);
}

/** Ids of the rows shown (not merged away), in order. */
export function shownIds(page) {
  return page.evaluate(() => [...document.querySelectorAll('.segment:not(.gone)')].map((r) => Number(r.dataset.id)));
}

/** Selects a row with the n / p keys only. */
export async function selectByKeys(page, id) {
  const ids = await shownIds(page);
  const want = ids.indexOf(id);
  assert.ok(want >= 0, `row ${id} is shown`);
  for (let i = 0; i < ids.length * 2 + 2; i++) {
    const sel = await page.evaluate(() => Number(document.querySelector('.segment.selected')?.dataset.id));
    const at = ids.indexOf(sel);
    if (at === want) return;
    await page.keyboard.press(at < 0 || at < want ? 'n' : 'p');
  }
  assert.fail(`could not select row ${id}`);
}
