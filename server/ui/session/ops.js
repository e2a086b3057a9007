// The segment operations, for stenographers (keys in keys.js's OPS_KEYMAP):
// split, merge with the next, not speech / speech, moving a bound (±100 ms,
// or to the playhead), inserting a segment into a gap, undoing the last
// operation made on this page, "a new agenda item starts here" and a scene
// note after a segment. Each answer ({operation_id, segments}) goes through
// rows.apply like a live 'operation' message (session/live.js), so that both
// views show it at once. A 409 (a row changed since) reloads the rows and
// says so; a 400 shows the server's message. What an operation needs typed
// (the inserted text, a title, a note) is asked in a small form in the row.
// The insert form can also ask the server to recognise the gap's audio
// ("Nhận dạng", Alt+N: at most its first 30 s); the recognised text fills
// the field to be checked, and if it is saved unchanged its timed words go
// with it, so that they are not re-timed.

import { get, post, errorMessage, ApiError } from '../api.js';
import { el, fmtClock, toast } from '../util.js';
import { gone } from './record.js';

const NUDGE_MS = 100;
/** The longest stretch the server recognises at once (docs/api.md). */
const MAX_RECOGNISE_MS = 30_000;
const NOTE_KINDS = [['applause', 'Vỗ tay'], ['gavel', 'Gõ búa'], ['vote', 'Biểu quyết'], ['other', 'Ghi chú khác']];

export class Ops {
  constructor(view) {
    this.view = view;
    this.done = []; // operation ids made on this page, oldest first
    this.busy = false;
    this.form = null; // {node, resolve} of the open form
  }

  /** Runs the operation `name` (keys.js's OPS_KEYS) on the segment `st`. */
  run(name, st) {
    const v = this.view;
    if (!v.editable) {
      toast('Chỉ đọc: tài khoản của bạn không sửa được biên bản.');
      return;
    }
    if (name === 'undo') {
      this.undo();
      return;
    }
    if (!st || gone(st.seg)) {
      toast('Hãy chọn một đoạn trước (n / p).');
      return;
    }
    const s = st.seg;
    switch (name) {
      case 'split': this.split(st); break;
      case 'merge': this.merge(st); break;
      case 'speech': this.send(st, `/api/segments/${s.id}/state`, { version: s.version, state: s.state === 'not_speech' ? 'speech' : 'not_speech' }); break;
      case 'startEarlier': this.bounds(st, s.start_ms - NUDGE_MS, s.end_ms); break;
      case 'startLater': this.bounds(st, s.start_ms + NUDGE_MS, s.end_ms); break;
      case 'endEarlier': this.bounds(st, s.start_ms, s.end_ms - NUDGE_MS); break;
      case 'endLater': this.bounds(st, s.start_ms, s.end_ms + NUDGE_MS); break;
      case 'startHere': this.bounds(st, this.playhead(), s.end_ms); break;
      case 'endHere': this.bounds(st, s.start_ms, this.playhead()); break;
      case 'insert': this.insert(st); break;
      case 'agenda': this.agenda(st); break;
      case 'note': this.note(st); break;
      case 'person': v.fields.person.show(st); break;
      default: break;
    }
  }

  playhead() {
    return Math.round(this.view.audio.currentTime * 1000);
  }

  /** The next segment in time order that is still in the session. */
  next(st) {
    const v = this.view;
    for (let i = st.idx + 1; i < v.states.length; i++) if (!gone(v.states[i].seg)) return v.states[i];
    return null;
  }

  /**
   * POSTs an operation; applies its answer to the rows and remembers it for
   * undo. Returns the answer, or null (after saying why) when refused.
   */
  async send(st, path, body) {
    const v = this.view;
    if (this.busy) return null;
    this.busy = true;
    st?.row.classList.add('saving');
    try {
      const res = await post(path, body);
      this.apply(res);
      if (res && res.operation_id != null) this.done.push(res.operation_id);
      return res;
    } catch (err) {
      this.refused(err);
      return null;
    } finally {
      this.busy = false;
      st?.row.classList.remove('saving');
      if (st && v.keys.selected === st && !v.record.shows(st)) v.keys.reselect(st);
    }
  }

  /** An operation's segments (an answer, or a live 'operation' message). */
  apply(res) {
    for (const seg of (res && res.segments) || []) this.view.rows.apply(seg);
  }

  refused(err) {
    const v = this.view;
    if (err instanceof ApiError && err.status === 409) {
      if (err.body && err.body.current && err.body.current.id) v.rows.apply(err.body.current);
      toast(`Chưa làm được: ${errorMessage(err)} Các đoạn đã được tải lại; hãy xem lại rồi thử lại.`, 'error');
      v.live.resync();
    } else {
      toast(`Chưa làm được: ${errorMessage(err)}`, 'error');
    }
  }

