// The audio: playing, seeking, the speed label, and the playhead, which marks
// the segment under it (found by binary search over start times, every frame
// while playing) and keeps it on screen, and the word being said in it.
// Clicks on words and times call seek().

import { isTypingTarget, toast } from '../util.js';

/** Index of the last item of sorted `starts` that is <= ms; -1 if none. */
function lastStartAtOrBefore(starts, ms) {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= ms) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export class Player {
  constructor(view) {
    this.view = view;
    this.current = null; // the state under the playhead
    this.word = null; // the word span under it
    this.raf = 0;
  }

  bind() {
    const a = this.view.audio;
    const onTime = () => this.tick();
    a.addEventListener('timeupdate', onTime);
    a.addEventListener('seeked', onTime);
    a.addEventListener('play', () => this.startLoop());
    a.addEventListener('pause', () => this.stopLoop());
    a.addEventListener('ended', () => this.stopLoop());
    a.addEventListener('ratechange', () => { this.view.speedLabel.textContent = `Tốc độ ${String(a.playbackRate).replace('.', ',')}×`; });
    a.addEventListener('error', () => toast('Không tải được âm thanh của phiên họp.', 'error'));
  }

  /** Stops playback and the download (when leaving the page). */
  unload() {
    const a = this.view.audio;
    a.pause();
    a.removeAttribute('src');
    a.load(); // stops the download
  }

  startLoop() {
    if (this.raf) return;
    const step = () => {
      this.tick();
      this.raf = this.view.destroyed || this.view.audio.paused ? 0 : requestAnimationFrame(step);
    };
    this.raf = requestAnimationFrame(step);
  }

  stopLoop() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.tick();
  }

  /** Highlights the segment under the playhead, and the word in it. */
  tick() {
    const v = this.view;
    const ms = v.audio.currentTime * 1000;
    let i = lastStartAtOrBefore(v.starts, ms);
    while (i >= 0 && v.states[i].row.classList.contains('gone')) i--; // merged away: the row that took it
    const st = i < 0 ? null : v.states[i];
    this.markWord(st, ms);
    if (st === this.current) return;
    if (this.current) this.current.row.classList.remove('current');
    this.current = st;
    if (!st) return;
    st.row.classList.add('current');
    // Follow the audio, except while the user is typing somewhere.
    if (!isTypingTarget(document.activeElement)) st.row.scrollIntoView({ block: 'nearest' });
  }

  /** The last word of `st` begun by `ms`, while `ms` is inside the segment. */
  markWord(st, ms) {
    let word = null;
    if (st && ms <= st.seg.end_ms) {
      for (const w of st.words || []) {
        if (Number(w.dataset.start) > ms) break;
        word = w;
      }
    }
    if (word === this.word) return;
    if (this.word) this.word.classList.remove('current-word');
    this.word = word;
    if (word) word.classList.add('current-word');
  }

  seek(ms) {
    const to = Math.max(0, ms / 1000);
    const a = this.view.audio;
    if (a.readyState === 0) {
      // Before metadata is known a seek may be dropped; redo it once it is.
      a.addEventListener('loadedmetadata', () => { a.currentTime = to; this.tick(); }, { once: true });
    }
    a.currentTime = to;
    this.tick();
  }

  seekBy(deltaMs) {
    const a = this.view.audio;
    let t = a.currentTime + deltaMs / 1000;
    if (Number.isFinite(a.duration)) t = Math.min(t, a.duration);
    a.currentTime = Math.max(0, t);
    this.tick();
  }

  play() {
    const p = this.view.audio.play();
    if (p && p.catch) p.catch(() => {}); // autoplay refused or interrupted: the user presses play
  }

  togglePlay() {
    if (this.view.audio.paused) this.play();
    else this.view.audio.pause();
  }

  /** #/sessions/{id}?t=ms&play=1: seek to t (selecting its segment), play. */
  applyStartParams(params) {
    const v = this.view;
    const t = Number(params.get('t'));
    if (params.has('t') && Number.isFinite(t)) {
      this.seek(t);
      const i = lastStartAtOrBefore(v.starts, t);
      if (i >= 0) v.keys.select(v.states[i]);
    }
    if (params.get('play') === '1') this.play();
  }
}
