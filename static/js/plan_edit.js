/* The plan edit page: as a target phrase is typed, ask the server how it reads (rule and value, or the Japanese
   reason it cannot be read) and show it beside the field; mark rows changed but not saved.
   Plain JS, no dependency; URLs and texts come from data-attributes set by plans/plan_edit.html. */
(function () {
  "use strict";
  var form = document.getElementById("plan-edit-form");
  if (!form || !window.fetch) { return; }
  var url = form.dataset.parseUrl;  // the one parse-target endpoint, shared with the plan import's review
  var year = form.dataset.year;
  var DELAY = 250;

  function show(output, text, state) {
    output.textContent = text;
    output.classList.toggle("parse-error", state === "error");
    output.classList.toggle("parse-pending", state === "pending");
  }

  function watch(input) {
    var output = document.getElementById(input.dataset.output);
    var row = input.closest("tr");
    if (!output || !row) { return; }
    var timer = null;
    var controller = null;

    function parse() {
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      var value = input.value;
      show(output, form.dataset.reading, "pending");
      fetch(url + "?text=" + encodeURIComponent(value) + "&year=" + encodeURIComponent(year), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (data) {
        if (input.value !== value) { return; }  // typed on meanwhile: the next answer will come
        if (data.ok) { show(output, data.summary, "ok"); } else { show(output, data.error, "error"); }
        row.classList.toggle("has-error", !data.ok);
      }).catch(function (error) {
        if (error && error.name === "AbortError") { return; }
        show(output, form.dataset.unreachable, "error");
      });
    }

    input.addEventListener("input", function () {
      row.classList.toggle("is-changed", input.value !== input.dataset.seen);
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(parse, DELAY);
    });
  }

  Array.prototype.forEach.call(form.querySelectorAll("input.target-text"), watch);

  // Leaving with typed but unsaved phrases asks first (the browser's own dialog).
  var submitting = false;
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (submitting || !form.querySelector("tr.is-changed")) { return; }
    event.preventDefault();
    event.returnValue = "";
  });
}());
