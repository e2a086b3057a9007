// The record view: the sitting as it will be printed, agenda headings,
// speaker headings and each speech as a paragraph (a long one as several),
// beside the segment view and switched with a key (v). It is the same rows
// laid out as running text (style.css, .record-mode), so that a paragraph
// plays, highlights and edits exactly as the segment view does; this module
// adds the headings (and breaks in long speeches) and keeps them up to date.
//
// A speech is a run of consecutive segments of one speaker within one
// agenda item; segments that are not speech are left out and do not break a
// speech; a scene note (applause, the gavel) does. The record is derived
// here from the segments, the agenda and the notes the page holds (and keeps
// up to date from live messages), by the rules of the store's record.rs and
// in the shape of its Record ({items: [{item, entries: [{type: 'speech',
// speaker_id, segment_ids, …} | {type: 'note', …}]}]}), so that edits show
// at once, without asking GET /api/sessions/{id}/record again.
//
// What the record prints is the written form (docs/itn.md): numbers and
// references written out, fillers and false starts dropped. Each segment
// of the record shows it here, from the `written` list of
// GET /api/sessions/{id}/record (computed by the server with its configured
// rules): removed words struck through, replacements marked with the
// spoken words in their title. The verbatim text (what is edited) stays in
// the row, shown again while a newer edit's written form is being fetched,
// and shown instead where the written form changes nothing (its words
// stay clickable there; a changed segment plays from its row).
//
// Speakers are named as the exports print them (a linked person's title,
// name and a delegate's delegation), from the same response's `headings`;
// a reader's read-only rows (rows.js) use those names too.

import { get } from '../api.js';
import { el, fmtClock } from '../util.js';

const LIST_LABEL = { segments: 'Các đoạn của biên bản', record: 'Biên bản phiên họp' };
// A long speech is shown as paragraphs of at most this many segments: the
// browser lays out a paragraph whole on every change in it, and a sitting
// whose speakers are not yet known is one speech.
const PARAGRAPH_SEGMENTS = 30;

const NOTE_LABEL = { applause: 'Vỗ tay', gavel: 'Gõ búa', vote: 'Biểu quyết', other: 'Ghi chú' };

// What each rule of the written form is called, for the marks' titles.
const KIND_LABEL = {
  filler: 'từ đệm', repeat: 'lặp từ', number: 'số', date: 'ngày tháng', time: 'giờ', percent: 'phần trăm',
  money: 'số tiền', legal: 'điều khoản, văn bản', ordinal: 'số thứ tự', roman: 'số La Mã', capital: 'viết hoa',
};
// How long after an edit the written forms are asked for again.
const WRITTEN_REFETCH_MS = 400;

/**
 * A segment's written form as nodes (text only, never markup): `parts` in
 * print order, {text} as it is, {text, spoken, kind} a replacement,
 * {spoken, kind, removed} words the print drops.
 */
export function writtenNodes(parts) {
  const out = [];
  for (const p of parts || []) {
    const label = KIND_LABEL[p.kind] || p.kind;
    if (p.removed) {
      out.push(el('del', {
        className: 'itn-drop', dataset: { kind: p.kind || '' }, text: p.spoken || '',
        title: `Bỏ khi in (${label})`,
      }), ' ');
    } else if (p.spoken != null) {
      out.push(el('span', {
        className: 'itn-change', dataset: { kind: p.kind || '' }, text: p.text || '',
        title: `Lời nói: ${p.spoken} (${label})`,
      }));
    } else {
      out.push(p.text || '');
    }
  }
  return out;
}

/** Whether a segment belongs in the record (a missing state is speech). */
export function inRecord(seg) {
  return !seg.state || seg.state === 'speech';
}

/** Whether a segment left the session (merged away, or an undone insert). */
export function gone(seg) {
  return seg.state === 'removed' || seg.state === 'merged';
}

