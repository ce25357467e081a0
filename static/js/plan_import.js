// Plan import review: as a target phrase is typed, show how kpitrack reads it (the parse-target endpoint).
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) { return; }
  var url = form.getAttribute("data-parse-url");
  var year = form.getAttribute("data-year");
  var timers = {};

  function show(cell, result) {
    cell.textContent = "";
    var span = document.createElement("span");
    if (result.error) {
      span.className = "parse-error";
      span.textContent = result.error;
      cell.appendChild(span);
      return;
    }
    if (!result.kind) {
      span.className = "empty";
      span.textContent = cell.getAttribute("data-empty") || "";
      cell.appendChild(span);
      return;
    }
    span.className = "rule";
    span.textContent = result.label;
    cell.appendChild(span);
    [["target", "data-target-label"], ["baseline", "data-baseline-label"]].forEach(function (pair) {
      if (result[pair[0]]) {
        var figure = document.createElement("span");
        figure.className = "figure";
        figure.textContent = (cell.getAttribute(pair[1]) || "") + " " + result[pair[0]];
        cell.appendChild(figure);
      }
    });
  }

  // A catalog KPI chosen for an unmatched line: the "no match" flag goes (the server checks again on save).
  form.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.name || !/^line-[0-9]+-kpi$/.test(select.name)) { return; }
    var flag = select.parentNode.querySelector(".flag-unmatched");
    if (flag) { flag.hidden = select.value !== ""; }
  });

  form.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("target-input")) { return; }
    var cell = document.getElementById(input.getAttribute("data-result"));
    if (!cell) { return; }
    clearTimeout(timers[cell.id]);
    timers[cell.id] = setTimeout(function () {
      var query = "?text=" + encodeURIComponent(input.value) + "&year=" + encodeURIComponent(year);
      fetch(url + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (result) { show(cell, result); })
        .catch(function () { /* the server checks again on save */ });
    }, 250);
  });
})();
