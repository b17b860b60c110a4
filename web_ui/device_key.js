// The device key: made with WebCrypto when the tablet pairs, the private half not
// extractable and kept in IndexedDB. Every request carries a proof signed with it
// (X-PHS-Proof), so a credential copied off this tablet is refused anywhere else.
// Without WebCrypto (an old browser, plain HTTP off loopback) the tablet pairs without
// a key and the box treats it as a key-less device.

const DB = "phs-device";
const STORE = "keys";
const SLOT = "device";
let cached; // undefined: not looked up yet; null: none

function openDb(create) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    // Reading must not bring back a database a wipe just deleted: abort instead of creating.
    req.onupgradeneeded = () => (create ? req.result.createObjectStore(STORE) : req.transaction.abort());
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(mode, fn) {
  const db = await openDb(mode === "readwrite");
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req?.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

function b64url(buf) {
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const usable = () => Boolean(globalThis.crypto?.subtle && globalThis.indexedDB && isSecureContext);

/** A fresh key pair (not yet kept) and its public half for /api/pair; null without WebCrypto. */
export async function makeDeviceKey() {
  if (!usable()) return null;
  try {
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
    return { pair, publicKey: b64url(raw) };
  } catch {
    return null;
  }
}

/** Keep the key the box now knows this tablet by (after a successful pairing). */
export async function keepDeviceKey(made) {
  if (!made) return;
  await withStore("readwrite", (s) => s.put(made.pair, SLOT));
  cached = made.pair;
}

async function currentKey() {
  if (cached !== undefined) return cached;
  if (!usable()) return (cached = null);
  try {
    cached = (await withStore("readonly", (s) => s.get(SLOT))) || null;
  } catch {
    cached = null;
  }
  return cached;
}

/** Whether this tablet holds a device key. */
export async function hasDeviceKey() {
  return Boolean(await currentKey());
}

/** The proof for one request: "<ms>.<signature>", or null when this tablet has no key. */
export async function proofFor(method, path, ms) {
  const pair = await currentKey();
  if (!pair) return null;
  const stamp = String(Math.round(ms));
  const message = new TextEncoder().encode(`phs-proof/1\n${stamp}\n${method.toUpperCase()}\n${path}`);
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, message);
  return `${stamp}.${b64url(sig)}`;
}

/** Revoked or unpaired: forget the key and everything this origin stored on the tablet. */
export async function wipeDevice() {
  cached = null;
  const jobs = [];
  if (globalThis.indexedDB) {
    if (indexedDB.databases) {
      try {
        for (const db of await indexedDB.databases()) if (db.name) jobs.push(deleteDb(db.name));
      } catch {
        jobs.push(deleteDb(DB));
      }
    } else jobs.push(deleteDb(DB));
  }
  if ("caches" in globalThis) {
    try {
      for (const name of await caches.keys()) jobs.push(caches.delete(name));
    } catch {
      /* no Cache Storage here */
    }
  }
  try {
    localStorage.clear();
    sessionStorage.clear();
  } catch {
    /* storage disabled */
  }
  await Promise.allSettled(jobs);
}

function deleteDb(name) {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}
