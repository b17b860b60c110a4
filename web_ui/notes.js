// A delegate's private notes on documents (highlight, ink, text pinned to a point).
//
// Why an outbox: a note written while the Wi-Fi is down must not be lost, and must reach
// the box exactly once. The tablet picks each note's id, so PUT /api/annotations/<id> is
// idempotent: the outbox (localStorage) simply resends until the box answers. Notes
// written on another of the delegate's devices arrive by asking for what changed since
// the last revision we saw (`?since=rev`), when a document opens and every 15 s.
import { ApiError, api } from "./api.js";

const OUTBOX = "phs.notes.outbox";
const SYNC_MS = 15000;

function newId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return "n" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function loadOutbox() {
  try {
    const v = JSON.parse(localStorage.getItem(OUTBOX) || "[]");
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export class NotesStore {
  constructor(onChange) {
    this.onChange = onChange;
    this.byDoc = new Map(); // doc id -> Map(note id -> A)
    this.rev = new Map(); // doc id -> last rev seen
    this.outbox = loadOutbox(); // [{op: "put"|"delete", id, note?}]
    this.flushing = false;
    this.timer = setInterval(() => this.tick(), SYNC_MS);
    window.addEventListener("online", () => this.tick());
  }

  /** Notes to draw on one page of a document (deleted ones left out). */
  onPage(doc, page) {
    return [...(this.byDoc.get(doc)?.values() || [])].filter((n) => !n.deleted && n.page === page);
  }

  /** All live notes of a document, in page order. */
  ofDoc(doc) {
    return [...(this.byDoc.get(doc)?.values() || [])]
      .filter((n) => !n.deleted)
      .sort((a, b) => a.page - b.page || (a.updated_at || 0) - (b.updated_at || 0));
  }

  pending(id) {
    return this.outbox.some((o) => o.id === id);
  }

  /** Start following a document: fetch its notes (all, then only changes). */
  async open(doc) {
    this.current = doc;
    await this.pull(doc);
  }

  async pull(doc) {
    if (!doc) return;
    const since = this.rev.get(doc);
    const q = `/api/annotations?document=${encodeURIComponent(doc)}${since !== undefined ? `&since=${since}` : ""}`;
    let body;
    try {
      body = await api("GET", q);
    } catch {
      return; // offline or refused: keep what we have
    }
    const map = this.byDoc.get(doc) || new Map();
    for (const a of body.annotations || []) if (!this.pending(a.id)) map.set(a.id, a);
    this.byDoc.set(doc, map);
    this.rev.set(doc, body.rev ?? since ?? 0);
    this.onChange(doc);
  }

  /** Add or change a note of mine: shown at once, sent now or when the network is back. */
  save(fields) {
    const note = { id: fields.id || newId(), color: "#f59e0b", shared_with: null, ...fields };
    const map = this.byDoc.get(note.document) || new Map();
    map.set(note.id, { ...map.get(note.id), ...note, mine: true, deleted: false });
    this.byDoc.set(note.document, map);
    this.queue({ op: "put", id: note.id, note });
    return note;
  }

  remove(note) {
    const map = this.byDoc.get(note.document);
    if (map?.has(note.id)) map.set(note.id, { ...map.get(note.id), deleted: true });
    this.queue({ op: "delete", id: note.id, document: note.document });
  }

  queue(entry) {
    entry.key = newId(); // one Idempotency-Key per change, kept across resends
    this.outbox = this.outbox.filter((o) => o.id !== entry.id).concat([entry]);
    localStorage.setItem(OUTBOX, JSON.stringify(this.outbox));
    this.onChange(entry.note?.document || entry.document);
    this.flush();
  }

  /** Send the outbox in order; stop at the first network failure (retried later). */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.outbox.length) {
        const entry = this.outbox[0];
        const path = `/api/annotations/${encodeURIComponent(entry.id)}`;
        let answer = null;
        try {
          const { id: _id, author: _a, author_name: _n, updated_at: _u, rev: _r, deleted: _d, mine: _m, stale: _s, ...body } =
            entry.note || {};
          answer = await api(entry.op === "put" ? "PUT" : "DELETE", path, entry.op === "put" ? body : undefined, entry.key);
        } catch (err) {
          if (!(err instanceof ApiError) || err.code === "network" || err.status >= 500) break; // try later
          console.warn("note refused", entry.id, err.code); // a refusal will not change on resend
        }
        this.outbox.shift();
        localStorage.setItem(OUTBOX, JSON.stringify(this.outbox));
        const a = answer?.annotation;
        if (a) {
          const map = this.byDoc.get(a.document) || new Map();
          map.set(a.id, a);
          this.byDoc.set(a.document, map);
          this.onChange(a.document);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  tick() {
    this.flush().then(() => this.pull(this.current));
  }
}

/** Forget unsent notes too: only for a device that lost its pairing. */
export function dropOutbox() {
  localStorage.removeItem(OUTBOX);
}
