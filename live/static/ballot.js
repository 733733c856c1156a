// Sends the ballot without a reload and retries safely: every retry carries the same
// sent_at, so the server records it once, and a late retry never undoes a later change.
(function () {
  "use strict";
  var form = document.getElementById("ballot");
  if (!form || !window.fetch || !window.URLSearchParams) return;
  var status = document.getElementById("status");
  var button = form.querySelector("button[type=submit]");
  var MAX_TRIES = 7;

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "status error" : "status";
  }

  function recorded(names) {
    var box = document.getElementById("recorded");
    if (box) box.hidden = true;
    say(form.dataset.recorded + " " + names.join(", "), false);
    button.textContent = form.dataset.change;
    button.disabled = false;
  }

  function retry(body, attempt) {
    if (attempt + 1 >= MAX_TRIES) {
      say(form.dataset.failed, true);
      button.disabled = false;
      return;
    }
    say(form.dataset.retrying, false);
    var wait = Math.min(8000, 400 * Math.pow(2, attempt)) + Math.random() * 400;
    setTimeout(function () { send(body, attempt + 1); }, wait);
  }

  function send(body, attempt) {
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(
        function (data) { return { status: response.status, data: data }; },
        function () { return { status: response.status, data: null }; });
    }).then(function (answer) {
      if (answer.status === 200 && answer.data) return recorded(answer.data.names);
      if (answer.status >= 500 || answer.status === 429 || !answer.data) return retry(body, attempt);
      say(answer.data.error ? answer.data.error.message : form.dataset.failed, true);
      button.disabled = false;
    }, function () { retry(body, attempt); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    form.elements.sent_at.value = String(Date.now());
    button.disabled = true;
    say(form.dataset.sending, false);
    send(new URLSearchParams(new FormData(form)), 0);
  });
})();
