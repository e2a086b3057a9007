// The session page: audio, the transcript as one row per segment, editing
// with drafts and conflict resolution, speakers, review status, revisions,
// live updates, the keyboard, the record view of the same rows, and the
// sitting's workflow (its bar, steps, published versions and corrections).
//
// This module builds the page and wires the parts in session/ together; each
// part is a small controller that holds the view and reaches the others
// through it (view.rows, view.player, …). The view keeps what they share:
// the session, its speakers, and the segments' states in time order.
//
// Speed with thousands of segments: the rows are built once; afterwards only
// the row that changed is touched. Events are delegated to the list, and the
// segment under the playhead is found by binary search over start times.

import { get, canEdit, ApiError } from './api.js';
import { el, fmtDate, fmtDuration } from './util.js';
import { toggleHelp, closeHelp } from './keys.js';
import { Rows } from './session/rows.js';
import { Player } from './session/player.js';
import { Keyboard } from './session/keyboard.js';
import { Editor } from './session/editor.js';
import { Conflicts } from './session/conflict.js';
import { Fields } from './session/fields.js';
import { History } from './session/history.js';
import { Live } from './session/live.js';
import { Record } from './session/record.js';
import { Ops } from './session/ops.js';
import { Workflow } from './session/workflow.js';

const EXPORTS = [['json', 'JSON'], ['srt', 'SRT'], ['vtt', 'WebVTT'], ['txt', 'TXT'], ['docx', 'DOCX']];

export async function mountSession(root, sessionId, params) {
  // The agenda and scene notes are for the record view; a server without
  // them (404) leaves the record without agenda headings and notes.
  const optional = (path) => get(path).catch((err) => {
    if (err instanceof ApiError && err.status === 401) throw err;
    return [];
  });
  const [detail, segments, agenda, notes] = await Promise.all([
    get(`/api/sessions/${sessionId}`),
    get(`/api/sessions/${sessionId}/segments`),
    optional(`/api/sessions/${sessionId}/agenda`),
    optional(`/api/sessions/${sessionId}/notes`),
  ]);
  const view = new SessionView(root, detail, segments, params, { agenda, notes });
  return () => view.destroy();
}

class SessionView {
  constructor(root, detail, segments, params, { agenda = [], notes = [] } = {}) {
    this.root = root;
    this.session = detail.session;
    this.id = this.session.id;
    this.editable = canEdit();
    this.speakers = new Map(detail.speakers.map((s) => [s.id, s]));
    this.states = []; // per segment, in time order: {seg, idx, row, …}
    this.byId = new Map();
    this.starts = [];
    this.destroyed = false;

    this.rows = new Rows(this);
    this.player = new Player(this);
    this.keys = new Keyboard(this);
    this.editor = new Editor(this);
    this.conflicts = new Conflicts(this);
    this.fields = new Fields(this);
    this.history = new History(this);
    this.live = new Live(this);
    this.record = new Record(this);
    this.ops = new Ops(this);
    this.workflow = new Workflow(this);
    this.record.setAgenda(agenda);
    this.record.setNotes(notes);

    this.buildPage();
    this.rows.build(segments);
    this.editor.restoreDrafts();
    this.bindEvents();
    this.live.connect();
    this.workflow.refresh();
    if (params.get('view') === 'record') this.record.toggle(true);
    this.player.applyStartParams(params);
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
        this.workflow.build(),
        this.editable ? null : el('p', { className: 'readonly-note', id: 'readonly-note', text: 'Chỉ đọc' })),
      el('div', { className: 'player-bar' },
        this.audio, this.speedLabel, this.liveLabel, this.record.button(),
        el('button', { type: 'button', className: 'help-button', id: 'help-button', text: 'Phím tắt (?)', on: { click: () => toggleHelp(undefined, this.editable) } })),
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

  // ---- events: delegated to the list -------------------------------------

  bindEvents() {
    this.list.addEventListener('click', (e) => this.handleClick(e));
    this.list.addEventListener('change', (e) => this.handleChange(e));
    this.list.addEventListener('input', (e) => this.handleInput(e));
    this.keys.bind();
    this.editor.bind();
    this.player.bind();
    this.record.bind();
  }

  destroy() {
    this.destroyed = true;
    this.player.stopLoop();
    this.keys.unbind();
    this.editor.unbind();
    this.live.close();
    this.workflow.destroy();
    this.player.unload();
    closeHelp();
  }

  /** The state of the segment whose row holds `node`, or undefined. */
  stateOf(node) {
    const row = node instanceof Element ? node.closest('.segment') : null;
    return row ? this.byId.get(Number(row.dataset.id)) : null;
  }

  handleClick(e) {
    const t = e.target;
    const st = this.stateOf(t);
    if (!st) return;
    const { keys, player } = this;
    const word = t.closest('.word');
    if (word && !t.closest('.editor, .conflict-view, .revisions')) {
      keys.select(st);
      player.seek(Number(word.dataset.start));
      return;
    }
    if (t.closest('.time')) {
      keys.select(st);
      player.seek(st.seg.start_ms);
      return;
    }
    if (t.closest('.review-btn')) {
      keys.select(st);
      this.fields.toggleReview(st);
      return;
    }
    if (t.closest('.history-btn')) {
      keys.select(st);
      this.history.toggle(st);
      return;
    }
    const action = t.closest('[data-action]');
    if (action) {
      this.rowAction(st, action.dataset.action, action);
      return;
    }
    if (!t.closest('button, select, textarea, a, input')) keys.select(st, { focus: !window.getSelection()?.toString() });
  }

  handleChange(e) {
    if (e.target.classList.contains('speaker')) {
      const st = this.stateOf(e.target);
      if (st) this.fields.changeSpeaker(st, e.target.value);
    }
  }

  handleInput(e) {
    const st = this.stateOf(e.target);
    if (!st) return;
    if (e.target.classList.contains('edit-text')) this.editor.keepDraft(st, e.target.value, st.editor.base);
    else if (e.target.classList.contains('conflict-merge') && st.conflict) {
      // The merge was written against the current version: a reload restores
      // it as a draft on that version.
      this.editor.keepDraft(st, e.target.value, { version: st.conflict.current.version, text: st.conflict.current.text });
    }
  }

  rowAction(st, action) {
    const { editor } = this;
    switch (action) {
      case 'save': editor.save(st); break;
      case 'close': editor.close(st, { focusRow: true }); break;
      case 'discard': editor.discard(st); break;
      case 'keep-mine': editor.saveText(st, st.conflict.mine, st.conflict.current.version); break;
      case 'take-theirs': this.conflicts.takeTheirs(st); break;
      case 'save-merge': editor.saveText(st, st.conflict.merge.value, st.conflict.current.version); break;
      case 'close-history': this.history.toggle(st); break;
      case 'restore': break; // bound on the button itself
      default: break;
    }
  }
}
