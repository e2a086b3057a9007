// Entry point: the header, hash routing, the login page and the session list.
//
// Routes: #/login, #/ (sessions), #/sessions/{id}[?t=ms&play=1],
// #/search?q=…, #/people, #/upload (stenographers and up).  Each page's mount() returns a function that tears it down
// (closing sockets, stopping audio), called before the next page mounts.

import { auth, loadMe, login, logout, get, onUnauthorized, errorMessage, ApiError, ROLE_LABELS, canEdit } from './api.js';
import { el, fmtDate, fmtDuration, parseHash, toast } from './util.js';
import { mountSession } from './session.js';
import { mountSearch } from './search.js';
import { mountPeople } from './people.js';
import { mountUpload } from './upload.js';

const main = document.getElementById('app');
let unmount = null;
let routeToken = 0;

function renderHeader() {
  const box = document.getElementById('user-box');
  box.replaceChildren();
  if (auth.user) {
    box.append(
      el('span', { className: 'user-name', id: 'user-name', text: auth.user.name }),
      el('span', { className: `user-role role-${auth.user.role}`, id: 'user-role', text: ROLE_LABELS[auth.user.role] || auth.user.role }),
      el('button', {
        type: 'button', id: 'logout', className: 'link-button', text: 'Đăng xuất',
        on: {
          click: async () => {
            try {
              await logout();
            } catch (err) {
              toast(errorMessage(err), 'error');
            }
            renderHeader();
            location.hash = '#/login';
          },
        },
      }));
  } else {
    box.append(el('a', { href: '#/login', id: 'login-link', text: 'Đăng nhập' }));
  }
  const { path } = parseHash();
  document.getElementById('nav-sessions').classList.toggle('active', path === '/' || path.startsWith('/sessions'));
  document.getElementById('nav-search').classList.toggle('active', path.startsWith('/search'));
  document.getElementById('nav-people').classList.toggle('active', path.startsWith('/people'));
  const upload = document.getElementById('nav-upload');
  upload.hidden = !canEdit();
  upload.classList.toggle('active', path.startsWith('/upload'));
}

/** Where to go after logging in: the page that asked for it. */
function loginHash() {
  const { path } = parseHash();
  if (path === '/login') return location.hash;
  const next = location.hash.replace(/^#/, '') || '/';
  return `#/login?next=${encodeURIComponent(next)}`;
}

async function route() {
  const token = ++routeToken;
  if (unmount) {
    try { unmount(); } catch (err) { console.error(err); }
    unmount = null;
  }
  renderHeader();
  const { path, params } = parseHash();
  if (path !== '/login' && !auth.user) {
    // Without a login the desk is closed; public reading (public_read)
    // opens the published record's own pages.
    if (auth.publicRead) location.replace('/records');
    else location.replace(loginHash());
    return;
  }
  main.replaceChildren();
  let m;
  try {
    if (path === '/login') unmount = mountLogin(main, params);
    else if (path === '/' || path === '') unmount = await mountSessionList(main);
    else if ((m = /^\/sessions\/(\d+)$/.exec(path))) unmount = await mountSession(main, Number(m[1]), params);
    else if (path === '/search') unmount = await mountSearch(main, params);
    else if (path === '/people') unmount = await mountPeople(main);
    else if (path === '/upload') unmount = await mountUpload(main, params);
    else main.append(el('p', { className: 'error', text: 'Không có trang này.' }), el('a', { href: '#/', text: 'Về danh sách phiên họp' }));
  } catch (err) {
    if (token !== routeToken) return;
    if (err instanceof ApiError && err.status === 401) return; // onUnauthorized redirects
    console.error(err);
    main.replaceChildren(el('p', { className: 'error', text: errorMessage(err) }));
  }
  if (token !== routeToken && unmount) {
    // A newer navigation started while this page loaded.
    unmount();
    unmount = null;
  }
}

function mountLogin(root, params) {
  const username = el('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true });
  const password = el('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = el('p', { id: 'login-error', className: 'error', attrs: { role: 'alert' }, hidden: true });
  const submit = el('button', { type: 'submit', id: 'login-submit', className: 'primary', text: 'Đăng nhập' });
  const form = el('form', { id: 'login-form', className: 'login-form', attrs: { novalidate: true } },
    el('h1', { text: 'Đăng nhập' }),
    el('label', { attrs: { for: 'login-username' }, text: 'Tên đăng nhập' }), username,
    el('label', { attrs: { for: 'login-password' }, text: 'Mật khẩu' }), password,
    error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (!username.value || !password.value) {
      error.textContent = 'Hãy nhập tên đăng nhập và mật khẩu.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      await login(username.value.trim(), password.value);
      const next = params.get('next');
      location.hash = next && next.startsWith('/') && !next.startsWith('/login') ? `#${next}` : '#/';
    } catch (err) {
      let msg = errorMessage(err);
      if (err instanceof ApiError && err.status === 429) {
        const after = err.headers && err.headers.get('Retry-After');
        if (after) msg += ` (thử lại sau ${after} giây)`;
      }
      error.textContent = msg;
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  root.append(form);
  username.focus();
  return () => {};
}

async function mountSessionList(root) {
  const sessions = await get('/api/sessions');
  root.append(el('h1', { text: 'Phiên họp' }));
  if (!sessions.length) {
    root.append(el('p', { className: 'empty', text: 'Chưa có phiên họp nào.' }));
    return () => {};
  }
  const rows = sessions.map((s) =>
    el('tr', { className: 'session-row', dataset: { id: s.id } },
      el('td', {}, el('a', { href: `#/sessions/${s.id}`, className: 'session-link', text: s.title }),
        s.agenda_item ? el('div', { className: 'note', text: s.agenda_item }) : null),
      el('td', { text: fmtDate(s.sitting_date) }),
      el('td', { className: 'num', text: fmtDuration(s.duration_ms) }),
      el('td', { className: 'num', text: String(s.segment_count) }),
      el('td', { className: 'num' },
        `${s.reviewed_count}`,
        el('span', { className: 'note', text: s.segment_count ? ` (${Math.round((100 * s.reviewed_count) / s.segment_count)}%)` : '' }))));
  root.append(el('table', { id: 'session-table', className: 'data' },
    el('thead', {}, el('tr', {},
      el('th', { text: 'Tiêu đề' }), el('th', { text: 'Ngày họp' }), el('th', { className: 'num', text: 'Thời lượng' }),
      el('th', { className: 'num', text: 'Số đoạn' }), el('th', { className: 'num', text: 'Đã duyệt' }))),
    el('tbody', {}, rows)));
  return () => {};
}

async function boot() {
  onUnauthorized(() => {
    auth.user = null;
    auth.csrf = null;
    renderHeader();
    // Drafts need a login, public reading or not.
    if (parseHash().path !== '/login') {
      toast('Phiên đăng nhập đã hết; hãy đăng nhập lại.', 'error');
      location.replace(loginHash());
    }
  });
  try {
    await loadMe();
  } catch (err) {
    main.replaceChildren(el('p', { className: 'error', text: errorMessage(err) }));
    return;
  }
  window.addEventListener('hashchange', route);
  route();
}

boot();
