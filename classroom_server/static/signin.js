// Picture sign-in: the first taps stay on the device and the last one posts them all, so a
// sign-in is one request to the hub instead of three (#21). Without this script every tap
// posts the pictures chosen so far, and the page works the same.
(function () {
  "use strict";
  var form = document.querySelector("form.pictures");
  var shown = document.querySelector(".dots");
  if (!form || !shown) return;
  var soFar = form.querySelector("input[name=so_far]");
  var dots = shown.querySelectorAll(".dot");
  var labels = JSON.parse(shown.getAttribute("data-labels") || "[]");

  function show(chosen) {
    for (var i = 0; i < dots.length; i++) dots[i].classList.toggle("on", i < chosen.length);
    if (labels[chosen.length]) shown.setAttribute("aria-label", labels[chosen.length]);
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button.picture");
    if (!button) return;
    var chosen = soFar.value ? soFar.value.split(",") : [];
    if (chosen.length + 1 >= dots.length) return; // the last tap posts the form, as without script
    event.preventDefault();
    chosen.push(button.value);
    soFar.value = chosen.join(",");
    show(chosen);
  });

  // Back to this page from the history: start again from the pictures the page was sent with.
  var sent = soFar.value;
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      soFar.value = sent;
      show(sent ? sent.split(",") : []);
    }
  });
})();
