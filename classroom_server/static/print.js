/* A Print button for pages made to be printed: shown only where this script runs (the page
 * reads and prints well without it, from the browser's own menu). */
(function () {
  'use strict';
  var buttons = document.querySelectorAll('[data-print]'), i;
  for (i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener('click', function () { window.print(); });
  }
}());
