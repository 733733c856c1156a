// The host console: live state from the console stream, and buttons that send intents.
// Each button says what it wants ("open", "reveal place 3"), so a second tap or a second
// console changes nothing; closing opens a dialog whose confirm button arms itself only
// after a pause that a double tap cannot bridge (the server checks the pause too).
// The hall panel (turnout, token rate, alerts, flagged ballots) reads every ballot, so it
// is polled every few seconds instead of riding on the stream; taking flagged ballots
// out is a second deliberate step like closing.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root || !window.WebSocket || !window.fetch) return;
  var labels = root.dataset;
  var $ = function (id) { return document.getElementById(id); };
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + labels.stream;
  var offset = 0;
  var state = null;
  var version = -1;
  var delay = 250;
  var dialog = $("close-dialog");
  var armTimer = null;
  var hall = $("hall");
  var hallData = null;
  var hallBusy = false;
  var HALL_EVERY_MS = 5000;
  var excludeDialog = $("exclude-dialog");
  var excludeTimer = null;

  function text(el, value) { if (el && el.textContent !== value) el.textContent = value; }

  function say(message) {
    var box = $("console-error");
    text(box, message || "");
    box.hidden = !message;
  }

  function enabled(button, m) {
    var fields = button.form ? button.form.elements : {};
    switch (button.dataset.intent) {
      case "open": return m.status === "draft";
      case "close-step": return m.status === "open";
      case "countdown":
        if (fields.seconds.value === "" || button.classList.contains("extend")) {
          return m.status === "open" && !!m.closes_at;
        }
        return m.status === "open";
      case "reveal":
        return m.status === "closed" && m.open_ties.length === 0 &&
          Number(fields.place.value) === m.winners - m.revealed;
      case "hide": return !m.hide_counts;
      case "show": return m.hide_counts;
      case "results": return m.reveal_complete && (fields.shown.value === "1") !== m.show_results;
      default: return true;
    }
  }

  function renderButtons(m) {
    Array.prototype.forEach.call(root.querySelectorAll("button[data-intent]"), function (button) {
      if (button.dataset.busy) return;
      button.disabled = !enabled(button, m);
      if (button.dataset.intent === "reveal") {
        var place = Number(button.form.elements.place.value);
        button.classList.toggle("done", m.status === "closed" && place > m.winners - m.revealed);
      }
    });
  }

  function renderTally(m) {
    var body = document.querySelector("#console-tally tbody");
    body.textContent = "";
    m.tally.forEach(function (row) {
      var tr = document.createElement("tr");
      [row.place + (row.tied ? " (" + labels.lTie + ")" : ""), row.name, String(row.score)]
        .forEach(function (value, index) {
          var td = document.createElement("td");
          if (index === 2) td.className = "num";
          td.textContent = value;
          tr.appendChild(td);
        });
      body.appendChild(tr);
    });
    var title = $("tally-title");
    text(title, m.status === "closed" ? title.dataset.locked : title.dataset.running);
  }

  function renderNext(m) {
    var next = $("console-next");
    var template = next.dataset[m.next.step] || "";
    text(next, template.replace("#", m.next.place));
  }

  function refreshTies(m) {
    var section = document.querySelector("#console-ties section");
    var wanted = m.open_ties.length + "-" + m.resolutions.length;
    var shown = section ? section.dataset.count : "0-0";
    if (wanted === shown) return;
    fetch(labels.ties, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null) $("console-ties").innerHTML = html;
    }, function () {});
  }

  function secondsLeft() {
    if (!state || !state.closes_at || state.status !== "open") return null;
    return (Date.parse(state.closes_at) - (Date.now() + offset)) / 1000;
  }

  function tick() {
    var left = secondsLeft();
    var out = $("console-countdown");
    if (left === null) { text(out, labels.lNone); return; }
    var whole = Math.max(0, Math.ceil(left));
    text(out, Math.floor(whole / 60) + ":" + ("0" + (whole % 60)).slice(-2));
    var extend = root.querySelector("button.extend");
    if (extend) extend.form.elements.seconds.value = String(Math.min(3600, Math.max(5, whole + 30)));
  }

  function render(m) {
    var before = state;
    state = m;
    var status = $("console-status");
    text(status, { draft: labels.lDraft, open: labels.lOpen, closed: labels.lClosed }[m.status] || "");
    status.className = "status-" + m.status;
    text($("console-ballots"), String(m.ballots));
    var withheld = m.status === "closed" && !m.reveal_complete;
    text($("console-stage"), withheld ? labels.lWithheld : (m.counts_public ? labels.lShown : labels.lHidden));
    renderNext(m);
    renderTally(m);
    renderButtons(m);
    refreshTies(m);
    if (m.status !== "open" && dialog.open) dialog.close();
    if (before && before.status !== m.status) refreshHall();  // the exclusion step, say
    tick();
  }

  // --- the hall panel ---------------------------------------------------------------------

  function fillList(list, lines) {
    if (!list) return;
    if (list.dataset.lines === JSON.stringify(lines)) return;
    list.dataset.lines = JSON.stringify(lines);
    list.textContent = "";
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    list.hidden = lines.length === 0;
  }

  function renderHall(h) {
    hallData = h;
    var texts = h.texts;
    text($("hall-turnout"), texts.turnout);
    text($("hall-tokens"), texts.tokens || "");
    text($("hall-badges-text"), texts.badges || "");
    if ($("hall-alert")) {
      $("hall-alert").hidden = !texts.alert;
      text($("hall-alert-text"), texts.alert || "");
    }
    fillList($("hall-alerts"), texts.alerts || []);
    text($("hall-flagged"), texts.flagged);
    var step = hall.querySelector('button[data-hall="exclude-step"]');
    if (step && !step.dataset.busy) step.disabled = !h.can_exclude;
    fillList($("hall-exclusions"), h.exclusions.map(function (e) { return e.text; }));
    $("hall-exclusions-box").hidden = h.exclusions.length === 0;
    var input = $("expected-voters");
    if (input && document.activeElement !== input && !input.dataset.edited) {
      input.value = h.expected_voters === null ? "" : String(h.expected_voters);
    }
  }

  function refreshHall() {
    if (!hall || hallBusy) return;
    hallBusy = true;
    fetch(hall.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (h) { if (h) renderHall(h); }, function () {})
      .then(function () { hallBusy = false; });
  }

  function post(form) {
    return fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; },
        function () { return { ok: response.ok, data: null }; });
    });
  }

  function problem(answer) {
    return answer.data && answer.data.error ? answer.data.error.message : labels.lFailed;
  }

  function saveExpected(form, button) {
    button.disabled = true;
    say("");
    post(form).then(function (answer) {
      if (!answer.ok) { say(problem(answer)); return; }
      delete $("expected-voters").dataset.edited;
      refreshHall();
    }, function () { say(labels.lFailed); }).then(function () { button.disabled = false; });
  }

  function fillFlagged(box) {
    if (!hallData) return;
    text(box.querySelector(".flagged-count"), hallData.texts.flagged);
    var body = box.querySelector(".flagged-table tbody");
    body.textContent = "";
    hallData.flagged_ballots.forEach(function (ballot) {
      var row = document.createElement("tr");
      var receipt = document.createElement("td");
      var code = document.createElement("code");
      code.textContent = ballot.receipt;
      receipt.appendChild(code);
      var time = document.createElement("td");
      time.textContent = ballot.time;
      row.appendChild(receipt);
      row.appendChild(time);
      body.appendChild(row);
    });
    var more = box.querySelector(".flagged-more");
    var left = hallData.flagged - hallData.flagged_ballots.length;
    more.hidden = left <= 0;
    text(more, more.dataset.template.replace("#", String(left)));
  }

  function askToExclude() {
    var confirm = $("exclude-confirm");
    var form = $("exclude-form");
    fillFlagged(excludeDialog);
    form.elements.asked_at.value = String(Date.now() + offset);
    $("exclude-error").hidden = true;
    confirm.disabled = true;
    text(confirm, labels.lWait);
    excludeDialog.showModal();
    $("exclude-cancel").focus();
    clearTimeout(excludeTimer);
    excludeTimer = setTimeout(function () {
      confirm.disabled = false;
      text(confirm, labels.lExclude);
    }, Number(labels.confirmAfter) + 300);
  }

  function exclude(form, button) {
    var error = $("exclude-error");
    button.disabled = true;
    error.hidden = true;
    post(form).then(function (answer) {
      if (answer.ok) {
        excludeDialog.close();
        form.elements.note.value = "";
        refreshHall();
        return;
      }
      text(error, problem(answer));
      error.hidden = false;
    }, function () {
      text(error, labels.lFailed);
      error.hidden = false;
    }).then(function () { if (excludeDialog.open) button.disabled = false; });
  }

  if (hall) {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var button = event.submitter || form.querySelector("button[type=submit]");
      if (form.id === "expected-form") { event.preventDefault(); saveExpected(form, button); }
      else if (form.id === "exclude-step" && excludeDialog) { event.preventDefault(); askToExclude(); }
      else if (form.id === "exclude-form") { event.preventDefault(); exclude(form, button); }
    });
    if ($("expected-voters")) {
      $("expected-voters").addEventListener("input", function (event) { event.target.dataset.edited = "1"; });
    }
    if (excludeDialog) {
      $("exclude-cancel").addEventListener("click", function () { excludeDialog.close(); });
      excludeDialog.addEventListener("close", function () {
        if (!excludeDialog.open) clearTimeout(excludeTimer);
      });
    }
    setInterval(refreshHall, HALL_EVERY_MS);
  }

  function send(form, button) {
    button.dataset.busy = "1";
    button.disabled = true;
    say("");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; },
        function () { return { ok: response.ok, data: null }; });
    }).then(function (answer) {
      if (!answer.ok) say(answer.data && answer.data.error ? answer.data.error.message : labels.lFailed);
      else if (form.id === "close-form") dialog.close();
    }, function () { say(labels.lFailed); }).then(function () {
      delete button.dataset.busy;
      if (state) renderButtons(state); else button.disabled = false;
    });
  }

  function askToClose() {
    var confirm = $("close-confirm");
    $("close-form").elements.asked_at.value = String(Date.now() + offset);
    confirm.disabled = true;
    text(confirm, labels.lWait);
    dialog.showModal();
    $("close-cancel").focus();
    clearTimeout(armTimer);
    armTimer = setTimeout(function () {
      confirm.disabled = false;
      text(confirm, labels.lConfirm);
    }, Number(labels.confirmAfter) + 300);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("intent")) return;
    event.preventDefault();
    var button = event.submitter || form.querySelector("button[type=submit]");
    if (!button || button.disabled) return;
    if (form.id === "close-step") { askToClose(); return; }
    send(form, button);
  });

  $("close-cancel").addEventListener("click", function () { dialog.close(); });
  // The close event comes a moment after the dialog closed: if it was opened again in
  // that moment, the new timer must stand, or the confirm button would never arm.
  dialog.addEventListener("close", function () { if (!dialog.open) clearTimeout(armTimer); });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || dialog.open) return;
    if (excludeDialog && excludeDialog.open) return;
    if (/^(INPUT|SELECT|TEXTAREA|BUTTON|SUMMARY)$/.test(event.target.tagName) && event.key === " ") return;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) return;
    var button = root.querySelector('button[data-key="' + event.key.toLowerCase() + '"]');
    if (!button || button.disabled) return;
    event.preventDefault();
    button.click();
  });

  function connect() {
    var socket = new WebSocket(url);
    var seen = false;
    socket.onopen = function () { delay = 250; };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "clock") { offset = message.now - Date.now(); return; }
      if (message.unavailable) { $("console-connection").hidden = false; return; }
      $("console-connection").hidden = true;
      if (seen && message.version < version) return;
      seen = true;
      version = message.version;
      render(message);
    };
    socket.onclose = function () {
      $("console-connection").hidden = false;
      setTimeout(connect, delay + Math.random() * delay / 2);
      delay = Math.min(delay * 2, 1500);
    };
  }
  setInterval(tick, 250);
  connect();
})();