/**
 * The record of `segments` (in time order). `agenda`: the sitting's items
 * ({id, title, reference, start_segment_id}, in order); an item runs from its
 * start segment to the next item's. What comes before the first started item
 * has `item: null`. `notes` ({id, at_ms, kind, text}) fall before the first
 * segment that starts at or after their moment (before an item starting
 * there: they close the item before); each note entry names that segment
 * (`before_segment_id`, null at the end).
 */
export function deriveRecord(segments, agenda = [], notes = []) {
  const starts = new Map(agenda.filter((a) => a.start_segment_id != null).map((a) => [a.start_segment_id, a]));
  const pending = notes.slice().sort((a, b) => a.at_ms - b.at_ms || a.id - b.id);
  let next = 0;
  const items = [];
  let part = null;
  let speech = null;
  const flush = (at, beforeId) => {
    while (next < pending.length && (at === null || pending[next].at_ms <= at)) {
      if (!part) {
        part = { item: null, entries: [] };
        items.push(part);
      }
      part.entries.push({ ...pending[next++], type: 'note', before_segment_id: beforeId });
      speech = null;
    }
  };
  for (const seg of segments) {
    if (gone(seg)) continue;
    flush(seg.start_ms, seg.id);
    const item = starts.get(seg.id);
    if (item || !part) {
      part = { item: item || null, entries: [] };
      items.push(part);
      speech = null;
    }
    if (!inRecord(seg)) continue;
    const speaker = seg.speaker_id ?? null;
    if (!speech || speech.speaker_id !== speaker) {
      speech = { type: 'speech', speaker_id: speaker, segment_ids: [], start_ms: seg.start_ms, end_ms: seg.end_ms };
      part.entries.push(speech);
    }
    speech.segment_ids.push(seg.id);
    speech.end_ms = seg.end_ms;
  }
  flush(null, null);
  return { items: items.filter((p) => p.item || p.entries.length) };
}

export class Record {
  constructor(view) {
    this.view = view;
    this.agenda = []; // the sitting's items, in order
    this.notes = new Map(); // id → scene note
    this.on = false;
    this.headings = [];
    this.key = ''; // what the headings were built from
    this.raf = 0;
    this.written = new Map(); // segment id → its written form ({verbatim, text, parts})
    this.printed = new Map(); // speaker id → how the record names them (GET …/record's headings)
    this.writtenTimer = 0;
    this.fetching = false;
    this.fetchAgain = false;
  }

  /** The switch in the player bar (session.js starts in the record for ?view=record). */
  button() {
    this.toggleBtn = el('button', {
      type: 'button', className: 'view-toggle', id: 'view-toggle', attrs: { 'aria-pressed': 'false' },
      on: { click: () => this.toggle() },
    });
    this.label();
    return this.toggleBtn;
  }

  label() {
    this.toggleBtn.textContent = this.on ? 'Các đoạn (v)' : 'Biên bản (v)';
    this.toggleBtn.title = this.on ? 'Xem từng đoạn (v)' : 'Xem như biên bản: người nói và các bài phát biểu (v)';
    this.toggleBtn.setAttribute('aria-pressed', String(this.on));
  }

  bind() {
    // Read-only rows name speakers as the record prints them: ask now.
    if (!this.view.editable) this.loadWritten();
    // A speaker heading's time plays the speech from its start.
    this.view.list.addEventListener('click', (e) => {
      const time = e.target instanceof Element ? e.target.closest('.record-time') : null;
      if (!time) return;
      const st = this.view.byId.get(Number(time.dataset.id));
      if (!st) return;
      this.view.keys.select(st);
      this.view.player.seek(st.seg.start_ms);
    });
    // In the record there is no row to click: a double click edits.
    this.view.list.addEventListener('dblclick', (e) => {
      if (!this.on || !this.view.editable) return;
      const st = this.view.stateOf(e.target);
      if (!st || (e.target instanceof Element && e.target.closest('.editor, .conflict-view, .revisions'))) return;
      this.view.keys.select(st);
      this.view.editor.open(st);
    });
  }

