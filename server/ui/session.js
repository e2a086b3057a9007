// The session page: audio, the transcript as one row per segment, editing
// with drafts and conflict resolution, speakers, review status, revisions,
// live updates and the keyboard.
//
// Speed with thousands of segments: the rows are built once; afterwards only
// the row that changed is touched. Events are delegated to the list, and the
// segment under the playhead is found by binary search over start times.

import { auth, get, patch, post, canEdit, errorMessage, ApiError, loadMe } from './api.js';
import { el, fmtClock, fmtDate, fmtDateTime, fmtDuration, normText, toast, isTypingTarget } from './util.js';
import { actionFor, toggleHelp, helpOpen, closeHelp } from './keys.js';
import { loadDraft, saveDraft, removeDraft, draftIds, setDraftOwner } from './drafts.js';

const NEW_SPEAKER = '__new';
const SEEK_STEP_MS = 3000;
const EXPORTS = [['json', 'JSON'], ['srt', 'SRT'], ['vtt', 'WebVTT'], ['txt', 'TXT'], ['docx', 'DOCX']];
const STATUS_LABEL = { draft: 'Nháp', reviewed: 'Đã duyệt' };

export async function mountSession(root, sessionId, params) {
  const [detail, segments] = await Promise.all([
    get(`/api/sessions/${sessionId}`),
    get(`/api/sessions/${sessionId}/segments`),
  ]);
  const view = new SessionView(root, detail, segments, params);
  return () => view.destroy();
}

/** Index of the last item of sorted `starts` that is <= ms; -1 if none. */
export function lastStartAtOrBefore(starts, ms) {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= ms) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Where `word` occurs in `text` from `from` on as a whole word; -1 if not. */
function findWord(text, word, from) {
  for (let at = text.indexOf(word, from); at >= 0; at = text.indexOf(word, at + 1)) {
    const before = at > 0 ? text[at - 1] : ' ';
    const after = at + word.length < text.length ? text[at + word.length] : ' ';
    if (!WORD_CHAR.test(before) && !WORD_CHAR.test(after)) return at;
  }
  return -1;
}

class SessionView {
  constructor(root, detail, segments, params) {
    this.root = root;
    this.session = detail.session;
    this.id = this.session.id;
    this.editable = canEdit();
    setDraftOwner(auth.user && auth.user.name);
    this.speakers = new Map(detail.speakers.map((s) => [s.id, s]));
    this.states = []; // per segment, in time order: {seg, idx, row, …}
    this.byId = new Map();
    this.starts = [];
    this.current = null; // the state under the playhead
    this.selected = null; // the state the keyboard acts on
    this.partials = new Map(); // channel → element
    this.destroyed = false;
    this.raf = 0;
    this.ws = null;
    this.wsTimer = 0;
    this.backoff = 1000;
    this.wsOpenedOnce = false;

    this.buildPage();
    this.buildRows(segments);
    this.restoreDrafts();
    this.bindEvents();
    this.connectLive();
    this.applyStartParams(params);
  }

  // ---- page skeleton ----------------------------------------------------

  buildPage() {
    const s = this.session;
    this.meta = el('p', { className: 'session-meta' });
    const exports = el('p', { className: 'exports' }, 'Tải về: ',
      EXPORTS.flatMap(([fmt, label], i) => [i ? ' · ' : '',
        el('a', { href: `/api/sessions/${this.id}/export/${fmt}`, className: `export-${fmt}`, attrs: { download: '' }, text: label })]));
    this.audio = el('audio', {
      id: 'audio', controls: true, preload: 'metadata', src: `/api/sessions/${this.id}/audio`,
    });
    this.speedLabel = el('span', { className: 'speed', id: 'speed', text: 'Tốc độ 1×' });
    this.liveLabel = el('span', { className: 'live-status', id: 'live-status', text: '' });
    this.list = el('div', { id: 'segments', className: 'segments', attrs: { role: 'list', 'aria-label': 'Các đoạn của biên bản' } });
    this.page = el('section', { className: 'session-page', dataset: { sessionId: this.id } },
      el('div', { className: 'session-head' },
        el('h1', { id: 'session-title', text: s.title }),
        this.meta,
        exports,
        this.editable ? null : el('p', { className: 'readonly-note', id: 'readonly-note', text: 'Chỉ đọc' })),
      el('div', { className: 'player-bar' },
        this.audio, this.speedLabel, this.liveLabel,
        el('button', { type: 'button', className: 'help-button', id: 'help-button', text: 'Phím tắt (?)', on: { click: () => toggleHelp() } })),
      this.list);
    this.root.append(this.page);
  }