  /**
   * While editing: at the caret (the text must be saved first). Otherwise
   * before the word where a text selection begins, else the word under the
   * playhead (a click on a word puts it there).
   */
  async split(st) {
    const v = this.view;
    const s = st.seg;
    let at;
    if (st.editor) {
      const ta = st.editor.textarea;
      if (ta.value !== s.text || st.editor.base.version !== s.version) {
        toast('Hãy lưu lời đã sửa (Ctrl+Enter) trước khi tách đoạn.', 'error');
        return;
      }
      at = { char: [...ta.value.slice(0, ta.selectionStart)].length };
    } else {
      const word = this.selectedWord(st) || (v.player.word && st.words && st.words.includes(v.player.word) ? v.player.word : null);
      if (!word) {
        toast('Hãy đặt vị trí phát vào từ bắt đầu đoạn mới (bấm vào từ đó), rồi bấm s.', 'error');
        return;
      }
      at = { word: Number(word.dataset.index) };
    }
    const res = await this.send(st, `/api/segments/${s.id}/split`, { version: s.version, at });
    if (res && st.editor) v.editor.close(st, { focusRow: true });
    if (res) toast('Đã tách đoạn.');
  }

  /** The word of `st` where a text selection (not a mere caret) begins. */
  selectedWord(st) {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.anchorNode) return null;
    const node = sel.anchorNode.nodeType === Node.ELEMENT_NODE ? sel.anchorNode : sel.anchorNode.parentElement;
    const word = node && node.closest('.word');
    return word && st.text.contains(word) ? word : null;
  }

  async merge(st) {
    const next = this.next(st);
    if (!next) {
      toast('Không có đoạn kế tiếp để gộp.', 'error');
      return;
    }
    if (st.editor || st.draft || next.editor || next.draft) {
      toast('Hãy lưu hoặc bỏ bản nháp của hai đoạn trước khi gộp.', 'error');
      return;
    }
    const res = await this.send(st, `/api/segments/${st.seg.id}/merge`, {
      version: st.seg.version, next_id: next.seg.id, next_version: next.seg.version,
    });
    if (res) toast('Đã gộp với đoạn kế tiếp.');
  }

  bounds(st, start, end) {
    return this.send(st, `/api/segments/${st.seg.id}/bounds`, { version: st.seg.version, start_ms: start, end_ms: end });
  }

  /** Into the gap after `st` (from the playhead when it is in that gap). */
  async insert(st) {
    const v = this.view;
    const next = this.next(st);
    let start = st.seg.end_ms;
    const end = next ? next.seg.start_ms : Math.max(start, v.session.duration_ms || Math.round((v.audio.duration || 0) * 1000));
    const ms = this.playhead();
    if (ms > start && ms < end) start = ms;
    if (end - start < NUDGE_MS) {
      toast('Không có khoảng trống sau đoạn này để chèn.', 'error');
      return;
    }
    let heard = null; // the last recognition's {text, words}
    const recognise = {
      label: 'Nhận dạng (Alt+N)', className: 'op-recognise', code: 'KeyN',
      title: 'Điền lời nhận dạng từ âm thanh của khoảng này (tối đa 30 giây đầu)',
      run: async ([input], button, status) => {
        button.disabled = true;
        status.textContent = 'Đang nhận dạng…';
        try {
          const r = await post(`/api/sessions/${v.id}/recognise`, { start_ms: start, end_ms: Math.min(end, start + MAX_RECOGNISE_MS) });
          heard = r;
          input.value = r.text;
          status.textContent = r.text
            ? 'Đã điền lời nhận dạng: hãy nghe lại, sửa nếu cần, rồi Enter để lưu.'
            : 'Không nghe thấy lời nói trong khoảng này.';
        } catch (err) {
          status.textContent = err instanceof ApiError && err.status === 409 && /no recognition model/.test(errorMessage(err))
            ? 'Máy chủ chưa nạp mô hình nhận dạng: hãy gõ lời của đoạn.'
            : `Không nhận dạng được: ${errorMessage(err)}`;
        } finally {
          button.disabled = false;
          input.focus();
        }
      },
    };
    const values = await this.ask(st, `Chèn đoạn mới (${fmtClock(start)}–${fmtClock(end)})`,
      [{ name: 'text', label: 'Lời của đoạn mới', required: true }], [recognise]);
    if (!values) return;
    const body = { start_ms: start, end_ms: end, text: values.text, speaker_id: st.seg.speaker_id ?? null };
    // Unchanged, the recognised words keep their times; otherwise the server re-times the text.
    if (heard && heard.words.length && values.text.trim() === heard.text.trim()) body.words = heard.words;
    const res = await this.send(st, `/api/sessions/${v.id}/segments`, body);
    const added = res && res.segments && res.segments[0] && v.byId.get(res.segments[0].id);
    if (added) v.keys.select(added);
  }

  async undo() {
    const v = this.view;
    const id = this.done.pop();
    if (id == null) {
      toast('Chưa có thao tác nào trên trang này để hoàn tác.');
      return;
    }
    if (this.busy) {
      this.done.push(id);
      return;
    }
    this.busy = true;
    try {
      this.apply(await post(`/api/operations/${id}/undo`, {}));
      toast('Đã hoàn tác.');
      this.reloadAgenda();
    } catch (err) {
      this.refused(err);
    } finally {
      this.busy = false;
      const st = v.keys.selected;
      if (st && !v.record.shows(st)) v.keys.reselect(st);
    }
  }

  /** The agenda and notes (an undo of theirs answers only segments; live messages say it too). */
  async reloadAgenda() {
    const v = this.view;
    try {
      const [agenda, notes] = await Promise.all([get(`/api/sessions/${v.id}/agenda`), get(`/api/sessions/${v.id}/notes`)]);
      if (v.destroyed) return;
      v.record.setAgenda(agenda);
      v.record.notes.clear();
      v.record.setNotes(notes);
    } catch {
      /* the live messages bring it */
    }
  }

  /** "A new agenda item starts here": a new title, or (empty) the next item waiting. */
  async agenda(st) {
    const v = this.view;
    const values = await this.ask(st, 'Mục nghị sự mới bắt đầu từ đoạn này', [
      { name: 'title', label: 'Tên mục (để trống: mục kế tiếp chưa bắt đầu)' }]);
    if (!values) return;
    const body = { segment_id: st.seg.id };
    if (values.title.trim()) body.title = values.title.trim();
    const res = await this.send(st, `/api/sessions/${v.id}/agenda/start`, body);
    if (!res) return;
    if (Array.isArray(res.items)) v.record.setAgenda(res.items);
    toast('Đã đặt đầu mục nghị sự.');
  }

  /** A scene note (applause, the gavel …) at the end of `st`. */
  async note(st) {
    const v = this.view;
    const values = await this.ask(st, 'Ghi chú sau đoạn này', [
      { name: 'kind', label: 'Loại', options: NOTE_KINDS },
      { name: 'text', label: 'Nội dung (không bắt buộc)' }]);
    if (!values) return;
    const res = await this.send(st, `/api/sessions/${v.id}/notes`, { at_ms: st.seg.end_ms, kind: values.kind, text: values.text.trim() });
    if (!res) return;
    if (res.note) v.record.setNotes([res.note]);
    toast('Đã thêm ghi chú.');
  }

  /**
   * A small form under the row's text; resolves to {name: value} on Enter,
   * or null on Esc or Cancel. `fields`: {name, label, options?, required?}.
   * `extra`: more buttons, {label, className, title, code (Alt+code runs
   * it), run(inputs, button, status)}, with a status line they write to.
   */
  ask(st, title, fields, extra = []) {
    const v = this.view;
    this.closeForm(null);
    v.fields.person.close();
    return new Promise((resolve) => {
      const inputs = fields.map((f) => (f.options
        ? el('select', { name: f.name, className: 'op-field' }, f.options.map(([value, label]) => el('option', { value, text: label })))
        : el('input', { type: 'text', name: f.name, className: 'op-field', required: !!f.required, attrs: { lang: 'vi', autocomplete: 'off' } })));
      const status = el('p', { className: 'op-status', attrs: { role: 'status', 'aria-live': 'polite' } });
      const buttons = extra.map((b) => {
        const node = el('button', { type: 'button', className: b.className, title: b.title, text: b.label });
        node.addEventListener('click', () => b.run(inputs, node, status));
        return { code: b.code, node };
      });
      const node = el('form', {
        className: 'op-form', attrs: { 'aria-label': title },
        on: {
          submit: (e) => {
            e.preventDefault();
            this.closeForm(Object.fromEntries(inputs.map((i) => [i.name, i.value])));
          },
          keydown: (e) => {
            const button = e.altKey && !e.ctrlKey && buttons.find((b) => b.code === e.code);
            if (button) {
              e.preventDefault(); // not the page's Alt key as well
              if (!button.node.disabled) button.node.click();
              return;
            }
            if (e.key !== 'Escape') return;
            e.preventDefault(); // not the page's Esc as well
            this.closeForm(null);
          },
        },
      },
      el('p', { className: 'op-form-title', text: title }),
      fields.map((f, i) => el('label', { className: 'op-label' }, el('span', { text: f.label }), inputs[i])),
      extra.length ? status : null,
      el('div', { className: 'op-actions' },
        el('button', { type: 'submit', className: 'primary', text: 'Đồng ý (Enter)' }),
        buttons.map((b) => b.node),
        el('button', { type: 'button', text: 'Huỷ (Esc)', on: { click: () => this.closeForm(null) } })));
      this.form = { node, resolve, st };
      st.body.append(node);
      v.keys.select(st, { focus: false });
      inputs[0].focus();
    });
  }

  closeForm(values) {
    const form = this.form;
    if (!form) return;
    this.form = null;
    form.node.remove();
    if (this.view.keys.selected === form.st) form.st.row.focus({ preventScroll: true });
    form.resolve(values);
  }
}
