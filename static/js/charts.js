// Draw every plotly figure whose JSON sits in a <script type="application/json" id="NAME-data">
// into the element with id "NAME-chart". plotly.js is served locally (no CDN).
(function () {
  "use strict";
  var config = { responsive: true, displaylogo: false, locale: "ja",
                 modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  document.querySelectorAll("script[type='application/json'][id$='-data']").forEach(function (node) {
    var target = document.getElementById(node.id.replace(/-data$/, "-chart"));
    if (!target || !window.Plotly) { return; }
    var figure = JSON.parse(node.textContent);
    if (!figure || !figure.data) { return; }  // no chart for this KPI: the page says why in words
    window.Plotly.newPlot(target, figure.data, figure.layout, config);
  });
})();