  updateMeta() {
    const s = this.session;
    const reviewed = this.states.reduce((n, st) => n + (st.seg.review_status === 'reviewed' ? 1 : 0), 0);
    this.meta.textContent = [
      `Ngày họp ${fmtDate(s.sitting_date)}`,
      s.agenda_item || null,
      fmtDuration(s.duration_ms),
      `${this.states.length} đoạn`,
      `đã duyệt ${reviewed}`,
    ].filter(Boolean).join(' · ');
  }

  // ---- rows ------------------------------------------------------------

  buildRows(segments) {
    this.speakerTemplate = this.editable ? this.makeSpeakerTemplate() : null;
    const frag = document.createDocumentFragment();
    segments.forEach((seg, idx) => {
      const st = this.makeState(seg, idx);
      this.states.push(st);
      this.byId.set(seg.id, st);
      this.starts.push(seg.start_ms);
      frag.append(st.row);
    });
    this.list.append(frag);
    if (!segments.length) this.list.append(el('p', { className: 'empty', text: 'Phiên họp chưa có đoạn nào.' }));
    this.updateMeta();
  }

  makeSpeakerTemplate() {
    const select = el('select', { className: 'speaker', attrs: { 'aria-label': 'Người nói' } },
      el('option', { value: '', text: '— chưa rõ —' }),
      [...this.speakers.values()].map((sp) => el('option', { value: String(sp.id), text: sp.name })),
      el('option', { value: NEW_SPEAKER, text: '+ Thêm người nói…' }));
    return select;
  }

  makeState(seg, idx) {
    const st = { seg, idx, draft: null, editor: null, conflict: null, history: null, serverChanged: false, busy: false };
    const row = el('div', { className: 'segment', dataset: { id: seg.id, start: seg.start_ms }, tabIndex: -1, attrs: { role: 'listitem' } });
    st.row = row;
    st.time = el('button', { type: 'button', className: 'time', title: 'Nghe từ đầu đoạn', text: fmtClock(seg.start_ms) });
    st.speaker = this.editable ? this.speakerTemplate.cloneNode(true) : el('span', { className: 'speaker-name' });
    st.text = el('div', { className: 'text', attrs: { lang: 'vi' } });
    st.body = el('div', { className: 'body' }, st.text);
    st.status = el('span', { className: 'status' });
    st.unsaved = el('span', { className: 'unsaved', text: 'chưa lưu', hidden: true });
    const side = el('div', { className: 'side' }, st.status, st.unsaved);
    if (this.editable) {
      st.reviewBtn = el('button', { type: 'button', className: 'review-btn' });
      side.append(st.reviewBtn);
    }
    side.append(el('button', { type: 'button', className: 'history-btn', text: 'Lịch sử' }));
    row.append(st.time, st.speaker, st.body, side);
    this.fillRow(st);
    return st;
  }

  /** Writes a segment's server state into its row. */
  fillRow(st) {
    const s = st.seg;
    if (s.speaker_id != null && !this.speakers.has(s.speaker_id)) this.refreshSpeakers();
    this.renderText(st.text, s);
    if (this.editable) {
      // An id missing from the options leaves the select on "— chưa rõ —".
      st.speaker.value = s.speaker_id == null ? '' : String(s.speaker_id);
      st.reviewBtn.textContent = s.review_status === 'reviewed' ? 'Bỏ duyệt' : 'Duyệt';
      st.reviewBtn.title = s.review_status === 'reviewed' ? 'Trở lại nháp (r)' : 'Đánh dấu đã duyệt (r)';
    } else {
      const sp = s.speaker_id == null ? null : this.speakers.get(s.speaker_id);
      st.speaker.textContent = sp ? sp.name : '— chưa rõ —';
    }
    const reviewed = s.review_status === 'reviewed';
    st.status.textContent = STATUS_LABEL[s.review_status] || s.review_status;
    st.status.className = `status ${reviewed ? 'status-reviewed' : 'status-draft'}`;
    st.row.classList.toggle('reviewed', reviewed);
  }

  /**
   * Renders the text with each transcribed word as a clickable span. The
   * text is the truth (it may have been edited): words are looked up in it in
   * order, and what they do not cover is shown as plain text. Only
   * textContent is used, never markup.
   */
  renderText(target, seg) {
    const text = seg.text || '';
    const parts = [];
    let pos = 0;
    for (const w of seg.words || []) {
      const wt = (w.text || '').trim();
      if (!wt) continue;
      const at = findWord(text, wt, pos);
      if (at < 0) continue; // the word was edited away
      if (at > pos) parts.push(text.slice(pos, at));
      const span = document.createElement('span');
      span.className = w.probability < 0.5 ? 'word low-confidence' : 'word';
      span.dataset.start = w.start_ms;
      span.textContent = wt;
      if (w.probability < 0.5) span.title = `Độ tin cậy thấp (${Math.round(w.probability * 100)}%)`;
      parts.push(span);
      pos = at + wt.length;
    }
    if (pos < text.length) parts.push(text.slice(pos));
    target.replaceChildren(...parts);
  }

