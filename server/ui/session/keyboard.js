// The selection and the keyboard: which row the keys act on (the selected
// row holds focus, so that Space and Enter mean play and edit), moving it,
// and turning key presses (keys.js's map) into the page's actions.

import { toast, isTypingTarget } from '../util.js';
import { actionFor, toggleHelp, helpOpen } from '../keys.js';

const SEEK_STEP_MS = 3000;

export class Keyboard {
  constructor(view) {
    this.view = view;
    this.selected = null; // the state the keyboard acts on
    this.onKey = (e) => this.handleKey(e);
  }

  bind() {
    document.addEventListener('keydown', this.onKey);
  }

  unbind() {
    document.removeEventListener('keydown', this.onKey);
  }

  select(st, { focus = true } = {}) {
    if (!st) return;
    if (this.selected && this.selected !== st) {
      this.selected.row.classList.remove('selected');
      this.selected.row.tabIndex = -1;
    }
    this.selected = st;
    st.row.classList.add('selected');
    st.row.tabIndex = 0;
    // Focus goes to the row itself (not a button in it), so that Space and
    // Enter mean play and edit; a field being typed in keeps focus.
    const active = document.activeElement;
    if (focus && !(st.row.contains(active) && isTypingTarget(active))) st.row.focus({ preventScroll: true });
    st.row.scrollIntoView({ block: 'nearest' });
  }

  /** `st` left the view (merged away): the nearest row shown before it, else after. */
  reselect(st) {
    const v = this.view;
    const shown = (j) => v.states[j] && v.record.shows(v.states[j]);
    let j = st.idx - 1;
    while (j >= 0 && !shown(j)) j--;
    if (j < 0) for (j = st.idx + 1; j < v.states.length && !shown(j);) j++;
    if (shown(j)) this.select(v.states[j], { focus: st.row.contains(document.activeElement) || document.activeElement === document.body });
  }

  /** The row the keyboard acts on: the one holding focus, else the selection. */
  target() {
    return this.view.stateOf(document.activeElement) || this.selected || this.view.player.current;
  }

  /** Selects the row `delta` away (past rows the view hides) and plays from it. */
  step(delta) {
    const v = this.view;
    const n = v.states.length;
    if (!n) return;
    const from = this.selected || v.player.current;
    let i = from ? from.idx + delta : delta > 0 ? 0 : n - 1;
    i = Math.max(0, Math.min(n - 1, i));
    const shown = (j) => j >= 0 && j < n && v.record.shows(v.states[j]);
    const dir = delta > 0 ? 1 : -1;
    if (!shown(i)) {
      let j = i;
      while (j >= 0 && j < n && !shown(j)) j += dir;
      if (!shown(j)) for (j = i; j >= 0 && j < n && !shown(j);) j -= dir; // none further: the last shown
      if (!shown(j)) return;
      i = j;
    }
    const st = v.states[i];
    this.select(st);
    v.player.seek(st.seg.start_ms);
  }

  handleKey(e) {
    const v = this.view;
    const { player } = v;
    if (v.destroyed || e.defaultPrevented) return;
    const typing = isTypingTarget(e.target);
    const action = actionFor(e, typing);
    if (!action) return;
    if (helpOpen() && action !== 'escape' && action !== 'help') return;
    e.preventDefault();
    switch (action) {
      case 'playPause': player.togglePlay(); break;
      case 'back': player.seekBy(-SEEK_STEP_MS); break;
      case 'forward': player.seekBy(SEEK_STEP_MS); break;
      case 'next': this.step(1); break;
      case 'prev': this.step(-1); break;
      case 'speed0.75': v.audio.playbackRate = 0.75; break;
      case 'speed1': v.audio.playbackRate = 1; break;
      case 'speed1.25': v.audio.playbackRate = 1.25; break;
      case 'edit': {
        const st = this.target();
        if (!st) break;
        this.select(st);
        if (v.editable) v.editor.open(st);
        else toast('Chỉ đọc: tài khoản của bạn không sửa được biên bản.');
        break;
      }
      case 'save': {
        const st = this.target();
        if (!st) break;
        if (st.conflict && document.activeElement === st.conflict.merge) v.editor.saveText(st, st.conflict.merge.value, st.conflict.current.version);
        else if (st.editor) v.editor.save(st);
        break;
      }
      case 'review': {
        const st = this.target();
        if (!st) break;
        if (v.editable) v.fields.toggleReview(st);
        else toast('Chỉ đọc: tài khoản của bạn không duyệt được biên bản.');
        break;
      }
      case 'escape': this.escape(e.target); break;
      case 'help': toggleHelp(undefined, v.editable); break;
      case 'toggleView': v.record.toggle(); break;
      default:
        // The segment operations (session/ops.js), for stenographers.
        if (action.startsWith('op:')) v.ops.run(action.slice(3), this.target());
        // The sitting's workflow steps (session/workflow.js).
        else if (action.startsWith('wf:')) v.workflow.run(action.slice(3));
        break;
    }
  }

  escape(target) {
    const v = this.view;
    if (helpOpen()) {
      toggleHelp(false);
      if (this.selected) this.selected.row.focus({ preventScroll: true });
      return;
    }
    const st = v.stateOf(target);
    if (st && st.editor && st.editor.textarea === target) {
      v.editor.close(st, { focusRow: true });
      return;
    }
    if (isTypingTarget(target)) {
      target.blur();
      if (st) this.select(st);
      return;
    }
    if (st && st.history) v.history.toggle(st);
  }
}
