// The sitting's workflow on the session page (docs/workflow.md): a bar with
// where the record stands (draft, checked, approved, published, final, and
// how many segments are not reviewed), the steps the user's role may take
// from there, each a button and a key (keys.js), and the server's reason in
// place when it refuses one (409). Publishing opens a form listing the
// corrections against the last version, with a reason for each corrected
// segment and a note for the rest; sending back and making final ask for a
// note. The bar follows the session's live messages: a step by someone
// else, or the step back to draft that any change to a checked, approved or
// published record makes. Text is set through textContent only.

import { auth, get, post, ApiError, errorMessage } from '../api.js';
import { el, fmtClock, fmtDateTime, toast } from '../util.js';
import { Versions, changeView } from './versions.js';

/** The states, as people read them. */
export const STATE_LABELS = {
  draft: 'Bản nháp',
  checked: 'Đã kiểm tra',
  approved: 'Đã phê duyệt',
  published: 'Đã công bố (tạm thời)',
  final: 'Bản chính thức',
};

const WRITERS = ['stenographer', 'editor', 'admin'];
const EDITORS = ['editor', 'admin'];

/**
 * The steps, in the bar's order: where to, from which states, who may
 * (the server checks again), the button, its key (keys.js), and whether it
 * asks for a note first.
 */
export const STEPS = [
  { to: 'checked', from: ['draft'], roles: WRITERS, label: 'Đánh dấu đã kiểm tra', key: 'Alt+Shift+C' },
  { to: 'approved', from: ['checked'], roles: EDITORS, label: 'Phê duyệt', key: 'Alt+Shift+A' },
  { to: 'published', from: ['approved'], roles: EDITORS, label: 'Công bố…', key: 'Alt+Shift+P', form: true },
  { to: 'final', from: ['published'], roles: EDITORS, label: 'Chốt bản chính thức…', key: 'Alt+Shift+F', form: true },
  { to: 'draft', from: ['checked', 'approved'], roles: WRITERS, label: 'Trả lại bản nháp…', key: 'Alt+Shift+D', form: true },
];

/** The steps `role` may take at all. */
export function stepsFor(role) {
  return STEPS.filter((s) => s.roles.includes(role));
}

/** How long to wait after an edit before asking where the record stands. */
const REFRESH_DELAY_MS = 300;

export class Workflow {
  constructor(view) {
    this.view = view;
    this.state = null; // GET /api/sessions/{id}/workflow
    this.form = null; // the open form: {to, node}
    this.timer = 0;
    this.seq = 0;
    this.versions = new Versions(view);
  }

  /** The bar (and the panels under it), built once; filled by refresh(). */
  build() {
    const role = auth.user ? auth.user.role : null;
    this.stateLabel = el('strong', { className: 'workflow-state', id: 'workflow-state' });
    this.counts = el('span', { className: 'workflow-counts note', id: 'workflow-counts' });
    this.publishedLabel = el('span', { className: 'workflow-published note', id: 'workflow-published' });
    this.lastLabel = el('span', { className: 'workflow-last note', id: 'workflow-last' });
    this.buttons = new Map();
    for (const s of role ? stepsFor(role) : []) {
      this.buttons.set(s.to, el('button', {
        type: 'button', className: `workflow-step step-${s.to}`, hidden: true,
        dataset: { to: s.to }, attrs: { 'aria-keyshortcuts': s.key, title: s.key },
        text: s.label,
        on: { click: () => this.run(s.to) },
      }));
    }
    this.message = el('p', { className: 'workflow-message error', id: 'workflow-message', attrs: { role: 'alert' }, hidden: true });
    this.formBox = el('div', { className: 'workflow-form-box', id: 'workflow-form-box', hidden: true });
    this.bar = el('div', { className: 'workflow-bar', id: 'workflow-bar', hidden: true, attrs: { role: 'region', 'aria-label': 'Quy trình biên bản' } },
      el('span', { className: 'note', text: 'Quy trình:' }), this.stateLabel, this.counts, this.publishedLabel,
      this.lastLabel,
      el('span', { className: 'workflow-steps' }, [...this.buttons.values()]),
      this.versions.button());
    return el('div', { className: 'workflow' }, this.bar, this.message, this.formBox, this.versions.panel());
  }

  /** Asks the server where the record stands and shows it. */
  async refresh() {
    const v = this.view;
    const seq = ++this.seq;
    let wf;
    try {
      wf = await get(`/api/sessions/${v.id}/workflow`);
    } catch (err) {
      // A server without the workflow, or a reader it is not shown to.
      if (!(err instanceof ApiError) || err.status !== 401) this.bar.hidden = !this.state;
      return;
    }
    if (v.destroyed || seq !== this.seq) return;
    this.state = wf;
    this.show();
    // The versions panel (when open) shows what is pending, which moves with every edit.
    this.versions.refresh();
    if (this.form && !this.form.from.includes(wf.state)) this.closeForm();
    if (this.form && this.form.to === 'published') this.loadPending(this.form);
  }

