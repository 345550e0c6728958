/* Offline shell for learner pages: a dropped Wi-Fi must not blank the screen.
 * Pages: network first, cached copy when the hub cannot be reached or is silent for 4 s (a Wi-Fi
 * that hangs), else the offline page (which says the answers are saved on this device). Static files and pack files (content-addressed,
 * never changing): cache first. Answers are never cached: they go through the page's answer queue.
 * Audio and video players ask for byte ranges (206), which a cache cannot keep: a range of a file
 * kept whole is cut from the cached copy, and a file of at most MEDIA_KEEP bytes seen in a range
 * is fetched whole once, in the background, so it plays offline later.
 * Kept pages belong to one learner (the X-Learner header): when another learner's page arrives,
 * the previous learner's pages are dropped first, so a shared tablet never shows them offline.
 * An item page names the next activities of the learner's path (practice.js posts them here):
 * the worker keeps those pages, one after another, and every pack file a kept page uses (its
 * pictures and sounds, read from the page's src and href: an audio lesson's recording too), so
 * practice goes on offline (#19). Items, lessons and worked examples alike: their answers and
 * "Done" are posted by the page's queue, never through the worker.
 * The hub fills in VERSION and SHELL (the exact URLs pages ask for) when it serves this file.
 * ES5 syntax. */
var VERSION = 'dev';
var SHELL = ['/static/app.css', '/static/practice.js'];
var CACHE = 'classroom-' + VERSION;
var OFFLINE = '/learn/offline';
var OWNER = '/learn/offline?owner';  /* a cache entry naming the learner whose pages are kept */
var writing = Promise.resolve();  /* cache writes one after another: an owner change is atomic */
var MEDIA_KEEP = 4 * 1024 * 1024;
/* Requests the worker makes on its own say so: the hub then leaves the session cookie alone. */
var BACKGROUND = {'X-Prefetch': '1'};

function isPage(url) {
  var path = new URL(url, self.location.href).pathname;
  return path.indexOf('/learn/') === 0 && path !== OFFLINE;
}

function keepOfflinePage(cache) {
  return fetch(OFFLINE, {credentials: 'same-origin', headers: BACKGROUND}).then(function (response) {
    if (response.ok && !response.redirected) { return cache.put(OFFLINE, response); }
  }).catch(function () {});
}

function forgetPages(cache) {
  return cache.keys().then(function (requests) {
    return Promise.all(requests.filter(function (r) { return isPage(r.url); })
      .map(function (r) { return cache.delete(r); }));
  });
}

function keep(request, response) {
  var who = response.headers.get('X-Learner');
  writing = writing.then(function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(OWNER).then(function (hit) { return hit ? hit.text() : null; }).then(function (owner) {
        if (!who || owner === who) { return cache.put(request, response); }
        return forgetPages(cache).then(function () {
          return Promise.all([cache.put(OWNER, new Response(who)), cache.put(request, response),
            keepOfflinePage(cache)]);
        });
      });
    });
  }).catch(function () {});
  return writing;
}

/* Pack files are served at /content/<sha256>/<name> and never change: one copy serves every page. */
var FILE_LINK = /\s(?:src|href)="(\/content\/[0-9a-f]{64}\/[^"]+)"/g;

function filesOf(html) {
  var found = [], m;
  FILE_LINK.lastIndex = 0;
  while ((m = FILE_LINK.exec(html)) !== null) {
    found.push(m[1].replace(/&amp;/g, '&'));
  }
  return found;
}

/* Keep one pack file whole, unless it is already kept or too big to keep (a long video). */
function keepFile(url) {
  return caches.match(url).then(function (hit) {
    if (hit) { return null; }
    return fetch(url, {credentials: 'same-origin', headers: BACKGROUND}).then(function (response) {
      var size = parseInt(response.headers.get('Content-Length') || '0', 10);
      if (response.status !== 200 || size > MEDIA_KEEP) { return null; }
      return caches.open(CACHE).then(function (cache) { return cache.put(url, response); });
    });
  }).catch(function () {});
}

/* Every pack file a kept page uses, one after another (the hub serves a whole class). */
function keepFilesOf(page) {
  var type = page.headers.get('Content-Type') || '';
  if (type.indexOf('text/html') !== 0) { return Promise.resolve(); }
  return page.text().then(function (html) {
    return filesOf(html).reduce(function (done, url) {
      return done.then(function () { return keepFile(new URL(url, self.location.href).href); });
    }, Promise.resolve());
  }).catch(function () {});
}

function keepPage(request, response) {
  var copy = response.clone();
  return keep(request, response).then(function () { return keepFilesOf(copy); });
}

/* One activity ahead (or a file of the page open now), unless it is kept already. */
function keepAhead(address) {
  var url = new URL(address, self.location.href);
  if (url.origin !== self.location.origin) { return Promise.resolve(); }
  if (url.pathname.indexOf('/content/') === 0) { return keepFile(url.href); }
  if (!isPage(url.href)) { return Promise.resolve(); }
  return caches.match(url.href).then(function (hit) {
    if (hit) { return keepFilesOf(hit); }
    return fetch(url.href, {credentials: 'same-origin', headers: BACKGROUND}).then(function (response) {
      if (response.ok && !response.redirected) { return keepPage(url.href, response); }
    });
  }).catch(function () {});
}

