// Which registry person a session's speaker is (docs/people.md): a picker in
// the selected row (key l, or "Người trong danh bạ…" in the speaker select)
// that searches the registry as one types (the server folds diacritics:
// "tran thanh" finds Trần Thanh Mẫn), moves with ↑/↓, links with Enter and
// closes with Esc. It links the row's speaker (PUT .../speakers/{id}); a
// row without a speaker gets a new one named after the person. The people
// linked speakers point at are fetched once and named in the speaker
// selects with their title on the sitting's date ("Chủ tịch Quốc hội Trần
// Thanh Mẫn"); a link made elsewhere arrives as a live 'speaker' message.

import { api, get, patch, post, errorMessage } from '../api.js';
import { el, toast } from '../util.js';
import { ROLE_NAMES } from '../people.js';

const SEARCH_DELAY_MS = 150;
const MAX_SHOWN = 20;

/** The person's office on `date` (YYYY-MM-DD), else their first role's. */
export function personTitle(person, date) {
  const roles = person.roles || [];
  const holds = (r) => (!date || ((!r.valid_from || r.valid_from <= date) && (!r.valid_to || date <= r.valid_to)));
  const role = roles.find((r) => holds(r) && r.role !== 'delegate') || roles.find(holds) || roles[0];
  return role ? role.title || ROLE_NAMES[role.role] || role.role : '';
}

/** "Chủ tịch Quốc hội Trần Thanh Mẫn", or the name alone. */
export function personLabel(person, date) {
  const title = personTitle(person, date);
  return title ? `${title} ${person.name}` : person.name;
}

export class PersonPicker {
  constructor(view) {
    this.view = view;
    this.persons = new Map(); // person id → person (or a promise while fetched)
    this.open = null; // {node, st, input, list, results, active, timer}
  }

  /** How a speaker is named in the selects: with its person once linked. */
  speakerText(sp) {
    const person = sp.person_id == null ? null : this.persons.get(sp.person_id);
    if (!person || person instanceof Promise) {
      if (sp.person_id != null) this.fetchPerson(sp.person_id);
      return sp.name;
    }
    const label = personLabel(person, this.view.session.sitting_date);
    return sp.name === person.name ? label : `${sp.name} — ${label}`;
  }

  /** Fetches a linked person once, then names them in the selects. */
  fetchPerson(id) {
    if (this.persons.has(id)) return;
    this.persons.set(id, get(`/api/people/${id}`)
      .then((person) => {
        this.persons.set(id, person);
        if (!this.view.destroyed) this.view.fields.renameSpeakers();
      })
      .catch(() => this.persons.delete(id)));
  }

  /** Opens the picker in `st`'s row. */
  show(st) {
    const v = this.view;
    v.ops.closeForm(null);
    this.close();
    const sp = st.seg.speaker_id == null ? null : v.speakers.get(st.seg.speaker_id);
    const input = el('input', {
      type: 'search', className: 'person-search', id: 'person-search',
      attrs: {
        lang: 'vi', autocomplete: 'off', role: 'combobox', 'aria-expanded': 'true',
        'aria-controls': 'person-results', 'aria-label': 'Tìm trong danh bạ (tên, mã, tỉnh/thành)',
      },
    });
    const list = el('ul', { className: 'person-results', id: 'person-results', attrs: { role: 'listbox', 'aria-label': 'Người trong danh bạ' } });
    const status = el('p', { className: 'person-status', attrs: { role: 'status' } });
    const unlink = sp && sp.person_id != null
      ? el('button', { type: 'button', className: 'person-unlink', text: 'Bỏ liên kết', on: { click: () => this.link(null) } })
      : null;
    const title = sp ? `Người phát biểu “${sp.name}” là ai trong danh bạ?` : 'Người nói của đoạn này là ai trong danh bạ?';
    const node = el('div', {
      className: 'person-picker', attrs: { role: 'dialog', 'aria-label': title },
      on: { keydown: (e) => this.onKey(e) },
    },
    el('p', { className: 'op-form-title', text: title }),
    el('label', { className: 'op-label' }, el('span', { text: 'Tìm' }), input),
    status, list,
    el('div', { className: 'op-actions' },
      unlink,
      el('button', { type: 'button', text: 'Huỷ (Esc)', on: { click: () => this.close(true) } })));
    this.open = { node, st, input, list, status, results: [], active: 0, timer: 0, seq: 0 };
    input.addEventListener('input', () => this.schedule());
    st.body.append(node);
    v.keys.select(st, { focus: false });
    input.focus();
    this.search();
  }