  /** Something in the record changed: ask again, once the burst is over. */
  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), REFRESH_DELAY_MS);
  }

  /** A `workflow` live message: a step by someone, or back to draft. */
  onLive(msg) {
    if (msg.actor === 'tocky' && msg.to === 'draft' && this.state && this.state.state !== 'draft') {
      toast('Biên bản đã thay đổi nên trở lại bản nháp.');
    }
    this.refresh();
  }

  show() {
    const wf = this.state;
    this.bar.hidden = false;
    this.bar.dataset.state = wf.state;
    this.stateLabel.textContent = STATE_LABELS[wf.state] || wf.state;
    this.stateLabel.className = `workflow-state state-${wf.state}`;
    this.counts.textContent = wf.unreviewed
      ? `${wf.unreviewed}/${wf.segments} đoạn chưa duyệt`
      : `đã duyệt cả ${wf.segments} đoạn`;
    const p = wf.published;
    this.publishedLabel.textContent = p
      ? `Bạn đọc thấy bản v${p.number} (${p.state === 'final' ? 'chính thức' : 'tạm thời'}, ${fmtDateTime(p.published_at)})`
      : 'Chưa công bố';
    // The last step: who, when, and what they said (the triggers' step
    // says the record changed).
    const last = wf.history && wf.history[wf.history.length - 1];
    this.lastLabel.textContent = last
      ? `· ${last.actor === 'tocky' ? 'biên bản thay đổi' : last.actor} ${fmtDateTime(last.at)}: `
        + `${STATE_LABELS[last.from] || last.from} → ${STATE_LABELS[last.to] || last.to}`
        + `${last.note && last.actor !== 'tocky' ? ` («${last.note}»)` : ''}`
      : '';
    for (const s of STEPS) {
      const b = this.buttons.get(s.to);
      if (b) b.hidden = !s.from.includes(wf.state);
    }
  }

  /** Takes step `to` (a button or a key): at once, or through its form. */
  run(to) {
    const s = STEPS.find((x) => x.to === to);
    const b = this.buttons.get(to);
    if (!s || !b) {
      toast('Tài khoản của bạn không làm được bước này.');
      return;
    }
    if (b.hidden) {
      const now = this.state ? STATE_LABELS[this.state.state] : '';
      this.say(`Không thể «${s.label.replace('…', '')}» khi biên bản đang ở trạng thái «${now}».`);
      return;
    }
    if (s.form) this.openForm(s);
    else this.send(s, {});
  }

  /** Shows `text` (the server's reason) under the bar; empty hides it. */
  say(text) {
    this.message.textContent = text || '';
    this.message.hidden = !text;
  }

  /** Sends step `s` with `extra` (note, reasons); true when it moved. */
  async send(s, extra) {
    const v = this.view;
    this.say('');
    const button = this.buttons.get(s.to);
    if (button) button.disabled = true;
    try {
      const moved = await post(`/api/sessions/${v.id}/workflow`, { to: s.to, ...extra });
      const version = moved.version ? ` (v${moved.version.number})` : '';
      toast(`${STATE_LABELS[moved.from]} → ${STATE_LABELS[moved.to]}${version}`);
      this.closeForm();
      await this.refresh();
      return true;
    } catch (err) {
      // 409: not allowed now, and why (e.g. "3 segments are not reviewed yet").
      const why = errorMessage(err);
      this.say(err instanceof ApiError && err.status === 409 ? `Chưa thể chuyển bước: ${why}` : why);
      if (err instanceof ApiError && err.status === 409) this.refresh();
      return false;
    } finally {
      if (button) button.disabled = false;
    }
  }

  // ---- forms: publish (reasons), make final, send back --------------------

  openForm(s) {
    this.closeForm();
    const note = el('textarea', { className: 'workflow-note', id: 'workflow-note', rows: 2, maxLength: 2000 });
    const submit = el('button', { type: 'submit', className: 'primary', id: 'workflow-submit', text: s.label.replace('…', '') });
    const cancel = el('button', { type: 'button', id: 'workflow-cancel', text: 'Thôi', on: { click: () => this.closeForm() } });
    const titles = {
      published: 'Công bố phiên bản mới',
      final: 'Chốt bản chính thức (không đổi được nữa)',
      draft: 'Trả lại bản nháp',
    };
    const notes = {
      published: 'Ghi chú của lần công bố (cũng là lý do cho những sửa đổi không ghi lý do riêng)',
      final: 'Ghi chú',
      draft: 'Lý do trả lại',
    };
    const pending = el('div', { className: 'pending', id: 'pending-corrections' });
    const node = el('form', { className: `workflow-form form-${s.to}`, id: 'workflow-form', dataset: { to: s.to } },
      el('h3', { text: titles[s.to] }),
      s.to === 'published' ? pending : null,
      el('label', { attrs: { for: 'workflow-note' }, text: notes[s.to] }), note,
      el('div', { className: 'workflow-form-buttons' }, submit, cancel));
    const form = { ...s, node, note, pending, reasons: new Map() };
    node.addEventListener('submit', (e) => {
      e.preventDefault();
      const extra = { note: note.value.trim() || undefined };
      if (s.to === 'published') {
        const reasons = {};
        for (const [id, input] of form.reasons) if (input.value.trim()) reasons[id] = input.value.trim();
        extra.reasons = reasons;
      }
      this.send(s, extra);
    });
    node.addEventListener('keydown', (e) => {
      // Enter in a reason field goes on typing reasons; it does not publish.
      if (e.key === 'Enter' && e.target instanceof Element && e.target.classList.contains('reason')) e.preventDefault();
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.closeForm();
      }
    });
    this.form = form;
    this.formBox.replaceChildren(node);
    this.formBox.hidden = false;
    if (s.to === 'published') this.loadPending(form);
    note.focus();
  }

  closeForm() {
    if (!this.form) return;
    this.form = null;
    this.formBox.replaceChildren();
    this.formBox.hidden = true;
  }

  /** Lists in `form` the corrections publishing would make, each segment with a reason field. */
  async loadPending(form) {
    const v = this.view;
    let p;
    try {
      p = await get(`/api/sessions/${v.id}/workflow/pending`);
    } catch (err) {
      form.pending.replaceChildren(el('p', { className: 'error', text: errorMessage(err) }));
      return;
    }
    if (this.form !== form) return;
    const typed = new Map([...form.reasons].map(([id, input]) => [id, input.value]));
    form.reasons.clear();
    const head = p.previous == null
      ? `Bản công bố đầu tiên: v${p.next}.`
      : p.unchanged
        ? `Bản nháp giống hệt bản v${p.previous}: công bố lại không tạo phiên bản mới.`
        : `Phiên bản v${p.next}, sửa bản v${p.previous}: ${p.corrections.length} sửa đổi.`;
    const items = [];
    // One reason per segment, for all of its changes (text and speaker).
    const bySegment = new Map();
    for (const c of p.corrections) {
      const key = c.target === 'segment' ? `s${c.target_id}` : `${c.target}${c.target_id}:${c.change}`;
      if (!bySegment.has(key)) bySegment.set(key, []);
      bySegment.get(key).push(c);
    }
    for (const list of bySegment.values()) {
      const first = list[0];
      let reason = null;
      if (first.target === 'segment') {
        const id = String(first.target_id);
        reason = el('input', {
          className: 'reason', type: 'text', maxLength: 2000, value: typed.get(id) || '',
          dataset: { segmentId: id }, attrs: { 'aria-label': 'Lý do sửa', placeholder: 'Lý do sửa (nếu khác ghi chú chung)' },
        });
        form.reasons.set(id, reason);
      }
      items.push(el('li', { className: 'pending-correction', dataset: { target: first.target, targetId: first.target_id } },
        this.where(first),
        list.map((c) => changeView(c)),
        reason));
    }
    form.pending.replaceChildren(
      el('p', { className: 'pending-head', text: head }),
      items.length ? el('ul', { className: 'corrections' }, items) : null);
  }

  /** Where a correction is: a button that selects its segment and plays from it. */
  where(c) {
    const v = this.view;
    const label = c.at_ms == null ? '' : fmtClock(c.at_ms);
    const st = c.target === 'segment' ? v.byId.get(c.target_id) : null;
    if (!st && c.at_ms == null) return el('span', { className: 'where note', text: c.target === 'agenda_item' ? 'Mục nghị sự' : 'Ghi chú' });
    return el('button', {
      type: 'button', className: 'where link-button', text: label || `#${c.target_id}`,
      attrs: { title: 'Đến chỗ này' },
      on: { click: () => this.jump(c) },
    });
  }

  /** Selects the correction's segment (if still there) and plays from its moment. */
  jump(c) {
    const v = this.view;
    const st = c.target === 'segment' ? v.byId.get(c.target_id) : null;
    if (st) v.keys.select(st);
    const at = c.at_ms != null ? c.at_ms : st ? st.seg.start_ms : null;
    if (at != null) v.player.seek(at);
  }

  destroy() {
    clearTimeout(this.timer);
    this.seq++;
  }
}
