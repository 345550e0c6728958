/* Upload a pack with a progress bar. Without JavaScript the form posts normally. ES5 only. */
(function () {
  var form = document.getElementById('upload-form');
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var bar = document.getElementById('upload-progress');
  var status = document.getElementById('upload-status');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    bar.hidden = false;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    };
    xhr.upload.onload = function () { status.textContent = form.getAttribute('data-importing') || '…'; bar.removeAttribute('value'); };
    xhr.onload = function () { document.open(); document.write(xhr.responseText); document.close(); if (xhr.responseURL) { history.replaceState(null, '', xhr.responseURL); } };
    xhr.onerror = function () { status.textContent = form.getAttribute('data-failed') || 'Upload failed.'; bar.hidden = true; };
    xhr.send(new FormData(form));
  });
}());
