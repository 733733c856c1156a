// The ballot on a phone. It sends the vote without a reload and retries safely: every
// retry carries the same sent_at, so the server records it once, and a late retry never
// undoes a later change. It follows the show over the phones' stream of full snapshots
// (one first on every connection, so a phone never drifts): it opens, counts down, locks
// and shows the places as they are revealed. Without JavaScript a reload does the same.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var root = $("phone");
  var form = $("ballot");
  if (!root || !form || !window.fetch || !window.URLSearchParams) return;
  var labels = root.dataset;
  var status = $("status");
  var button = form.querySelector("button[type=submit]");
  var choices = $("choices");
  var confirmation = $("confirmation");
  var MAX_TRIES = 7;
  var state = labels.status;  // draft, open or closed, as shown now
  var sending = false;
  var refused = false;  // the server refused a vote (409): locked until the poll opens
  var offset = 0;  // server clock minus this phone's clock, from the clock message
  var closesAt = null;
  var tickTimer = null;
  var podiumKey = null;  // null until the first snapshot: nothing to announce on arrival

  function text(element, value) { if (element.textContent !== value) element.textContent = value; }

  function announce(message) { text($("announce"), message); }

  function say(message, isError) {
    status.textContent = message;
    status.className = isError ? "status error" : "status";
  }

  function lock() {
    var locked = state !== "open" || refused;
    choices.disabled = locked;
    button.disabled = locked || sending;
    button.hidden = state === "closed";  // nothing left to press once voting has closed
  }


  function showConfirmation(on) {
    var hadFocus = confirmation.contains(document.activeElement);
    $("ballot-view").hidden = on;
    confirmation.hidden = !on;
    document.body.classList.toggle("confirming", on);
    if (on) {
      window.scrollTo(0, 0);
      $("confirmation-title").focus();
    }
    return hadFocus;
  }

  function showRecorded(names, receipt) {
    var method = form.dataset.method;
    var list = document.createElement({ ranked: "ol", approval: "ul" }[method] || "p");
    list.className = "recorded";
    names.forEach(function (name) {
      if (list.tagName === "P") { list.textContent = name; return; }
      var item = document.createElement("li");
      item.textContent = name;
      list.appendChild(item);
    });
    var box = $("confirmation-recorded");
    box.textContent = "";
    box.appendChild(list);
    var receiptBox = $("confirmation-receipt").querySelector(".receipt");
    if (receipt) {
      text(receiptBox.querySelector(".receipt-code"), receipt);
      receiptBox.hidden = false;
    }
    showConfirmation(true);
  }

  // Approval: at most k ticks. A (k+1)-th is taken back at once, with a polite note.
  var counter = $("approval-count");
  function countTicks(event) {
    var limit = Number(counter.dataset.limit);
    var ticked = form.querySelectorAll("input[type=checkbox]:checked");
    var note = "";
    if (ticked.length > limit && event && event.target.checked) {
      event.target.checked = false;
      ticked = form.querySelectorAll("input[type=checkbox]:checked");
      note = counter.dataset.lFull;
    }
    text(counter, counter.dataset.lCount.replace("#", ticked.length));
    text($("approval-note"), note);
  }
  if (counter) {
    choices.addEventListener("change", countTicks);
    countTicks(null);
  }

  $("change-vote").addEventListener("click", function () {
    showConfirmation(false);
    var target = form.querySelector("input:checked") || form.querySelector("select, input[type=radio]");
    if (target) target.focus();
  });


  function recorded(names, receipt) {
    sending = false;
    var box = $("recorded");
    if (box) box.hidden = true;
    say(form.dataset.recorded + " " + names.join(", "), false);
    button.textContent = form.dataset.change;
    lock();
    showRecorded(names, receipt);
  }

  function failed(message, conflict) {
    sending = false;
    refused = refused || conflict;
    say(conflict ? form.dataset.refused + " " + message : message, true);
    lock();
  }

  function retry(body, attempt) {
    if (attempt + 1 >= MAX_TRIES) return failed(form.dataset.failed, false);
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
      if (answer.status === 200 && answer.data) return recorded(answer.data.names, answer.data.receipt);
      if (answer.status >= 500 || answer.status === 429 || !answer.data) return retry(body, attempt);
      failed(answer.data.error ? answer.data.error.message : form.dataset.failed, answer.status === 409);
    }, function () { retry(body, attempt); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sending) return;
    sending = true;
    form.elements.sent_at.value = String(Date.now());
    button.disabled = true;
    say(form.dataset.sending, false);
    send(new URLSearchParams(new FormData(form)), 0);
  });


  function pad(number) { return (number < 10 ? "0" : "") + number; }

  function tick() {
    var left = Math.max(0, closesAt - (Date.now() + offset));
    var seconds = Math.ceil(left / 1000);
    var shown = pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
    text($("time-left"), shown);
    $("countdown").classList.toggle("soon", seconds <= 10);
    clearTimeout(tickTimer);
    if (left > 0) tickTimer = setTimeout(tick, (left % 1000 || 1000) + 15);
    return shown;
  }

  function countdown(iso) {
    var target = iso ? Date.parse(iso.replace(/(\.\d{3})\d+/, "$1")) : NaN;
    if (isNaN(target)) target = null;
    var changed = target !== closesAt;
    closesAt = target;
    $("countdown").hidden = target === null;
    if (target === null) return clearTimeout(tickTimer);
    var shown = tick();  // once per new closing time: the seconds are not read aloud
    if (changed) announce(labels.lClosesIn.replace("#", shown));
  }

  function podiumItem(entry, fresh) {
    var item = document.createElement("li");
    item.className = (entry.place === 1 ? "winner" : "") + (fresh ? " new" : "");
    [["place", labels.lPlace.replace("#", entry.place)], ["name", entry.name],
     ["lots", entry.lots && labels.lLots]].forEach(function (part) {
      if (!part[1]) return;
      var span = document.createElement("span");
      span.className = part[0];
      span.textContent = part[1];
      if (item.firstChild) item.appendChild(document.createTextNode(" "));
      item.appendChild(span);
    });
    return item;
  }

  function renderPodium(message) {
    var entries = (message.podium || []).slice().sort(function (a, b) { return b.place - a.place; });
    var keys = entries.map(function (e) { return e.place + ":" + e.finalist_id + ":" + e.lots; });
    var key = keys.join();
    if (key === podiumKey) return;
    var list = $("podium");
    var kept = {};
    Array.prototype.forEach.call(list.children, function (item) { kept[item.dataset.key] = item; });
    var news = [];
    list.textContent = "";
    entries.forEach(function (entry, index) {
      var item = kept[keys[index]];
      if (!item) {
        item = podiumItem(entry, podiumKey !== null);
        item.dataset.key = keys[index];
        news.push(item.textContent);
      }
      list.appendChild(item);
    });
    var complete = !!message.reveal_complete;
    var thanks = $("thanks");
    if (podiumKey !== null && complete && thanks.hidden) news.push(thanks.textContent);
    thanks.hidden = !complete;
    $("results").hidden = !entries.length && !complete;
    if (podiumKey !== null && news.length) announce(news.join(". "));
    podiumKey = key;
  }

  function render(message) {
    if (message.status !== state) {
      state = message.status;
      if (state === "open") {
        refused = false;
        announce(labels.lOpened);
      } else if (state === "closed") {
        announce(labels.lClosed);
      }
    }
    // Once voting has closed the show goes on here: the places, as they are revealed.
    if (state === "closed" && !confirmation.hidden && showConfirmation(false)) $("state").focus();
    var line = $("state");
    line.setAttribute("data-state", state);
    text(line, { draft: labels.lDraft, open: labels.lOpen, closed: labels.lClosed }[state] || "");
    var reload = $("reload");
    if (reload) reload.hidden = true;  // this page follows the host by itself now
    $("confirmation-change").hidden = state !== "open";
    $("confirmation-closed").hidden = state === "open";
    lock();
    countdown(state === "open" ? message.closes_at : null);
    renderPodium(message);
  }

  if (!window.WebSocket) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + labels.updates;
  var socket = null;
  var delay = 500;
  var retryTimer = null;
  var noteTimer = null;

  function connected(ok) {
    clearTimeout(noteTimer);
    if (ok) $("connection").hidden = true;
    else noteTimer = setTimeout(function () { $("connection").hidden = false; }, 1500);
  }

  function connect() {
    retryTimer = null;
    var current = socket = new WebSocket(url);
    var version = -1;
    current.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "clock") { offset = message.now - Date.now(); return; }
      connected(!message.unavailable);
      if (message.unavailable || message.version < version) return;
      version = message.version;
      delay = 500;
      render(message);
    };
    current.onclose = function () {
      if (socket !== current) return;
      socket = null;
      connected(false);
      // Thousands of phones lose the server at once: spread their returns over the delay.
      retryTimer = setTimeout(connect, delay / 2 + Math.random() * delay / 2);
      delay = Math.min(delay * 2, 2000);
    };
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    if (closesAt !== null) tick();
    if (retryTimer) { clearTimeout(retryTimer); connect(); }  // a phone woken from sleep
  });
  connect();
})();
