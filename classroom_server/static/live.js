/* The live class view: every few seconds, ask the hub for the cards with the ETag we hold.
   304: nothing happened, nothing to do. 200: swap the new cards in. A poll takes a waitress
   thread for a few milliseconds, where a stream would hold one for as long as the page is open
   (services/live.py). No polling while the page is hidden; without JavaScript the page has a
   Refresh link. ES5 only. */
(function () {
  'use strict';
  var box = document.getElementById('live-now');
  if (!box || !window.XMLHttpRequest) { return; }
  var status = document.getElementById('live-status');
  var url = box.getAttribute('data-url');
  var etag = box.getAttribute('data-etag');
  var every = 1000 * (parseInt(box.getAttribute('data-every'), 10) || 10);
  var failures = 0;
  var timer = null;
  var busy = false;

  function say(text) {
    if (status) { status.textContent = text; }
  }

  function later(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, delay);
  }

  function failed() {
    failures += 1;
    if (failures >= 2 && status) { say(status.getAttribute('data-offline') || ''); }
    later(Math.min(60000, every * failures));
  }

  /* New cards in; the link that had the focus (a learner's name) keeps it. */
  function swap(cards) {
    var focused = document.activeElement;
    var href = focused && focused !== box && box.contains(focused) ? focused.getAttribute('href') : null;
    var again;
    box.innerHTML = cards;
    if (href) {
      again = box.querySelector('a[href="' + href + '"]');
      if (again) { again.focus(); }
    }
  }

  function poll() {
    if (busy) { return; }
    if (document.hidden) { return; }  /* visibilitychange starts it again */
    busy = true;
    var xhr = new XMLHttpRequest();
    xhr.open('GET', url);
    if (etag) { xhr.setRequestHeader('If-None-Match', etag); }
    xhr.onload = function () {
      busy = false;
      var tag = xhr.getResponseHeader('ETag');
      if (xhr.status === 304) {
        failures = 0;
        say('');
        later(every);
        return;
      }
      if (xhr.status === 200 && tag) {
        failures = 0;
        say('');
        etag = tag;
        swap(xhr.responseText);
        later(every);
        return;
      }
      if (xhr.status === 200 || xhr.status === 401 || xhr.status === 403 || xhr.status === 404) {
        /* signed out meanwhile, or the class is gone: let the page itself say so */
        window.location.reload();
        return;
      }
      failed();
    };
    xhr.onerror = function () {
      busy = false;
      failed();
    };
    xhr.send();
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) { later(0); }
  });
  later(every);
}());
