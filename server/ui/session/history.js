// A segment's revisions: the panel under its text (who changed what, when:
// text, speaker, status), and restoring the segment to one of them.

import { get, post, errorMessage } from '../api.js';
import { el, fmtDateTime, toast } from '../util.js';
import { STATUS_LABEL } from './rows.js';

export class History {
  constructor(view) {
    this.view = view;
  }

  /** Opens the segment's revisions, or closes them. */
  async toggle(st) {
    if (st.history) {
      st.history.remove();
      st.history = null;
      return;
    }
    const panel = el('div', { className: 'revisions' }, el('p', { className: 'note', text: 'Đang tải lịch sử…' }));
    st.history = panel;
    st.body.append(panel);
    await this.load(st, panel);
  }

  async load(st, panel) {
    const v = this.view;
    let revs;
    try {
      revs = await get(`/api/segments/${st.seg.id}/revisions`);
    } catch (err) {
      panel.replaceChildren(el('p', { className: 'error', text: errorMessage(err) }));
      return;
    }
    if (st.history !== panel) return;
    const speakerName = (id) => (id == null ? '— chưa rõ —' : v.speakers.get(id)?.name || `#${id}`);
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
      // A revision made by an operation (a split, a merge …): restoring it
      // undoes that operation as a whole (the server's restore route).
      const restore = !v.editable ? null
        : r.operation_id != null
          ? el('button', { type: 'button', className: 'undo-op-btn', text: 'Hoàn tác thao tác', title: 'Hoàn tác cả thao tác (tách, gộp …) đã tạo lần sửa này', on: { click: () => this.restore(st, r, panel) } })
          : r.version !== st.seg.version
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
    const v = this.view;
    try {
      const seg = await post(`/api/segments/${st.seg.id}/restore`, { revision_id: rev.id, version: st.seg.version });
      v.rows.apply(seg);
      // An undone operation wrote other rows too (its live message brings them).
      if (rev.operation_id != null) v.live.resync();
      toast(rev.operation_id != null ? 'Đã hoàn tác thao tác.' : 'Đã khôi phục.');
    } catch (err) {
      v.rows.staleOrError(st, err);
    }
    if (st.history === panel) await this.load(st, panel);
  }
}
