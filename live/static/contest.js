// The idea owner list: a search box that narrows ~380 options by name or number.
// Without JS the plain <select> still works (type to jump).
(function () {
  "use strict";
  document.querySelectorAll("select[data-filterable]").forEach(function (select) {
    if (select.disabled) return;
    var all = Array.prototype.map.call(select.querySelectorAll("option"), function (o) {
      return { option: o, group: o.parentNode, text: o.textContent.toLowerCase() };
    });
    var box = document.createElement("input");
    box.type = "search";
    box.className = "owner-filter";
    box.id = select.id + "-filter";
    box.setAttribute("aria-label", select.getAttribute("data-filter-label") || "Søk");
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var query = box.value.trim().toLowerCase();
      var first = null;
      all.forEach(function (item) { item.option.remove(); });
      all.forEach(function (item) {
        var keep = !item.option.value || item.option.selected || !query ||
          item.text.indexOf(query) !== -1;
        if (!keep) return;
        item.group.appendChild(item.option);
        if (item.option.value && !first) first = item.option;
      });
      if (first && query && !select.value) select.value = first.value;
    });
  });
})();