  /** Adds a row for a segment that arrived live, keeping time order. */
  insertSegment(seg) {
    let idx = this.states.length;
    while (idx > 0) {
      const prev = this.states[idx - 1].seg;
      if (prev.start_ms < seg.start_ms || (prev.start_ms === seg.start_ms && prev.seq <= seg.seq)) break;
      idx--;
    }
    const st = this.makeState(seg, idx);
    const before = idx < this.states.length ? this.states[idx].row : this.list.querySelector('.partial');
    this.list.insertBefore(st.row, before);
    this.list.querySelector(':scope > .empty')?.remove();
    this.states.splice(idx, 0, st);
    this.starts.splice(idx, 0, seg.start_ms);
    this.byId.set(seg.id, st);
    for (let i = idx; i < this.states.length; i++) this.states[i].idx = i;
    this.clearPartial(seg.channel ?? 0);
    this.updateMeta();
    this.tick();
  }

  /**
   * Takes a segment from the server (an answer, a live message, a resync).
   * A row being edited keeps its textarea: the user's text is never
   * replaced; the row is marked so that saving goes through the conflict view.
   */
  applySegment(seg) {
    const st = this.byId.get(seg.id);
    if (!st) {
      if (seg.session_id === this.id) this.insertSegment(seg);
      return null;
    }
    if (seg.version <= st.seg.version) return st; // old news (e.g. the echo of our own save)
    const wasReviewed = st.seg.review_status;
    st.seg = seg;
    this.fillRow(st);
    const base = this.baseOf(st);
    if ((st.editor || st.draft) && base && base.version !== seg.version) this.setServerChanged(st, true);
    if (wasReviewed !== seg.review_status) this.updateMeta();
    return st;
  }

  /** The version and text an open editor or a draft started from. */
  baseOf(st) {
    if (st.draft) return { version: st.draft.version, text: st.draft.base_text };
    if (st.editor) return st.editor.base;
    return null;
  }

  setServerChanged(st, changed) {
    st.serverChanged = changed;
    st.row.classList.toggle('server-changed', changed);
    if (st.editor) st.editor.notice.hidden = !changed;
  }

  // ---- events ----------------------------------------------------------

  bindEvents() {
    this.onClick = (e) => this.handleClick(e);
    this.onChange = (e) => this.handleChange(e);
    this.onInput = (e) => this.handleInput(e);
    this.onKey = (e) => this.handleKey(e);
    this.onBeforeUnload = (e) => {
      if (this.states.some((st) => st.draft)) {
        e.preventDefault();
        e.returnValue = '';
      }
    };
    this.list.addEventListener('click', this.onClick);
    this.list.addEventListener('change', this.onChange);
    this.list.addEventListener('input', this.onInput);
    document.addEventListener('keydown', this.onKey);
    window.addEventListener('beforeunload', this.onBeforeUnload);

    const a = this.audio;
    this.onTime = () => this.tick();
    a.addEventListener('timeupdate', this.onTime);
    a.addEventListener('seeked', this.onTime);
    a.addEventListener('play', () => this.startLoop());
    a.addEventListener('pause', () => this.stopLoop());
    a.addEventListener('ended', () => this.stopLoop());
    a.addEventListener('ratechange', () => { this.speedLabel.textContent = `Tốc độ ${String(a.playbackRate).replace('.', ',')}×`; });
    a.addEventListener('error', () => toast('Không tải được âm thanh của phiên họp.', 'error'));
  }

