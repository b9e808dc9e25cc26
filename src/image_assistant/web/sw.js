// The gallery's service worker: the app shell and recently seen thumbnails stay on the device,
// so the gallery opens without a network and shows what it has. A new build changes BUILD, the
// browser installs the new worker, and it takes over the next time the gallery is opened.
const BUILD = "__BUILD__";
const SHELL = `shell-${BUILD}`;
const THUMBS = "thumbnails";
const DATA = "data";
const MAX_THUMBS = 600;
const MAX_DATA = 60;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) =>
      cache.addAll([`/static/dist/main.js?v=${BUILD}`, `/static/dist/main.css?v=${BUILD}`, "/static/favicon.svg"]),
    ),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(names.filter((n) => n.startsWith("shell-") && n !== SHELL).map((n) => caches.delete(n))),
    ),
  );
});

async function trim(cacheName, max) {
  const cache = await caches.open(cacheName);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - max)).map((key) => cache.delete(key)));
}

async function networkFirst(request, cacheName, key, max) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      await cache.put(key, response.clone());
      if (max) trim(cacheName, max);
    }
    return response;
  } catch (offline) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw offline;
  }
}

async function cacheFirst(request, cacheName, max) {
  const cache = await caches.open(cacheName);
  const cached = await cache.match(request.url);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok || response.type === "opaque") {
    await cache.put(request.url, response.clone());
    trim(cacheName, max);
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  if (request.mode === "navigate") {
    // One shell for every page: the page's script routes by the address.
    event.respondWith(networkFirst(request, SHELL, "/__shell__"));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request.url).then((hit) => hit || fetch(request)));
  } else if (/^\/api\/photos\/[^/]+\/thumbnail\//.test(url.pathname)) {
    event.respondWith(cacheFirst(request, THUMBS, MAX_THUMBS));
  } else if (/^\/api\/(photos|albums)(\?|$|\/[^/]+$)/.test(url.pathname + url.search.slice(0, 1))) {
    event.respondWith(networkFirst(request, DATA, request.url, MAX_DATA));
  }
});
