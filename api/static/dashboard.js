/* The 街道网格化综合管理中心 dashboard of the console: for the signed-in role's own area, the cases due
 * today, overdue and awaiting follow-up, the broken speakers, and this month's three rates coloured by
 * grade. Everything from /cases/dashboard, labels as the server gives them. */
(function () {
  "use strict";
  var gc = window.gc, esc = gc.esc;

  function html(d) {
    var counts = d.counts.map(function (c) {
      return '<div class="gc-tile" data-count="' + esc(c.code) + '"><b>' + gc.num(c.value) + "</b>" +
        esc(c.label_zh) + "</div>";
    }).join("");
    var rates = d.rates.map(function (r) {
      return '<div class="gc-tile gc-rate" data-rate="' + esc(r.code) + '" style="border-color:' + esc(r.color) +
        '"><b style="color:' + esc(r.color) + '">' + gc.pct(r.value) + "</b>" + esc(r.label_zh) +
        (r.grade ? ' <span class="gc-grade" style="background:' + esc(r.color) + '">' + esc(r.grade) + "</span>" : "") +
        "</div>";
    }).join("");
    var broken = d.broken_speakers.map(function (s) {
      return "<li>" + esc(s.name) + ' <span class="gc-muted">' + esc(s.code) + (s.grid_code ? "，" + esc(s.grid_name || s.grid_code) : "") +
        "</span></li>";
    }).join("");
    return '<h2 id="gc-dash-title">街道网格化综合管理中心</h2><p class="gc-muted">' + esc(d.day) +
      "（北京时间），" + esc(gc.state.name || "") + "负责范围</p>" +
      '<div class="gc-tiles" id="gc-dash-counts">' + counts + "</div>" +
      "<h3>本月三率（" + esc(d.month) + "）</h3>" +
      '<div class="gc-tiles gc-tiles-3" id="gc-dash-rates">' + rates + "</div>" +
      "<h3>故障广播</h3>" + (broken ? '<ul id="gc-dash-broken">' + broken + "</ul>" :
        '<p class="gc-muted" id="gc-dash-broken">没有故障广播。</p>');
  }

  function render(section) {
    if (!gc.can("viewer")) {
      section.innerHTML = '<p class="gc-muted">请先登录。</p>';
      return;
    }
    gc.api("/cases/dashboard").then(function (d) {
      section.innerHTML = html(d);
    }).catch(function (err) { section.innerHTML = '<p class="gc-warn">' + esc(err.message) + "</p>"; });
  }

  gc.registerPanel("dashboard", "管理中心", render);
})();