  destroy() {
    this.destroyed = true;
    this.stopLoop();
    document.removeEventListener('keydown', this.onKey);
    window.removeEventListener('beforeunload', this.onBeforeUnload);
    clearTimeout(this.wsTimer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load(); // stops the download
    closeHelp();
  }

  stateOf(node) {
    const row = node instanceof Element ? node.closest('.segment') : null;
    return row ? this.byId.get(Number(row.dataset.id)) : null;
  }

  handleClick(e) {
    const t = e.target;
    const st = this.stateOf(t);
    if (!st) return;
    const word = t.closest('.word');
    if (word && !t.closest('.editor, .conflict-view, .revisions')) {
      this.select(st);
      this.seek(Number(word.dataset.start));
      return;
    }
    if (t.closest('.time')) {
      this.select(st);
      this.seek(st.seg.start_ms);
      return;
    }
    if (t.closest('.review-btn')) {
      this.select(st);
      this.toggleReview(st);
      return;
    }
    if (t.closest('.history-btn')) {
      this.select(st);
      this.toggleHistory(st);
      return;
    }
    const action = t.closest('[data-action]');
    if (action) {
      this.rowAction(st, action.dataset.action, action);
      return;
    }
    if (!t.closest('button, select, textarea, a, input')) this.select(st, { focus: !window.getSelection()?.toString() });
  }

  handleChange(e) {
    if (e.target.classList.contains('speaker')) {
      const st = this.stateOf(e.target);
      if (st) this.changeSpeaker(st, e.target.value);
    }
  }

  handleInput(e) {
    const st = this.stateOf(e.target);
    if (!st) return;
    if (e.target.classList.contains('edit-text')) this.keepDraft(st, e.target.value, st.editor.base);
    else if (e.target.classList.contains('conflict-merge') && st.conflict) {
      // The merge was written against the current version: a reload restores
      // it as a draft on that version.
      this.keepDraft(st, e.target.value, { version: st.conflict.current.version, text: st.conflict.current.text });
    }
  }

  rowAction(st, action) {
    switch (action) {
      case 'save': this.saveEditor(st); break;
      case 'close': this.closeEditor(st, { focusRow: true }); break;
      case 'discard': this.discardDraft(st); break;
      case 'keep-mine': this.saveText(st, st.conflict.mine, st.conflict.current.version); break;
      case 'take-theirs': this.takeTheirs(st); break;
      case 'save-merge': this.saveText(st, st.conflict.merge.value, st.conflict.current.version); break;
      case 'close-history': this.toggleHistory(st); break;
      case 'restore': break; // bound on the button itself
      default: break;
    }
  }

  // ---- playback ----------------------------------------------------------

  startLoop() {
    if (this.raf) return;
    const step = () => {
      this.tick();
      this.raf = this.destroyed || this.audio.paused ? 0 : requestAnimationFrame(step);
    };
    this.raf = requestAnimationFrame(step);
  }

  stopLoop() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.tick();
  }

  /** Highlights the segment under the playhead. */
  tick() {
    const i = lastStartAtOrBefore(this.starts, this.audio.currentTime * 1000);
    const st = i < 0 ? null : this.states[i];
    if (st === this.current) return;
    if (this.current) this.current.row.classList.remove('current');
    this.current = st;
    if (!st) return;
    st.row.classList.add('current');
    // Follow the audio, except while the user is typing somewhere.
    if (!isTypingTarget(document.activeElement)) st.row.scrollIntoView({ block: 'nearest' });
  }

  seek(ms) {
    const to = Math.max(0, ms / 1000);
    const a = this.audio;
    if (a.readyState === 0) {
      // Before metadata is known a seek may be dropped; redo it once it is.
      a.addEventListener('loadedmetadata', () => { a.currentTime = to; this.tick(); }, { once: true });
    }
    a.currentTime = to;
    this.tick();
  }

  seekBy(deltaMs) {
    const a = this.audio;
    let t = a.currentTime + deltaMs / 1000;
    if (Number.isFinite(a.duration)) t = Math.min(t, a.duration);
    a.currentTime = Math.max(0, t);
    this.tick();
  }

  play() {
    const p = this.audio.play();
    if (p && p.catch) p.catch(() => {}); // autoplay refused or interrupted: the user presses play
  }

  togglePlay() {
    if (this.audio.paused) this.play();
    else this.audio.pause();
  }

  applyStartParams(params) {
    const t = Number(params.get('t'));
    if (params.has('t') && Number.isFinite(t)) {
      this.seek(t);
      const i = lastStartAtOrBefore(this.starts, t);
      if (i >= 0) this.select(this.states[i]);
    }
    if (params.get('play') === '1') this.play();
  }

  // ---- selection and keyboard -------------------------------------------

  select(st, { focus = true } = {}) {
    if (!st) return;
    if (this.selected && this.selected !== st) {
      this.selected.row.classList.remove('selected');
      this.selected.row.tabIndex = -1;
    }
    this.selected = st;
    st.row.classList.add('selected');
    st.row.tabIndex = 0;
    // Focus goes to the row itself (not a button in it), so that Space and
    // Enter mean play and edit; a field being typed in keeps focus.
    const active = document.activeElement;
    if (focus && !(st.row.contains(active) && isTypingTarget(active))) st.row.focus({ preventScroll: true });
    st.row.scrollIntoView({ block: 'nearest' });
  }

  /** The row the keyboard acts on: the one holding focus, else the selection. */
  target() {
    return this.stateOf(document.activeElement) || this.selected || this.current;
  }

  step(delta) {
    if (!this.states.length) return;
    const from = this.selected || this.current;
    let i = from ? from.idx + delta : delta > 0 ? 0 : this.states.length - 1;
    i = Math.max(0, Math.min(this.states.length - 1, i));
    const st = this.states[i];
    this.select(st);
    this.seek(st.seg.start_ms);
  }

