// A segment's fields other than its text: its review status and its speaker,
// and with them the session's speaker list (the select every row clones,
// speakers added here, by others, or live).

import { get, patch, post, errorMessage } from '../api.js';
import { el, toast } from '../util.js';

const NEW_SPEAKER = '__new';

export class Fields {
  constructor(view) {
    this.view = view;
    this.template = null; // the speaker select that rows clone (editors only)
    this.speakerFetch = null;
  }

  makeTemplate() {
    const v = this.view;
    if (!v.editable) return;
    this.template = el('select', { className: 'speaker', attrs: { 'aria-label': 'Người nói' } },
      el('option', { value: '', text: '— chưa rõ —' }),
      [...v.speakers.values()].map((sp) => el('option', { value: String(sp.id), text: sp.name })),
      el('option', { value: NEW_SPEAKER, text: '+ Thêm người nói…' }));
  }

  /** A row's speaker select. */
  speakerSelect() {
    return this.template.cloneNode(true);
  }

  async toggleReview(st) {
    const v = this.view;
    if (st.busy) return;
    st.busy = true;
    const next = st.seg.review_status === 'reviewed' ? 'draft' : 'reviewed';
    try {
      const seg = await patch(`/api/segments/${st.seg.id}`, { version: st.seg.version, review_status: next });
      v.rows.apply(seg);
      v.editor.rebaseDraft(st);
    } catch (err) {
      v.rows.staleOrError(st, err);
    } finally {
      st.busy = false;
    }
  }

  async changeSpeaker(st, value) {
    const v = this.view;
    let speakerId = value === '' ? null : Number(value);
    if (value === NEW_SPEAKER) {
      const name = (window.prompt('Tên người nói mới:') || '').trim();
      if (!name) {
        v.rows.fill(st); // puts the select back
        return;
      }
      try {
        const sp = await post(`/api/sessions/${v.id}/speakers`, { name });
        this.addSpeaker(sp);
        speakerId = sp.id;
      } catch (err) {
        toast(`Không thêm được người nói: ${errorMessage(err)}`, 'error');
        v.rows.fill(st);
        return;
      }
    }
    if (speakerId === st.seg.speaker_id) {
      v.rows.fill(st);
      return;
    }
    try {
      const seg = await patch(`/api/segments/${st.seg.id}`, { version: st.seg.version, speaker_id: speakerId });
      v.rows.apply(seg);
      v.editor.rebaseDraft(st);
    } catch (err) {
      v.rows.staleOrError(st, err);
      v.rows.fill(st);
    }
  }

  /** A speaker added elsewhere (another user, live): fetch the list again. */
  refreshSpeakers() {
    const v = this.view;
    if (this.speakerFetch) return;
    this.speakerFetch = get(`/api/sessions/${v.id}`)
      .then((detail) => {
        if (v.destroyed) return;
        const fresh = detail.speakers.filter((sp) => !v.speakers.has(sp.id));
        if (!fresh.length) return;
        for (const sp of fresh) this.addSpeaker(sp);
        const ids = new Set(fresh.map((sp) => sp.id));
        for (const st of v.states) if (ids.has(st.seg.speaker_id)) v.rows.fill(st);
      })
      .catch(() => {})
      .finally(() => { setTimeout(() => { this.speakerFetch = null; }, 5000); });
  }

  addSpeaker(sp) {
    const v = this.view;
    if (v.speakers.has(sp.id)) return;
    v.speakers.set(sp.id, sp);
    v.record.invalidate();
    if (!v.editable) return;
    const add = (select) => select.insertBefore(el('option', { value: String(sp.id), text: sp.name }), select.lastElementChild);
    add(this.template);
    for (const st of v.states) add(st.speaker);
  }
}
