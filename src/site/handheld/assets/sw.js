// The handheld page's service worker: keeps the page, its script and its
// style, so the page opens with no network. Only those three: API requests
// are never handled here, so a scan is never answered from a cache.
"use strict";
var CACHE = "scantrail-handheld-1";
var FILES = ["/handheld/", "/handheld/app.js", "/handheld/app.css"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(FILES); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// Network first (a new version shows at once), the kept copy when offline.
self.addEventListener("fetch", function (e) {
  var url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== self.location.origin || FILES.indexOf(url.pathname) < 0) return;
  e.respondWith(fetch(e.request).then(function (r) {
    if (r.ok) {
      var copy = r.clone();
      caches.open(CACHE).then(function (c) { return c.put(url.pathname, copy); });
    }
    return r;
  }).catch(function () {
    return caches.match(url.pathname);
  }));
});