  handleKey(e) {
    if (this.destroyed || e.defaultPrevented) return;
    const typing = isTypingTarget(e.target);
    const action = actionFor(e, typing);
    if (!action) return;
    if (helpOpen() && action !== 'escape' && action !== 'help') return;
    e.preventDefault();
    switch (action) {
      case 'playPause': this.togglePlay(); break;
      case 'back': this.seekBy(-SEEK_STEP_MS); break;
      case 'forward': this.seekBy(SEEK_STEP_MS); break;
      case 'next': this.step(1); break;
      case 'prev': this.step(-1); break;
      case 'speed0.75': this.audio.playbackRate = 0.75; break;
      case 'speed1': this.audio.playbackRate = 1; break;
      case 'speed1.25': this.audio.playbackRate = 1.25; break;
      case 'edit': {
        const st = this.target();
        if (!st) break;
        this.select(st);
        if (this.editable) this.openEditor(st);
        else toast('Chỉ đọc: tài khoản của bạn không sửa được biên bản.');
        break;
      }
      case 'save': {
        const st = this.target();
        if (!st) break;
        if (st.conflict && document.activeElement === st.conflict.merge) this.saveText(st, st.conflict.merge.value, st.conflict.current.version);
        else if (st.editor) this.saveEditor(st);
        break;
      }
      case 'review': {
        const st = this.target();
        if (!st) break;
        if (this.editable) this.toggleReview(st);
        else toast('Chỉ đọc: tài khoản của bạn không duyệt được biên bản.');
        break;
      }
      case 'escape': this.escape(e.target); break;
      case 'help': toggleHelp(); break;
      default: break;
    }
  }

  escape(target) {
    if (helpOpen()) {
      toggleHelp(false);
      if (this.selected) this.selected.row.focus({ preventScroll: true });
      return;
    }
    const st = this.stateOf(target);
    if (st && st.editor && st.editor.textarea === target) {
      this.closeEditor(st, { focusRow: true });
      return;
    }
    if (isTypingTarget(target)) {
      target.blur();
      if (st) this.select(st);
      return;
    }
    if (st && st.history) this.toggleHistory(st);
  }

  // ---- editing -------------------------------------------------------------

  restoreDrafts() {
    if (!this.editable) return;
    for (const id of draftIds()) {
      const st = this.byId.get(id);
      if (!st) continue;
      const d = loadDraft(id);
      if (!d) continue;
      st.draft = d;
      this.showDirty(st);
      if (d.version !== st.seg.version) this.setServerChanged(st, true);
    }
  }

  /** Stores what the user typed (or forgets it when it equals the base). */
  keepDraft(st, text, base) {
    if (normText(text) === normText(base.text) && base.version === st.seg.version) {
      st.draft = null;
      removeDraft(st.seg.id);
    } else {
      st.draft = { text, version: base.version, base_text: base.text };
      if (!saveDraft(st.seg.id, st.draft)) toast('Không lưu được bản nháp vào trình duyệt; hãy lưu lên máy chủ sớm.', 'error');
    }
    this.showDirty(st);
  }

  /** The "unsaved" marker, and the draft's text while no editor shows it. */
  showDirty(st) {
    const dirty = !!st.draft;
    st.row.classList.toggle('dirty', dirty);
    st.unsaved.hidden = !dirty;
    const showPreview = dirty && !st.editor && !st.conflict;
    if (showPreview) {
      if (!st.preview) {
        st.preview = el('div', { className: 'draft-preview' },
          el('span', { className: 'draft-label', text: 'Bản nháp chưa lưu (Enter để sửa tiếp):' }),
          el('span', { className: 'draft-text' }));
        st.body.insertBefore(st.preview, st.text.nextSibling);
      }
      st.preview.querySelector('.draft-text').textContent = st.draft.text;
    } else if (st.preview) {
      st.preview.remove();
      st.preview = null;
    }
  }

