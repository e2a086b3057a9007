// The upload page (#/upload): recordings dropped or picked (files or a
// folder), a title and a date per file (from the file name when it starts
// with a date), resumable uploads with a progress bar each, cancel; then a
// transcription job per finished file (upload/jobs.js lists them).
//
// `#/upload?chunk=N` sets the chunk size in bytes (the end-to-end tests use
// small chunks to stop an upload half-way).

import { canEdit, get, errorMessage } from './api.js';
import { el, toast } from './util.js';
import { tusUpload, tusCancel, hasPartialUpload, DEFAULT_CHUNK_BYTES } from './upload/tus.js';
import { mountJobs, submitJob } from './upload/jobs.js';

/** Extensions taken from a picked folder (a dropped file is sent whatever it is). */
const AUDIO_EXT = /\.(wav|mp3|flac|m4a|mp4|ogg|oga|opus|webm|mka|aif|aiff)$/i;

/**
 * Title and date from a file name: `2026-10-21 Phiên họp sáng.wav` →
 * {date: '2026-10-21', title: 'Phiên họp sáng'}; `20261021_...` too.
 */
export function fromFileName(name) {
  const base = name.replace(/\.[^.]+$/, '').normalize('NFC');
  const m = /^(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?:[\s_.-]+(.*))?$/.exec(base);
  if (m && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) >= 1 && Number(m[3]) <= 31) {
    return { date: `${m[1]}-${m[2]}-${m[3]}`, title: (m[4] || '').replace(/_/g, ' ').trim() || base };
  }
  return { date: '', title: base.replace(/_/g, ' ').trim() };
}

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MB`;
  return `${(n / (1 << 30)).toFixed(2)} GB`;
}

/** Polls an upload until the server has hashed and stored it. */
async function whenStored(url) {
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    const info = await get(url);
    if (info.state === 'done') return info;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

export async function mountUpload(root, params) {
  root.append(el('h1', { text: 'Tải lên bản ghi âm' }));
  if (!canEdit()) {
    root.append(el('p', { className: 'error', text: 'Chỉ thư ký tốc ký, biên tập viên và quản trị viên được tải lên.' }));
    return () => {};
  }
  const chunkBytes = Math.max(1, Number(params.get('chunk')) || DEFAULT_CHUNK_BYTES);
  const rows = [];
  let alive = true;

  const list = el('ul', { id: 'upload-list', className: 'upload-list' });
  const filesInput = el('input', { type: 'file', id: 'upload-files', multiple: true, attrs: { accept: 'audio/*,.wav,.mp3,.flac,.m4a,.ogg,.opus' } });
  const folderInput = el('input', { type: 'file', id: 'upload-folder', attrs: { webkitdirectory: true } });
  const startAll = el('button', { type: 'button', id: 'upload-start', className: 'primary', text: 'Tải lên tất cả', disabled: true });
  const drop = el('div', { id: 'upload-drop', className: 'upload-drop', attrs: { tabindex: '0' } },
    el('p', { text: 'Kéo thả tệp ghi âm vào đây, hoặc:' }),
    el('label', { className: 'upload-pick' }, 'Chọn tệp ', filesInput),
    el('label', { className: 'upload-pick' }, 'Chọn thư mục ', folderInput));

  function addFiles(files, fromFolder) {
    for (const file of files) {
      if (fromFolder && !AUDIO_EXT.test(file.name)) continue;
      if (rows.some((r) => r.file.name === file.name && r.file.size === file.size && r.file.lastModified === file.lastModified)) continue;
      rows.push(makeRow(file));
    }
    refreshStartAll();
  }

  function refreshStartAll() {
    startAll.disabled = !rows.some((r) => r.state === 'ready');
  }

  function makeRow(file) {
    const guess = fromFileName(file.name);
    const title = el('input', { className: 'upload-title', value: guess.title, attrs: { 'aria-label': 'Tiêu đề phiên họp', maxlength: '500' } });
    const date = el('input', { className: 'upload-date', type: 'date', value: guess.date, attrs: { 'aria-label': 'Ngày họp' } });
    const bar = el('progress', { className: 'upload-progress', max: 1, value: 0 });
    const pct = el('span', { className: 'upload-pct num', text: '0%' });
    const status = el('span', { className: 'upload-status', attrs: { role: 'status' } });
    const start = el('button', { type: 'button', className: 'upload-one', text: hasPartialUpload(file) ? 'Tiếp tục tải lên' : 'Tải lên' });
    const cancel = el('button', { type: 'button', className: 'upload-cancel danger', text: 'Hủy' });
    const item = el('li', { className: 'upload-item', dataset: { name: file.name } },
      el('div', { className: 'upload-file' }, el('strong', { text: file.webkitRelativePath || file.name }), el('span', { className: 'note', text: ` ${fmtBytes(file.size)}` })),
      el('div', { className: 'upload-fields' }, title, date),
      el('div', { className: 'upload-bar' }, bar, pct, status),
      el('div', { className: 'upload-actions' }, start, cancel));
    const row = { file, item, title, date, state: 'ready', url: null, controller: null };
    const show = (sent, total) => {
      const f = total ? sent / total : 1;
      bar.value = f;
      pct.textContent = `${Math.floor(f * 100)}%`;
      item.dataset.sent = String(sent);
    };
    const setStatus = (text, kind = '') => {
      status.textContent = text;
      status.className = `upload-status ${kind}`;
    };
    row.run = async () => {
      if (row.state !== 'ready') return;
      row.state = 'uploading';
      item.dataset.state = 'uploading';
      start.disabled = true;
      row.controller = new AbortController();
      setStatus('Đang tải lên…');
      try {
        row.url = await tusUpload(file, {
          chunkBytes,
          signal: row.controller.signal,
          metadata: { title: title.value.trim(), date: date.value },
          onCreated: (url) => { row.url = url; },
          onResume: (offset) => { item.dataset.resumedAt = String(offset); },
          onProgress: show,
        });
        setStatus('Đang kiểm tra tệp…');
        const info = await whenStored(row.url);
        if (!alive) return;
        row.state = 'stored';
        item.dataset.state = 'stored';
        cancel.disabled = true;
        if (!info.format) {
          setStatus('Tệp này không phải âm thanh; không thể chép lời.', 'error');
          return;
        }
        setStatus('Đã tải lên.', 'ok');
        const answer = await submitJob(info, { title: title.value.trim(), date: date.value });
        if (answer) setStatus(answer.text, answer.kind);
        if (answer && answer.session) status.append(' ', el('a', { href: `#/sessions/${answer.session}`, text: 'Mở phiên họp' }));
      } catch (err) {
        if (!alive || (row.controller && row.controller.signal.aborted)) return;
        row.state = 'ready';
        item.dataset.state = 'failed';
        start.disabled = false;
        start.textContent = 'Tiếp tục tải lên';
        setStatus(errorMessage(err), 'error');
      }
    };
    start.addEventListener('click', async () => {
      await row.run();
      refreshStartAll();
    });
    cancel.addEventListener('click', async () => {
      if (row.controller) row.controller.abort();
      row.state = 'cancelled';
      item.dataset.state = 'cancelled';
      try {
        await tusCancel(file, row.url);
      } catch (err) {
        toast(errorMessage(err), 'error');
      }
      item.remove();
      rows.splice(rows.indexOf(row), 1);
      refreshStartAll();
    });
    list.append(item);
    return row;
  }

  filesInput.addEventListener('change', () => { addFiles(filesInput.files, false); filesInput.value = ''; });
  folderInput.addEventListener('change', () => { addFiles(folderInput.files, true); folderInput.value = ''; });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    addFiles(e.dataTransfer.files, false);
  });
  startAll.addEventListener('click', async () => {
    startAll.disabled = true;
    // One at a time: each file gets the whole connection.
    for (const row of rows.filter((r) => r.state === 'ready')) {
      if (!alive) break;
      await row.run();
    }
    refreshStartAll();
  });

  const jobs = el('section', { id: 'job-section', className: 'job-section' });
  root.append(drop, list, el('p', {}, startAll), jobs);
  const stopJobs = await mountJobs(jobs);
  return () => {
    alive = false;
    // Leaving the page stops the transfers; they resume from the server's
    // offset next time the same files are picked.
    for (const row of rows) if (row.controller) row.controller.abort();
    stopJobs();
  };
}
