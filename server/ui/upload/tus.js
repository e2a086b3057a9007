// A small tus 1.0 client (docs/api.md, "Uploads"): create, PATCH in
// chunks, resume from HEAD, terminate.
//
// Why not tus-js-client: its browser build is a UMD bundle that sets a
// global, and the desk is plain ES modules under a CSP that allows only
// its own scripts, without a bundler; what the desk needs of tus (one
// file, sequential chunks, resume from HEAD, the CSRF header) is the
// hundred lines below. Uploads resume across page loads: the upload's
// address is kept in localStorage under the file's name, size and date.

import { auth, ApiError } from '../api.js';

const TUS = { 'Tus-Resumable': '1.0.0' };
/** Chunks small enough to go well within the server's request timeout. */
export const DEFAULT_CHUNK_BYTES = 8 << 20;
const RETRIES = 5;

function storageKey(file) {
  return `tocky-upload:${file.webkitRelativePath || file.name}:${file.size}:${file.lastModified}`;
}

/** base64 of a string's UTF-8 bytes, as Upload-Metadata wants. */
function b64(text) {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

async function send(method, url, headers = {}, body = undefined, signal = undefined) {
  const h = { ...TUS, ...headers };
  if (method !== 'HEAD' && auth.csrf) h['X-CSRF-Token'] = auth.csrf;
  const res = await fetch(url, { method, headers: h, body, credentials: 'same-origin', signal });
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    throw new ApiError(res.status, data, res.headers);
  }
  return res;
}

async function serverOffset(url, signal) {
  const res = await send('HEAD', url, {}, undefined, signal);
  return Number(res.headers.get('Upload-Offset'));
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Uploads `file`, resuming an earlier upload of it if the server still has
 * one. `metadata` is sent as Upload-Metadata; `onProgress(sent, total)`
 * follows each chunk; `onResume(offset)` says where an earlier upload left
 * off. Returns the upload's address (`/api/uploads/{id}`).
 */
export async function tusUpload(file, { metadata = {}, chunkBytes = DEFAULT_CHUNK_BYTES, signal, onProgress, onResume, onCreated } = {}) {
  const key = storageKey(file);
  let url = localStorage.getItem(key);
  let offset = 0;
  if (url) {
    try {
      offset = await serverOffset(url, signal);
      if (onResume) onResume(offset);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      localStorage.removeItem(key);
      url = null;
    }
  }
  if (!url) {
    const meta = Object.entries({ filename: file.name, filetype: file.type || 'application/octet-stream', ...metadata })
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${k} ${b64(String(v))}`)
      .join(',');
    const res = await send('POST', '/api/uploads', { 'Upload-Length': String(file.size), 'Upload-Metadata': meta }, undefined, signal);
    url = res.headers.get('Location');
    localStorage.setItem(key, url);
    offset = 0;
  }
  if (onCreated) onCreated(url);
  if (onProgress) onProgress(offset, file.size);
  let failures = 0;
  while (offset < file.size) {
    const chunk = file.slice(offset, Math.min(file.size, offset + chunkBytes));
    try {
      const res = await send('PATCH', url, {
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': String(offset),
      }, chunk, signal);
      offset = Number(res.headers.get('Upload-Offset'));
      failures = 0;
      if (onProgress) onProgress(offset, file.size);
    } catch (err) {
      if (signal && signal.aborted) throw err;
      // A conflict (another tab, a lost answer) or a dropped connection:
      // ask the server where it is and go on from there.
      const retryable = !(err instanceof ApiError) || err.status === 409 || err.status >= 500;
      if (!retryable || ++failures > RETRIES) throw err;
      await pause(500 * failures);
      offset = await serverOffset(url, signal);
    }
  }
  localStorage.removeItem(key);
  return url;
}

/** Cancels an upload on the server (tus termination) and forgets it. */
export async function tusCancel(file, url) {
  localStorage.removeItem(storageKey(file));
  if (url) {
    try {
      await send('DELETE', url);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }
}

/** Whether an earlier, unfinished upload of `file` can be resumed. */
export function hasPartialUpload(file) {
  return localStorage.getItem(storageKey(file)) !== null;
}
