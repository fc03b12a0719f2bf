/* journeykit dashboard: draws the inline Plotly figures, turns tables into CSV downloads,
   and drives the few interactive forms (funnel steps, pain point details). No framework. */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
  };

  function drawCharts(root) {
    var boxes = (root || document).querySelectorAll("div.chart:not([data-drawn])");
    boxes.forEach(function (div) {
      var src = div.parentNode.querySelector('script[data-for="' + div.id + '"]');
      if (!src || typeof Plotly === "undefined") return;
      var fig = JSON.parse(src.textContent);
      var config = Object.assign({}, CONFIG, {
        toImageButtonOptions: { format: "png", filename: div.dataset.name || "chart", scale: 2 },
      });
      div.setAttribute("data-drawn", "1");
      Plotly.newPlot(div, fig.data, fig.layout, config).then(function () {
        div.setAttribute("data-rendered", "1");
        if (!window.__firstChart) {
          window.__firstChart = performance.now();
          if (performance.mark) performance.mark("first-chart");
        }
        div.dispatchEvent(new CustomEvent("jk:rendered", { bubbles: true }));
      });
    });
  }

  function csvCell(text) {
    if (/[",\n\r]/.test(text)) return '"' + text.replace(/"/g, '""') + '"';
    return text;
  }

  function tableCsv(table) {
    var lines = [];
    table.querySelectorAll("tr").forEach(function (tr) {
      var cells = [];
      tr.querySelectorAll("th,td").forEach(function (cell) {
        var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
        cells.push(csvCell(v));
      });
      lines.push(cells.join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  function download(name, text, type) {
    var blob = new Blob([text], { type: type || "text/csv;charset=utf-8" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button.csv");
    if (btn) {
      var box = btn.closest(".table-box");
      var table = box && box.querySelector("table");
      if (table) download((btn.dataset.name || "table") + ".csv", tableCsv(table));
      return;
    }
    var add = ev.target.closest("[data-add-step]");
    if (add) {
      var steps = document.getElementById("steps");
      var rows = steps.querySelectorAll(".step-row");
      var clone = rows[rows.length - 1].cloneNode(true);
      clone.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      steps.appendChild(clone);
      renumber(steps);
      return;
    }
    var del = ev.target.closest("[data-remove-step]");
    if (del) {
      var list = document.getElementById("steps");
      if (list.querySelectorAll(".step-row").length > 2) del.closest(".step-row").remove();
      renumber(list);
      return;
    }
    var pain = ev.target.closest("[data-pain]");
    if (pain) {
      showPain(pain);
    }
  });

  function renumber(steps) {
    steps.querySelectorAll(".step-row .n").forEach(function (n, i) { n.textContent = i + 1 + "."; });
  }

  function showPain(el) {
    var target = document.getElementById("pain-detail");
    if (!target) return;
    document.querySelectorAll("[data-pain].active").forEach(function (e) { e.classList.remove("active"); });
    el.classList.add("active");
    target.innerHTML = '<p class="muted">Loading…</p>';
    var url = "/journey/pain" + window.location.search + (window.location.search ? "&" : "?") +
      "id=" + encodeURIComponent(el.dataset.pain);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        target.innerHTML = html;
        drawCharts(target);
        target.scrollIntoView({ behavior: "smooth", block: "nearest" });
      });
  }

  // Clicks inside an embedded journey map (an iframe from the same origin) name pain points
  // by posting a message; show them the same way.
  window.addEventListener("message", function (ev) {
    if (ev.origin !== window.location.origin || !ev.data) return;
    if (ev.data.journeyMapHeight) {
      var frame = document.getElementById("journey-map");
      if (frame) frame.style.height = Math.min(ev.data.journeyMapHeight + 4, 820) + "px";
    }
    if (ev.data.painPoint) {
      var el = document.querySelector('.pain-list [data-pain="' + CSS.escape(ev.data.painPoint) + '"]');
      if (el) showPain(el);
    }
  });

  function start() {
    if (typeof Plotly === "undefined") {
      // plotly.min.js is deferred before this file, so it is there; a failed load leaves text.
      document.querySelectorAll("div.chart").forEach(function (d) {
        d.textContent = "The chart library did not load.";
      });
      return;
    }
    drawCharts(document);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
