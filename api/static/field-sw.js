/* The phone page's service worker (/field-sw.js, scope /field): /field opens without a signal.

   Installing it keeps the page shell (the page, its script and stylesheet, Leaflet); every GET the page
   makes afterwards goes to the network first and its answer is kept, so without a connection the page
   reads the last answers it had: who is signed in, the grids, today's due list, the case categories.
   A request that waits longer than NETWORK_MS on a weak signal is answered from what was kept, when
   something was. Writes (visits, patrols, cases) are never kept or answered here: the page queues them
   and sends each with its idempotency key when the connection returns. */
"use strict";

var CACHE = "gridmap-field-v1";
var SHELL = ["/field", "/static/console/field.js", "/static/console/field.css",
             "/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css"];
var NETWORK_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("gridmap-field-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

/* The page asks to keep answers it read before this worker controlled it (its first visit). */
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.keep) || [];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.filter(sameOrigin).map(function (url) {
      return fetch(url, {credentials: "same-origin"}).then(function (answer) {
        return answer.ok ? cache.put(url, answer) : undefined;
      }).catch(function () { return undefined; });
    }));
  }));
});

function sameOrigin(url) { return new URL(url, self.location.href).origin === self.location.origin; }

function kept(request) { return caches.match(request, {ignoreVary: true}); }

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET" || !sameOrigin(request.url)) { return; }
  event.respondWith(new Promise(function (resolve, reject) {
    var settled = false;
    function answer(response) { if (!settled) { settled = true; resolve(response); } }
    var slow = setTimeout(function () {
      kept(request).then(function (found) { if (found) { answer(found); } });
    }, NETWORK_MS);
    fetch(request).then(function (response) {
      clearTimeout(slow);
      if (response.ok) {
        var copy = response.clone();
        var saving = caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
        if (!settled) { event.waitUntil(saving); }  // a late answer is still kept, for next time
      }
      answer(response);
    }, function (error) {
      clearTimeout(slow);
      kept(request).then(function (found) {
        if (found) { answer(found); } else if (!settled) { settled = true; reject(error); }
      });
    });
  }));
});
