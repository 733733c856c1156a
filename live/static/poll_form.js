// The poll form: the approval limit (k) is shown only while approval is the chosen
// method. Without this script the field stays visible and the server reads it only
// for approval, so the form works either way.
(function () {
  "use strict";
  var limit = document.getElementById("approval-limit");
  var field = document.getElementById("max_choices");
  var methods = document.querySelectorAll('input[name="method"]');
  if (!limit || !field || !methods.length) return;

  function update() {
    var picked = document.querySelector('input[name="method"]:checked');
    limit.hidden = !(picked && picked.value === "approval");
    field.disabled = limit.hidden; // a hidden field must not block the form's own checks
  }

  for (var i = 0; i < methods.length; i++) methods[i].addEventListener("change", update);
  update();
})();
