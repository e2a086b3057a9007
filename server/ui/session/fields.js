// A segment's fields other than its text: its review status and its speaker,
// and with them the session's speaker list (the select every row clones,
// speakers added or linked to a registry person here, by others, or live).
// The registry picker is session/person.js.

import { get, patch, post, errorMessage } from '../api.js';
import { el, toast } from '../util.js';
import { PersonPicker } from './person.js';

const NEW_SPEAKER = '__new';
const PICK_PERSON = '__person';

export class Fields {
  constructor(view) {
    this.view = view;
    this.template = null; // the speaker select that rows clone (editors only)
    this.speakerFetch = null;
    this.person = new PersonPicker(view);
  }

  makeTemplate() {
    const v = this.view;
    if (!v.editable) return;
    this.template = el('select', { className: 'speaker', attrs: { 'aria-label': 'Người nói' } },
      el('option', { value: '', text: '— chưa rõ —' }),
      [...v.speakers.values()].map((sp) => el('option', { value: String(sp.id), text: this.person.speakerText(sp) })),
      el('option', { value: NEW_SPEAKER, text: '+ Thêm người nói…' }),
      el('option', { value: PICK_PERSON, text: 'Người trong danh bạ… (l)' }));
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
    if (value === PICK_PERSON) {
      v.rows.fill(st); // puts the select back
      this.person.show(st);
      return;
    }
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
        // Known ones too: a link made while this page was not listening.
        for (const sp of detail.speakers) this.addSpeaker(sp);
        if (!fresh.length) return;
        const ids = new Set(fresh.map((sp) => sp.id));
        for (const st of v.states) if (ids.has(st.seg.speaker_id)) v.rows.fill(st);
      })
      .catch(() => {})
      .finally(() => { setTimeout(() => { this.speakerFetch = null; }, 5000); });
  }

  /** A speaker added or linked (here, by another user, live). */
  addSpeaker(sp) {
    const v = this.view;
    const known = v.speakers.get(sp.id);
    v.speakers.set(sp.id, sp);
    v.record.invalidate();
    // A new link (or name) changes how the record prints the speaker.
    if (!known || known.person_id !== sp.person_id || known.name !== sp.name) v.record.refetchWritten();
    if (!v.editable) return;
    if (known) {
      if (known.person_id !== sp.person_id || known.name !== sp.name) this.renameSpeakers();
      return;
    }
    const text = this.person.speakerText(sp);
    const add = (select) => select.insertBefore(el('option', { value: String(sp.id), text }),
      select.querySelector(`option[value="${NEW_SPEAKER}"]`));
    add(this.template);
    for (const st of v.states) add(st.speaker);
  }

  /** Names every speaker option again (a person linked or fetched). */
  renameSpeakers() {
    const v = this.view;
    if (!v.editable || !this.template) return;
    const texts = new Map([...v.speakers.values()].map((sp) => [String(sp.id), this.person.speakerText(sp)]));
    const rename = (select) => {
      for (const option of select.options) {
        const text = texts.get(option.value);
        if (text !== undefined && option.text !== text) option.text = text;
      }
    };
    rename(this.template);
    for (const st of v.states) rename(st.speaker);
  }
}
