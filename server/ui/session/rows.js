// The rows: one per segment, built once and then touched only where a
// segment changed. Owns each segment's state object ({seg, idx, row, …}),
// writing the server's segment into its row (text as clickable words,
// speaker, status), rows that arrive live, and taking segments from the
// server (answers, live messages, resyncs) without losing what a user types.
// Rows off screen skip layout (content-visibility, in style.css).

import { ApiError, errorMessage } from '../api.js';
import { el, fmtClock, toast } from '../util.js';
import { inRecord, gone } from './record.js';

export const STATUS_LABEL = { draft: 'Nháp', reviewed: 'Đã duyệt' };

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

export class Rows {
  constructor(view) {
    this.view = view;
  }

  build(segments) {
    const v = this.view;
    v.fields.makeTemplate();
    const frag = document.createDocumentFragment();
    segments.forEach((seg, idx) => {
      const st = this.makeState(seg, idx);
      v.states.push(st);
      v.byId.set(seg.id, st);
      v.starts.push(seg.start_ms);
      frag.append(st.row);
    });
    v.list.append(frag);
    if (!segments.length) v.list.append(el('p', { className: 'empty', text: 'Phiên họp chưa có đoạn nào.' }));
    v.updateMeta();
  }

  makeState(seg, idx) {
    const v = this.view;
    const st = { seg, idx, draft: null, editor: null, conflict: null, history: null, serverChanged: false, busy: false };
    const row = el('div', { className: 'segment', dataset: { id: seg.id, start: seg.start_ms }, tabIndex: -1, attrs: { role: 'listitem' } });
    st.row = row;
    st.time = el('button', { type: 'button', className: 'time', title: 'Nghe từ đầu đoạn', text: fmtClock(seg.start_ms) });
    st.speaker = v.editable ? v.fields.speakerSelect() : el('span', { className: 'speaker-name' });
    st.text = el('div', { className: 'text', attrs: { lang: 'vi' } });
    st.body = el('div', { className: 'body' }, st.text);
    st.status = el('span', { className: 'status' });
    st.unsaved = el('span', { className: 'unsaved', text: 'chưa lưu', hidden: true });
    const side = el('div', { className: 'side' }, st.status, st.unsaved);
    if (v.editable) {
      st.reviewBtn = el('button', { type: 'button', className: 'review-btn' });
      side.append(st.reviewBtn);
    }
    side.append(el('button', { type: 'button', className: 'history-btn', text: 'Lịch sử' }));
    row.append(st.time, st.speaker, st.body, side);
    this.fill(st);
    return st;
  }

  /** Writes a segment's server state into its row. */
  fill(st) {
    const v = this.view;
    const s = st.seg;
    if (s.speaker_id != null && !v.speakers.has(s.speaker_id)) v.fields.refreshSpeakers();
    st.words = this.renderText(st.text, s);
    if (v.editable) {
      // An id missing from the options leaves the select on "— chưa rõ —".
      st.speaker.value = s.speaker_id == null ? '' : String(s.speaker_id);
      st.reviewBtn.textContent = s.review_status === 'reviewed' ? 'Bỏ duyệt' : 'Duyệt';
      st.reviewBtn.title = s.review_status === 'reviewed' ? 'Trở lại nháp (r)' : 'Đánh dấu đã duyệt (r)';
    } else {
      // Named as the record prints them (a linked person's title and name).
      st.speaker.textContent = v.record.speakerName(s.speaker_id) ?? '— chưa rõ —';
    }
    const reviewed = s.review_status === 'reviewed';
    st.status.textContent = STATUS_LABEL[s.review_status] || s.review_status;
    st.status.className = `status ${reviewed ? 'status-reviewed' : 'status-draft'}`;
    st.row.classList.toggle('reviewed', reviewed);
    st.row.classList.toggle('not-speech', !inRecord(s) && !gone(s));
    st.row.classList.toggle('gone', gone(s));
    // Words not yet re-timed to an edited text or new bounds (a dotted line
    // until the server's re-timed segment arrives).
    st.row.classList.toggle('unaligned', s.words_aligned === false);
    st.row.title = s.words_aligned === false ? 'Thời điểm của các từ đang được tính lại' : '';
    if (st.time.dataset.ms !== String(s.start_ms)) this.moveStart(st);
    v.record.invalidate();
  }

