// The search page. The query and filters live in the hash
// (#/search?q=…&session=&speaker=&from=&to=), so a search can be bookmarked,
// shared and reached again with Back.

import { get, errorMessage } from './api.js';
import { el, fmtClock, fmtDate } from './util.js';

export async function mountSearch(root, params) {
  const sessions = await get('/api/sessions');
  const q = params.get('q') || '';
  const input = el('input', {
    id: 'search-input', type: 'search', name: 'q', value: q, autocomplete: 'off',
    placeholder: 'Ví dụ: quốc hội, ngân sách (gõ có dấu hoặc không dấu)',
    attrs: { 'aria-label': 'Từ cần tìm' },
  });
  const session = el('select', { id: 'search-session', name: 'session' },
    el('option', { value: '', text: 'Tất cả phiên họp' }),
    sessions.map((s) => el('option', { value: String(s.id), text: `${s.title} (${fmtDate(s.sitting_date)})` })));
  session.value = params.get('session') || '';
  const speaker = el('input', { id: 'search-speaker', name: 'speaker', type: 'number', min: '1', step: '1', value: params.get('speaker') || '', placeholder: 'mã số' });
  const from = el('input', { id: 'search-from', name: 'from', type: 'date', value: params.get('from') || '' });
  const to = el('input', { id: 'search-to', name: 'to', type: 'date', value: params.get('to') || '' });
  const results = el('div', { id: 'search-results', attrs: { 'aria-live': 'polite' } });

  const form = el('form', { id: 'search-form', className: 'search-form', attrs: { role: 'search' } },
    el('div', { className: 'search-main' }, input, el('button', { type: 'submit', className: 'primary', id: 'search-submit', text: 'Tìm' })),
    el('div', { className: 'filters' },
      field('Phiên họp', session), field('Mã người nói', speaker), field('Từ ngày', from), field('Đến ngày', to)));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (input.value.trim()) p.set('q', input.value.trim());
    if (session.value) p.set('session', session.value);
    if (speaker.value) p.set('speaker', speaker.value);
    if (from.value) p.set('from', from.value);
    if (to.value) p.set('to', to.value);
    const hash = `#/search?${p}`;
    // The hash change re-runs the search; the same hash still searches again.
    if (location.hash === hash) run();
    else location.hash = hash;
  });

  root.append(el('h1', { text: 'Tìm kiếm' }), form, results);
  input.focus();

  let alive = true;
  async function run() {
    const query = params.get('q') || '';
    if (!query.trim()) {
      results.replaceChildren(el('p', { className: 'note', text: 'Nhập từ cần tìm. Có thể gõ không dấu: "quoc hoi" tìm được "Quốc hội".' }));
      return;
    }
    const api = new URLSearchParams({ q: query });
    for (const k of ['session', 'speaker', 'from', 'to']) if (params.get(k)) api.set(k, params.get(k));
    api.set('limit', '100');
    results.replaceChildren(el('p', { className: 'note', text: 'Đang tìm…' }));
    let answer;
    try {
      answer = await get(`/api/search?${api}`);
    } catch (err) {
      if (alive) results.replaceChildren(el('p', { className: 'error', text: errorMessage(err) }));
      return;
    }
    if (!alive) return;
    const hits = answer.hits || [];
    if (!hits.length) {
      results.replaceChildren(el('p', { className: 'empty', text: `Không tìm thấy "${query}".` }));
      return;
    }
    results.replaceChildren(
      el('p', { className: 'note', id: 'hit-count', text: `${hits.length} kết quả` }),
      el('ol', { className: 'hits' }, hits.map(renderHit)));
  }
  run();
  return () => { alive = false; };
}

function field(label, control) {
  return el('label', { className: 'field' }, el('span', { text: label }), control);
}

function renderHit(h) {
  const snippet = el('div', { className: 'snippet', attrs: { lang: 'vi' } });
  setSnippet(snippet, h.snippet_html, h.text);
  // Play from where the match is said (the server finds its first word).
  const jump = Number.isFinite(h.jump_ms) ? h.jump_ms : h.start_ms;
  return el('li', { className: 'hit', dataset: { segmentId: h.segment_id, sessionId: h.session_id, start: h.start_ms, jump } },
    el('a', { className: 'hit-link', href: `#/sessions/${h.session_id}?t=${jump}&play=1` },
      el('div', { className: 'hit-head' },
        el('span', { className: 'hit-title', text: h.session_title }),
        el('span', { className: 'hit-date', text: fmtDate(h.sitting_date) }),
        el('span', { className: 'hit-time', text: fmtClock(jump) })),
      snippet));
}

/**
 * snippet_html comes escaped from the server with matches in <b>. As a
 * second line of defence, anything other than text and <b> is turned back
 * into text before it reaches the page.
 */
function setSnippet(target, html, fallback) {
  if (typeof html !== 'string') {
    target.textContent = fallback || '';
    return;
  }
  const tpl = document.createElement('template');
  tpl.innerHTML = html; // a template's content is inert: no scripts, no loads
  const out = [];
  for (const node of tpl.content.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) out.push(node.textContent);
    else if (node.nodeName === 'B') out.push(el('b', { text: node.textContent }));
    else out.push(node.textContent);
  }
  target.replaceChildren(...out);
}
