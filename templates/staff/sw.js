// 核销助手 service worker: keeps the scanner opening on bad shop Wi-Fi. API answers are never cached.
const VERSION = "{{ version }}";
const SHELL = {{ shell|safe }};
const SCOPE = "{{ scope }}";
const STATIC_PREFIX = "{{ static_prefix }}";
const STATIC_CACHE = "hx-static-" + VERSION;
const PAGE_CACHE = "hx-pages";
// The page's words (Django's JavaScript catalog): kept with the page, in the language it was opened in.
const CATALOG = "{% url 'javascript-catalog' %}";
// How long the page may take over the network before the kept copy is shown instead. A working
// network answers well within it; on a weak one (400 ms round trips) the kept page opens at once
// and the fresh one, still on its way, is kept for the next visit.
const PAGE_WAIT_MS = 200;

self.addEventListener("install", (event) => {
  // The page and its words too, so that the very next visit opens from here (a miss is no failure:
  // the next visit keeps them then).
  const page = (key) => refresh(new Request(key), key).catch(() => null);
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then((cache) => Promise.all([cache.addAll(SHELL), page(SCOPE), page(CATALOG)]))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  const stale = (key) => key.startsWith("hx-static-") && key !== STATIC_CACHE;
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter(stale).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === SCOPE) {
    const fresh = refresh(request, SCOPE);
    event.waitUntil(fresh.catch(() => null));
    event.respondWith(networkFirst(fresh, SCOPE));
  } else if (url.pathname === CATALOG) {
    // The words change only with a deploy: the kept ones at once, the new ones for the next visit.
    const fresh = refresh(request, CATALOG);
    event.waitUntil(fresh.catch(() => null));
    event.respondWith(keptFirst(fresh, CATALOG));
  } else if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(cacheFirst(request));
  }
});

// The network's answer, kept for next time (the worker stays up until it is, see waitUntil above).
async function refresh(request, key) {
  const response = await fetch(request);
  const cache = await caches.open(PAGE_CACHE);
  if (response.ok && !response.redirected) {
    await cache.put(key, response.clone());
  } else if (response.redirected) {
    // Sent to the login page: the kept page belongs to a session that has ended.
    await cache.delete(key);
  }
  return response;
}

// The network's answer when it comes in time; else the last one kept.
async function networkFirst(fresh, key) {
  const kept = await caches.match(key, { cacheName: PAGE_CACHE });
  if (!kept) return fresh;
  const late = new Promise((resolve) => setTimeout(() => resolve(kept), PAGE_WAIT_MS));
  return Promise.race([fresh.catch(() => kept), late]);
}

async function keptFirst(fresh, key) {
  return (await caches.match(key, { cacheName: PAGE_CACHE })) || fresh;
}

async function cacheFirst(request) {
  const hit = await caches.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(STATIC_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}
