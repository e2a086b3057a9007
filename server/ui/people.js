// The people registry page (#/people): everyone who speaks in the Assembly,
// searchable by name (diacritics aside); admins add and edit people and
// their roles, and import a CSV or TOML list (docs/people.md).

import { ApiError, api, auth, errorMessage, get } from './api.js';
import { el, fmtDate, toast } from './util.js';

export const ROLE_NAMES = {
  delegate: 'Đại biểu',
  chair: 'Chủ tịch Quốc hội',
  vice_chair: 'Phó Chủ tịch Quốc hội',
  secretary_general: 'Tổng Thư ký Quốc hội',
  minister: 'Thành viên Chính phủ',
  invited: 'Khách mời',
};

const isAdmin = () => !!auth.user && auth.user.role === 'admin';

/** "Đại biểu 20/07/2021–", with the title when there is one. */
function describeRole(r) {
  let text = r.title || ROLE_NAMES[r.role] || r.role;
  if (r.valid_from || r.valid_to) text += ` (${r.valid_from ? fmtDate(r.valid_from) : ''}–${r.valid_to ? fmtDate(r.valid_to) : ''})`;
  return text;
}

/** Sends a file's text (CSV or TOML) to the import route. */
async function importText(text, format) {
  const res = await fetch(`/api/people/import?format=${encodeURIComponent(format)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Content-Type': 'text/plain; charset=utf-8', 'X-CSRF-Token': auth.csrf || '' },
    body: text,
  });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data, res.headers);
  return data;
}

/** A pasted list's format: TOML tables start with "[[person]]". */
function guessFormat(text) {
  return /^\s*\[\[person\]\]/m.test(text) ? 'toml' : 'csv';
}

export async function mountPeople(root) {
  let alive = true;
  const search = el('input', { id: 'people-search', type: 'search', placeholder: 'Tên, mã hoặc đoàn (không cần dấu)', attrs: { 'aria-label': 'Tìm người' } });
  const count = el('p', { id: 'people-count', className: 'note', attrs: { 'aria-live': 'polite' } });
  const tbody = el('tbody');
  const table = el('table', { id: 'people-table', className: 'data' },
    el('thead', {}, el('tr', {},
      el('th', { text: 'Mã' }), el('th', { text: 'Họ và tên' }), el('th', { text: 'Đoàn' }),
      el('th', { text: 'Ghế' }), el('th', { text: 'Vai trò' }), isAdmin() ? el('th', { text: '' }) : null)),
    tbody);
  root.append(el('h1', { text: 'Người phát biểu' }),
    el('div', { className: 'people-search' }, search), count, table);

  const form = isAdmin() ? personForm(() => load()) : null;
  if (form) root.append(form.node, importBox(() => load()));

  let timer = 0;
  let seq = 0;
  async function load() {
    const mine = ++seq;
    const q = search.value.trim();
    let people;
    try {
      people = await get(`/api/people${q ? `?q=${encodeURIComponent(q)}` : ''}`);
    } catch (err) {
      if (alive) toast(errorMessage(err), 'error');
      return;
    }
    if (!alive || mine !== seq) return;
    tbody.replaceChildren(...people.map((p) => el('tr', { className: 'person-row', dataset: { id: p.id, key: p.key } },
      el('td', { className: 'person-key', text: p.key }),
      el('td', { className: 'person-name', text: p.name }),
      el('td', { text: p.delegation || '' }),
      el('td', { text: p.seat || '' }),
      el('td', { className: 'person-roles', text: p.roles.map(describeRole).join('; ') }),
      form ? el('td', {}, el('button', { type: 'button', className: 'person-edit', text: 'Sửa', attrs: { 'aria-label': `Sửa ${p.name}` }, on: { click: () => form.edit(p) } })) : null)));
    count.textContent = people.length ? `${people.length} người` : (q ? 'Không tìm thấy ai.' : 'Chưa có ai trong danh sách.');
  }
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  });
  await load();
  search.focus();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

/** The admin's form to add a person, or edit one chosen in the table. */
function personForm(saved) {
  let editing = null; // the person being edited, or null for a new one
  const field = (id, label, props = {}) => {
    const input = el('input', { id, name: id, ...props });
    return { input, node: el('label', { className: 'field', attrs: { for: id } }, label, input) };
  };
  const key = field('person-key', 'Mã (ổn định)', { required: true, autocomplete: 'off' });
  const name = field('person-name', 'Họ và tên', { required: true, autocomplete: 'off' });
  const delegation = field('person-delegation', 'Đoàn (tỉnh, thành phố)', { autocomplete: 'off' });
  const seat = field('person-seat', 'Ghế', { autocomplete: 'off' });
  const roles = el('ol', { id: 'person-roles', className: 'role-list' });
  const title = el('h2', { id: 'person-form-title', text: 'Thêm người' });
  const error = el('p', { id: 'person-error', className: 'error', attrs: { role: 'alert' }, hidden: true });
  const submit = el('button', { type: 'submit', id: 'person-save', className: 'primary', text: 'Lưu' });
  const cancel = el('button', { type: 'button', id: 'person-cancel', text: 'Bỏ', on: { click: () => reset() } });
  let roleSeq = 0;

  function roleRow(r = {}) {
    const n = ++roleSeq;
    const select = el('select', { className: 'role-role', id: `role-${n}`, attrs: { 'aria-label': 'Vai trò' } },
      Object.entries(ROLE_NAMES).map(([value, label]) => el('option', { value, text: label, selected: value === (r.role || 'delegate') })));
    const t = el('input', { className: 'role-title', value: r.title || '', placeholder: 'Chức danh', attrs: { 'aria-label': 'Chức danh' } });
    const from = el('input', { className: 'role-from', type: 'date', value: r.valid_from || '', attrs: { 'aria-label': 'Từ ngày' } });
    const to = el('input', { className: 'role-to', type: 'date', value: r.valid_to || '', attrs: { 'aria-label': 'Đến ngày' } });
    const row = el('li', { className: 'role-row' }, select, t, from, to,
      el('button', { type: 'button', className: 'role-remove', text: 'Xoá', attrs: { 'aria-label': 'Xoá vai trò' }, on: { click: () => row.remove() } }));
    roles.append(row);
    return row;
  }

  function reset() {
    editing = null;
    title.textContent = 'Thêm người';
    for (const f of [key, name, delegation, seat]) f.input.value = '';
    roles.replaceChildren();
    error.hidden = true;
  }

  const node = el('form', { id: 'person-form', className: 'panel-form', attrs: { novalidate: true } },
    title, el('div', { className: 'person-fields' }, key.node, name.node, delegation.node, seat.node),
    el('h3', { text: 'Vai trò' }), roles,
    el('button', { type: 'button', id: 'role-add', text: 'Thêm vai trò', on: { click: () => roleRow().querySelector('select').focus() } }),
    error, el('div', { className: 'form-actions' }, submit, cancel));

  node.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    const body = {
      key: key.input.value,
      name: name.input.value,
      delegation: delegation.input.value || null,
      seat: seat.input.value || null,
      roles: [...roles.querySelectorAll('.role-row')].map((row) => ({
        role: row.querySelector('.role-role').value,
        title: row.querySelector('.role-title').value || null,
        valid_from: row.querySelector('.role-from').value || null,
        valid_to: row.querySelector('.role-to').value || null,
      })),
    };
    submit.disabled = true;
    try {
      const person = editing ? await api('PUT', `/api/people/${editing.id}`, body) : await api('POST', '/api/people', body);
      toast(`Đã lưu ${person.name}.`);
      reset();
      await saved();
    } catch (err) {
      error.textContent = errorMessage(err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });

  return {
    node,
    edit(p) {
      editing = p;
      title.textContent = `Sửa ${p.name}`;
      key.input.value = p.key;
      name.input.value = p.name;
      delegation.input.value = p.delegation || '';
      seat.input.value = p.seat || '';
      roles.replaceChildren();
      for (const r of p.roles) roleRow(r);
      error.hidden = true;
      name.input.focus();
    },
  };
}

/** The admin's import box: paste a list, or choose a .csv or .toml file. */
function importBox(imported) {
  const text = el('textarea', { id: 'import-text', rows: 6, spellcheck: false, attrs: { 'aria-label': 'Danh sách (CSV hoặc TOML)' } });
  const file = el('input', { id: 'import-file', type: 'file', accept: '.csv,.toml,text/csv' });
  const format = el('select', { id: 'import-format', attrs: { 'aria-label': 'Định dạng' } },
    el('option', { value: 'auto', text: 'Tự nhận định dạng' }), el('option', { value: 'csv', text: 'CSV' }), el('option', { value: 'toml', text: 'TOML' }));
  const result = el('p', { id: 'import-result', attrs: { role: 'status' } });
  const submit = el('button', { type: 'submit', id: 'import-submit', className: 'primary', text: 'Nhập danh sách' });
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    text.value = await f.text();
    const ext = /\.(csv|toml)$/i.exec(f.name);
    if (ext) format.value = ext[1].toLowerCase();
  });
  const node = el('form', { id: 'people-import', className: 'panel-form' },
    el('h2', { text: 'Nhập danh sách' }),
    el('p', { className: 'note', text: 'Dán nội dung CSV hoặc TOML (xem docs/people.md), hoặc chọn tệp. Nhập lại chỉ cập nhật, không tạo trùng; một dòng sai thì không nhập gì.' }),
    text, el('div', { className: 'form-actions' }, file, format, submit), result);
  node.addEventListener('submit', async (e) => {
    e.preventDefault();
    result.className = '';
    if (!text.value.trim()) {
      result.textContent = 'Hãy dán danh sách hoặc chọn tệp.';
      result.className = 'error';
      return;
    }
    submit.disabled = true;
    try {
      const fmt = format.value === 'auto' ? guessFormat(text.value) : format.value;
      const s = await importText(text.value, fmt);
      result.textContent = `Đã nhập: ${s.added} thêm mới, ${s.updated} cập nhật, ${s.unchanged} không đổi.`;
      await imported();
    } catch (err) {
      result.textContent = errorMessage(err);
      result.className = 'error';
    } finally {
      submit.disabled = false;
    }
  });
  return node;
}
