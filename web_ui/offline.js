// The page's side of the offline store (see sw.js): register the service worker, ask it
// to hold every page image this delegate may see, and wipe it when the sitting closes or
// the device loses its pairing. Service workers need a secure context (HTTPS, or
// localhost for tests); elsewhere these functions quietly do nothing and the tablet
// simply reads online.

const SIZES = ["tablet", "thumb"];
let lastKey = "";
let ready = null;

/** Register the service worker once; resolves with the registration or null. */
export function startOffline() {
  if (ready) return ready;
  if (!("serviceWorker" in navigator) || !window.isSecureContext) {
    ready = Promise.resolve(null);
    return ready;
  }
  ready = navigator.serviceWorker
    .register("/ui/sw.js", { scope: "/ui/" })
    .then(() => navigator.serviceWorker.ready)
    .catch((err) => {
      console.warn("offline store unavailable", err);
      return null;
    });
  return ready;
}

/** Send a message to the active worker and wait for its answer (null without one). */
async function ask(message) {
  const reg = await startOffline();
  const worker = reg?.active;
  if (!worker) return null;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (ev) => resolve(ev.data);
    worker.postMessage(message, [channel.port2]);
  });
}

/** The page-image URLs of every document the server lets this device see (state.documents). */
export function pageUrls(state) {
  const urls = [];
  for (const doc of Object.values(state?.documents || {})) {
    const pages = doc.pages || 0;
    for (const size of SIZES)
      for (let n = 1; n <= pages; n++) urls.push(`/api/documents/${encodeURIComponent(doc.id)}/pages/${n}?size=${size}`);
  }
  return urls;
}

/**
 * Keep the sitting's pages on the tablet. Called on every render; only asks the worker
 * again when the set of documents changed or the connection came back.
 */
export function keepPagesOffline(state, online = true) {
  if (!online) {
    lastKey = ""; // ask again once the connection is back: a precache may have stopped midway
    return Promise.resolve(null);
  }
  const urls = pageUrls(state);
  const key = `${urls.length}:${urls[0] || ""}:${urls[urls.length - 1] || ""}`;
  if (key === lastKey || !urls.length) return Promise.resolve(null);
  lastKey = key;
  return ask({ type: "precache", urls }).then((answer) => {
    document.documentElement.dataset.offlinePages = String(answer?.held ?? 0);
    return answer;
  });
}

/** Forget every cached page of the sitting (closed sitting, revoked or unpaired device). */
export async function wipeOffline() {
  lastKey = "";
  let answer = await ask({ type: "wipe" });
  if (answer === null && "caches" in window) {
    for (const name of await caches.keys()) if (name.startsWith("phs-")) await caches.delete(name);
    answer = { held: 0 };
  }
  document.documentElement.dataset.offlinePages = "0";
  return answer;
}
