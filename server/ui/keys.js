// The keyboard map of the session page and its help overlay.
//
// One table (KEYMAP) drives both the help text and, through actionFor(), the
// handling, so the overlay always lists exactly the keys that work.
// Plain keys act only when focus is not in a field that takes typing; the
// Ctrl/Alt combinations act everywhere, so a stenographer can keep typing in
// the editor and still steer the audio.

import { el } from './util.js';

/** [keys shown, what it does, where]; `where` is shown as a note. */
export const KEYMAP = [
  ['Space / k', 'Phát / tạm dừng', ''],
  ['Ctrl+Space / Alt+k', 'Phát / tạm dừng', 'cả khi đang sửa'],
  ['← / →', 'Lùi / tiến 3 giây', ''],
  ['Alt+← / Alt+→', 'Lùi / tiến 3 giây', 'cả khi đang sửa'],
  ['n / ↓', 'Chọn đoạn kế tiếp và nghe từ đó', ''],
  ['p / ↑', 'Chọn đoạn trước và nghe từ đó', ''],
  ['1 / 2 / 3', 'Tốc độ 0,75× / 1× / 1,25×', ''],
  ['Enter / e', 'Sửa đoạn đang chọn', ''],
  ['Ctrl+Enter / Ctrl+S', 'Lưu đoạn đang sửa', ''],
  ['Esc', 'Rời ô sửa (giữ bản nháp), đóng cửa sổ', ''],
  ['r', 'Đánh dấu đã duyệt / trở lại nháp', ''],
  ['v', 'Chuyển giữa danh sách đoạn và biên bản', ''],
  ['Alt+r', 'Đánh dấu đã duyệt / trở lại nháp', 'cả khi đang sửa'],
  ['?', 'Hiện / ẩn bảng phím tắt này', ''],
];

/** The segment operations (session/ops.js): listed only for those who may edit. */
export const OPS_KEYMAP = [
  ['s', 'Tách đoạn trước từ đang phát', ''],
  ['Alt+s', 'Tách đoạn tại con trỏ', 'khi đang sửa'],
  ['m', 'Gộp đoạn với đoạn kế tiếp', ''],
  ['x', 'Đánh dấu không phải lời nói / trả lại là lời nói', ''],
  ['[ / ]', 'Đầu đoạn sớm / muộn 100 ms', ''],
  ['{ / }', 'Cuối đoạn sớm / muộn 100 ms', ''],
  ['b / t', 'Đặt đầu / cuối đoạn tại vị trí đang phát', ''],
  ['i', 'Chèn đoạn vào khoảng trống sau đoạn đang chọn', ''],
  ['u', 'Hoàn tác thao tác cuối cùng trên trang này', ''],
  ['a', 'Một mục nghị sự mới bắt đầu từ đây', ''],
  ['c', 'Thêm ghi chú (vỗ tay, gõ búa…) sau đoạn', ''],
  ['Alt+n', 'Nhận dạng lời từ âm thanh của khoảng chèn', 'trong ô chèn đoạn'],
  ['l', 'Gắn người nói của đoạn với người trong danh bạ', ''],
];

/**
 * The sitting's workflow (session/workflow.js): listed for those who may
 * edit; a step the account's role may not take is not offered.
 */
export const WORKFLOW_KEYMAP = [
  ['Alt+Shift+C', 'Quy trình: đánh dấu đã kiểm tra', 'mọi đoạn phải đã duyệt'],
  ['Alt+Shift+A', 'Quy trình: phê duyệt', 'biên tập viên'],
  ['Alt+Shift+P', 'Quy trình: công bố (ghi lý do từng sửa đổi)', 'biên tập viên'],
  ['Alt+Shift+F', 'Quy trình: chốt bản chính thức', 'biên tập viên'],
  ['Alt+Shift+D', 'Quy trình: trả lại bản nháp', 'từ đã kiểm tra hoặc đã phê duyệt'],
];

/** Alt+Shift keys of the workflow → the step ('wf:' + the state it moves to). */
const WORKFLOW_KEYS = { KeyC: 'checked', KeyA: 'approved', KeyP: 'published', KeyF: 'final', KeyD: 'draft' };

/** Plain keys of the operations → the action ('op:' + its name in ops.js). */
const OPS_KEYS = {
  s: 'split', m: 'merge', x: 'speech', '[': 'startEarlier', ']': 'startLater', '{': 'endEarlier', '}': 'endLater',
  b: 'startHere', t: 'endHere', i: 'insert', u: 'undo', a: 'agenda', c: 'note', l: 'person',
};

