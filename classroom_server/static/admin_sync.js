/* District sync page: while a sync runs, ask the hub how far it got once a second and show it;
   when it ends, reload the page to show the new state. Without JavaScript the page refreshes
   itself while a sync runs. ES5 only. */
(function () {
  var box = document.getElementById('sync-now');
  if (!box || box.getAttribute('data-running') !== '1' || !window.XMLHttpRequest || !window.JSON) { return; }
  var bar = document.getElementById('sync-progress');
  var status = document.getElementById('sync-status');
  var url = box.getAttribute('data-progress-url');
  var failures = 0;

  function show(state) {
    if (state.total) {
      bar.max = state.total;
      bar.value = state.done;
    }
    if (state.message) { status.textContent = state.message; }
  }

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open('GET', url);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.onload = function () {
      var state;
      try { state = JSON.parse(xhr.responseText); } catch (e) { state = null; }
      if (xhr.status !== 200 || !state) { retry(); return; }
      failures = 0;
      show(state);
      if (state.running) { window.setTimeout(poll, 1000); } else { window.location.reload(); }
    };
    xhr.onerror = retry;
    xhr.send();
  }

  function retry() {
    failures += 1;
    window.setTimeout(poll, Math.min(10000, 1000 * failures));
  }

  window.setTimeout(poll, 1000);
}());
