// The fetch wrapper: JSON in and out, an Idempotency-Key on every POST (kept across a
// network retry, so a resend after a Wi-Fi drop is answered with the first outcome),
// and the server's bilingual error JSON turned into an ApiError.
import { hasDeviceKey, proofFor, wipeDevice } from "./device_key.js";
import { getLang, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || (status === 0 ? "network" : "internal");
    this.message_vi = body?.message || "";
    this.message_en = body?.message_en || "";
    this.detail = body?.detail || {};
  }
  /** The message in the user's language. */
  text() {
    if (this.code === "network") return t("error_network");
    const m = getLang() === "en" ? this.message_en || this.message_vi : this.message_vi || this.message_en;
    return m || t("error_generic");
  }
}

let clockOffset = 0; // server wall clock minus ours, seconds (from the Date header)

/** Seconds since the epoch on the box's clock, as far as we can tell. */
export function serverNow() {
  return Date.now() / 1000 + clockOffset;
}

function noteServerDate(res) {
  const d = res.headers.get("Date");
  if (!d) return;
  const server = Date.parse(d) / 1000;
  if (!Number.isNaN(server)) clockOffset = server - Date.now() / 1000;
}

function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // Plain HTTP on a LAN address has no randomUUID; getRandomValues still works.
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Call the API. `body` is JSON unless it is a FormData (multipart upload).
 * Resolves with the parsed JSON; rejects with ApiError.
 */
export async function api(method, path, body = undefined, key = undefined) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  // `key`: a caller's own stable key (an outbox resending across reloads and Wi-Fi drops).
  if (method !== "GET") headers["Idempotency-Key"] = key || newKey();
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  } else if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    init.body = "{}";
  }
  const pathname = new URL(path, location.href).pathname;
  for (let resync = 0; ; resync++) {
    let res;
    for (let attempt = 0; ; attempt++) {
      // A fresh proof each attempt: the box refuses a proof it has already seen.
      const proof = await proofFor(method, pathname, serverNow() * 1000);
      if (proof) headers["X-PHS-Proof"] = proof;
      try {
        res = await fetch(path, init);
        break;
      } catch {
        if (attempt >= 2) throw new ApiError(0, null);
        await sleep(400 * (attempt + 1)); // same Idempotency-Key: never applied twice
      }
    }
    noteServerDate(res);
    let data = null;
    const type = res.headers.get("Content-Type") || "";
    if (type.includes("json")) {
      try {
        data = await res.json();
      } catch {
        data = null;
      }
    }
    // Our clock was too far from the box's: take the box's time and sign again, once.
    if (data?.code === "device_proof_invalid" && data.detail?.now_ms && resync === 0) {
      clockOffset = data.detail.now_ms / 1000 - Date.now() / 1000;
      continue;
    }
    if (data?.code === "device_revoked") await wipeDevice(); // the technician revoked this tablet
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }
}

export const get = (path) => api("GET", path);

// Page images, downloads and the offline store cannot sign their requests: they ride on a
// short-lived session cookie that signed requests renew. Renew it while the page is open.
setInterval(() => {
  hasDeviceKey()
    .then((keyed) => keyed && api("GET", "/api/pairing/session"))
    .catch(() => {});
}, 4 * 60 * 1000);
export const post = (path, body) => api("POST", path, body);
