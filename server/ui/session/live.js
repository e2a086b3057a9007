// Live updates over the session's WebSocket: segments, speakers, the agenda
// and scene notes as they change or arrive, the sitting's workflow steps
// (session/workflow.js), live recognition's partial text per channel, reconnecting
// with backoff (and fetching what was missed), and the 4401 close of a login
// that ended. The status label in the player bar says whether it is live.

import { get, loadMe } from '../api.js';
import { el, fmtClock } from '../util.js';

export class Live {
  constructor(view) {
    this.view = view;
    this.ws = null;
    this.timer = 0;
    this.backoff = 1000;
    this.openedOnce = false;
    this.partials = new Map(); // channel → element
  }

  connect() {
    const v = this.view;
    if (v.destroyed) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${proto}//${location.host}/api/sessions/${v.id}/live`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = 1000;
      v.liveLabel.textContent = '● Trực tiếp';
      v.liveLabel.className = 'live-status live-on';
      // Whatever changed while we were disconnected.
      if (this.openedOnce) this.resync();
      this.openedOnce = true;
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      // What the record holds changed: the workflow bar counts again.
      if (['segment', 'operation', 'agenda', 'note', 'speaker'].includes(msg.type)) v.workflow.changed();
      if (msg.type === 'segment' && msg.segment) v.rows.apply(msg.segment);
      // A split, merge, insert, change of state or bounds, or an undo: the
      // segments it wrote (those merged away are hidden, not removed).
      else if (msg.type === 'operation' && Array.isArray(msg.segments)) for (const seg of msg.segments) v.rows.apply(seg);
      else if (msg.type === 'agenda' && Array.isArray(msg.items)) v.record.setAgenda(msg.items);
      else if (msg.type === 'note' && msg.note) {
        if (msg.deleted) v.record.removeNote(msg.note);
        else v.record.setNotes([msg.note]);
      } else if (msg.type === 'speaker' && msg.speaker) v.fields.addSpeaker(msg.speaker);
      else if (msg.type === 'partial') this.showPartial(msg);
      // A step, by someone or by the record changing after a check.
      else if (msg.type === 'workflow') v.workflow.onLive(msg);
      // The server dropped events this page was too slow for: fetch them.
      else if (msg.type === 'resync') this.resync();
    };
    ws.onclose = (ev) => {
      if (this.ws === ws) this.ws = null;
      v.liveLabel.textContent = '○ Mất kết nối, đang thử lại…';
      v.liveLabel.className = 'live-status live-off';
      if (ev.code === 4401) {
        // The login that opened the socket ended or changed (docs/api.md).
        // Asking again who we are and for the segments sends an ended
        // login to the login page (a 401), and a changed role reconnects
        // with what it may now see.
        this.backoff = 1000;
        loadMe().catch(() => {}).finally(() => this.resync());
      }
      this.scheduleReconnect();
    };
  }

  /** Closes the socket for good (when leaving the page). */
  close() {
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
  }

  scheduleReconnect() {
    if (this.view.destroyed) return;
    clearTimeout(this.timer);
    const delay = this.backoff + Math.random() * 500;
    this.backoff = Math.min(this.backoff * 2, 30000);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  async resync() {
    const v = this.view;
    try {
      const segments = await get(`/api/sessions/${v.id}/segments`);
      if (!v.destroyed) for (const seg of segments) v.rows.apply(seg);
      if (!v.destroyed) v.workflow.refresh();
    } catch {
      /* the next reconnect tries again */
    }
  }

  showPartial(msg) {
    const v = this.view;
    const channel = msg.channel ?? 0;
    if (!msg.text) {
      this.clearPartial(channel);
      return;
    }
    let node = this.partials.get(channel);
    if (!node) {
      node = el('div', { className: 'partial', dataset: { channel } },
        el('span', { className: 'time' }), el('span', { className: 'speaker-name' }), el('span', { className: 'partial-text' }));
      this.partials.set(channel, node);
      v.list.append(node);
    }
    const sp = msg.speaker_id == null ? null : v.speakers.get(msg.speaker_id);
    node.children[0].textContent = msg.start_ms == null ? '' : fmtClock(msg.start_ms);
    node.children[1].textContent = sp ? sp.name : `Kênh ${channel}`;
    node.children[2].textContent = msg.text;
  }

  clearPartial(channel) {
    const node = this.partials.get(channel);
    if (node) {
      node.remove();
      this.partials.delete(channel);
    }
  }
}
