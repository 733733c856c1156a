// The stage screen on the projector. The page arrives laid out for the poll's state; one
// websocket then sends the server's clock and full snapshots, so the screen never drifts,
// and it reconnects by itself within a few seconds of the server coming back.
// Keys F, Q, P and ? change only this screen, never the poll.
(function () {
  "use strict";
  var root = document.getElementById("stage");
  if (!root) return;
  var labels = root.dataset;
  var $ = function (id) { return document.getElementById(id); };
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var language = document.documentElement.lang || undefined;
  var numbers = new Intl.NumberFormat(language);
  var percents = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 0 });
  var statusLabels = { draft: labels.lDraft, open: labels.lOpen, closed: labels.lClosed };
  var PERCENT_KEY = "live.stage.percent";
  var CONFETTI = 12;

  var clockOffset = 0;       // server clock minus this computer's clock, in ms
  var last = null;           // the last snapshot drawn
  var lastStatus = null;
  var percent = initialPercent();

  function text(element, value) {
    if (element && element.textContent !== value) element.textContent = value;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function unit(method, count) {
    if (method === "ranked") return count === 1 ? labels.lPoint : labels.lPoints;
    return count === 1 ? labels.lVote : labels.lVotes;
  }

  function announce(message) { text($("announce"), message); }

  // --- fitting the names: one font size for all, as large as lets every name fit ---------

  function unitPx() { return Math.min(window.innerHeight, window.innerWidth * 0.5625) / 100; }

  // The box's padding would hide a word sticking out of its line: each line is checked too.
  function overflows(box) {
    if (box.scrollHeight > box.clientHeight || box.scrollWidth > box.clientWidth) return true;
    for (var i = 0; i < box.children.length; i++) {
      if (box.children[i].scrollWidth > box.children[i].clientWidth) return true;
    }
    return false;
  }

  function largestFitting(fits, low, high) {
    if (fits(high)) return high;
    if (!fits(low)) return null;
    for (var step = 0; step < 10; step++) {
      var middle = (low + high) / 2;
      if (fits(middle)) low = middle; else high = middle;
    }
    return Math.floor(low * 4) / 4;
  }

  // A box changes size without the window doing so when, say, a count grows a digit.
  var resizes = window.ResizeObserver ? new ResizeObserver(scheduleFit) : null;
  var watched = new WeakSet();

  function watch(element) {
    if (resizes && !watched.has(element)) {
      watched.add(element);
      resizes.observe(element);
    }
  }

  function fitGroup(list, boxSelector, property, maxUnits) {
    var boxes = list.querySelectorAll(boxSelector);
    each(boxes, watch);
    if (!boxes.length || !list.getClientRects().length) return;  // not shown: fit when it is
    var fits = function (size) {
      list.style.setProperty(property, size + "px");
      for (var i = 0; i < boxes.length; i++) if (overflows(boxes[i])) return false;
      return true;
    };
    var u = unitPx();
    var low = Math.max(6, 0.9 * u);
    var high = maxUnits * u;
    // Whole words if any size allows it; only if even the smallest cannot, words may break.
    list.classList.add("words-whole");
    var size = largestFitting(fits, low, high);
    if (size === null) {
      list.classList.remove("words-whole");
      size = largestFitting(fits, low, high) || low;
    }
    list.style.setProperty(property, size + "px");
    return size;
  }

  function setColumns(list, columns) {
    list.classList.toggle("two-columns", columns === 2);
    list.style.setProperty("--rows", String(Math.ceil(list.children.length / columns)));
  }

  // Many long names read better in two columns of bars, with larger type, than in one.
  function fitBars() {
    var list = $("bars");
    var max = root.dataset.mode === "draft" ? 5 : 4.4;
    setColumns(list, 1);
    var one = fitGroup(list, ".bar-label", "--name-size", max);
    if (one === undefined || list.children.length < 6 || one >= 2.8 * unitPx()) return;
    setColumns(list, 2);
    if (fitGroup(list, ".bar-label", "--name-size", max) > 1.15 * one) return;
    setColumns(list, 1);
    fitGroup(list, ".bar-label", "--name-size", max);
  }

  function fitAll() {
    fitBars();
    fitGroup($("podium"), ".podium-label", "--podium-size", 6.5);
  }

  var fitPending = false;
  function scheduleFit() {
    if (fitPending) return;
    fitPending = true;
    window.requestAnimationFrame(function () { fitPending = false; fitAll(); });
  }

  // --- the finalists and their bars ------------------------------------------------------

  function makeBar(id) {
    var item = document.createElement("li");
    item.className = "bar";
    item.dataset.finalist = String(id);
    var label = document.createElement("div");
    label.className = "bar-label";
    ["bar-name", "bar-owner"].forEach(function (name) {
      var span = document.createElement("span");
      span.className = name;
      label.appendChild(span);
    });
    var track = document.createElement("span");
    track.className = "bar-track";
    var barFill = document.createElement("span");
    barFill.className = "bar-fill";
    track.appendChild(barFill);
    var count = document.createElement("span");
    count.className = "bar-count";
    count.textContent = "–";
    var unitText = document.createElement("span");
    unitText.className = "bar-unit";
    item.appendChild(label);
    item.appendChild(track);
    item.appendChild(count);
    item.appendChild(unitText);
    return item;
  }

  // The bars follow the finalist list (in stage order); existing rows are kept.
  function syncBars(finalists) {
    var list = $("bars");
    var existing = {};
    var changed = false;
    each(list.children, function (item) { existing[item.dataset.finalist] = item; });
    finalists.forEach(function (finalist, index) {
      var key = String(finalist.id);
      var item = existing[key];
      if (item) delete existing[key]; else { item = makeBar(key); changed = true; }
      var name = item.querySelector(".bar-name");
      var owner = item.querySelector(".bar-owner");
      if (name.textContent !== finalist.name) { name.textContent = finalist.name; changed = true; }
      if (typeof finalist.owner === "string" && owner.textContent !== finalist.owner) {
        owner.textContent = finalist.owner;
        changed = true;
      }
      if (list.children[index] !== item) {
        list.insertBefore(item, list.children[index] || null);
        changed = true;
      }
    });
    Object.keys(existing).forEach(function (key) {
      list.removeChild(existing[key]);
      changed = true;
    });
    return changed;
  }

  function ownerOf(finalistId) {
    var item = $("bars").querySelector('.bar[data-finalist="' + finalistId + '"] .bar-owner');
    return item ? item.textContent : "";
  }

  function drawBars(tally, method, byPlace) {
    var rows = {};
    var max = 0;
    var total = 0;
    tally.forEach(function (row) {
      rows[row.finalist_id] = row;
      max = Math.max(max, row.score);
      total += row.score;
    });
    each($("bars").children, function (item) {
      var row = rows[item.dataset.finalist];
      var score = row ? row.score : 0;
      item.querySelector(".bar-fill").style.width = (max ? (100 * score) / max : 0) + "%";
      text(item.querySelector(".bar-count"),
        percent ? percents.format(total ? score / total : 0) : numbers.format(score));
      text(item.querySelector(".bar-unit"), percent ? "" : " " + unit(method, score));
      item.classList.toggle("leader", !!row && max > 0 && row.place === 1);
      item.style.order = byPlace && row ? String(row.place) : "";
    });
  }

  // No counts on the page at all when none may be shown: nothing stale to leak.
  function clearBars() {
    each($("bars").children, function (item) {
      item.querySelector(".bar-fill").style.width = "0%";
      text(item.querySelector(".bar-count"), "–");
      text(item.querySelector(".bar-unit"), "");
      item.classList.remove("leader");
      item.style.order = "";
    });
  }

  // --- the podium: each place is added once, and only a newly added one animates ---------

  function makePlace(entry) {
    var item = document.createElement("li");
    if (entry.place === 1) item.className = "first";
    item.dataset.place = String(entry.place);
    var label = document.createElement("div");
    label.className = "podium-label";
    ["podium-name", "podium-owner", "podium-lots", "score"].forEach(function (name) {
      var span = document.createElement("span");
      span.className = name;
      label.appendChild(span);
    });
    label.querySelector(".podium-lots").textContent = labels.lLots;
    var step = document.createElement("div");
    step.className = "podium-step";
    var place = document.createElement("span");
    place.className = "place";
    place.textContent = fill(labels.lPlace, { number: entry.place });
    step.appendChild(place);
    item.appendChild(label);
    item.appendChild(step);
    return item;
  }

  function updatePlace(item, entry, score, method) {
    var changed = item.dataset.finalist !== String(entry.finalist_id);
    item.dataset.finalist = String(entry.finalist_id);
    var owner = typeof entry.owner === "string" ? entry.owner : ownerOf(entry.finalist_id);
    var name = item.querySelector(".podium-name");
    var ownerText = item.querySelector(".podium-owner");
    if (name.textContent !== entry.name || ownerText.textContent !== owner) changed = true;
    text(name, entry.name);
    text(ownerText, owner);
    item.querySelector(".podium-lots").hidden = entry.lots !== true;
    var scoreText = item.querySelector(".score");
    var showScore = typeof score === "number";
    scoreText.hidden = !showScore;
    text(scoreText, showScore ? numbers.format(score) + " " + unit(method, score) : "");
    return changed;
  }

  function land(item) {
    item.classList.add("arrive");
    if (item.dataset.place === "1") {
      for (var i = 0; i < CONFETTI; i++) {
        var piece = document.createElement("span");
        piece.className = "confetti";
        piece.setAttribute("aria-hidden", "true");
        item.appendChild(piece);
      }
    }
    var running = item.getAnimations ? item.getAnimations({ subtree: true }) : [];
    Promise.all(running.map(function (animation) {
      return animation.finished.catch(function () {});
    })).then(function () {
      item.classList.remove("arrive");
      each(item.querySelectorAll(".confetti"), function (piece) { item.removeChild(piece); });
    });
  }

  function drawPodium(entries, winners, complete, method, animate) {
    var list = $("podium");
    var wanted = {};
    var changed = false;
    entries.forEach(function (entry) { wanted[entry.place] = entry; });
    each(Array.prototype.slice.call(list.children), function (item) {
      if (!wanted[item.dataset.place]) { list.removeChild(item); changed = true; }
    });
    list.classList.toggle("list", winners > 3);
    list.dataset.winners = String(winners);
    var arrived = [];
    entries.slice().sort(function (a, b) { return a.place - b.place; }).forEach(function (entry) {
      var item = list.querySelector('li[data-place="' + entry.place + '"]');
      if (!item) {
        item = makePlace(entry);
        var after = null;
        each(list.children, function (other) {
          if (!after && Number(other.dataset.place) > entry.place) after = other;
        });
        list.insertBefore(item, after);
        arrived.push(item);
        changed = true;
      }
      var score = complete && typeof entry.score === "number" ? entry.score : null;
      if (updatePlace(item, entry, score, method)) changed = true;
    });
    if (animate) {
      arrived.forEach(function (item) {
        land(item);
        announce(fill(labels.lRevealed, {
          number: item.dataset.place, name: item.querySelector(".podium-name").textContent,
        }));
      });
    }
    return changed;
  }

  // --- the countdown, on the server's clock ------------------------------------------------

  var countdown = { at: null, timer: null, phase: "" };

  // The clock message is a few ms old on arrival; a little grace keeps a fresh
  // two-minute countdown from showing 02:01 for its first moment.
  function timeLeft(ms) {
    var seconds = Math.max(0, Math.ceil((ms - 200) / 1000));
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
  }

  function tick() {
    if (countdown.at === null) return;
    var left = countdown.at - (Date.now() + clockOffset);
    var phase = left <= 0 ? "closing" : left <= 10000 ? "final" : "running";
    text($("countdown-time"), phase === "closing" ? labels.lClosing : timeLeft(left));
    if (phase === countdown.phase) return;
    countdown.phase = phase;
    $("countdown").dataset.phase = phase;
    if (phase === "closing") {
      window.clearInterval(countdown.timer);
      announce(labels.lClosing);
    }
  }

  function setCountdown(at, stillOpen) {
    if (at === countdown.at) return;
    var had = countdown.at !== null;
    window.clearInterval(countdown.timer);
    countdown.at = at;
    countdown.phase = "";
    $("countdown").hidden = at === null;
    if (at === null) {
      if (had && stillOpen) announce(labels.lCountdownOff);
      return;
    }
    tick();
    if (countdown.phase !== "closing") {
      announce(fill(labels.lClosesIn, { time: timeLeft(at - (Date.now() + clockOffset)) }));
      countdown.timer = window.setInterval(tick, 200);
    }
  }

  // --- the rules before the result, the digest after the reveal ---------------------------

  function rulesLine(message) {
    var how = message.method === "single" ? labels.lRuleSingle
      : message.method === "ranked" ? labels.lRuleRanked
      : fill(labels.lRuleApproval, { number: message.max_choices });
    var parts = [how, message.tie_rule === "decision" ? labels.lTieDecision : labels.lTieLots];
    if (message.eligibility === "badge") parts.push(labels.lBadge);
    return parts.join(" · ");
  }

  function shortDigest(digest) {
    var colon = digest.indexOf(":");
    var hex = digest.slice(colon + 1);
    return hex.length > 12 ? digest.slice(0, colon + 1) + hex.slice(0, 8) + "…" + hex.slice(-4) : digest;
  }

  // The digest comes only once the reveal is complete; until then nothing of it is shown.
  function drawDigest(message, complete) {
    var line = $("stage-digest");
    if (!complete) { line.hidden = true; return; }
    if (typeof message.digest !== "string") return;
    text(line, fill(labels.lDigest, { digest: shortDigest(message.digest), url: labels.bulletin }));
    line.hidden = false;
  }

  // --- one snapshot drawn ------------------------------------------------------------------

  function modeFor(status, tally, podium, complete, showResults) {
    if (status === "draft") return "draft";
    if (status === "open") return tally ? "bars" : "counter";
    if (!podium.length) return "closed";
    return complete && showResults && tally ? "results" : "podium";
  }

  function drawBallots(ballots) {
    var count = numbers.format(ballots);
    var name = ballots === 1 ? labels.lBallot : labels.lBallots;
    text($("ballot-count"), count);
    text($("counter-number"), count);
    text($("closed-number"), count);
    text($("counter-unit"), name);
    text($("closed-unit"), name);
  }

  function render(message) {
    var status = message.status;
    if (!statusLabels[status]) return;
    var method = message.method || labels.method;
    var winners = typeof message.winners === "number" ? message.winners : Number(labels.winners);
    var tally = Array.isArray(message.tally) ? message.tally : null;
    var podium = status === "closed" && Array.isArray(message.podium) ? message.podium : [];
    var revealed = typeof message.revealed === "number" ? message.revealed : podium.length;
    var complete = status === "closed" && (typeof message.reveal_complete === "boolean"
      ? message.reveal_complete : revealed >= winners);
    var mode = modeFor(status, tally, podium, complete, message.show_results === true);
    var changed = false;

    if (typeof message.title === "string") text($("stage-title"), message.title);
    if (typeof message.method === "string" && typeof message.tie_rule === "string") {
      text($("stage-rules"), rulesLine(message));
    }
    drawDigest(message, complete);
    text($("poll-status"), statusLabels[status]);
    if (typeof message.ballots === "number") drawBallots(message.ballots);
    if (Array.isArray(message.finalists)) changed = syncBars(message.finalists);
    if (root.dataset.mode !== mode) { root.dataset.mode = mode; changed = true; }
    root.dataset.status = status;
    root.dataset.method = method;
    if (mode === "bars" || mode === "results") drawBars(tally, method, mode === "results");
    else clearBars();
    if (drawPodium(podium, winners, complete, method, last !== null)) changed = true;
    var closesAt = status === "open" && message.closes_at ? Date.parse(message.closes_at) : NaN;
    setCountdown(isNaN(closesAt) ? null : closesAt, status === "open");
    if (lastStatus !== null && status !== lastStatus) announce(statusLabels[status]);
    lastStatus = status;
    last = message;
    if (changed) fitAll();
  }

  // --- local display controls: full screen, large QR code, percentages, help ---------------

  function initialPercent() {
    var asked = new URLSearchParams(window.location.search).get("percent");
    if (asked === "1" || asked === "0") return asked === "1";
    try { return window.localStorage.getItem(PERCENT_KEY) === "1"; } catch (error) { return false; }
  }

  function togglePercent() {
    percent = !percent;
    try { window.localStorage.setItem(PERCENT_KEY, percent ? "1" : "0"); } catch (error) { /* private mode */ }
    root.dataset.percent = percent ? "on" : "off";
    if (last) render(last);
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(function () {});
    } else if (document.fullscreenEnabled) {
      document.documentElement.requestFullscreen().catch(function () {});
    }
  }

  function toggleQr(show) {
    var overlay = $("qr-overlay");
    overlay.hidden = typeof show === "boolean" ? !show : !overlay.hidden;
  }

  function toggleHelp(show) {
    var help = $("stage-help");
    help.hidden = typeof show === "boolean" ? !show : !help.hidden;
    $("help-button").setAttribute("aria-expanded", help.hidden ? "false" : "true");
  }

  var fullscreenButton = $("fullscreen-button");
  fullscreenButton.hidden = !document.fullscreenEnabled;
  fullscreenButton.addEventListener("click", toggleFullscreen);
  $("help-button").addEventListener("click", function () { toggleHelp(); });
  document.addEventListener("fullscreenchange", function () {
    root.toggleAttribute("data-fullscreen", !!document.fullscreenElement);
    scheduleFit();
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "f") toggleFullscreen();
    else if (key === "q") toggleQr();
    else if (key === "p") togglePercent();
    else if (key === "?") toggleHelp();
    else if (key === "Escape") { toggleQr(false); toggleHelp(false); }
    else return;
    event.preventDefault();
  });

  // --- the stream --------------------------------------------------------------------------

  var url = (window.location.protocol === "https:" ? "wss://" : "ws://") +
    window.location.host + labels.stream;
  var retryDelay = 250;
  var offlineTimer = null;

  function showOffline() {
    window.clearTimeout(offlineTimer);
    offlineTimer = null;
    $("connection").hidden = false;
  }

  // A short hiccup says nothing: the note appears only after three seconds without a link.
  function offline() {
    if (offlineTimer === null && $("connection").hidden) {
      offlineTimer = window.setTimeout(showOffline, 3000);
    }
  }

  function online() {
    window.clearTimeout(offlineTimer);
    offlineTimer = null;
    $("connection").hidden = true;
  }

  // Back within 3 s of the server: 250 ms, doubling to 1.5 s, plus up to half of it again.
  function retry() {
    window.setTimeout(connect, retryDelay * (1 + Math.random() * 0.5));
    retryDelay = Math.min(retryDelay * 2, 1500);
  }

  function receive(socket, event) {
    var message;
    try { message = JSON.parse(event.data); } catch (error) { return; }
    if (!message || typeof message !== "object") return;
    if (message.type === "clock") {
      if (typeof message.now === "number") clockOffset = message.now - Date.now();
      tick();
      return;
    }
    if (message.unavailable) { showOffline(); return; }
    if (typeof message.version === "number") {
      if (message.version < socket.lastVersion) return;
      socket.lastVersion = message.version;
    }
    retryDelay = 250;
    online();
    render(message);
  }

  function connect() {
    var socket;
    try { socket = new WebSocket(url); } catch (error) { offline(); retry(); return; }
    socket.lastVersion = -1;
    socket.onmessage = function (event) { receive(socket, event); };
    socket.onclose = function () { offline(); retry(); };
  }

  // --- start: the page is right before the first message -----------------------------------

  text($("poll-status"), statusLabels[labels.status] || $("poll-status").textContent);
  root.dataset.percent = percent ? "on" : "off";
  fitAll();
  watch(document.querySelector(".results"));
  window.addEventListener("resize", scheduleFit);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(scheduleFit);
  if (window.WebSocket) connect();
})();
