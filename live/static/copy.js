// A copy button beside a read-only field (the private link). Without JS the button stays
// hidden and the field can be selected and copied by hand. The result is announced in a
// polite live region: "Kopiert", or how to copy by hand if the browser refused.
(function () {
  "use strict";
  function copyByHand(field, button) {
    field.focus();
    field.select();
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (e) {
      done = false;
    }
    button.focus(); // keyboard users stay where they were
    return done;
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var id = button.getAttribute("data-copy");
    var field = document.getElementById(id);
    var status = document.querySelector("[data-copy-status='" + id + "']");
    if (!field || !status) return;
    button.hidden = false;
    function announce(text) {
      status.textContent = "";
      // A new text in a later task, so the same words are announced again on a repeat.
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
    button.addEventListener("click", function () {
      var copied = button.getAttribute("data-copied");
      var failed = button.getAttribute("data-copy-failed");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { announce(copied); },
          function () { announce(copyByHand(field, button) ? copied : failed); }
        );
      } else {
        announce(copyByHand(field, button) ? copied : failed);
      }
    });
  });
})();