  /** Whether the current view shows this segment's row. */
  shows(st) {
    return !gone(st.seg) && (!this.on || inRecord(st.seg));
  }

  /** The agenda (GET …/agenda, or a live 'agenda' message): all of it. */
  setAgenda(items) {
    this.agenda = Array.isArray(items) ? items.slice().sort((a, b) => a.position - b.position) : [];
    this.invalidate();
  }

  /** Scene notes (GET …/notes), or one from a live 'note' message. */
  setNotes(notes) {
    for (const n of notes) this.notes.set(n.id, n);
    this.invalidate();
  }

  removeNote(note) {
    this.notes.delete(note.id);
    this.invalidate();
  }

  toggle(on = !this.on) {
    const v = this.view;
    if (on === this.on) return;
    this.on = on;
    v.list.classList.toggle('record-mode', on);
    v.list.setAttribute('aria-label', on ? LIST_LABEL.record : LIST_LABEL.segments);
    this.label();
    if (on) {
      this.build();
      this.loadWritten();
    } else this.clear();
    this.remember();
    // Keep the place: the selection (or the playhead) stays in view.
    const st = v.keys.selected || v.player.current;
    if (st && this.shows(st)) st.row.scrollIntoView({ block: 'center' });
  }

  /** The view in the address (replaceState: no navigation, no reload). */
  remember() {
    const hash = location.hash;
    const q = hash.indexOf('?');
    const params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
    if (this.on) params.set('view', 'record');
    else params.delete('view');
    const query = params.toString();
    history.replaceState(history.state, '', `${q < 0 ? hash : hash.slice(0, q)}${query ? `?${query}` : ''}`);
  }