/**
 * The action a keydown asks for, or null. `typing`: focus is in a text field
 * (only modifier combos and Esc act then). `target` lets buttons, links and
 * the audio player keep their own Enter/Space/arrow behaviour.
 */
export function actionFor(e, typing) {
  const key = e.key;
  const code = e.code;
  const ctrl = e.ctrlKey || e.metaKey;
  if (e.isComposing) return null; // an IME is composing a Vietnamese syllable
  if (ctrl && !e.altKey) {
    if (code === 'Space' || key === ' ') return 'playPause';
    if (key === 'Enter') return 'save';
    if (code === 'KeyS' || key === 's' || key === 'S') return 'save';
    return null;
  }
  if (e.altKey && !ctrl) {
    if (e.shiftKey && WORKFLOW_KEYS[code]) return `wf:${WORKFLOW_KEYS[code]}`;
    // e.code, not e.key: Alt+letter yields other characters on some layouts.
    if (code === 'KeyK') return 'playPause';
    if (code === 'KeyR') return 'review';
    if (code === 'KeyS') return 'op:split';
    if (key === 'ArrowLeft') return 'back';
    if (key === 'ArrowRight') return 'forward';
    return null;
  }
  if (key === 'Escape') return 'escape';
  if (typing) return null;
  const t = e.target instanceof Element ? e.target : null;
  const tag = t ? t.tagName : '';
  if ((tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY') && (key === 'Enter' || key === ' ')) return null;
  if (tag === 'AUDIO' && (key === ' ' || key === 'ArrowLeft' || key === 'ArrowRight')) return null;
  switch (key) {
    case ' ':
    case 'k':
      return 'playPause';
    case 'ArrowLeft':
      return 'back';
    case 'ArrowRight':
      return 'forward';
    case 'n':
    case 'ArrowDown':
      return 'next';
    case 'p':
    case 'ArrowUp':
      return 'prev';
    case '1':
      return 'speed0.75';
    case '2':
      return 'speed1';
    case '3':
      return 'speed1.25';
    case 'Enter':
    case 'e':
      return 'edit';
    case 'r':
      return 'review';
    case 'v':
      return 'toggleView';
    case '?':
      return 'help';
    default:
      return OPS_KEYS[key] ? `op:${OPS_KEYS[key]}` : null;
  }
}

let overlay = null;

export function helpOpen() {
  return !!overlay && !overlay.hidden;
}

let overlayEditable = null;

/** Shows (or hides) the overlay listing KEYMAP (and OPS_KEYMAP and WORKFLOW_KEYMAP for `editable`). */
export function toggleHelp(show = !helpOpen(), editable = overlayEditable) {
  if (overlay && editable !== overlayEditable && editable !== null) {
    overlay.remove();
    overlay = null;
  }
  if (!overlay) {
    overlayEditable = editable;
    const rows = (editable ? KEYMAP.concat(OPS_KEYMAP, WORKFLOW_KEYMAP) : KEYMAP).map(([keys, what, where]) =>
      el('tr', {},
        el('th', { scope: 'row' }, keys.split(' / ').flatMap((k, i) => [i ? ' / ' : '', el('kbd', { text: k })])),
        el('td', { text: what }),
        el('td', { className: 'note', text: where })));
    overlay = el('div', {
      id: 'help-overlay',
      attrs: { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'help-title' },
      hidden: true,
      on: { click: (e) => { if (e.target === overlay) toggleHelp(false); } },
    },
    el('div', { className: 'help-box' },
      el('h2', { id: 'help-title', text: 'Phím tắt' }),
      el('p', { className: 'note', text: 'Khi con trỏ đang ở trong ô sửa, chỉ các tổ hợp Ctrl/Alt và Esc có tác dụng.' }),
      el('table', {}, el('tbody', {}, rows)),
      el('button', { type: 'button', className: 'help-close', text: 'Đóng (Esc)', on: { click: () => toggleHelp(false) } })));
    document.body.append(overlay);
  }
  overlay.hidden = !show;
  if (show) overlay.querySelector('.help-close').focus();
  return show;
}

/** Removes the overlay (when leaving the page). */
export function closeHelp() {
  if (overlay) overlay.hidden = true;
}