  openEditor(st) {
    if (st.conflict) {
      st.conflict.merge.focus();
      return;
    }
    if (st.editor) {
      st.editor.textarea.focus();
      return;
    }
    const base = st.draft ? { version: st.draft.version, text: st.draft.base_text } : { version: st.seg.version, text: st.seg.text };
    const value = st.draft ? st.draft.text : st.seg.text;
    const textarea = el('textarea', {
      className: 'edit-text', value, rows: Math.max(2, Math.ceil(value.length / 80)),
      attrs: { 'aria-label': 'Sửa lời của đoạn', spellcheck: 'false', lang: 'vi' },
    });
    const notice = el('p', { className: 'server-notice', hidden: true, text: 'Đoạn này vừa được sửa trên máy chủ; khi lưu, bạn sẽ chọn giữa hai bản.' });
    const box = el('div', { className: 'editor' }, textarea, notice,
      el('div', { className: 'editor-actions' },
        el('button', { type: 'button', className: 'primary', dataset: { action: 'save' }, text: 'Lưu (Ctrl+Enter)' }),
        el('button', { type: 'button', dataset: { action: 'close' }, text: 'Đóng (Esc)' }),
        el('button', { type: 'button', className: 'danger', dataset: { action: 'discard' }, text: 'Bỏ thay đổi' })));
    st.editor = { box, textarea, notice, base };
    st.text.hidden = true;
    st.body.insertBefore(box, st.text.nextSibling);
    st.row.classList.add('editing');
    this.setServerChanged(st, base.version !== st.seg.version);
    this.showDirty(st);
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  /** Leaves the editor; a draft, if any, stays (shown in the row). */
  closeEditor(st, { focusRow = false } = {}) {
    if (!st.editor) return;
    st.editor.box.remove();
    st.editor = null;
    st.text.hidden = false;
    st.row.classList.remove('editing');
    if (!st.draft) this.setServerChanged(st, false);
    this.showDirty(st);
    if (focusRow) this.select(st);
  }

  discardDraft(st) {
    if (st.draft && !window.confirm('Bỏ những thay đổi chưa lưu của đoạn này?')) return;
    st.draft = null;
    removeDraft(st.seg.id);
    this.closeEditor(st, { focusRow: true });
    this.setServerChanged(st, false);
  }

  saveEditor(st) {
    const text = st.editor.textarea.value;
    const base = st.editor.base;
    this.keepDraft(st, text, base); // on disk before the request, whatever happens to it
    if (normText(text) === normText(base.text)) {
      // Nothing changed: no request, no revision.
      st.draft = null;
      removeDraft(st.seg.id);
      this.closeEditor(st, { focusRow: true });
      return;
    }
    this.saveText(st, text, base.version);
  }

  async saveText(st, text, version) {
    if (st.busy) return;
    if (!normText(text)) {
      toast('Lời của đoạn không được để trống.', 'error');
      return;
    }
    st.busy = true;
    st.row.classList.add('saving');
    try {
      const seg = await patch(`/api/segments/${st.seg.id}`, { version, text });
      st.draft = null;
      removeDraft(st.seg.id);
      this.closeConflict(st);
      this.closeEditor(st);
      this.setServerChanged(st, false);
      this.showDirty(st);
      this.applySegment(seg);
      this.select(st);
      toast('Đã lưu.');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.body && err.body.current) {
        this.applySegment(err.body.current);
        this.showConflict(st, text, err.body.current, version);
      } else {
        toast(`Chưa lưu được: ${errorMessage(err)} Bản nháp vẫn được giữ.`, 'error');
      }
    } finally {
      st.busy = false;
      st.row.classList.remove('saving');
    }
  }

  /** Both texts side by side; nothing is saved until the user chooses. */
  showConflict(st, mine, current, sentVersion) {
    this.closeConflict(st);
    if (st.editor) {
      st.editor.box.remove();
      st.editor = null;
      st.row.classList.remove('editing');
    }
    // The draft stays on its old base until the user resolves the conflict.
    if (!st.draft) {
      st.draft = { text: mine, version: sentVersion, base_text: '' };
      saveDraft(st.seg.id, st.draft);
    }
    const merge = el('textarea', {
      className: 'conflict-merge', value: mine, rows: Math.max(3, Math.ceil(Math.max(mine.length, current.text.length) / 80)),
      attrs: { 'aria-label': 'Bản hợp nhất', lang: 'vi', spellcheck: 'false' },
    });
    const view = el('div', { className: 'conflict-view', attrs: { role: 'group', 'aria-label': 'Xung đột khi lưu' } },
      el('p', { className: 'conflict-title', text: 'Đoạn này đã được sửa trong lúc bạn sửa. Chưa có gì bị ghi đè; hãy chọn cách lưu.' }),
      el('div', { className: 'conflict-cols' },
        el('div', { className: 'conflict-mine' },
          el('h3', { text: 'Bản của bạn' }),
          el('div', { className: 'conflict-text mine-text', text: mine })),
        el('div', { className: 'conflict-theirs' },
          el('h3', { text: 'Bản hiện tại' }),
          el('p', { className: 'note', text: `phiên bản ${current.version}, cập nhật lúc ${fmtDateTime(current.updated_at)}` }),
          el('div', { className: 'conflict-text theirs-text', text: current.text }))),
      el('div', { className: 'conflict-actions' },
        el('button', { type: 'button', dataset: { action: 'keep-mine' }, text: 'Giữ bản của tôi' }),
        el('button', { type: 'button', dataset: { action: 'take-theirs' }, text: 'Lấy bản hiện tại' })),
      el('label', { className: 'merge-label', text: 'Bản hợp nhất (sửa tự do rồi lưu):' }),
      merge,
      el('div', { className: 'conflict-actions' },
        el('button', { type: 'button', className: 'primary', dataset: { action: 'save-merge' }, text: 'Lưu bản hợp nhất' })));
    st.conflict = { mine, current, merge, view };
    st.text.hidden = false;
    st.body.insertBefore(view, st.text.nextSibling);
    st.row.classList.add('conflict');
    this.showDirty(st);
    this.select(st, { focus: false });
    merge.focus();
  }

