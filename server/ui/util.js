// Small DOM and formatting helpers.
//
// el() only ever sets text through textContent, so transcript text can never
// become markup, whatever it contains.

/**
 * Creates an element. `props`: className, text (textContent), dataset,
 * attrs (attributes), on (event listeners), and any other DOM property.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'attrs') {
      for (const [a, v] of Object.entries(value)) if (v !== undefined && v !== null && v !== false) node.setAttribute(a, v === true ? '' : v);
    } else if (key === 'on') {
      for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    } else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const pad = (n) => String(n).padStart(2, '0');

/** 83_000 → "01:23"; past an hour "1:01:23". */
export function fmtClock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

/** A duration for tables: "1 giờ 05 phút", "3 phút 12 giây". */
export function fmtDuration(ms) {
  const total = Math.round((ms || 0) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h} giờ ${pad(m)} phút`;
  if (m) return `${m} phút ${pad(s)} giây`;
  return `${s} giây`;
}

/** "2026-10-21" → "21/10/2026" (dates are calendar dates, no time zone). */
export function fmtDate(iso) {
  if (!iso) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso;
}

/** An ISO timestamp (UTC) in local time, Vietnamese style. */
export function fmtDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;
}

/** Text as the server stores it: NFC, trimmed; for "did it change?" checks. */
export function normText(s) {
  return (s || '').normalize('NFC').trim();
}

/** Shows a short message at the bottom of the page. */
let toastTimer = 0;
export function toast(message, kind = 'info') {
  const box = document.getElementById('toast');
  if (!box) return;
  box.textContent = message;
  box.className = `toast-${kind}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === 'error' ? 8000 : 4000);
}

/** Parses the hash: "#/sessions/3?t=5000" → {path: "/sessions/3", params}. */
export function parseHash(hash = location.hash) {
  const h = hash.replace(/^#/, '') || '/';
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  return { path: path || '/', params };
}

/** Whether keyboard focus is in a field that takes typing. */
export function isTypingTarget(node) {
  if (!node || !(node instanceof Element)) return false;
  if (node.isContentEditable) return true;
  const tag = node.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (node.getAttribute('type') || 'text').toLowerCase();
    return !['button', 'submit', 'reset', 'checkbox', 'radio', 'range'].includes(type);
  }
  return false;
}
