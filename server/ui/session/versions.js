// The published versions of the sitting, on the session page: for each its
// number, state, who published it and when, its SHA-256 (short), how many
// corrections it lists, its exports (?version=N) and its public page; and
// under it those corrections: what changed, where (a click selects the
// segment and plays from there), before and after, and why. Opened from the
// workflow bar (session/workflow.js); text only through textContent.

import { get, errorMessage } from '../api.js';
import { el, fmtDateTime } from '../util.js';

/** The formats a published version is exported in. */
const VERSION_EXPORTS = [['json', 'JSON'], ['akn', 'Akoma Ntoso'], ['html', 'HTML'], ['docx', 'DOCX'], ['txt', 'TXT']];

const CHANGE_LABELS = {
  text: 'Sửa lời',
  speaker: 'Đổi người nói',
  added: 'Thêm',
  removed: 'Bỏ',
};
const TARGET_LABELS = { segment: 'đoạn', note: 'ghi chú', agenda_item: 'mục nghị sự' };

/** "Sửa lời đoạn", "Thêm ghi chú", … */
export function changeLabel(c) {
  return `${CHANGE_LABELS[c.change] || c.change} ${TARGET_LABELS[c.target] || c.target}`;
}

/** What changed, before and after, as text in <del>/<ins>. */
export function changeView(c) {
  return el('div', { className: `change change-${c.change}` },
    el('span', { className: 'change-kind', text: changeLabel(c) }),
    c.before != null ? el('del', { className: 'before', text: c.before }) : null,
    c.before != null && c.after != null ? ' → ' : null,
    c.after != null ? el('ins', { className: 'after', text: c.after }) : null);
}

export class Versions {
  constructor(view) {
    this.view = view;
    this.open = false;
    this.seq = 0;
  }

  button() {
    this.toggleBtn = el('button', {
      type: 'button', className: 'versions-toggle', id: 'versions-toggle', text: 'Các phiên bản',
      attrs: { 'aria-expanded': 'false', 'aria-controls': 'versions-panel' },
      on: { click: () => this.toggle() },
    });
    return this.toggleBtn;
  }

  panel() {
    this.box = el('section', { className: 'versions-panel', id: 'versions-panel', hidden: true, attrs: { 'aria-label': 'Các phiên bản đã công bố' } });
    return this.box;
  }

  toggle(show = !this.open) {
    this.open = show;
    this.box.hidden = !show;
    this.toggleBtn.setAttribute('aria-expanded', String(show));
    if (show) this.refresh();
  }

  /** Reads the versions and their corrections again (when shown). */
  async refresh() {
    if (!this.open) return;
    const v = this.view;
    const seq = ++this.seq;
    let versions;
    let corrections;
    let pending = null;
    // Corrections made since the last version, while they are not published.
    const wf = v.workflow.state;
    const open = wf && wf.published && !['published', 'final'].includes(wf.state);
    try {
      if (open) pending = await get(`/api/sessions/${v.id}/workflow/pending`);
      versions = await get(`/api/sessions/${v.id}/versions`);
      corrections = await Promise.all(versions.map((ver) => (ver.corrections
        ? get(`/api/sessions/${v.id}/versions/${ver.number}/corrections`).then((r) => r.corrections)
        : Promise.resolve([]))));
    } catch (err) {
      if (seq === this.seq) this.box.replaceChildren(el('p', { className: 'error', text: errorMessage(err) }));
      return;
    }
    if (v.destroyed || seq !== this.seq) return;
    if (!versions.length) {
      this.box.replaceChildren(el('p', { className: 'empty', text: 'Chưa có phiên bản nào được công bố.' }));
      return;
    }
    // Newest first: the one readers see is on top, under what is pending.
    const items = versions.map((ver, i) => this.versionView(ver, corrections[i])).reverse();
    if (pending && !pending.unchanged) items.unshift(this.pendingView(pending));
    this.box.replaceChildren(el('h3', { text: 'Các phiên bản đã công bố' }), el('ol', { className: 'versions', reversed: true }, items));
  }

  /** The corrections the next version will list, not published yet. */
  pendingView(p) {
    const v = this.view;
    return el('li', { className: 'version version-pending', dataset: { number: 'pending' } },
      el('div', { className: 'version-head' },
        el('strong', { className: 'version-number', text: `v${p.next}` }),
        el('span', { className: 'version-count', text: ` chưa công bố · ${p.corrections.length} sửa đổi so với v${p.previous}` })),
      el('ul', { className: 'corrections' }, p.corrections.map((c) => el('li', {
        className: 'correction', dataset: { target: c.target, targetId: c.target_id },
      }, v.workflow.where(c), changeView(c)))));
  }

  versionView(ver, corrections) {
    const v = this.view;
    const state = ver.state === 'final' ? 'chính thức' : 'tạm thời';
    const finalised = ver.finalised_by ? ` · chốt bởi ${ver.finalised_by} lúc ${fmtDateTime(ver.finalised_at)}` : '';
    const exports = VERSION_EXPORTS.flatMap(([fmt, label], i) => [i ? ' · ' : '',
      el('a', { href: `/api/sessions/${v.id}/export/${fmt}?version=${ver.number}`, className: `version-export export-${fmt}`, attrs: { download: '' }, text: label })]);
    const count = ver.corrections
      ? `${ver.corrections} sửa đổi so với v${ver.previous}`
      : ver.previous ? 'không sửa đổi' : 'bản đầu tiên';
    return el('li', { className: `version version-${ver.state}`, dataset: { number: ver.number } },
      el('div', { className: 'version-head' },
        el('strong', { className: 'version-number', text: `v${ver.number}` }),
        el('span', { className: 'version-state', text: ` ${state} · ` }),
        el('span', { className: 'version-by', text: `công bố bởi ${ver.published_by} lúc ${fmtDateTime(ver.published_at)}${finalised}` }),
        el('span', { className: 'version-sha note', attrs: { title: `SHA-256 ${ver.sha256}` }, text: ` · SHA-256 ${ver.sha256.slice(0, 12)}…` }),
        el('span', { className: 'version-count', text: ` · ${count}` })),
      ver.note ? el('p', { className: 'version-note note', text: `Ghi chú: ${ver.note}` }) : null,
      el('p', { className: 'version-links' }, 'Tải về: ', exports, ' · ',
        el('a', { href: `/records/${v.id}/v/${ver.number}`, className: 'version-public', attrs: { target: '_blank', rel: 'noopener' }, text: 'Trang công khai' })),
      corrections.length
        ? el('ul', { className: 'corrections' }, corrections.map((c) => el('li', {
          className: 'correction', dataset: { target: c.target, targetId: c.target_id },
        },
        v.workflow.where(c),
        changeView(c),
        el('div', { className: 'why' }, el('span', { className: 'note', text: 'Lý do: ' }),
          el('span', { className: 'reason-text', text: c.reason || '—' })))))
        : null);
  }
}