  /** A segment's start changed (its bounds, a split): its time and its place in the search. */
  moveStart(st) {
    const v = this.view;
    st.time.dataset.ms = String(st.seg.start_ms);
    st.time.textContent = fmtClock(st.seg.start_ms);
    st.row.dataset.start = st.seg.start_ms;
    if (v.states[st.idx] === st) v.starts[st.idx] = st.seg.start_ms;
  }

  /**
   * Renders the text with each transcribed word as a clickable span. The
   * text is the truth (it may have been edited): words are looked up in it in
   * order, and what they do not cover is shown as plain text. Only
   * textContent is used, never markup. Returns the word spans.
   */
  renderText(target, seg) {
    const text = seg.text || '';
    const parts = [];
    const words = [];
    let pos = 0;
    for (const [i, w] of (seg.words || []).entries()) {
      const wt = (w.text || '').trim();
      if (!wt) continue;
      const at = findWord(text, wt, pos);
      if (at < 0) continue; // the word was edited away
      if (at > pos) parts.push(text.slice(pos, at));
      const span = document.createElement('span');
      span.className = w.probability < 0.5 ? 'word low-confidence' : 'word';
      span.dataset.start = w.start_ms;
      span.dataset.index = i; // for a split before it
      span.textContent = wt;
      if (w.probability < 0.5) span.title = `Độ tin cậy thấp (${Math.round(w.probability * 100)}%)`;
      parts.push(span);
      words.push(span);
      pos = at + wt.length;
    }
    if (pos < text.length) parts.push(text.slice(pos));
    target.replaceChildren(...parts);
    return words;
  }

  /** Adds a row for a segment that arrived live, keeping time order. */
  insert(seg) {
    const v = this.view;
    let idx = v.states.length;
    while (idx > 0) {
      const prev = v.states[idx - 1].seg;
      if (prev.start_ms < seg.start_ms || (prev.start_ms === seg.start_ms && prev.seq <= seg.seq)) break;
      idx--;
    }
    const st = this.makeState(seg, idx);
    const before = idx < v.states.length ? v.states[idx].row : v.list.querySelector('.partial');
    v.list.insertBefore(st.row, before);
    v.list.querySelector(':scope > .empty')?.remove();
    v.states.splice(idx, 0, st);
    v.starts.splice(idx, 0, seg.start_ms);
    v.byId.set(seg.id, st);
    for (let i = idx; i < v.states.length; i++) v.states[i].idx = i;
    v.live.clearPartial(seg.channel ?? 0);
    v.updateMeta();
    v.player.tick();
  }

  /**
   * Takes a segment from the server (an answer, a live message, a resync).
   * A row being edited keeps its textarea: the user's text is never
   * replaced; the row is marked so that saving goes through the conflict view.
   */
  apply(seg) {
    const v = this.view;
    const st = v.byId.get(seg.id);
    if (!st) {
      if (seg.session_id === v.id) this.insert(seg);
      return null;
    }
    // Old news (e.g. the echo of our own save); but the re-timed words of
    // an edit come with the same version.
    const retimed = seg.version === st.seg.version && seg.words_aligned && st.seg.words_aligned === false;
    if (seg.version < st.seg.version || (seg.version === st.seg.version && !retimed)) return st;
    const wasReviewed = st.seg.review_status;
    st.seg = seg;
    this.fill(st);
    const base = this.baseOf(st);
    if ((st.editor || st.draft) && base && base.version !== seg.version) this.setServerChanged(st, true);
    if (v.keys.selected === st && !v.record.shows(st)) v.keys.reselect(st); // merged away, or not speech in the record
    if (wasReviewed !== seg.review_status) v.updateMeta();
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

  /** A 409 on a status/speaker change or a restore: show the newer segment, ask again. */
  staleOrError(st, err) {
    if (err instanceof ApiError && err.status === 409 && err.body && err.body.current) {
      this.apply(err.body.current);
      toast('Đoạn vừa được người khác sửa; hãy xem lại rồi thử lại.', 'error');
    } else {
      toast(errorMessage(err), 'error');
    }
  }
}
