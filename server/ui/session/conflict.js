// The conflict view: a save refused with 409 (the segment changed on the
// server since the edit began) shows both texts side by side and a merge
// field; nothing is saved until the user chooses. The buttons' actions are
// dispatched by session.js (keep-mine, take-theirs, save-merge).

import { removeDraft, saveDraft } from '../drafts.js';
import { el, fmtDateTime } from '../util.js';

export class Conflicts {
  constructor(view) {
    this.view = view;
  }

  /** Both texts side by side; nothing is saved until the user chooses. */
  show(st, mine, current, sentVersion) {
    const v = this.view;
    this.close(st);
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
    const box = el('div', { className: 'conflict-view', attrs: { role: 'group', 'aria-label': 'Xung đột khi lưu' } },
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
    st.conflict = { mine, current, merge, view: box };
    st.text.hidden = false;
    st.body.insertBefore(box, st.text.nextSibling);
    st.row.classList.add('conflict');
    v.editor.showDirty(st);
    v.keys.select(st, { focus: false });
    merge.focus();
  }

  close(st) {
    if (!st.conflict) return;
    st.conflict.view.remove();
    st.conflict = null;
    st.row.classList.remove('conflict');
  }

  takeTheirs(st) {
    const v = this.view;
    st.draft = null;
    removeDraft(st.seg.id);
    this.close(st);
    v.editor.close(st);
    v.rows.setServerChanged(st, false);
    v.editor.showDirty(st);
    v.keys.select(st);
  }
}
