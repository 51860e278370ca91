// Search and filter the Rosetta table (appendix/rosetta). The table is plain
// HTML that reads well without this script; the script shows the controls and
// hides the rows that do not match. Nothing is loaded from anywhere.
(function () {
  "use strict";

  // The table's columns after the operation, in order (companion.rosetta.table.LIBRARIES).
  var LIBRARIES = ["numpy", "pytorch", "tensorflow", "keras"];

  function verdictOf(row, library) {
    var chip = row.cells[LIBRARIES.indexOf(library) + 1].querySelector(".v");
    return chip ? chip.textContent : "";
  }

  function matches(row, filters) {
    if (filters.group && row.parentElement.dataset.group !== filters.group) return false;
    if (filters.verdict) {
      var libraries = filters.library ? [filters.library] : LIBRARIES;
      var hit = libraries.some(function (library) {
        var verdict = verdictOf(row, library);
        return filters.verdict === "differs" ? verdict.indexOf("differs") === 0 : verdict === filters.verdict;
      });
      if (!hit) return false;
    }
    return !filters.text || row.textContent.toLowerCase().indexOf(filters.text) !== -1;
  }

  function setUp(root) {
    var controls = root.querySelector(".rosetta-controls");
    if (!controls) return;
    var inputs = {};
    controls.querySelectorAll("[data-filter]").forEach(function (input) {
      inputs[input.dataset.filter] = input;
    });
    var rows = Array.prototype.slice.call(
      root.querySelectorAll("tbody[data-group] tr:not(.rosetta-group)"));
    var bodies = root.querySelectorAll("tbody[data-group]");
    var count = controls.querySelector(".rosetta-count");

    function apply() {
      var filters = {
        text: inputs.text.value.trim().toLowerCase(),
        group: inputs.group.value,
        library: inputs.library.value,
        verdict: inputs.verdict.value,
      };
      var shown = 0;
      rows.forEach(function (row) {
        var keep = matches(row, filters);
        row.hidden = !keep;
        if (keep) shown += 1;
      });
      bodies.forEach(function (body) {
        body.hidden = !body.querySelector("tr:not(.rosetta-group):not([hidden])");
      });
      count.textContent = shown + " of " + rows.length + " operations shown";
    }

    Object.keys(inputs).forEach(function (name) {
      inputs[name].addEventListener(name === "text" ? "input" : "change", apply);
    });
    controls.hidden = false;
    apply();
  }

  function start() {
    document.querySelectorAll(".rosetta").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