  schedule() {
    const o = this.open;
    if (!o) return;
    clearTimeout(o.timer);
    o.timer = setTimeout(() => this.search(), SEARCH_DELAY_MS);
  }

  async search() {
    const o = this.open;
    if (!o) return;
    const seq = ++o.seq;
    const q = o.input.value.trim();
    o.status.textContent = 'Đang tìm…';
    try {
      const people = await get(`/api/people?q=${encodeURIComponent(q)}`);
      if (this.open !== o || seq !== o.seq) return; // a later search, or closed
      o.results = people.slice(0, MAX_SHOWN);
      o.active = 0;
      o.status.textContent = people.length
        ? `${people.length} người${people.length > MAX_SHOWN ? ` (hiện ${MAX_SHOWN} người đầu; gõ thêm để lọc)` : ''} · ↑/↓ chọn, Enter gắn`
        : (q ? 'Không có ai khớp.' : 'Danh bạ chưa có ai (quản trị viên nhập ở trang Người phát biểu).');
      this.render();
    } catch (err) {
      if (this.open === o) o.status.textContent = `Không tải được danh bạ: ${errorMessage(err)}`;
    }
  }

  render() {
    const o = this.open;
    const date = this.view.session.sitting_date;
    o.list.replaceChildren(...o.results.map((p, i) => el('li', {
      className: i === o.active ? 'person-option active' : 'person-option',
      id: `person-option-${p.id}`,
      dataset: { personId: p.id },
      attrs: { role: 'option', 'aria-selected': i === o.active ? 'true' : 'false' },
      on: { mousedown: (e) => { e.preventDefault(); o.active = i; this.link(p); } },
    },
    el('span', { className: 'person-name', text: personLabel(p, date) }),
    el('span', { className: 'person-meta', text: [p.key, p.delegation].filter(Boolean).join(' · ') }))));
    const active = o.results[o.active];
    if (active) o.input.setAttribute('aria-activedescendant', `person-option-${active.id}`);
    else o.input.removeAttribute('aria-activedescendant');
    o.list.children[o.active]?.scrollIntoView({ block: 'nearest' });
  }

  onKey(e) {
    const o = this.open;
    if (!o) return;
    if (e.key === 'Escape') {
      e.preventDefault(); // not the page's Esc as well
      this.close(true);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!o.results.length) return;
      o.active = (o.active + (e.key === 'ArrowDown' ? 1 : o.results.length - 1)) % o.results.length;
      this.render();
    } else if (e.key === 'Enter' && e.target === o.input) {
      e.preventDefault();
      if (o.results[o.active]) this.link(o.results[o.active]);
    }
  }

  /** Links the row's speaker to `person` (null unlinks). */
  async link(person) {
    const o = this.open;
    if (!o || o.busy) return;
    const v = this.view;
    const st = o.st;
    o.busy = true;
    try {
      let speakerId = st.seg.speaker_id;
      if (speakerId == null) {
        if (!person) return;
        // A row without a speaker gets one named after the person.
        const sp = await post(`/api/sessions/${v.id}/speakers`, { name: person.name });
        v.fields.addSpeaker(sp);
        const seg = await patch(`/api/segments/${st.seg.id}`, { version: st.seg.version, speaker_id: sp.id });
        v.rows.apply(seg);
        v.editor.rebaseDraft(st);
        speakerId = sp.id;
      }
      if (person) this.persons.set(person.id, person);
      const sp = await api('PUT', `/api/sessions/${v.id}/speakers/${speakerId}`, { person_id: person ? person.id : null });
      v.fields.addSpeaker(sp);
      this.close(true);
      toast(person ? `Đã gắn với ${personLabel(person, v.session.sitting_date)}.` : 'Đã bỏ liên kết với danh bạ.');
    } catch (err) {
      if (this.open === o) o.status.textContent = `Chưa gắn được: ${errorMessage(err)}`;
      else toast(`Chưa gắn được: ${errorMessage(err)}`, 'error');
    } finally {
      o.busy = false;
    }
  }

  /** Closes the picker; `focusRow` gives the keyboard back to its row. */
  close(focusRow = false) {
    const o = this.open;
    if (!o) return;
    this.open = null;
    clearTimeout(o.timer);
    o.node.remove();
    if (focusRow && this.view.keys.selected === o.st) o.st.row.focus({ preventScroll: true });
  }
}
