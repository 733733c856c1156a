// The host's control page: keep the ballot count and the tally live from the stream.
// The host's session makes the server send full counts even while they are hidden.
(function () {
  "use strict";
  var root = document.getElementById("admin-live");
  if (!root || !window.WebSocket) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.dataset.stream;
  var delay = 500;

  function render(message) {
    if (message.unavailable) return;
    document.getElementById("admin-ballots").textContent = String(message.ballots);
    if (!message.tally) return;
    var body = document.querySelector("#admin-tally tbody");
    body.textContent = "";
    message.tally.forEach(function (row) {
      var tr = document.createElement("tr");
      [row.place + (row.tied ? " (" + root.dataset.tie + ")" : ""), row.name, String(row.score)]
        .forEach(function (value) {
          var td = document.createElement("td");
          td.textContent = value;
          tr.appendChild(td);
        });
      body.appendChild(tr);
    });
    if (message.status !== root.dataset.status) root.hidden = false;
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { delay = 500; };
    socket.onmessage = function (event) { render(JSON.parse(event.data)); };
    socket.onclose = function () {
      setTimeout(connect, delay + Math.random() * delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
})();
