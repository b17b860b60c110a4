// The tablet's offline store (a service worker, scope /ui/). Why: the hall Wi-Fi drops,
// and a delegate must keep reading the sitting's documents when it does.
//
// - Page images (/api/documents/<id>/pages/<n>) are immutable: cache first, and the page
//   asks us to fetch every page the delegate may see ahead of time ("precache").
// - The app shell (/ui/...) is network first, so an update reaches the tablet at once,
//   with the cached copy as the fallback when the network is gone.
// - Nothing else is cached: votes, floor requests and live state always go to the box.
// - "wipe" deletes everything we hold: sent when the sitting closes or the device is
//   revoked, so a tablet carried out of the hall holds no document of the sitting.
const PAGES = "phs-pages-v1";
const SHELL = "phs-shell-v1";
const PAGE_PATH = /^\/api\/documents\/[^/]+\/pages\/\d+$/;
const PRECACHE_PARALLEL = 4;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([PAGES, SHELL]);
      for (const name of await caches.keys()) if (name.startsWith("phs-") && !keep.has(name)) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (PAGE_PATH.test(url.pathname) && !req.headers.has("Range")) {
    event.respondWith(cacheFirst(req));
  } else if (url.pathname.startsWith("/ui/")) {
    event.respondWith(networkFirst(req));
  }
});

async function cacheFirst(req) {
  const cache = await caches.open(PAGES);
  const hit = await cache.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.status === 200) await cache.put(req, res.clone());
  return res;
}

async function networkFirst(req) {
  const cache = await caches.open(SHELL);
  try {
    const res = await fetch(req);
    if (res.status === 200) await cache.put(req, res.clone());
    return res;
  } catch (err) {
    const hit = await cache.match(req, { ignoreSearch: true });
    if (hit) return hit;
    throw err;
  }
}

/** Fetch and keep every URL not yet held; answers with how many pages are held. */
async function precache(urls) {
  const cache = await caches.open(PAGES);
  const queue = [];
  for (const u of urls) if (!(await cache.match(u))) queue.push(u);
  const worker = async () => {
    while (queue.length) {
      const u = queue.shift();
      try {
        const res = await fetch(u, { credentials: "same-origin" });
        if (res.status === 200) await cache.put(u, res);
      } catch {
        return; // offline: the next precache (on reconnect) picks up where this stopped
      }
    }
  };
  await Promise.all(Array.from({ length: PRECACHE_PARALLEL }, worker));
  return (await cache.keys()).length;
}

async function wipe() {
  for (const name of await caches.keys()) if (name.startsWith("phs-")) await caches.delete(name);
  return 0;
}

self.addEventListener("message", (event) => {
  const msg = event.data || {};
  const reply = (held) => event.ports[0]?.postMessage({ type: msg.type, held });
  if (msg.type === "precache" && Array.isArray(msg.urls)) event.waitUntil(precache(msg.urls).then(reply));
  else if (msg.type === "wipe") event.waitUntil(wipe().then(reply));
});
