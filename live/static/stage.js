// The stage screen: one websocket of full snapshots. It reconnects by itself with
// backoff, and every (re)connection starts with a full snapshot, so it never drifts.
(function () {
  "use strict";
  var root = document.getElementById("stage");
  if (!root || !window.WebSocket) return;
  var labels = root.dataset;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + labels.stream;
  var delay = 500;
  var version = -1;
  var $ = function (id) { return document.getElementById(id); };

  function unit(message, count) {
    if (message.method === "ranked") return count === 1 ? labels.lPoint : labels.lPoints;
    return count === 1 ? labels.lVote : labels.lVotes;
  }

  function text(id, value) { var el = $(id); if (el.textContent !== value) el.textContent = value; }

  function renderBars(message) {
    var scores = {};
    var max = 0;
    message.tally.forEach(function (row) { scores[row.finalist_id] = row; max = Math.max(max, row.score); });
    Array.prototype.forEach.call(document.querySelectorAll(".bar"), function (bar) {
      var row = scores[bar.dataset.finalist];
      var score = row ? row.score : 0;
      bar.querySelector(".bar-fill").style.width = (max ? (100 * score / max) : 0) + "%";
      bar.querySelector(".bar-count").textContent = String(score);
      bar.querySelector(".bar-unit").textContent = unit(message, score);
      bar.classList.toggle("leader", !!row && max > 0 && row.place === 1);
    });
  }

  function renderPodium(message) {
    var podium = $("podium");
    podium.textContent = "";
    message.podium.slice().sort(function (a, b) { return a.place - b.place; }).forEach(function (entry) {
      var item = document.createElement("li");
      if (entry.place === 1) item.className = "first";
      var place = document.createElement("span");
      place.className = "place";
      place.textContent = labels.lPlace.replace("#", entry.place);
      var name = document.createElement("span");
      name.textContent = entry.name;
      item.appendChild(place);
      item.appendChild(name);
      if (typeof entry.score === "number") {
        var score = document.createElement("span");
        score.className = "score";
        score.textContent = entry.score + " " + unit(message, entry.score);
        item.appendChild(score);
      }
      podium.appendChild(item);
    });
    podium.hidden = message.podium.length === 0;
    $("bars").hidden = message.podium.length > 0 || !message.tally;
  }

  function render(message) {
    text("stage-title", message.title);
    text("poll-status", { draft: labels.lDraft, open: labels.lOpen, closed: labels.lClosed }[message.status] || "");
    text("ballot-count", String(message.ballots));
    root.classList.toggle("closed", message.status === "closed");
    $("hidden-note").hidden = !!message.tally || message.podium.length > 0;
    if (message.tally) renderBars(message);
    renderPodium(message);
  }

  function connected(ok) { $("connection").hidden = ok; }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { delay = 500; };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.unavailable) { connected(false); return; }
      connected(true);
      if (message.version < version && socket.seen) return;
      socket.seen = true;
      version = message.version;
      render(message);
    };
    socket.onclose = function () {
      connected(false);
      setTimeout(connect, delay + Math.random() * delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
})();
