// The branch / year pickers of the branch dashboard: go to the chosen branch's page for the chosen year.
// The form's data-url is that page's address with BRANCH and 9999 standing for the two choices. Without
// JavaScript the form still submits (GET), and the page stays as it was.
(function () {
  "use strict";
  document.querySelectorAll("form.pickers[data-url]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var branch = form.elements.branch, year = form.elements.year;
      if (!branch || !year) { return; }
      event.preventDefault();
      window.location.href = form.dataset.url
        .replace("BRANCH", encodeURIComponent(branch.value))
        .replace("9999", encodeURIComponent(year.value));
    });
  });
})();
