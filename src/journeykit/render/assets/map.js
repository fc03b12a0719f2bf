/* journeykit journey map: draws the map from the JSON in #jk-data. No network, no libraries. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("jk-data").textContent);
  var state = { persona: D.personas[0], period: "all" };
  var LABEL_W = 148;
  var FONT = "Segoe UI, Helvetica Neue, Arial, sans-serif";
  var INK = "#1f2933", MUTED = "#616e7c", LINE = "#d9dee5", BAND = "#f5f7fa";
  var PAIN = "#c0392b", PAIN_BG = "#fdecea", OPP = "#1e8449", OPP_BG = "#e9f7ef";

  // --- formatting ---------------------------------------------------------------------------
  function esc(s) {
    return String(s === null || s === undefined ? "" : s)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function num(x) { return x === null || x === undefined || isNaN(x); }
  function fmtInt(x) { return num(x) ? "–" : Math.round(x).toLocaleString("en-GB"); }
  function fmtPct(x) { return num(x) ? "–" : Math.round(100 * x) + "%"; }
  function fmtEmo(x) { return num(x) ? "–" : (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(2); }
  function fmtMoney(x) {
    if (num(x)) return "–";
    var a = Math.abs(x), s = x < 0 ? "−" : "", c = D.currency || "";
    if (a >= 1e6) return s + c + (a / 1e6).toFixed(1) + "m";
    if (a >= 1e4) return s + c + Math.round(a / 1e3) + "k";
    if (a >= 1e3) return s + c + (a / 1e3).toFixed(1) + "k";
    return s + c + Math.round(a);
  }
  function fmtHours(h) {
    if (num(h)) return "–";
    if (h < 1) return Math.round(h * 60) + " min";
    if (h < 48) return h.toFixed(h < 10 ? 1 : 0) + " h";
    return (h / 24).toFixed(h < 240 ? 1 : 0) + " days";
  }
  function periodLabel(p) {
    if (p === "all") return "All dates";
    var d = new Date(p + "T00:00:00Z");
    if (D.period === "week") return "Week of " + p;
    return d.toLocaleString("en-GB", { month: "short", year: "numeric", timeZone: "UTC" });
  }
  function emoColour(e) {
    if (num(e)) return "#b0b8c1";
    var t = Math.max(-1, Math.min(1, e));
    var neg = [215, 48, 31], mid = [230, 200, 90], pos = [26, 152, 80];
    var a = t < 0 ? neg : pos, f = Math.abs(t);
    var c = [0, 1, 2].map(function (k) { return Math.round(mid[k] + (a[k] - mid[k]) * f); });
    return "rgb(" + c.join(",") + ")";
  }
  function channelColour(ch) { return D.channel_colours[ch] || "#8795a1"; }
  function segLabel(s) {
    if (s[0] === "wait") return s[1] + " wait";
    if (s[0] === "contacts") return s[1] + " contacts";
    return s[1];
  }
  function wrap(text, chars, maxLines) {
    var words = String(text).split(/\s+/), lines = [], cur = "";
    words.forEach(function (w) {
      if ((cur + " " + w).trim().length > chars && cur) { lines.push(cur); cur = w; }
      else cur = (cur + " " + w).trim();
    });
    if (cur) lines.push(cur);
    if (lines.length > maxLines) {
      lines = lines.slice(0, maxLines);
      lines[maxLines - 1] = lines[maxLines - 1].replace(/.{0,2}$/, "") + "…";
    }
    return lines;
  }
  function t(x, y, s, opts) {
    opts = opts || {};
    return '<text x="' + x.toFixed(1) + '" y="' + y.toFixed(1) + '" font-size="' + (opts.size || 12) +
      '" fill="' + (opts.fill || INK) + '"' + (opts.weight ? ' font-weight="' + opts.weight + '"' : "") +
      (opts.anchor ? ' text-anchor="' + opts.anchor + '"' : "") + ">" + esc(s) + "</text>";
  }

  // --- the view -----------------------------------------------------------------------------
  function view() {
    return D.views[state.persona + "|" + state.period] || { stages: [], touchpoints: [] };
  }
  function stageRow(v, i) {
    for (var k = 0; k < v.stages.length; k++) if (v.stages[k].stage_index === i) return v.stages[k];
    return null;
  }

  // --- the SVG map --------------------------------------------------------------------------
  function drawMap() {
    var v = view(), S = D.stages.length;
    var holder = document.getElementById("map");
    var avail = Math.max(holder.clientWidth - 16, 900);
    var colW = Math.max(210, Math.floor((avail - LABEL_W) / S));
    var width = LABEL_W + S * colW;
    var perRow = Math.max(3, Math.min(5, Math.floor(colW / 64)));
    var byStage = D.stages.map(function (s, i) {
      return v.touchpoints.filter(function (tp) { return tp.stage_index === i; });
    });
    var maxPeople = Math.max.apply(null, [1].concat(v.touchpoints.map(function (tp) { return tp.people || 0; })));
    var maxR = Math.min(24, colW / perRow / 2 - 6);
    var rowH = 2 * maxR + 40;
    var tpRows = Math.max.apply(null, [1].concat(byStage.map(function (l) { return Math.ceil(l.length / perRow); })));
    var painsBy = D.stages.map(function (s) { return D.pains.filter(function (p) { return p.stage === s.name; }); });
    var oppsBy = D.stages.map(function (s) { return D.opportunities.filter(function (o) { return o.stage === s.name; }); });
    var shown = 3;
    var badgeH = 52;
    var painN = Math.max(1, Math.min(shown, Math.max.apply(null, painsBy.map(function (l) { return l.length; }))));
    var oppN = Math.max(1, Math.min(shown, Math.max.apply(null, oppsBy.map(function (l) { return l.length; }))));
    var lanes = [
      { key: "stage", label: "Stages", h: 84 },
      { key: "tp", label: "Touchpoints", sub: ["size: people", "colour: channel"], h: tpRows * rowH + 12 },
      { key: "actions", label: "Customer actions", sub: ["commonest next steps", "(everyone, all dates)"], h: 70 },
      { key: "emotion", label: "Emotion", sub: ["survey answers", "−1 worst, +1 best"], h: 150 },
      { key: "pains", label: "Pain points", sub: ["biggest impact first", "(everyone, all dates)"], h: painN * (badgeH + 6) + 26 },
      { key: "opps", label: "Opportunities", sub: ["most valuable first", "(everyone, all dates)"], h: oppN * (badgeH + 6) + 26 }
    ];
    var y = 0;
    lanes.forEach(function (l) { l.y = y; y += l.h; });
    var height = y + 2;
    var out = [];
    out.push('<svg xmlns="http://www.w3.org/2000/svg" id="jk-svg" width="' + width + '" height="' + height +
      '" viewBox="0 0 ' + width + " " + height + '" font-family="' + FONT + '" role="img" aria-label="Journey map">');
    out.push('<rect x="0" y="0" width="' + width + '" height="' + height + '" fill="#ffffff"/>');
    lanes.forEach(function (l, k) {
      out.push('<g class="lane" data-lane="' + l.key + '">');
      out.push('<rect x="0" y="' + l.y + '" width="' + width + '" height="' + l.h + '" fill="' + (k % 2 ? "#ffffff" : "#fafbfc") + '"/>');
      out.push('<line x1="0" x2="' + width + '" y1="' + (l.y + l.h) + '" y2="' + (l.y + l.h) + '" stroke="' + LINE + '"/>');
      out.push('<rect x="0" y="' + l.y + '" width="' + (LABEL_W - 8) + '" height="' + l.h + '" fill="' + BAND + '"/>');
      out.push(t(12, l.y + 22, l.label, { size: 13, weight: 600 }));
      (l.sub || []).forEach(function (line, j) { out.push(t(12, l.y + 38 + j * 13, line, { size: 10.5, fill: MUTED })); });
      out.push("</g>");
    });
    var X = function (i) { return LABEL_W + i * colW; };
    for (var i = 1; i < S; i++) {
      out.push('<line x1="' + X(i) + '" x2="' + X(i) + '" y1="' + lanes[1].y + '" y2="' + height + '" stroke="' + LINE + '" stroke-dasharray="3 3"/>');
    }
    // stages
    var ls = lanes[0];
    D.stages.forEach(function (s, i) {
      var r = stageRow(v, i) || {};
      var x0 = X(i) + 4, x1 = X(i + 1) - 4, yy = ls.y + 8, h = ls.h - 16, tip = 12;
      var pts = [[x0, yy], [x1 - tip, yy], [x1, yy + h / 2], [x1 - tip, yy + h], [x0, yy + h], [x0 + (i ? tip : 0), yy + h / 2]];
      out.push('<polygon points="' + pts.map(function (p) { return p.join(","); }).join(" ") + '" fill="#e3ebf4" stroke="#b9c9dc"/>');
      var tx = x0 + (i ? tip + 6 : 10);
      out.push(t(tx, yy + 20, s.name.charAt(0).toUpperCase() + s.name.slice(1), { size: 15, weight: 700 }));
      out.push(t(tx, yy + 38, fmtInt(r.people) + " people · " + fmtPct(r.conversion) + " convert", { size: 11.5 }));
      var bits = [];
      if (i < S - 1) bits.push("→ next stage " + fmtPct(r.next_stage));
      if (!num(r.median_hours)) bits.push("median " + fmtHours(r.median_hours) + " in stage");
      out.push(t(tx, yy + 54, bits.join(" · "), { size: 11, fill: MUTED }));
    });
    // touchpoints
    var lt = lanes[1], xOf = {};
    byStage.forEach(function (list, i) {
      var cellW = colW / perRow;
      list.forEach(function (tp, k) {
        var cx = X(i) + cellW * (k % perRow) + cellW / 2;
        var cy = lt.y + 10 + Math.floor(k / perRow) * rowH + maxR + 2;
        xOf[tp.touchpoint] = cx;
        var r = 5 + (maxR - 5) * Math.sqrt((tp.people || 0) / maxPeople);
        var dash = tp.kind === "message" ? ' stroke-dasharray="2 2"' : tp.kind === "feedback" ? ' stroke-dasharray="5 2"' : "";
        var stroke = tp.kind === "error" ? PAIN : "#33415c";
        var tip = [tp.touchpoint + " (" + tp.kind + ")", "channels: " + tp.channel_mix,
          fmtInt(tp.people) + " people, " + fmtInt(tp.events) + " events",
          "go on to convert: " + fmtPct(tp.conversion) + " · next stage: " + fmtPct(tp.next_stage),
          "emotion: " + fmtEmo(tp.emotion) + " (" + fmtInt(tp.answers) + " answers)"];
        if (!num(tp.median_wait)) tip.push("median wait " + Math.round(tp.median_wait) + " s, long waits " + fmtPct(tp.long_wait));
        out.push('<g class="tp" data-tp="' + esc(tp.touchpoint) + '"><title>' + esc(tip.join("\n")) + "</title>");
        out.push('<circle cx="' + cx.toFixed(1) + '" cy="' + cy.toFixed(1) + '" r="' + r.toFixed(1) + '" fill="' + channelColour(tp.channel) +
          '" fill-opacity="0.85" stroke="' + stroke + '" stroke-width="' + (tp.kind === "error" ? 2 : 1) + '"' + dash + "/>");
        var lines = wrap(tp.touchpoint, Math.floor(cellW / 6.3), 2);
        lines.forEach(function (line, j) {
          out.push(t(cx, cy + maxR + 14 + j * 13, line, { size: 11, anchor: "middle", weight: 600 }));
        });
        out.push(t(cx, cy + maxR + 14 + lines.length * 13, fmtInt(tp.people), { size: 10, anchor: "middle", fill: MUTED }));
        out.push("</g>");
      });
    });
    // actions
    var la = lanes[2];
    D.stages.forEach(function (s, i) {
      var list = D.actions.filter(function (a) { return a.stage === s.name; }).slice(0, 3);
      if (!list.length) out.push(t(X(i) + 10, la.y + 22, "no moves within the stage", { size: 11, fill: MUTED }));
      list.forEach(function (a, k) {
        var label = a.src + " → " + a.dst;
        var chars = Math.floor((colW - 56) / 6);
        if (label.length > chars) label = label.slice(0, chars - 1) + "…";
        out.push(t(X(i) + 10, la.y + 20 + k * 17, label, { size: 11 }));
        out.push(t(X(i + 1) - 10, la.y + 20 + k * 17, fmtPct(a.share), { size: 11, fill: MUTED, anchor: "end" }));
      });
    });
    // emotion
    var le = lanes[3], top = le.y + 18, bot = le.y + le.h - 22;
    var Y = function (e) { return top + (1 - (e + 1) / 2) * (bot - top); };
    out.push('<line x1="' + LABEL_W + '" x2="' + width + '" y1="' + Y(0) + '" y2="' + Y(0) + '" stroke="#9aa5b1" stroke-dasharray="4 4"/>');
    out.push(t(LABEL_W - 14, Y(1) + 4, "+1", { size: 10, fill: MUTED, anchor: "end" }));
    out.push(t(LABEL_W - 14, Y(0) + 4, "0", { size: 10, fill: MUTED, anchor: "end" }));
    out.push(t(LABEL_W - 14, Y(-1) + 4, "−1", { size: 10, fill: MUTED, anchor: "end" }));
    var pts = v.touchpoints.filter(function (tp) { return !num(tp.emotion) && tp.answers > 0 && xOf[tp.touchpoint] !== undefined; })
      .map(function (tp) { return { x: xOf[tp.touchpoint], e: tp.emotion, tp: tp }; })
      .sort(function (a, b) { return a.x - b.x; });
    D.stages.forEach(function (s, i) {
      var r = stageRow(v, i) || {};
      if (num(r.emotion) || !r.answers) {
        out.push(t(X(i) + colW / 2, bot + 16, "no answers", { size: 10, fill: MUTED, anchor: "middle" }));
        return;
      }
      out.push('<line x1="' + (X(i) + 12) + '" x2="' + (X(i + 1) - 12) + '" y1="' + Y(r.emotion) + '" y2="' + Y(r.emotion) +
        '" stroke="' + emoColour(r.emotion) + '" stroke-width="6" stroke-opacity="0.35" stroke-linecap="round"/>');
      out.push(t(X(i) + colW / 2, bot + 16, "stage " + fmtEmo(r.emotion) + " · " + fmtInt(r.answers) + " answers", { size: 10, fill: MUTED, anchor: "middle" }));
    });
    if (pts.length > 1) {
      out.push('<polyline fill="none" stroke="#52606d" stroke-width="2" points="' +
        pts.map(function (p) { return p.x.toFixed(1) + "," + Y(p.e).toFixed(1); }).join(" ") + '"/>');
    }
    pts.forEach(function (p) {
      out.push('<g class="emo"><title>' + esc(p.tp.touchpoint + ": " + fmtEmo(p.e) + " from " + fmtInt(p.tp.answers) +
        " answers, " + fmtPct(p.tp.negative) + " negative") + "</title>");
      out.push('<circle cx="' + p.x.toFixed(1) + '" cy="' + Y(p.e).toFixed(1) + '" r="6" fill="' + emoColour(p.e) + '" stroke="#ffffff" stroke-width="1.5"/>');
      out.push(t(p.x, Y(p.e) + (p.e > 0.6 ? 18 : -10), fmtEmo(p.e), { size: 10.5, anchor: "middle", weight: 600 }));
      out.push("</g>");
    });
    // pains and opportunities
    function badges(lane, lists, colour, bg, kind) {
      lists.forEach(function (list, i) {
        if (!list.length) {
          out.push(t(X(i) + 10, lane.y + 22, kind === "pain" ? "none found" : "none found", { size: 11, fill: MUTED }));
          return;
        }
        list.slice(0, shown).forEach(function (p, k) {
          var bx = X(i) + 8, by = lane.y + 8 + k * (badgeH + 6), bw = colW - 16;
          var chars = Math.floor((bw - 16) / 6.2);
          out.push('<g class="badge clickable" data-' + kind + '="' + esc(p.id) + '"><title>' + esc(p.title) + "</title>");
          out.push('<rect x="' + bx + '" y="' + by + '" width="' + bw + '" height="' + badgeH + '" rx="4" fill="' + bg + '" stroke="' + colour + '"/>');
          var head = p.id + " · " + p.touchpoint + (p.segment.length ? " (" + p.segment.map(segLabel).join(", ") + ")" : "");
          if (head.length > chars) head = head.slice(0, chars - 1) + "…";
          out.push(t(bx + 8, by + 17, head, { size: 11.5, weight: 700, fill: colour }));
          var line2 = kind === "pain"
            ? fmtMoney(p.impact) + " lost (" + fmtMoney(p.impact_low) + " to " + fmtMoney(p.impact_high) + ")"
            : fmtMoney(p.value) + " (" + fmtMoney(p.value_low) + " to " + fmtMoney(p.value_high) + ")";
          out.push(t(bx + 8, by + 32, line2, { size: 11 }));
          var line3 = kind === "pain" ? p.kind.replace(/_/g, " ") + " · " + fmtInt(p.people) + " people" +
            (p.weeks.length ? " · " + p.weeks.length + " wk" : "") : p.kind + (p.segment.length ? " · " + p.segment[0].join(" ") : "");
          out.push(t(bx + 8, by + 46, line3, { size: 10.5, fill: MUTED }));
          out.push("</g>");
        });
        if (list.length > shown) {
          out.push(t(X(i + 1) - 10, lane.y + lane.h - 6, "+" + (list.length - shown) + " more below", { size: 10, fill: MUTED, anchor: "end" }));
        }
      });
    }
    badges(lanes[4], painsBy, PAIN, PAIN_BG, "pain");
    badges(lanes[5], oppsBy, OPP, OPP_BG, "opp");
    out.push("</svg>");
    holder.innerHTML = out.join("");
    holder.querySelectorAll("[data-pain]").forEach(function (el) {
      el.addEventListener("click", function () { openPanel(el.getAttribute("data-pain")); });
    });
    var legend = document.getElementById("legend");
    var used = {};
    v.touchpoints.forEach(function (tp) { if (tp.channel) used[tp.channel] = true; });
    legend.innerHTML = Object.keys(used).sort().map(function (c) {
      return '<span><span class="swatch" style="background:' + channelColour(c) + '"></span>' + esc(c) + "</span>";
    }).join("") + '<span>dashed ring: message or feedback · red ring: error</span>';
  }

  // --- lists and tables ---------------------------------------------------------------------
  function painCard(p) {
    return '<div class="pain" data-pain="' + esc(p.id) + '"><h3>' + esc(p.id + " · " + p.title) + "</h3>" +
      '<div class="meta">' + esc(p.stage + " · " + p.touchpoint) + (p.segment.length ? " · " + esc(p.segment.map(function (s) { return s.join(" = "); }).join(", ")) : "") +
      (p.weeks.length ? " · weeks of " + esc(p.weeks.join(", ")) : "") + "</div>" +
      '<div>impact <span class="num">' + fmtMoney(p.impact) + "</span> (" + fmtMoney(p.impact_low) + " to " + fmtMoney(p.impact_high) +
      ") · people lost <span class=\"num\">" + p.people_lost.toFixed(1) + "</span> · " + esc(p.interval) + "</div>" +
      '<ul class="evidence">' + p.evidence.map(function (e) { return "<li>" + esc(e) + "</li>"; }).join("") + "</ul></div>";
  }
  function oppCard(o) {
    return '<div class="opp"><h3>' + esc(o.id + " · " + o.title) + "</h3>" +
      '<div class="meta">' + esc(o.kind + " · " + o.stage + " · " + o.touchpoint) + "</div>" +
      '<div>value <span class="num">' + fmtMoney(o.value) + "</span> (" + fmtMoney(o.value_low) + " to " + fmtMoney(o.value_high) + ")</div>" +
      '<ul class="evidence">' + o.evidence.map(function (e) { return "<li>" + esc(e) + "</li>"; }).join("") + "</ul></div>";
  }
  function drawLists() {
    document.getElementById("pains").innerHTML = D.pains.length ? D.pains.map(painCard).join("") :
      '<p class="note">No pain point passed the significance threshold.</p>';
    document.getElementById("opps").innerHTML = D.opportunities.length ? D.opportunities.map(oppCard).join("") :
      '<p class="note">No opportunity passed the significance threshold.</p>';
    document.querySelectorAll("#pains .pain").forEach(function (el) {
      el.addEventListener("click", function () { openPanel(el.getAttribute("data-pain")); });
    });
  }
  function table(headers, rows) {
    var first = rows[0] || [];
    var isText = function (i) { return i === 0 || (first[i] && typeof first[i] === "object" && first[i].cls === "text"); };
    return "<table><thead><tr>" + headers.map(function (h, i) { return "<th" + (isText(i) ? ' class="text"' : "") + ">" + esc(h) + "</th>"; }).join("") +
      "</tr></thead><tbody>" + rows.map(function (r) {
        return "<tr>" + r.map(function (c) {
          if (c && typeof c === "object") return "<td" + (c.cls ? ' class="' + c.cls + '"' : "") + (c.bg ? ' style="background:' + c.bg + '"' : "") + ">" + esc(c.v) + "</td>";
          return "<td>" + esc(c) + "</td>";
        }).join("") + "</tr>";
      }).join("") + "</tbody></table>";
  }
  function drawTables() {
    var v = view();
    document.getElementById("tp-table").innerHTML = table(
      ["Touchpoint", "Stage", "People", "Events", "Convert", "Next stage", "To next", "Emotion", "Answers", "CES", "Repeat", "Long waits"],
      v.touchpoints.map(function (tp) {
        return [{ v: tp.touchpoint, cls: "text" }, { v: tp.stage, cls: "text" }, fmtInt(tp.people), fmtInt(tp.events), fmtPct(tp.conversion), fmtPct(tp.next_stage),
          num(tp.hours_next) ? "–" : fmtHours(tp.hours_next), fmtEmo(tp.emotion), fmtInt(tp.answers), num(tp.ces) ? "–" : tp.ces.toFixed(1),
          tp.kind === "contact" ? fmtPct(tp.repeat_rate) : "–", num(tp.long_wait) ? "–" : fmtPct(tp.long_wait)];
      }));
    document.getElementById("kpi-table").innerHTML = D.kpis.length ? table(
      ["KPI", "Stage", "Metric", "Value", "Target", ""],
      D.kpis.map(function (k) {
        var show = function (x) {
          if (num(x)) return "–";
          if (k.metric === "emotion") return fmtEmo(x);
          if (/conversion|next_stage|drop_off|share|csat|repeat_rate/.test(k.metric)) return fmtPct(x);
          if (k.metric === "ces") return x.toFixed(1);
          if (k.metric === "median_hours") return fmtHours(x);
          if (k.metric === "revenue") return fmtMoney(x);
          return fmtInt(x);
        };
        var mark = k.met === null || k.met === undefined ? "" : (k.met ? "on target" : "off target");
        return [{ v: k.kpi, cls: "text" }, { v: k.stage, cls: "text" }, { v: k.metric + (k.touchpoint ? " · " + k.touchpoint : ""), cls: "text" },
          show(k.value), show(k.target), { v: mark, cls: k.met ? "good" : (k.met === false ? "bad" : "") }];
      })) : '<p class="note">The spec names no KPIs.</p>';
    var c = D.conformance;
    document.getElementById("conf-summary").textContent = fmtPct(c.share_conforming) + " of " + fmtInt(c.journeys) +
      " journeys follow the designed order (" + D.stages.map(function (s) { return s.name; }).join(" → ") + "); " + fmtInt(c.completed) + " of them reach the last stage.";
    document.getElementById("conf-table").innerHTML = table(["Deviation", "From", "To", "People", "Share", "Moves"],
      c.table.map(function (r) { return [{ v: r.kind.replace(/_/g, " "), cls: "text" }, { v: r.from_stage, cls: "text" }, { v: r.to_stage, cls: "text" }, fmtInt(r.people), fmtPct(r.share), fmtInt(r.moves)]; }));
    var m = D.transitions;
    document.getElementById("matrix").innerHTML = table(["from \\ to"].concat(m.columns),
      m.index.map(function (name, i) {
        var total = m.data[i].reduce(function (a, b) { return a + b; }, 0) || 1;
        return [{ v: name, cls: "text" }].concat(m.data[i].map(function (n) {
          var share = n / total;
          return { v: n ? fmtInt(n) + " (" + fmtPct(share) + ")" : "·", bg: n ? "rgba(44,93,143," + (0.08 + 0.6 * share).toFixed(2) + ")" : "" };
        }));
      }));
  }

  // --- the side panel -----------------------------------------------------------------------
  function whatIfAt(p, r) {
    var pts = [{ reduction: 0, extra_conversions: 0, low: 0, high: 0, revenue: 0 }].concat(p.what_if);
    for (var k = 1; k < pts.length; k++) {
      if (r <= pts[k].reduction + 1e-9) {
        var a = pts[k - 1], b = pts[k], f = (r - a.reduction) / ((b.reduction - a.reduction) || 1);
        var mix = function (key) { return a[key] + f * (b[key] - a[key]); };
        return { extra: mix("extra_conversions"), low: mix("low"), high: mix("high"), revenue: mix("revenue") };
      }
    }
    var last = pts[pts.length - 1];
    return { extra: last.extra_conversions, low: last.low, high: last.high, revenue: last.revenue };
  }
  function openPanel(id) {
    var p = D.pains.filter(function (x) { return x.id === id; })[0];
    if (!p) return;
    var panel = document.getElementById("panel");
    var html = '<button class="close" aria-label="Close">×</button><h2>' + esc(p.id + " · " + p.title) + "</h2>" +
      '<div class="meta">' + esc(p.kind.replace(/_/g, " ") + " · " + p.stage + " · " + p.touchpoint) +
      (p.segment.length ? " · " + esc(p.segment.map(function (s) { return s.join(" = "); }).join(", ")) : "") + "</div>" +
      "<p>Impact <b>" + fmtMoney(p.impact) + "</b> (" + fmtMoney(p.impact_low) + " to " + fmtMoney(p.impact_high) + "): " +
      p.people_lost.toFixed(1) + " conversions lost among " + fmtInt(p.people) + " people affected. " + esc(p.interval) + ".</p>" +
      '<h4>Evidence</h4><ul class="evidence">' + p.evidence.map(function (e) { return "<li>" + esc(e) + "</li>"; }).join("") + "</ul>";
    if (p.weeks.length) html += "<h4>Weeks</h4><p>" + esc(p.weeks.join(", ")) + "</p>";
    if (p.what_if.length) {
      html += '<h4>What if this drop-off fell?</h4><div class="whatif"><input type="range" min="0" max="100" step="5" value="50" id="wi">' +
        '<div class="out" id="wi-out"></div><div class="note">Markov model of the journey (touchpoints as states, conversion and exit absorbing); interval from a bootstrap over people.</div></div>';
    }
    html += "<h4>Paths of affected people from here</h4>" + (p.paths.length ? p.paths.map(function (x) {
      return '<div class="path"><b>' + x[1] + "</b>" + esc(x[0]) + "</div>";
    }).join("") : '<p class="note">No paths.</p>');
    html += "<h4>Some of the people</h4>" + (p.people_sample.length ? p.people_sample.map(function (x) { return "<code>" + esc(x) + "</code>"; }).join(" ") : '<p class="note">None listed.</p>') +
      '<p class="note">Look one up with <code>journeykit person ID</code>.</p>';
    panel.innerHTML = html;
    panel.classList.add("open");
    panel.querySelector(".close").addEventListener("click", function () { panel.classList.remove("open"); });
    var slider = panel.querySelector("#wi");
    if (slider) {
      var update = function () {
        var r = Number(slider.value) / 100, w = whatIfAt(p, r);
        panel.querySelector("#wi-out").innerHTML = "If it fell by <b>" + slider.value + "%</b>: ≈ <b>+" + w.extra.toFixed(1) +
          "</b> conversions (" + w.low.toFixed(1) + " to " + w.high.toFixed(1) + "), about <b>" + fmtMoney(w.revenue) + "</b>";
      };
      slider.addEventListener("input", update);
      update();
    }
  }

  // --- export -------------------------------------------------------------------------------
  function svgText() {
    var svg = document.getElementById("jk-svg");
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(svg);
  }
  function download(name, blob) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  function savePng() {
    var svg = document.getElementById("jk-svg");
    var img = new Image(), scale = 2;
    img.onload = function () {
      var c = document.createElement("canvas");
      c.width = svg.width.baseVal.value * scale;
      c.height = svg.height.baseVal.value * scale;
      var g = c.getContext("2d");
      g.scale(scale, scale);
      g.drawImage(img, 0, 0);
      c.toBlob(function (b) { download("journey-map.png", b); });
    };
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svgText());
  }
  window.jkSvgText = svgText;

  // --- wiring -------------------------------------------------------------------------------
  function fillSelect(id, values, label) {
    var el = document.getElementById(id);
    el.innerHTML = values.map(function (v) { return '<option value="' + esc(v) + '">' + esc(label(v)) + "</option>"; }).join("");
    return el;
  }
  function render() {
    drawMap();
    drawTables();
    document.getElementById("view-note").textContent = state.persona + " · " + periodLabel(state.period);
  }
  var persona = fillSelect("persona", D.personas, function (v) { return v; });
  var period = fillSelect("period", ["all"].concat(D.periods), periodLabel);
  persona.addEventListener("change", function () { state.persona = persona.value; render(); });
  period.addEventListener("change", function () { state.period = period.value; render(); });
  document.getElementById("save-svg").addEventListener("click", function () {
    download("journey-map.svg", new Blob([svgText()], { type: "image/svg+xml" }));
  });
  document.getElementById("save-png").addEventListener("click", savePng);
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawMap, 150);
  });
  drawLists();
  render();
  window.__jkReady = true;
})();