  closeConflict(st) {
    if (!st.conflict) return;
    st.conflict.view.remove();
    st.conflict = null;
    st.row.classList.remove('conflict');
  }

  takeTheirs(st) {
    st.draft = null;
    removeDraft(st.seg.id);
    this.closeConflict(st);
    this.closeEditor(st);
    this.setServerChanged(st, false);
    this.showDirty(st);
    this.select(st);
  }

  /** After our own change of speaker or status, a draft whose text base is
   * still the server's text moves to the new version (no false conflict). */
  rebaseDraft(st) {
    const base = this.baseOf(st);
    if (!base || base.text !== st.seg.text) return;
    if (st.draft) {
      st.draft.version = st.seg.version;
      saveDraft(st.seg.id, st.draft);
    }
    if (st.editor) st.editor.base = { version: st.seg.version, text: st.seg.text };
    this.setServerChanged(st, false);
  }

  async toggleReview(st) {
    if (st.busy) return;
    st.busy = true;
    const next = st.seg.review_status === 'reviewed' ? 'draft' : 'reviewed';
    try {
      const seg = await patch(`/api/segments/${st.seg.id}`, { version: st.seg.version, review_status: next });
      this.applySegment(seg);
      this.rebaseDraft(st);
    } catch (err) {
      this.staleOrError(st, err);
    } finally {
      st.busy = false;
    }
  }

  async changeSpeaker(st, value) {
    let speakerId = value === '' ? null : Number(value);
    if (value === NEW_SPEAKER) {
      const name = (window.prompt('Tên người nói mới:') || '').trim();
      if (!name) {
        this.fillRow(st); // puts the select back
        return;
      }
      try {
        const sp = await post(`/api/sessions/${this.id}/speakers`, { name });
        this.addSpeaker(sp);
        speakerId = sp.id;
      } catch (err) {
        toast(`Không thêm được người nói: ${errorMessage(err)}`, 'error');
        this.fillRow(st);
        return;
      }
    }
    if (speakerId === st.seg.speaker_id) {
      this.fillRow(st);
      return;
    }
    try {
      const seg = await patch(`/api/segments/${st.seg.id}`, { version: st.seg.version, speaker_id: speakerId });
      this.applySegment(seg);
      this.rebaseDraft(st);
    } catch (err) {
      this.staleOrError(st, err);
      this.fillRow(st);
    }
  }

  /** A speaker added elsewhere (another user, live): fetch the list again. */
  refreshSpeakers() {
    if (this.speakerFetch) return;
    this.speakerFetch = get(`/api/sessions/${this.id}`)
      .then((detail) => {
        if (this.destroyed) return;
        const fresh = detail.speakers.filter((sp) => !this.speakers.has(sp.id));
        if (!fresh.length) return;
        for (const sp of fresh) this.addSpeaker(sp);
        const ids = new Set(fresh.map((sp) => sp.id));
        for (const st of this.states) if (ids.has(st.seg.speaker_id)) this.fillRow(st);
      })
      .catch(() => {})
      .finally(() => { setTimeout(() => { this.speakerFetch = null; }, 5000); });
  }

  addSpeaker(sp) {
    if (this.speakers.has(sp.id)) return;
    this.speakers.set(sp.id, sp);
    if (!this.editable) return;
    const add = (select) => select.insertBefore(el('option', { value: String(sp.id), text: sp.name }), select.lastElementChild);
    add(this.speakerTemplate);
    for (const st of this.states) add(st.speaker);
  }

  /** A 409 on a status/speaker change: show the newer segment, ask again. */
  staleOrError(st, err) {
    if (err instanceof ApiError && err.status === 409 && err.body && err.body.current) {
      this.applySegment(err.body.current);
      toast('Đoạn vừa được người khác sửa; hãy xem lại rồi thử lại.', 'error');
    } else {
      toast(errorMessage(err), 'error');
    }
  }

  // ---- revisions -----------------------------------------------------------

  async toggleHistory(st) {
    if (st.history) {
      st.history.remove();
      st.history = null;
      return;
    }
    const panel = el('div', { className: 'revisions' }, el('p', { className: 'note', text: 'Đang tải lịch sử…' }));
    st.history = panel;
    st.body.append(panel);
    await this.loadHistory(st, panel);
  }

