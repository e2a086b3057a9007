// The HTTP API (docs/api.md) and who is logged in.
//
// The CSRF token lives only in memory: the session cookie is HttpOnly, so a
// token that script can read is what proves a request came from this page.

/** Who is logged in; filled by loadMe() and login(). */
export const auth = {
  user: null, // {name, role} or null
  csrf: null,
  publicRead: false,
};

/** An answer other than 2xx; `body` is the parsed JSON error, if any. */
export class ApiError extends Error {
  constructor(status, body, headers) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Listeners told when the server says we are no longer logged in. */
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

/**
 * Sends a request and returns the parsed JSON answer (null for 204).
 * Throws ApiError for non-2xx answers and TypeError for network failures.
 */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, credentials: 'same-origin', headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (UNSAFE.has(method) && auth.csrf) headers['X-CSRF-Token'] = auth.csrf;
  const res = await fetch(path, init);
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data, res.headers);
    if (res.status === 401 && path !== '/api/login') {
      for (const fn of unauthorizedListeners) fn(err);
    }
    throw err;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const patch = (path, body) => api('PATCH', path, body);

/** Asks the server who we are. */
export async function loadMe() {
  const me = await get('/api/me');
  auth.user = me.user || null;
  auth.csrf = me.csrf_token || null;
  auth.publicRead = !!me.public_read;
  return me;
}

export async function login(username, password) {
  const r = await post('/api/login', { username, password });
  auth.user = r.user;
  auth.csrf = r.csrf_token;
  return r;
}

export async function logout() {
  try {
    await post('/api/logout');
  } finally {
    auth.user = null;
    auth.csrf = null;
  }
}

/** Stenographers, editors and admins edit; readers only read and listen. */
export function canEdit() {
  return !!auth.user && ['stenographer', 'editor', 'admin'].includes(auth.user.role);
}

export const ROLE_LABELS = {
  reader: 'Người đọc',
  stenographer: 'Thư ký tốc ký',
  editor: 'Biên tập viên',
  admin: 'Quản trị viên',
};

/** A message for people from any error thrown by api(). */
export function errorMessage(err) {
  if (err instanceof ApiError) {
    if (err.body && err.body.error) return err.body.error;
    switch (err.status) {
      case 401: return 'Bạn cần đăng nhập.';
      case 403: return 'Bạn không có quyền làm việc này.';
      case 404: return 'Không tìm thấy.';
      case 409: return 'Dữ liệu đã bị người khác thay đổi.';
      case 429: return 'Quá nhiều lần thử; hãy đợi một lát.';
      default: return `Lỗi máy chủ (${err.status}).`;
    }
  }
  return 'Không kết nối được máy chủ.';
}
