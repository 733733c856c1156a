// A character counter for fields with a length limit. Such a field carries
// data-max-length="N" and a hint with the id "<field id>-limit" that states the limit;
// while the field holds text, the hint says "35 of 120 characters." and is marked when
// over. Nothing is ever cut: the server refuses a text that is too long and says why.
// The words come from this script tag's data-count and data-over ({count}, {limit},
// {over}); screen readers hear the count once typing pauses, through one polite live
// region, made when it is first needed.
(function () {
  "use strict";
  var script = document.currentScript;
  var countText = script && script.getAttribute("data-count");
  var overText = script && script.getAttribute("data-over");
  if (!countText || !overText) return;
  var spoken = null;
  var pause = null;

  function speakLater(text) {
    if (!spoken) {
      spoken = document.createElement("p");
      spoken.className = "visually-hidden";
      spoken.setAttribute("aria-live", "polite");
      document.body.appendChild(spoken);
    }
    window.clearTimeout(pause);
    pause = window.setTimeout(function () { spoken.textContent = text; }, 900);
  }

  // As the server counts: line ends as one character, no space at either end, and
  // characters rather than UTF-16 units (an emoji is one).
  function length(text) {
    return Array.from(text.replace(/\r\n/g, "\n").trim()).length;
  }

  function words(template, count, limit) {
    return template.replace("{count}", count).replace("{limit}", limit)
      .replace("{over}", Math.max(0, count - limit));
  }

  document.querySelectorAll("input[data-max-length], textarea[data-max-length]")
    .forEach(function (field) {
      var hint = document.getElementById(field.id + "-limit");
      var limit = parseInt(field.getAttribute("data-max-length"), 10);
      if (!hint || !(limit > 0)) return;
      var plain = hint.textContent;

      function show(announce) {
        var count = length(field.value);
        var over = count > limit;
        hint.textContent = count ? words(over ? overText : countText, count, limit) : plain;
        hint.classList.toggle("over", over);
        if (announce) speakLater(hint.textContent);
      }

      field.addEventListener("input", function () { show(true); });
      show(false);
    });
})();
