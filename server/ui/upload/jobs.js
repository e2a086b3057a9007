// The job list on the upload page, and submitting a stored upload as a
// job (docs/api.md, "Jobs").
//
// The list is polled every few seconds while the page is open and
// visible: the live WebSocket is per session (/api/sessions/{id}/live) and
// has no channel for jobs yet.

import { get, post, auth, errorMessage } from '../api.js';
import { el, toast } from '../util.js';

const POLL_MS = 3000;

const STATE_LABELS = {
  queued: 'Đang chờ',
  running: 'Đang chép lời',
  done: 'Xong',
  failed: 'Lỗi',
  cancelled: 'Đã hủy',
};

/** Tells the list to refresh now (after a submission). */
let refreshNow = () => {};

/**
 * Submits a stored upload as a job; returns a line for the file's row
 * ({text, kind}), or null.
 */
export async function submitJob(info, { title, date }) {
  try {
    const r = await post('/api/jobs', { upload_id: info.id, title: title || undefined, sitting_date: date || undefined });
    refreshNow();
    if (r.status === 'added') return { text: `Đã xếp hàng chép lời (việc số ${r.job.id}).`, kind: 'ok' };
    if (r.status === 'duplicate') return { text: `Tệp này đã có việc chép lời số ${r.job.id}.`, kind: 'ok' };
    if (r.status === 'in_record') return { text: `Bản ghi âm này đã có trong biên bản: phiên họp số ${r.session_id}.`, kind: 'ok', session: r.session_id };
  } catch (err) {
    return { text: errorMessage(err), kind: 'error' };
  }
  return null;
}

function jobRow(job, reload) {
  const mayChange = auth.user && (job.submitted_by === auth.user.name || ['editor', 'admin'].includes(auth.user.role));
  const actions = el('td', { className: 'job-actions' });
  if (mayChange && (job.state === 'queued' || job.state === 'running')) {
    actions.append(el('button', {
      type: 'button', className: 'job-cancel danger', text: 'Hủy',
      on: { click: async () => { try { await post(`/api/jobs/${job.id}/cancel`); } catch (err) { toast(errorMessage(err), 'error'); } reload(); } },
    }));
  }
  if (mayChange && (job.state === 'failed' || job.state === 'cancelled')) {
    actions.append(el('button', {
      type: 'button', className: 'job-retry', text: 'Thử lại',
      on: { click: async () => { try { await post(`/api/jobs/${job.id}/retry`); } catch (err) { toast(errorMessage(err), 'error'); } reload(); } },
    }));
  }
  const state = el('td', { className: `job-state state-${job.state}` }, STATE_LABELS[job.state] || job.state);
  if (job.state === 'running') {
    state.append(' ', el('progress', { className: 'job-progress', max: 1, value: job.progress || 0 }),
      el('span', { className: 'num', text: ` ${Math.floor((job.progress || 0) * 100)}%` }));
  }
  if (job.state === 'done' && job.session_id) {
    state.append(' ', el('a', { href: `#/sessions/${job.session_id}`, className: 'job-session', text: 'Mở phiên họp' }));
  }
  if (job.failure) state.append(el('div', { className: 'note', text: job.failure }));
  return el('tr', { className: 'job-row', dataset: { id: job.id, state: job.state } },
    el('td', { className: 'num', text: String(job.id) }),
    el('td', {}, el('div', { text: job.title || job.audio.name }), el('div', { className: 'note', text: job.audio.name })),
    el('td', { text: job.sitting_date || '' }),
    state,
    el('td', { text: job.submitted_by || '' }),
    actions);
}

/** Mounts the job list into `root`; returns its teardown. */
export async function mountJobs(root) {
  const body = el('tbody', {});
  const empty = el('p', { className: 'empty', text: 'Chưa có việc chép lời nào.' });
  const error = el('p', { className: 'error', hidden: true });
  root.append(el('h2', { text: 'Việc chép lời' }), error, empty,
    el('table', { id: 'job-table', className: 'data' },
      el('thead', {}, el('tr', {},
        el('th', { className: 'num', text: 'Số' }), el('th', { text: 'Tiêu đề / tệp' }), el('th', { text: 'Ngày họp' }),
        el('th', { text: 'Trạng thái' }), el('th', { text: 'Người gửi' }), el('th', { text: '' }))),
      body));
  let stopped = false;
  let timer = null;
  const load = async () => {
    clearTimeout(timer);
    if (stopped) return;
    try {
      const jobs = await get('/api/jobs?limit=100');
      if (stopped) return;
      body.replaceChildren(...jobs.map((j) => jobRow(j, load)));
      empty.hidden = jobs.length > 0;
      error.hidden = true;
    } catch (err) {
      error.textContent = errorMessage(err);
      error.hidden = false;
    }
    if (!stopped) timer = setTimeout(() => (document.hidden ? null : load()), POLL_MS);
  };
  const onVisible = () => { if (!document.hidden) load(); };
  document.addEventListener('visibilitychange', onVisible);
  refreshNow = load;
  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
    refreshNow = () => {};
  };
}
