// The live channel: one WebSocket to /api/live. The snapshot sets `state`; each update
// replaces the top-level sections it names. After a drop we reconnect with backoff and
// ask to resume from the last position we hold.
import { serverNow } from "./api.js";
import { proofFor, wipeDevice } from "./device_key.js";

const PING_MS = 20000;

/**
 * A ballot updates only `poll_progress` ({poll id: {voted, live}}) instead of resending
 * every poll; fold it into the open polls so screens read `poll.voted` as before.
 */
export function foldProgress(state) {
  const progress = state.poll_progress || {};
  for (const poll of state.polls || []) {
    const p = progress[poll.id];
    if (p && poll.status === "open") {
      poll.voted = Math.max(poll.voted ?? 0, p.voted ?? 0); // the counter never goes backwards
      poll.live = p.live ?? null;
    }
  }
}

export class Live {
  constructor({ onState, onStatus, onUnpaired, onRetry } = {}) {
    this.onRetry = onRetry || (() => {});
    this.failures = 0;
    this.state = null;
    this.position = 0;
    this.onState = onState || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onUnpaired = onUnpaired || (() => {});
    this.ws = null;
    this.backoff = 500;
    this.pingTimer = null;
    this.stopped = false;
  }

  async url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    // A WebSocket cannot carry headers: a keyed tablet signs the upgrade in the query.
    const proof = await proofFor("WS", "/api/live", serverNow() * 1000).catch(() => null);
    return `${proto}//${location.host}/api/live` + (proof ? `?proof=${encodeURIComponent(proof)}` : "");
  }

  start() {
    Live.current = this; // the page's one channel: vote.js sends ballots on it
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close();
  }

  async connect() {
    let ws;
    try {
      ws = new WebSocket(await this.url());
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.backoff = 500;
      this.failures = 0;
      this.onStatus(true);
      if (this.position > 0) this.send({ type: "resume", position: this.position });
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_MS);
    });
    ws.addEventListener("message", (ev) => this.receive(ev.data));
    ws.addEventListener("close", (ev) => {
      clearInterval(this.pingTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      this.onStatus(false);
      // 4401 / 1008 (policy): the credential is gone; pairing again is the only way on.
      if (this.revoked) return; // the wipe is under way and ends on the pairing page
      if (ev.code === 4401 || ev.code === 4001) {
        this.onUnpaired();
        return;
      }
      this.retry();
    });
  }

  retry() {
    if (this.stopped) return;
    this.failures += 1;
    this.onRetry(this.failures);
    const wait = this.backoff + Math.random() * 250;
    this.backoff = Math.min(this.backoff * 2, 10000);
    setTimeout(() => this.connect(), wait);
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  /**
   * Send a message the server acknowledges on this socket (a ballot, by its `id`). Rejects
   * when the socket is not open or no ack comes in time; the caller then uses HTTP with
   * the same id as Idempotency-Key, so the server still applies it at most once.
   */
  ask(msg, timeoutMs = 4000) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("offline"));
    this.pending ??= new Map();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msg.id);
        reject(new Error("timeout"));
      }, timeoutMs);
      this.pending.set(msg.id, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      this.ws.send(JSON.stringify(msg));
    });
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === "snapshot") {
      this.state = msg.state || {};
      this.position = msg.position ?? this.state.position ?? 0;
      this.state.position = this.position;
      foldProgress(this.state);
      this.onState(this.state, null);
    } else if (msg.type === "update") {
      if (!this.state) return; // an update before any snapshot: wait for the snapshot
      if (typeof msg.position === "number" && msg.position <= this.position) return; // seen
      const changed = msg.changed || {};
      for (const [section, value] of Object.entries(changed)) this.state[section] = value;
      if ("poll_progress" in changed || "polls" in changed) foldProgress(this.state);
      this.position = msg.position ?? this.position;
      this.state.position = this.position;
      this.onState(this.state, Object.keys(changed));
    } else if (msg.type === "ack") {
      const done = this.pending?.get(msg.id);
      if (done) {
        this.pending.delete(msg.id);
        done(msg);
      }
    } else if (msg.type === "revoked") {
      // The technician revoked this tablet: forget the key, caches and storage, then re-pair.
      this.stopped = true;
      this.revoked = true;
      wipeDevice().finally(() => this.onUnpaired());
    } else if (msg.type === "error") {
      if (msg.code === "not_paired") {
        this.stopped = true;
        this.onUnpaired();
      }
    }
  }
}
