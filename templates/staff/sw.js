// 核销助手 service worker: keeps the scanner opening on bad shop Wi-Fi. API answers are never cached.
const VERSION = "{{ version }}";
const SHELL = {{ shell|safe }};
const SCOPE = "{{ scope }}";
const STATIC_PREFIX = "{{ static_prefix }}";
const STATIC_CACHE = "hx-static-" + VERSION;
const PAGE_CACHE = "hx-pages";
// The page's words (Django's JavaScript catalog): kept with the page, in the language it was opened in.
const CATALOG = "{% url 'javascript-catalog' %}";
// How long the page may take over the network before the cached copy is shown instead.
const PAGE_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
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
    event.respondWith(networkFirst(request, SCOPE));
  } else if (url.pathname === CATALOG) {
    event.respondWith(networkFirst(request, CATALOG));
  } else if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(cacheFirst(request));
  }
});

// The network's answer when it comes in time (and kept for next time); else the last one kept.
async function networkFirst(request, key) {
  const cache = await caches.open(PAGE_CACHE);
  const fresh = fetch(request).then(async (response) => {
    if (response.ok && !response.redirected) {
      await cache.put(key, response.clone());
    } else if (response.redirected) {
      // Sent to the login page: the kept page belongs to a session that has ended.
      await cache.delete(key);
    }
    return response;
  });
  const kept = await cache.match(key);
  if (!kept) return fresh;
  const late = new Promise((resolve) => setTimeout(() => resolve(kept), PAGE_WAIT_MS));
  return Promise.race([fresh.catch(() => kept), late]);
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
