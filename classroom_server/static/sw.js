/* Offline shell for learner pages: a dropped Wi-Fi must not blank the screen.
 * Pages: network first, cached copy when the hub cannot be reached. Static files and pack files
 * (content-addressed, never changing): cache first. Answers are never cached: they go through the
 * page's answer queue. ES5 syntax. */
var CACHE = 'classroom-v1';
var SHELL = ['/static/app.css', '/static/practice.js'];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }));
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf('/static/') === 0 || url.pathname.indexOf('/content/') === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok && response.status === 200) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      });
    }));
    return;
  }
  if (url.pathname.indexOf('/learn/') === 0) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, {ignoreSearch: false}).then(function (hit) {
        return hit || caches.match(url.pathname).then(function (page) { return page || Response.error(); });
      });
    }));
  }
});
