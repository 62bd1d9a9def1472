// The console's only script of its own (a file, allowed by the page's CSP; no inline script).
// 1. htmx sends the page's CSRF token as a header on every request it makes.
// 2. Times written in UTC inside <time datetime> are shown in the viewer's zone, naming it.
(function () {
  'use strict';

  function csrf() {
    var meta = document.querySelector('meta[name="cp-csrf"]');
    return meta ? meta.getAttribute('content') : null;
  }

  document.addEventListener('htmx:configRequest', function (event) {
    var token = csrf();
    if (token) {
      event.detail.headers['X-CSRF-TOKEN'] = token;
    }
  });

  var format = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'short'
  });

  function localise(root) {
    var times = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var at = new Date(times[i].getAttribute('datetime'));
      if (!isNaN(at.getTime()) && !times[i].hasAttribute('data-local')) {
        times[i].textContent = format.format(at);
        times[i].setAttribute('data-local', '');
        times[i].setAttribute('title', times[i].getAttribute('datetime'));
      }
    }
  }

  document.addEventListener('DOMContentLoaded', function () { localise(document); });
  document.addEventListener('htmx:afterSwap', function () { localise(document); });
})();