  /** Something the headings depend on may have changed (a speaker, a segment). */
  invalidate() {
    if (!this.on || this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      if (!this.on || this.view.destroyed) return;
      this.build();
      // A segment whose text is newer than its written form asks again.
      if (this.paint()) this.refetchWritten();
    });
  }

  /** Asks for the written forms again, soon (edits come in bursts). */
  refetchWritten() {
    clearTimeout(this.writtenTimer);
    this.writtenTimer = setTimeout(() => this.loadWritten(), WRITTEN_REFETCH_MS);
  }

  /** The written form of every segment of the record (GET …/record). */
  async loadWritten() {
    if (this.fetching) {
      this.fetchAgain = true;
      return;
    }
    this.fetching = true;
    try {
      const res = await get(`/api/sessions/${this.view.id}/record`);
      this.written = new Map((res && Array.isArray(res.written) ? res.written : []).map((w) => [w.segment_id, w]));
      this.setHeadings(res && Array.isArray(res.headings) ? res.headings : []);
    } catch {
      // The rows keep their verbatim text; the next edit asks again.
    } finally {
      this.fetching = false;
    }
    if (this.view.destroyed) return;
    if (this.fetchAgain) {
      this.fetchAgain = false;
      this.loadWritten();
      return;
    }
    if (this.on) this.paint();
  }

  /**
   * How the record names each speaker, as the exports print it (the linked
   * person's title and name): the record's speaker headings use it, and so
   * do the read-only rows, which are filled again when it changes.
   */
  setHeadings(headings) {
    const printed = new Map(headings.map((h) => [h.speaker_id, h.heading]));
    const same = printed.size === this.printed.size && [...printed].every(([id, h]) => this.printed.get(id) === h);
    if (same) return;
    this.printed = printed;
    const v = this.view;
    if (v.destroyed) return;
    if (!v.editable) for (const st of v.states) v.rows.fill(st);
    this.invalidate();
  }

  /** A speaker's name as the record prints it (null: unknown). */
  speakerName(id) {
    if (id == null) return null;
    return this.printed.get(id) || this.view.speakers.get(id)?.name || `#${id}`;
  }

  /**
   * Shows each record row's written form where it is of the row's text;
   * returns whether some row's is missing or stale (its text was edited).
   */
  paint() {
    let stale = false;
    for (const st of this.view.states) {
      if (!inRecord(st.seg) || gone(st.seg)) continue;
      const w = this.written.get(st.seg.id);
      const current = !!w && w.verbatim === (st.seg.text || '');
      if (!current) stale = true;
      // A segment the written form leaves as it is keeps its words (they
      // play from themselves and follow the playhead).
      if (!current || !(w.parts || []).some((part) => part.spoken != null)) {
        st.row.classList.remove('has-written');
        continue;
      }
      if (st.writtenOf !== w) {
        st.writtenOf = w;
        if (!st.written) {
          st.written = el('span', { className: 'written', attrs: { lang: 'vi' } });
          st.body.insertBefore(st.written, st.text.nextSibling);
        }
        st.written.replaceChildren(...writtenNodes(w.parts));
      }
      st.row.classList.add('has-written');
    }
    return stale;
  }

  clear() {
    for (const h of this.headings) h.remove();
    this.headings = [];
    this.key = '';
  }

  /** Puts the headings before the first row of each item and speech, and breaks in long speeches. */
  build() {
    const v = this.view;
    const record = deriveRecord(v.states.map((st) => st.seg), this.agenda, [...this.notes.values()]);
    const name = (id) => this.speakerName(id) ?? '— chưa rõ —';
    const key = JSON.stringify([v.states.length, ...record.items.map((p) => [p.item && [p.item.id, p.item.title, p.item.reference],
      p.entries.map((e) => (e.type === 'note' ? [e.id, e.kind, e.text, e.before_segment_id]
        : [name(e.speaker_id), e.segment_ids[0], e.segment_ids.length]))])]);
    if (key === this.key) return;
    this.clear();
    this.key = key;
    const onlyPart = record.items.length === 1 && !record.items[0].item;
    for (const part of record.items) {
      const lead = part.entries[0];
      const first = lead && v.byId.get(lead.type === 'note' ? lead.before_segment_id : lead.segment_ids[0]);
      const title = part.item ? part.item.title : onlyPart ? v.session.agenda_item : null;
      if (title && lead) {
        this.place(el('h2', { className: 'record-node record-heading record-agenda' },
          el('span', { className: 'record-agenda-title', text: title }),
          part.item && part.item.reference ? el('span', { className: 'note record-reference', text: ` (${part.item.reference})` }) : null), first);
      }
      for (const speech of part.entries) {
        if (speech.type === 'note') {
          const label = NOTE_LABEL[speech.kind] || NOTE_LABEL.other;
          this.place(el('p', { className: 'record-node record-note', dataset: { id: speech.id, kind: speech.kind } },
            `(${speech.text ? (speech.kind === 'other' ? speech.text : `${label}: ${speech.text}`) : label})`),
          v.byId.get(speech.before_segment_id));
          continue;
        }
        const st = v.byId.get(speech.segment_ids[0]);
        if (!st) continue;
        this.place(el('h3', { className: 'record-node record-heading record-speaker', dataset: { speakerId: speech.speaker_id ?? '' } },
          el('span', { className: 'record-speaker-name', text: name(speech.speaker_id) }),
          el('button', {
            type: 'button', className: 'record-time', dataset: { id: st.seg.id },
            title: 'Nghe từ đầu bài phát biểu', text: fmtClock(speech.start_ms),
          })), st);
        for (let i = PARAGRAPH_SEGMENTS; i < speech.segment_ids.length; i += PARAGRAPH_SEGMENTS) {
          const next = v.byId.get(speech.segment_ids[i]);
          if (next) this.place(el('div', { className: 'record-node record-break', attrs: { 'aria-hidden': 'true' } }), next);
        }
      }
    }
  }

  /** Before `st`'s row; without one, at the end (before live partial text). */
  place(node, st) {
    const list = this.view.list;
    list.insertBefore(node, st ? st.row : list.querySelector(':scope > .partial'));
    this.headings.push(node);
  }
}