var keepingAhead = Promise.resolve();
self.addEventListener('message', function (event) {
  var wanted = event.data && event.data.keep;
  if (!wanted || !wanted.length) { return; }
  /* One page after another, and a second list after the first: a class's devices must not ask
   * the hub for hundreds of pages at once. */
  keepingAhead = keepingAhead.then(function () {
    return wanted.slice(0, 60).reduce(function (done, address) {
      return done.then(function () { return keepAhead(String(address)); });
    }, Promise.resolve());
  });
  event.waitUntil(keepingAhead);
});

/* "bytes=a-b", "bytes=a-" or "bytes=-n" of a file of `size` bytes: [first, last], or null. */
function byteRange(header, size) {
  var m = /^bytes=(\d*)-(\d*)$/.exec(header || ''), first, last;
  if (!m || (m[1] === '' && m[2] === '')) { return null; }
  if (m[1] === '') { first = Math.max(0, size - parseInt(m[2], 10)); last = size - 1; }
  else { first = parseInt(m[1], 10); last = m[2] === '' ? size - 1 : Math.min(parseInt(m[2], 10), size - 1); }
  return first <= last && first < size ? [first, last] : null;
}

function cutRange(whole, header) {
  return whole.arrayBuffer().then(function (body) {
    var range = byteRange(header, body.byteLength);
    if (!range) {
      return new Response('', {status: 416, headers: {'Content-Range': 'bytes */' + body.byteLength}});
    }
    return new Response(body.slice(range[0], range[1] + 1), {status: 206, headers: {
      'Content-Type': whole.headers.get('Content-Type') || 'application/octet-stream',
      'Content-Range': 'bytes ' + range[0] + '-' + range[1] + '/' + body.byteLength,
      'Content-Length': String(range[1] - range[0] + 1), 'Accept-Ranges': 'bytes'}});
  });
}

/* Keep a media file whole, once: one download per file at a time (a player and a page may ask
 * for ranges together), read completely before it is stored, so a download cut short by a Wi-Fi
 * drop never replaces or removes a copy already kept. */
var keepingWhole = {};
function keepWhole(url) {
  if (!keepingWhole[url]) {
    keepingWhole[url] = caches.match(url).then(function (hit) {
      if (hit) { return null; }
      return fetch(url, {credentials: 'same-origin', headers: BACKGROUND}).then(function (full) {
        if (full.status !== 200) { return null; }
        return full.arrayBuffer().then(function (body) {
          var copy = new Response(body, {status: 200, headers: {
            'Content-Type': full.headers.get('Content-Type') || 'application/octet-stream'}});
          return caches.open(CACHE).then(function (cache) { return cache.put(url, copy); });
        });
      });
    }).catch(function () {}).then(function () { delete keepingWhole[url]; });
  }
  return keepingWhole[url];
}

function mediaRange(event, url) {
  var header = event.request.headers.get('Range');
  return caches.match(url).then(function (whole) {
    if (whole) { return cutRange(whole, header); }
    return fetch(event.request).then(function (response) {
      var total = /\/(\d+)$/.exec(response.headers.get('Content-Range') || '');
      if (response.status === 206 && total && parseInt(total[1], 10) <= MEDIA_KEEP) {
        event.waitUntil(keepWhole(url));
      }
      return response;
    });
  });
}

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL).then(function () { return keepOfflinePage(cache); });
  }));
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
  if (url.pathname.indexOf('/content/') === 0 && request.headers.get('Range')) {
    event.respondWith(mediaRange(event, url.href));
    return;
  }
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
    event.respondWith(learnerPage(event, request, url));
  }
});

/* A learner page: the hub's, kept when it comes; the kept copy when the hub cannot be reached;
 * else, for a page opened, the offline page. A Wi-Fi that hangs (the hub gone, the network up)
 * fails nothing until the browser gives up, minutes later: so the kept copy is shown once the
 * hub has been silent PATIENCE_MS (as practice.js shows its own verdict then), and a page not
 * kept gives way to the offline page after GIVE_UP_MS, which goes on to a kept activity. */
var PATIENCE_MS = 4000;
var GIVE_UP_MS = 10000;
function kept(request, url) {
  return caches.match(request).then(function (hit) { return hit || caches.match(url.pathname); });
}
function notHere(request, url) {
  return kept(request, url).then(function (page) {
    if (page || request.mode !== 'navigate') { return page || Response.error(); }
    return caches.match(OFFLINE).then(function (offline) { return offline || Response.error(); });
  });
}
function learnerPage(event, request, url) {
  return new Promise(function (resolve) {
    var done = false;
    function answer(response) { if (!done) { done = true; resolve(response); } }
    fetch(request).then(function (response) {
      if (response.ok && !response.redirected && url.pathname !== OFFLINE) {
        var keeping = keepPage(request, response.clone());
        try { event.waitUntil(keeping); } catch (e) { /* answered from the cache already: kept anyway */ }
      }
      answer(response);
    }, function () { notHere(request, url).then(answer); });
    setTimeout(function () {
      if (!done) { kept(request, url).then(function (page) { if (page) { answer(page); } }); }
    }, PATIENCE_MS);
    if (request.mode === 'navigate') {
      setTimeout(function () { if (!done) { notHere(request, url).then(answer); } }, GIVE_UP_MS);
    }
  });
}
