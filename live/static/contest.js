// The idea owner list: a search box that narrows ~380 options by name or number.
// Without JS the plain <select> still works (type to jump). The chosen owner is never
// changed by searching; while none is chosen, the first match is picked (and replaced as
// the search changes).
(function () {
  "use strict";
  document.querySelectorAll("select[data-filterable]").forEach(function (select) {
    if (select.disabled) return;
    var blank = select.querySelector("option[value='']");
    var all = Array.prototype.filter.call(select.querySelectorAll("option"), function (o) {
      return o.value;
    }).map(function (o) {
      return { option: o, group: o.parentNode, text: o.textContent.toLowerCase() };
    });
    var box = document.createElement("input");
    box.type = "search";
    box.className = "owner-filter";
    box.id = select.id + "-filter";
    box.setAttribute("aria-label", select.getAttribute("data-filter-label") || "Søk");
    box.placeholder = box.getAttribute("aria-label");
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    select.parentNode.insertBefore(box, select);
    var picked = false; // the current value was picked by the search, not by the person
    select.addEventListener("change", function () { picked = false; });
    box.addEventListener("input", function () {
      var chosen = picked ? "" : select.value;
      var query = box.value.trim().toLowerCase();
      var first = null;
      all.forEach(function (item) { item.option.remove(); });
      all.forEach(function (item) {
        var keep = !query || item.option.value === chosen || item.text.indexOf(query) !== -1;
        if (!keep) return;
        item.group.appendChild(item.option);
        if (!first) first = item.option;
      });
      select.value = chosen;
      picked = !chosen && !!query && !!first;
      if (picked) select.value = first.value;
      if (blank) blank.selected = !select.value;
    });
  });
})();