  async loadHistory(st, panel) {
    let revs;
    try {
      revs = await get(`/api/segments/${st.seg.id}/revisions`);
    } catch (err) {
      panel.replaceChildren(el('p', { className: 'error', text: errorMessage(err) }));
      return;
    }
    if (st.history !== panel) return;
    const speakerName = (id) => (id == null ? '— chưa rõ —' : this.speakers.get(id)?.name || `#${id}`);
    const items = revs.slice().reverse().map((r) => {
      const changes = [];
      if (r.text_before !== r.text_after) {
        changes.push(el('div', { className: 'rev-text' },
          el('del', { className: 'rev-before', text: r.text_before }),
          el('span', { className: 'arrow', text: ' → ' }),
          el('ins', { className: 'rev-after', text: r.text_after })));
      }
      if (r.speaker_before !== r.speaker_after) changes.push(el('div', { className: 'rev-speaker', text: `Người nói: ${speakerName(r.speaker_before)} → ${speakerName(r.speaker_after)}` }));
      if (r.status_before !== r.status_after) changes.push(el('div', { className: 'rev-status', text: `Trạng thái: ${STATUS_LABEL[r.status_before] || r.status_before} → ${STATUS_LABEL[r.status_after] || r.status_after}` }));
      const restore = this.editable && r.version !== st.seg.version
        ? el('button', { type: 'button', className: 'restore-btn', text: 'Khôi phục', title: 'Đưa đoạn về trạng thái sau lần sửa này', on: { click: () => this.restore(st, r, panel) } })
        : null;
      return el('li', { className: 'revision', dataset: { id: r.id } },
        el('div', { className: 'rev-head' },
          el('strong', { className: 'rev-author', text: r.author }),
          ` · ${fmtDateTime(r.created_at)} · phiên bản ${r.version} `,
          restore),
        changes);
    });
    panel.replaceChildren(
      el('div', { className: 'revisions-head' },
        el('h3', { text: 'Lịch sử sửa' }),
        el('button', { type: 'button', dataset: { action: 'close-history' }, text: 'Đóng' })),
      items.length ? el('ol', { className: 'revision-list' }, items) : el('p', { className: 'note', text: 'Chưa có lần sửa nào.' }));
  }

  async restore(st, rev, panel) {
    try {
      const seg = await post(`/api/segments/${st.seg.id}/restore`, { revision_id: rev.id, version: st.seg.version });
      this.applySegment(seg);
      toast('Đã khôi phục.');
    } catch (err) {
      this.staleOrError(st, err);
    }
    if (st.history === panel) await this.loadHistory(st, panel);
  }

  // ---- live updates ----------------------------------------------------------

  connectLive() {
    if (this.destroyed) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${proto}//${location.host}/api/sessions/${this.id}/live`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 1000;
      this.liveLabel.textContent = '● Trực tiếp';
      this.liveLabel.className = 'live-status live-on';
      // Whatever changed while we were disconnected.
      if (this.wsOpenedOnce) this.resync();
      this.wsOpenedOnce = true;
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg.type === 'segment' && msg.segment) this.applySegment(msg.segment);
      else if (msg.type === 'speaker' && msg.speaker) this.addSpeaker(msg.speaker);
      else if (msg.type === 'partial') this.showPartial(msg);
      // The server dropped events this page was too slow for: fetch them.
      else if (msg.type === 'resync') this.resync();
    };
    ws.onclose = (ev) => {
      if (this.ws === ws) this.ws = null;
      this.liveLabel.textContent = '○ Mất kết nối, đang thử lại…';
      this.liveLabel.className = 'live-status live-off';
      if (ev.code === 4401) {
        // The login that opened the socket ended or changed (docs/api.md).
        // Asking again who we are and for the segments sends an ended
        // login to the login page (a 401), and a changed role reconnects
        // with what it may now see.
        this.backoff = 1000;
        loadMe().catch(() => {}).finally(() => this.resync());
      }
      this.scheduleReconnect();
    };
  }

  scheduleReconnect() {
    if (this.destroyed) return;
    clearTimeout(this.wsTimer);
    const delay = this.backoff + Math.random() * 500;
    this.backoff = Math.min(this.backoff * 2, 30000);
    this.wsTimer = setTimeout(() => this.connectLive(), delay);
  }

  async resync() {
    try {
      const segments = await get(`/api/sessions/${this.id}/segments`);
      if (!this.destroyed) for (const seg of segments) this.applySegment(seg);
    } catch {
      /* the next reconnect tries again */
    }
  }

  showPartial(msg) {
    const channel = msg.channel ?? 0;
    if (!msg.text) {
      this.clearPartial(channel);
      return;
    }
    let node = this.partials.get(channel);
    if (!node) {
      node = el('div', { className: 'partial', dataset: { channel } },
        el('span', { className: 'time' }), el('span', { className: 'speaker-name' }), el('span', { className: 'partial-text' }));
      this.partials.set(channel, node);
      this.list.append(node);
    }
    const sp = msg.speaker_id == null ? null : this.speakers.get(msg.speaker_id);
    node.children[0].textContent = msg.start_ms == null ? '' : fmtClock(msg.start_ms);
    node.children[1].textContent = sp ? sp.name : `Kênh ${channel}`;
    node.children[2].textContent = msg.text;
  }

  clearPartial(channel) {
    const node = this.partials.get(channel);
    if (node) {
      node.remove();
      this.partials.delete(channel);
    }
  }
}
