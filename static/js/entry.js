/* The month screen: keyboard moves, block paste from Excel, live rates, cell states and a local draft.
   Plain JS, no dependency; data comes from data-attributes set by plans/month_entry.html. */
(function () {
  "use strict";
  var form = document.getElementById("entry-form");
  if (!form) { return; }
  var key = form.dataset.storageKey;
  var locked = form.dataset.locked === "1";
  var rows = Array.prototype.map.call(form.querySelectorAll("tr.entry-row"), function (tr) {
    return Array.prototype.slice.call(tr.querySelectorAll(".cell"));
  });

  function position(cell) {
    for (var r = 0; r < rows.length; r++) {
      var c = rows[r].indexOf(cell);
      if (c >= 0) { return [r, c]; }
    }
    return null;
  }

  function cellAt(r, col) {
    // The cell of row r in column col (data-col), else the row's value cell (its last cell).
    var row = rows[r];
    if (!row || !row.length) { return null; }
    for (var i = 0; i < row.length; i++) { if (row[i].dataset.col === col) { return row[i]; } }
    return row[row.length - 1];
  }

  function focus(cell) {
    if (!cell) { return; }
    cell.focus();
    if (cell.select) { cell.select(); }
  }

  function move(cell, dr, dc) {
    var pos = position(cell);
    if (!pos) { return; }
    if (dc !== 0) {
      var row = rows[pos[0]];
      var next = row[pos[1] + dc];
      if (next) { focus(next); return; }
      var r = pos[0] + dc;
      if (r >= 0 && r < rows.length && rows[r].length) { focus(dc > 0 ? rows[r][0] : rows[r][rows[r].length - 1]); }
      return;
    }
    var target = pos[0] + dr;
    if (target >= 0 && target < rows.length) { focus(cellAt(target, cell.dataset.col)); }
  }

  function valueOf(cell) { return cell.value.trim(); }

  function markState(cell) {
    var edited = valueOf(cell) !== (cell.dataset.saved || "");
    cell.classList.toggle("is-edited", edited);
    cell.classList.toggle("is-saved", !edited && (cell.dataset.saved || "") !== "");
    if (edited) { cell.classList.remove("is-refused"); }
  }

  function toNumber(text) {
    var folded = text.replace(/[\uFF10-\uFF19]/g, function (d) { return String.fromCharCode(d.charCodeAt(0) - 0xFEE0); })
      .replace(/\uFF0E/g, ".").replace(/[,\uFF0C]/g, "");
    return /^-?\d+(\.\d+)?$/.test(folded) ? parseFloat(folded) : NaN;
  }

  function liveRate(tr) {
    var out = tr.querySelector(".live-rate");
    if (!out) { return; }
    var num = toNumber(tr.querySelector("[data-col='0']").value);
    var den = toNumber(tr.querySelector("[data-col='1']").value);
    var places = parseInt(out.dataset.precision || "1", 10);
    if (isNaN(num) || isNaN(den) || den <= 0) { out.textContent = ""; return; }
    var scale = Math.pow(10, places);
    var rate = Math.round((num * 100 / den) * scale + 1e-9) / scale;
    out.textContent = "= " + rate.toFixed(places) + "%";
  }

  function initial(el) {
    // What the server rendered: an input's default value, a select's default option.
    if (el.tagName !== "SELECT") { return el.defaultValue; }
    for (var i = 0; i < el.options.length; i++) { if (el.options[i].defaultSelected) { return el.options[i].value; } }
    return el.options.length ? el.options[0].value : "";
  }

  // -- the local draft: what was typed survives a reload until the server says it was saved ----------
  function draft() {
    var data = {};
    form.querySelectorAll(".cell, [name$='-reason'], [name$='-cause'], [name$='-action']").forEach(function (el) {
      if (el.value !== initial(el)) {
        data[el.name] = el.value;
      }
    });
    return data;
  }

  function store() {
    try {
      var data = draft();
      if (Object.keys(data).length) { localStorage.setItem(key, JSON.stringify(data)); } else { localStorage.removeItem(key); }
    } catch (e) { /* storage full or disabled: the form still works */ }
  }

  function restore() {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved) { return; }
    var restored = 0;
    Object.keys(saved).forEach(function (name) {
      var el = form.elements[name];
      if (el && !el.disabled && el.value !== saved[name]) { el.value = saved[name]; restored++; if (el.classList.contains("cell")) { markState(el); } }
    });
    if (restored) {
      var notice = document.querySelector(".restore-notice");
      if (notice) { notice.hidden = false; }
    }
  }

  function discard() {
    try { localStorage.removeItem(key); } catch (e) { /* nothing to remove */ }
    form.querySelectorAll("input, select").forEach(function (el) {
      if (el.type === "hidden" || el.type === "radio") { return; }
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = o.defaultSelected; });
      } else { el.value = el.defaultValue; }
      if (el.classList.contains("cell")) { markState(el); }
    });
    form.querySelectorAll("tr.entry-row").forEach(liveRate);
    var notice = document.querySelector(".restore-notice");
    if (notice) { notice.hidden = true; }
  }

  // -- paste a block copied from Excel: rows by newline, columns by tab --------------------------------
  function paste(cell, text) {
    var lines = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
    if (lines.length === 1 && lines[0].indexOf("\t") < 0) { return false; }
    var pos = position(cell);
    if (!pos) { return false; }
    lines.forEach(function (line, i) {
      var r = pos[0] + i;
      if (r >= rows.length) { return; }
      var start = i === 0 ? cell : cellAt(r, cell.dataset.col);
      var c = rows[r].indexOf(start);
      line.split("\t").forEach(function (value, j) {
        var target = rows[r][c + j];
        if (!target || target.disabled) { return; }
        target.value = value.trim();
        markState(target);
      });
      liveRate(form.querySelectorAll("tr.entry-row")[r]);
    });
    store();
    return true;
  }

  form.addEventListener("keydown", function (event) {
    var cell = event.target;
    if (!cell.classList || !cell.classList.contains("cell")) { return; }
    var isSelect = cell.tagName === "SELECT";
    if (event.key === "Enter") { event.preventDefault(); move(cell, event.shiftKey ? -1 : 1, 0); }
    else if (event.key === "ArrowDown" && !isSelect) { event.preventDefault(); move(cell, 1, 0); }
    else if (event.key === "ArrowUp" && !isSelect) { event.preventDefault(); move(cell, -1, 0); }
    else if (event.key === "ArrowRight" && (isSelect || cell.selectionEnd === cell.value.length)) { event.preventDefault(); move(cell, 0, 1); }
    else if (event.key === "ArrowLeft" && (isSelect || cell.selectionStart === 0)) { event.preventDefault(); move(cell, 0, -1); }
  });

  form.addEventListener("paste", function (event) {
    var cell = event.target;
    if (!cell.classList || !cell.classList.contains("cell")) { return; }
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (paste(cell, text)) { event.preventDefault(); }
  });

  form.addEventListener("input", function (event) {
    var el = event.target;
    if (el.classList && el.classList.contains("cell")) { markState(el); liveRate(el.closest("tr")); }
    store();
  });
  form.addEventListener("change", function () { store(); });

  var discardButton = document.querySelector("[data-discard]");
  if (discardButton) { discardButton.addEventListener("click", discard); }

  form.querySelectorAll("tr.entry-row").forEach(liveRate);
  form.querySelectorAll(".cell").forEach(function (cell) { if (!cell.classList.contains("is-refused")) { markState(cell); } });
  if (form.dataset.saved === "1") {
    try { localStorage.removeItem(key); } catch (e) { /* nothing stored */ }
  } else if (!locked) {
    restore();
  }
})();
