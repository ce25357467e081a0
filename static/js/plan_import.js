// Plan import review: as a target phrase is typed, show how kpitrack reads it (the parse-target endpoint, shared
// with the plan edit page).
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) { return; }
  var url = form.getAttribute("data-parse-url");
  var year = form.getAttribute("data-year");
  var timers = {};

  // The answer's shape is plans.phrases.PhraseReading.as_json(): the summary when read, else the reason.
  function show(cell, result) {
    cell.textContent = "";
    var span = document.createElement("span");
    if (!result.ok) {
      span.className = "parse-error";
      span.textContent = result.error || "";
    } else {
      span.className = result.kind ? "rule" : "empty";
      span.textContent = result.summary;
    }
    cell.appendChild(span);
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
