/* The learner pages' small helpers: an answer queue that survives Wi-Fi drops, hints shown in
 * place, read-aloud, and forgetting this learner's kept pages on sign-out.
 *
 * Every answer gets an id made here, is kept in localStorage until the hub has it, and is sent
 * in order; the hub records an id once, so a resend can never count an answer twice. A lesson's
 * or worked example's "Done" goes through the same queue (#19).
 * ES5 only, no framework, no build step. Without JavaScript the form posts as plain HTML.
 */
(function () {
  'use strict';
  var OFFLINE = '/learn/offline', LAST = 'classroom-learner';
  var ID_PREFIX = 'classroom-id-prefix', ID_COUNT = 'classroom-id-count';  /* this device's answer ids */
  var offlinePage = document.getElementById('offline-page');
  var me = document.body.getAttribute('data-learner');
  var tokenMeta = document.querySelector('meta[name=csrf-token]');
  var form = document.getElementById('item-form');
  var doneForm = document.getElementById('done-form');  /* a lesson's or worked example's "Done" */
  var status = document.getElementById('queue-status');
  var waiting = document.getElementById('waiting');
  var started = Date.now();
  var sending = false;
  var PATIENCE_MS = 4000;  /* how long the learner waits for the hub before the device answers */
  var inflight = null;  /* the request under way, if any */
  var patience = null;  /* the timer that gives it up for the learner's own answer */
  var wanted = null;  /* the entry this page sent, {id, offline}: its way on once sent, or offline */
  try {
    /* The offline page carries no name: it sends the queue of the learner last signed in here. */
    if (me) { localStorage.setItem(LAST, me); } else if (offlinePage) { me = localStorage.getItem(LAST); }
  } catch (e) { /* no storage: nothing is queued either */ }
  var KEY = 'classroom-answer-queue-' + me;  /* per learner: a shared tablet never mixes answers */

  function hex(bytes) {
    var h = [], i;
    for (i = 0; i < bytes.length; i++) { h.push((bytes[i] + 256).toString(16).slice(1)); }
    return h.join('');
  }
  function randomBytes(n) {
    var b = new Uint8Array(n);
    (window.crypto || window.msCrypto).getRandomValues(b);
    return b;
  }
  function dashed(h) {
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  /* An answer's id (classroom_server/event_ids.py): this device's random prefix, then a counter
   * times 65,536 plus 16 random bits, so ids from one device cost the sync about 2 bytes, not 16.
   * Without storage on the device, a random (version 4) id. */
  function uuid() {
    var b, prefix, count, value, hi, lo, r;
    try {
      prefix = localStorage.getItem(ID_PREFIX);
      count = parseInt(localStorage.getItem(ID_COUNT) || '', 10);
      if (!/^[0-9a-f]{16}$/.test(prefix || '') || !(count >= 0 && count < 68719476736)) {
        b = randomBytes(8);
        b[6] = (b[6] & 15) | 128;
        prefix = hex(b);
        count = 0;
        localStorage.setItem(ID_PREFIX, prefix);
      }
      localStorage.setItem(ID_COUNT, String(count + 1));
      r = randomBytes(2);
      value = count * 65536 + r[0] * 256 + r[1];
      hi = Math.floor(value / 4294967296) + 2147483648;
      lo = value % 4294967296;
      return dashed(prefix + ('00000000' + hi.toString(16)).slice(-8) + ('00000000' + lo.toString(16)).slice(-8));
    } catch (e) {
      b = randomBytes(16);
      b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
      return dashed(hex(b));
    }
  }
  var CORRECTIONS = 'classroom-corrections-' + me;  /* the hub's verdicts that differ from the device's */
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || '[]'); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); }
  /* The answers waiting (a lesson's "Done" waits in the same queue, but is not an answer). */
  function answersWaiting() {
    var q = load(), n = 0, i;
    for (i = 0; i < q.length; i++) { if (!q[i].go) { n++; } }
    return n;
  }
  function say(text) {
    if (status) { status.textContent = text || ''; }
    if (waiting) { waiting.textContent = String(answersWaiting()); }
  }
  /* On the offline page, once every answer is sent: the Wi-Fi is back, and the way on is the path. */
  function wifiBack() {
    var heading, saved, go;
    if (!offlinePage || !offlinePage.getAttribute('data-back')) { return; }
    heading = offlinePage.querySelector('h1');
    saved = offlinePage.querySelector('p.saved');
    go = offlinePage.querySelector('a.button');
    if (heading) { heading.textContent = offlinePage.getAttribute('data-back'); }
    if (saved) { saved.hidden = true; }
    if (go) { go.textContent = offlinePage.getAttribute('data-back-go'); }
  }
  function words(name) { return (status && status.getAttribute('data-' + name)) || ''; }
  function encode(fields) {
    var parts = [], i, value;
    for (i = 0; i < fields.length; i++) {
      value = fields[i][1];
      /* The token of the session sending it now: an answer queued before a sign-out still counts. */
      if (fields[i][0] === 'csrf_token' && tokenMeta) { value = tokenMeta.getAttribute('content'); }
      parts.push(encodeURIComponent(fields[i][0]) + '=' + encodeURIComponent(value));
    }
    return parts.join('&');
  }
  function post(entry, accept, done) {
    var xhr = new XMLHttpRequest();
    xhr.open('POST', entry.url);
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
    xhr.setRequestHeader('Accept', accept);
    xhr.timeout = 10000;  /* a dropped Wi-Fi often hangs rather than fails */
    xhr.onload = function () { done(xhr.status, xhr); };
    xhr.onerror = xhr.ontimeout = xhr.onabort = function () { done(0, xhr); };
    xhr.send(encode(entry.fields));
    return xhr;
  }
  function settled(code) { return (code >= 200 && code < 300) || code === 400 || code === 404 || code === 409; }

  /* The hub grades every answer again, and its verdict is the one that counts: where the verdict
   * given on this device without Wi-Fi was different, the learner is told once, kindly, on the
   * page open when the answer arrives (or the next one). */
  function compare(entry, body) {
    var hub, list;
    if (entry.local !== 0 && entry.local !== 1) { return; }  /* no verdict was given here */
    try { hub = JSON.parse(body); } catch (e) { return; }
    if (!hub || typeof hub.correct !== 'boolean' || (hub.correct ? 1 : 0) === entry.local) { return; }
    try {
      list = JSON.parse(localStorage.getItem(CORRECTIONS) || '[]');
      list.push({question: entry.label || '', right: hub.correct});
      localStorage.setItem(CORRECTIONS, JSON.stringify(list));
    } catch (e) { return; }
    showCorrections();
  }
  function showCorrections() {
    var list, i, said;
    if (!status) { return; }
    try { list = JSON.parse(localStorage.getItem(CORRECTIONS) || '[]'); } catch (e) { list = []; }
    if (!list.length) { return; }
    for (i = 0; i < list.length; i++) {
      said = document.createElement('p');
      said.className = 'correction';
      said.setAttribute('role', 'status');
      said.textContent = words(list[i].right ? 'was-wrong' : 'was-right').split('{question}').join(list[i].question);
      status.parentNode.insertBefore(said, status.nextSibling);
    }
    localStorage.removeItem(CORRECTIONS);  /* said once */
  }
  /* A few words of the question, to name it in a correction. */
  function questionLabel() {
    var stem = document.getElementById('stem'), text = stem ? (stem.textContent || '').replace(/\s+/g, ' ').replace(/^ | $/g, '') : '';
    return text.length > 60 ? text.slice(0, 59).replace(/ \S*$/, '') + '…' : text;
  }

  /* Send queued answers one by one, oldest first. The entry named `showId` is this page's own:
   * an answer asks for its feedback page, which then replaces this page; a "Done" (entry.go)
   * opens the next activity once sent. `offline` runs when the hub is unreachable. A page's own
   * entry queued while an earlier send is still under way is remembered, and that send goes on
   * to it, or runs its `offline`.
   * A Wi-Fi that hangs (the hub gone while the network stays up) answers nothing until a
   * request's timeout (10 s). So the learner waits PATIENCE_MS at most from their tap: then the
   * send under way, theirs or an earlier one, is given up, and their answer or "Done" goes on
   * from the device, as offline. Whatever was given up stays queued and is sent again later; the
   * hub records an id once. */
  function giveUp() {
    var away;
    if (inflight) { inflight.abort(); return; }  /* its callback runs `offline` */
    away = wanted;
    wanted = null;
    if (away && away.offline) { away.offline(); }
  }
  function flush(showId, offline) {
    var q = load(), head, mine, wantPage;
    if (showId) {
      wanted = {id: showId, offline: offline};
      clearTimeout(patience);
      patience = setTimeout(giveUp, PATIENCE_MS);
    }
    if (sending) { return; }
    if (!q.length) { return; }  /* nothing left: "All your answers are sent." stays */
    sending = true;
    head = q[0];
    mine = wanted !== null && head.id === wanted.id;
    wantPage = mine && !head.go;
    inflight = post(head, wantPage ? 'text/html' : 'application/json', function (code, xhr) {
      var rest, away;
      inflight = null;
      sending = false;
      /* Signed out meanwhile? The hub answered with the sign-in page: keep the answer queued. */
      var landed = xhr.responseURL || '', type = xhr.getResponseHeader('Content-Type') || '';
      if (landed.indexOf('/login') !== -1 || (!wantPage && code === 200 && type.indexOf('json') === -1) ||
          xhr.getResponseHeader('X-Error-Code') === 'csrf') { code = 0; }
      if (!settled(code)) {
        clearTimeout(patience);
        away = wanted;
        wanted = null;
        if (away && away.offline) { away.offline(); }
        return;
      }
      rest = load();
      if (!wantPage && code === 200) { compare(head, xhr.responseText); }
      if (rest.length && rest[0].id === head.id) { rest.shift(); save(rest); }
      if (mine) {
        clearTimeout(patience);
        wanted = null;
        if (head.go) { window.location.href = head.go; return; }
        document.open(); document.write(xhr.responseText); document.close();
        return;
      }
      if (!rest.length) { say(words('sent')); wifiBack(); }
      flush();
    });
  }

  /* The next activities of the path, kept on this device with their pictures and sounds by the
   * service worker (sw.js), so practice goes on when the Wi-Fi drops. The list of the page the
   * hub made last is kept too (AHEAD): a page the device kept names none of its own, and
   * offline "Next" walks that list, skipping what was answered since. */
  var AHEAD = 'classroom-ahead-' + me;
  function pathOf(url) { var a = document.createElement('a'); a.href = url; return a.pathname; }
  function ahead() { try { return JSON.parse(localStorage.getItem(AHEAD) || '[]'); } catch (e) { return []; } }
  function answered(path) {
    try { localStorage.setItem(AHEAD, JSON.stringify(ahead().filter(function (u) { return pathOf(u) !== path; }))); }
    catch (e) { /* nothing kept */ }
  }
  var FILES = '[src^="/content/"], [href^="/content/"]';
  function keepAhead() {
    var urls = [], files = [], offline = document.getElementById('offline-answer'), i;
    files = files.concat(Array.prototype.slice.call(document.querySelectorAll('main ' + FILES.replace(', ', ', main '))));
    if (offline && offline.content) {  /* the worked solution's pictures, shown offline */
      files = files.concat(Array.prototype.slice.call(offline.content.querySelectorAll(FILES)));
    }
    try { urls = JSON.parse((form && form.getAttribute('data-upcoming')) || '[]'); } catch (e) { urls = []; }
    if (urls.length) { try { localStorage.setItem(AHEAD, JSON.stringify(urls)); } catch (e) { /* full */ } }
    urls = urls.slice();
    for (i = files.length - 1; i >= 0; i--) {  /* this page's own sound and pictures first */
      urls.unshift(files[i].getAttribute('src') || files[i].getAttribute('href'));
    }
    if (!urls.length || !navigator.serviceWorker || !window.Promise) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) { registration.active.postMessage({keep: urls}); }
    });
  }
  /* Offline: on to the next activity kept on this device, else to the offline page (kept by the
   * service worker), never to the browser's "cannot be reached" page. */
  function goOfflineNext() {
    var here = location.pathname, queued = load(), left = [], i, j, used, urls = ahead();
    if (!window.caches || !navigator.serviceWorker || !navigator.serviceWorker.controller) {
      window.location.href = OFFLINE;
      return;
    }
    for (i = 0; i < urls.length; i++) {
      used = pathOf(urls[i]) === here;
      for (j = 0; j < queued.length; j++) { if (pathOf(queued[j].url) === pathOf(urls[i])) { used = true; } }
      if (!used) { left.push(urls[i]); }
    }
    function tryNext(k) {
      if (k >= left.length) {
        if (here !== OFFLINE && !offlinePage) { window.location.href = OFFLINE; }
        return;
      }
      window.caches.match(left[k]).then(function (hit) {
        if (hit) { window.location.href = left[k]; } else { tryNext(k + 1); }
      }, function () { tryNext(k + 1); });
    }
    tryNext(0);
  }

  /* Feedback without Wi-Fi (#19). A practice item's form carries its verdict table: the pack's
   * grading, done ahead by the hub (content_packs/verdicts.py), from an answer's key to -1 (right)
   * or to the number of its feedback (wrong). The key is built here exactly as there: */
  function lightKey(text) {  /* a typed answer: NFC, white space made one space, trimmed, lower case */
    if (text.normalize) { text = text.normalize('NFC'); }
    return text.replace(/[ \t\n\r\f\v\u00a0\u202f]+/g, ' ').replace(/^ | $/g, '').toLowerCase();
  }
  function responseKey() {
    var type = form.getAttribute('data-item-type'), parts = [], ranks = [], i, el;
    for (i = 0; i < form.elements.length; i++) {
      el = form.elements[i];
      if (el.name === 'answer' && (type === 'numeric' || type === 'short_text')) { return lightKey(el.value); }
      if (el.name === 'answer' && el.checked) { parts.push(el.value); }  /* choices, in the order shown */
      if (el.name.indexOf('rank.') === 0) { ranks.push([parseInt(el.value, 10), el.name.slice(5)]); }
      if (el.name.indexOf('match.') === 0) {
        if (!el.value) { return null; }
        parts.push(el.name.slice(6) + '=' + el.value);
      }
    }
    if (ranks.length) {  /* the options by the number given each, when each number is used once */
      ranks.sort(function (a, b) { return a[0] - b[0]; });
      for (i = 0; i < ranks.length; i++) {
        if (ranks[i][0] !== i + 1) { return null; }
        parts.push(ranks[i][1]);
      }
    }
    return parts.length ? parts.join(',') : null;
  }
  /* 'right', 'wrong' (with its feedback's number), 'unknown' (an answer the table leaves out: the
   * hub will check it) or 'hub' (an item only the hub grades: a check, a review, a test-out). */
  function localVerdict() {
    var table = null, key, found;
    try { table = JSON.parse(form.getAttribute('data-verdicts') || 'null'); } catch (e) { table = null; }
    if (!table) { return {state: 'hub'}; }
    key = responseKey();
    found = key !== null && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : null;
    if (typeof found !== 'number') { return {state: 'unknown'}; }
    return found === -1 ? {state: 'right'} : {state: 'wrong', feedback: String(found)};
  }
  /* The verdict under the question, which stays as answered; "Next" opens a kept activity. */
  function showOffline(verdict) {
    var template = document.getElementById('offline-answer'), holder = document.createElement('div');
    var shown, parts, i, el, next, actions = form.querySelector('.actions');
    if (!template) { goOfflineNext(); return; }
    holder.innerHTML = template.innerHTML;
    shown = holder.firstElementChild;
    parts = shown.querySelectorAll('[data-when]');
    for (i = 0; i < parts.length; i++) {
      if (parts[i].getAttribute('data-when') !== verdict.state) { parts[i].parentNode.removeChild(parts[i]); }
    }
    parts = shown.querySelectorAll('[data-feedback]');
    for (i = 0; i < parts.length; i++) {
      if (parts[i].getAttribute('data-feedback') !== verdict.feedback) { parts[i].parentNode.removeChild(parts[i]); }
    }
    for (i = 0; i < form.elements.length; i++) {
      el = form.elements[i];
      if (el.type !== 'hidden') { el.disabled = true; }
    }
    if (actions) { actions.setAttribute('hidden', ''); }  /* answered: no second answer, no hint */
    form.parentNode.insertBefore(shown, form.nextSibling);
    next = shown.querySelector('[data-offline-next]');
    next.addEventListener('click', function (event) { event.preventDefault(); goOfflineNext(); });
    if (shown.scrollIntoView) { shown.scrollIntoView({block: 'nearest'}); }
    next.focus({preventScroll: true});
  }

  /* What only the hub can do (start a test-out, a placement's next question) is asked of it
   * as a plain form; without Wi-Fi the page says so in place of the browser's error page. */
  function needsHub(hubForm) {
    var waiting = false;
    hubForm.addEventListener('submit', function (event) {
      var xhr = new XMLHttpRequest();
      event.preventDefault();
      if (waiting) { return; }
      waiting = true;
      xhr.open('HEAD', OFFLINE);  /* never answered by the service worker: only the hub answers */
      xhr.timeout = 5000;
      xhr.onload = function () { hubForm.submit(); };
      xhr.onerror = xhr.ontimeout = function () {
        var said = hubForm.querySelector('.offline-note');
        waiting = false;
        if (!said) {
          said = document.createElement('p');
          said.className = 'error offline-note';
          said.setAttribute('role', 'alert');
          said.textContent = hubForm.getAttribute('data-offline');
          hubForm.appendChild(said);
        }
      };
      xhr.send();
    });
  }

  /* Sign-out on a shared tablet: drop this learner's kept pages before leaving, so the next
   * learner never sees them offline (the hub also sends Clear-Site-Data for the HTTP cache). */
  function forgetPages() {
    return window.caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) {
        return window.caches.open(name).then(function (cache) {
          return cache.keys().then(function (requests) {
            return Promise.all(requests.filter(function (r) {
              var path = pathOf(r.url);
              return path.indexOf('/learn/') === 0 && path !== OFFLINE;
            }).map(function (r) { return cache.delete(r); }));
          });
        });
      }));
    });
  }
  var signOut = document.querySelector('form.sign-out');
  if (signOut && me && window.caches && window.Promise) {
    signOut.addEventListener('submit', function (event) {
      var gone = false;
      function leave() { if (!gone) { gone = true; signOut.submit(); } }
      event.preventDefault();
      try { localStorage.removeItem(LAST); localStorage.removeItem(AHEAD); } catch (e) { /* nothing kept */ }
      forgetPages().then(leave, leave);
      setTimeout(leave, 2000);
    });
  }

  if (me && window.localStorage && window.XMLHttpRequest && window.JSON) {
    window.addEventListener('online', function () { flush(); });
    setInterval(function () { if (load().length) { flush(); } }, 5000);
    showCorrections();
    if (load().length) { say(words('saved')); flush(); } else if (waiting) { waiting.textContent = '0'; }
    if (navigator.serviceWorker) { navigator.serviceWorker.register('/learn/sw.js', {scope: '/learn/'}); }
    /* "Next" on a feedback page shown before the Wi-Fi dropped asks the hub for the next item,
     * lesson or worked example (or /learn/next); when the device did not keep that page, the
     * service worker answers with the offline page, which goes on to a kept activity instead. */
    if (offlinePage && /^\/learn\/(next$|item\/|lesson\/|example\/)/.test(location.pathname)) { goOfflineNext(); }
  }
  /* A placement question (data-hub-only) is graded by the hub alone, which then asks the next
   * one: it posts as a plain form, never through the queue (offline, the offline page says so). */
  if (form && me && !form.hasAttribute('data-hub-only') && window.localStorage && window.XMLHttpRequest &&
      window.JSON) {
    form.elements.event_id.value = uuid();  /* a cached page must never reuse an answer id */
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var button = form.querySelector('button[type=submit]'), fields = [], i, el, q, entry, verdict;
      if (button.disabled) { return; }  /* a double tap sends one answer */
      button.disabled = true;
      for (i = 0; i < form.elements.length; i++) {
        el = form.elements[i];
        if (!el.name || el.disabled || ((el.type === 'radio' || el.type === 'checkbox') && !el.checked)) { continue; }
        fields.push([el.name, el.value]);
      }
      fields.push(['duration_ms', String(Date.now() - started)]);
      verdict = localVerdict();
      entry = {id: form.elements.event_id.value, url: form.action, fields: fields, label: questionLabel()};
      if (verdict.state === 'right' || verdict.state === 'wrong') { entry.local = verdict.state === 'right' ? 1 : 0; }
      q = load(); q.push(entry); save(q);
      answered(location.pathname);
      flush(entry.id, function () {
        say(words('saved'));
        showOffline(verdict);
      });
    });
  }
  /* A lesson's or worked example's "Done" is queued like an answer and sent in its turn; sent,
   * it opens the next activity as the plain form does (/learn/next); without Wi-Fi, the next
   * activity kept on this device, as "Next" does after an answer. */
  if (doneForm && me && window.localStorage && window.XMLHttpRequest && window.JSON) {
    doneForm.elements.event_id.value = uuid();  /* a kept page must never reuse an event id */
    doneForm.addEventListener('submit', function (event) {
      var button = doneForm.querySelector('button[type=submit]'), entry, q;
      event.preventDefault();
      if (button.disabled) { return; }  /* a double tap sends one "Done" */
      button.disabled = true;
      entry = {id: doneForm.elements.event_id.value, url: doneForm.action, go: doneForm.getAttribute('data-next'),
               fields: [['csrf_token', doneForm.elements.csrf_token.value], ['event_id', doneForm.elements.event_id.value]]};
      q = load(); q.push(entry); save(q);
      answered(location.pathname);
      flush(entry.id, goOfflineNext);
    });
  }
  if (form && me && window.localStorage && window.JSON) { keepAhead(); }
  if (me && window.XMLHttpRequest) {
    var hubOnly = document.querySelectorAll('form[data-hub-only]');
    for (var h = 0; h < hubOnly.length; h++) { needsHub(hubOnly[h]); }
  }

  /* Feedback: "Next" takes the focus (Enter goes on) without scrolling, so the verdict and the
   * question above it stay in view; the `autofocus` attribute scrolled a tall page to its foot. */
  var focusFirst = document.querySelector('[data-focus]');
  if (focusFirst) { focusFirst.focus({preventScroll: true}); }  /* older browsers scroll, as before */

  /* Hints: shown in place, so the answer already chosen stays chosen. Without JavaScript the
   * link opens the page again with one more hint. */
  var hintLink = document.getElementById('hint-link'), hintBox = document.getElementById('hints');
  if (hintLink && hintBox && form) {
    hintLink.addEventListener('click', function (event) {
      var next = hintBox.querySelector('.hint[hidden]'), used = form.elements.hints_used;
      if (!next) { return; }
      event.preventDefault();
      hintBox.removeAttribute('hidden');
      next.removeAttribute('hidden');
      used.value = String((parseInt(used.value, 10) || 0) + 1);
      if (!hintBox.querySelector('.hint[hidden]')) { hintLink.setAttribute('hidden', ''); }
    });
  }

  /* An audio lesson's big button: plays and pauses the player under it, and says which it does. */
  var listen = document.querySelector('.listen'), play = listen && listen.querySelector('.play');
  var player = listen && listen.querySelector('audio');
  if (play && player) {
    var label = play.querySelector('.label'), icon = play.querySelector('.icon');
    var show = function () {
      var playing = !player.paused && !player.ended;
      label.textContent = play.getAttribute(playing ? 'data-pause' : 'data-listen');
      icon.textContent = playing ? '\u275A\u275A' : '\u25B6';
    };
    play.removeAttribute('hidden');
    play.addEventListener('click', function () {
      if (player.paused || player.ended) {
        var playing = player.play();  /* a promise in newer browsers: refused, the label stays */
        if (playing && playing.catch) { playing.catch(show); }
      } else {
        player.pause();
      }
    });
    player.addEventListener('play', show);
    player.addEventListener('pause', show);
    player.addEventListener('ended', show);
  }

  /* Read aloud (when the pack has no recording): the question as shown on the page, so Markdown
   * marks and picture addresses are never spoken. */
  var reader = document.querySelector('.read-aloud'), stem = document.getElementById('stem');
  if (reader && stem && window.speechSynthesis && window.SpeechSynthesisUtterance) {
    reader.removeAttribute('hidden');
    reader.addEventListener('click', function () {
      var u = new window.SpeechSynthesisUtterance((stem.textContent || '').replace(/\s+/g, ' ').replace(/^ | $/g, ''));
      u.lang = reader.getAttribute('data-lang');
      u.rate = 0.85;
      window.speechSynthesis.cancel();
      window.speechSynthesis.speak(u);
    });
  }
}());
