// Editing a segment's text: the editor in the row, drafts (every keystroke
// kept in localStorage through drafts.js, restored after a reload, shown in
// the row while no editor is open), saving, and the warning before leaving
// with unsaved drafts. A save refused as stale goes to the conflict view.

import { auth, patch, errorMessage, ApiError } from '../api.js';
import { el, normText, toast } from '../util.js';
import { loadDraft, saveDraft, removeDraft, draftIds, setDraftOwner } from '../drafts.js';

export class Editor {
  constructor(view) {
    this.view = view;
    setDraftOwner(auth.user && auth.user.name);
    this.onBeforeUnload = (e) => {
      if (this.view.states.some((st) => st.draft)) {
        e.preventDefault();
        e.returnValue = '';
      }
    };
  }

  bind() {
    window.addEventListener('beforeunload', this.onBeforeUnload);
  }

  unbind() {
    window.removeEventListener('beforeunload', this.onBeforeUnload);
  }

  restoreDrafts() {
    const v = this.view;
    if (!v.editable) return;
    for (const id of draftIds()) {
      const st = v.byId.get(id);
      if (!st) continue;
      const d = loadDraft(id);
      if (!d) continue;
      st.draft = d;
      this.showDirty(st);
      if (d.version !== st.seg.version) v.rows.setServerChanged(st, true);
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

  open(st) {
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
    this.view.rows.setServerChanged(st, base.version !== st.seg.version);
    this.showDirty(st);
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  /** Leaves the editor; a draft, if any, stays (shown in the row). */
  close(st, { focusRow = false } = {}) {
    if (!st.editor) return;
    st.editor.box.remove();
    st.editor = null;
    st.text.hidden = false;
    st.row.classList.remove('editing');
    if (!st.draft) this.view.rows.setServerChanged(st, false);
    this.showDirty(st);
    if (focusRow) this.view.keys.select(st);
  }

  discard(st) {
    if (st.draft && !window.confirm('Bỏ những thay đổi chưa lưu của đoạn này?')) return;
    st.draft = null;
    removeDraft(st.seg.id);
    this.close(st, { focusRow: true });
    this.view.rows.setServerChanged(st, false);
  }

  /** Saves the open editor's text (Ctrl+Enter, the Save button). */
  save(st) {
    const text = st.editor.textarea.value;
    const base = st.editor.base;
    this.keepDraft(st, text, base); // on disk before the request, whatever happens to it
    if (normText(text) === normText(base.text)) {
      // Nothing changed: no request, no revision.
      st.draft = null;
      removeDraft(st.seg.id);
      this.close(st, { focusRow: true });
      return;
    }
    this.saveText(st, text, base.version);
  }

  async saveText(st, text, version) {
    const v = this.view;
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
      v.conflicts.close(st);
      this.close(st);
      v.rows.setServerChanged(st, false);
      this.showDirty(st);
      v.rows.apply(seg);
      v.keys.select(st);
      toast('Đã lưu.');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.body && err.body.current) {
        v.rows.apply(err.body.current);
        v.conflicts.show(st, text, err.body.current, version);
      } else {
        toast(`Chưa lưu được: ${errorMessage(err)} Bản nháp vẫn được giữ.`, 'error');
      }
    } finally {
      st.busy = false;
      st.row.classList.remove('saving');
    }
  }

  /** After our own change of speaker or status, a draft whose text base is
   * still the server's text moves to the new version (no false conflict). */
  rebaseDraft(st) {
    const base = this.view.rows.baseOf(st);
    if (!base || base.text !== st.seg.text) return;
    if (st.draft) {
      st.draft.version = st.seg.version;
      saveDraft(st.seg.id, st.draft);
    }
    if (st.editor) st.editor.base = { version: st.seg.version, text: st.seg.text };
    this.view.rows.setServerChanged(st, false);
  }
}
