/* The case inbox of the console (案件): report a case at an address, the cases the signed-in
 * role answers for (overdue ones highlighted), their next steps, a case on the map with its grid,
 * cases on the map by category and month, and the statistics per community. Everything through /cases. */
(function () {
  "use strict";
  var gc = window.gc, esc = gc.esc;
  var NEXT = {  // the buttons each duty gets for a case in each status (the server judges again)
    editor: {reported: ["accept", "void", "raise"], accepted: ["dispatch", "void", "raise", "send_down"],
             handled: ["check", "return"], checked: ["close", "return"],
             dispatched: ["return", "extend", "suspend", "raise"], suspended: ["resume"]},
    department: {dispatched: ["handle", "return", "extend", "suspend"], suspended: ["resume"]},
    reviewer: {closed: ["review"], merged: ["review"]},
  };
  var NEEDS_NOTE = {"return": true, "void": true, "extend": true, "suspend": true, "raise": true,
                    "send_down": true, "reject": true};
  var gridNames = {};
  var COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"];
  var vocab = null, filter = {status: "", overdue: false}, month = "", category = "", message = "";

  function label(list, code) {
    var hit = (list || []).filter(function (x) { return x.code === code; })[0];
    return hit ? hit.name_zh : code;
  }
  function subName(code) {
    var out = code;
    (vocab ? vocab.categories : []).forEach(function (c) {
      c.children.forEach(function (s) { if (s.code === code) { out = s.name_zh; } });
    });
    return out;
  }
  function colour(code) {
    var mains = vocab ? vocab.categories.map(function (c) { return c.code; }) : [];
    return COLOURS[Math.max(0, mains.indexOf(String(code).slice(0, 2))) % COLOURS.length];
  }
  function actionsFor(c) {
    var role = gc.state.role;
    if (c.pending_request) {  // a request waits: the level above approves or rejects it
      return role === "admin" || role === "editor" ? ["approve", "reject"] : [];
    }
    if (role === "admin") {
      return ["editor", "department", "reviewer"].reduce(function (all, duty) {
        return all.concat(NEXT[duty][c.status] || []);
      }, []).filter(function (a, i, all) { return all.indexOf(a) === i; });
    }
    return (NEXT[role] || {})[c.status] || [];
  }
  /* The deadline in the colour of its urgency: red past it, orange within a day, green otherwise. */
  function dueCell(c) {
    if (!c.due_at) { return "<td></td>"; }
    var left = (new Date(c.due_at).getTime() - Date.now()) / 3600000;
    var tone = left < 0 ? "#d7191c" : (left < 24 ? "#fdae61" : "#1a9641");
    return '<td style="white-space:nowrap"><span style="border-left:6px solid ' + tone + ';padding-left:4px">' +
      esc(c.due_at.slice(0, 16).replace("T", " ")) + "</span></td>";
  }
  function rate(r, code) {
    var g = (r.grades || {})[code] || {};
    return '<td style="background:' + (g.color || "transparent") + '">' + gc.pct(r[code]) +
      (g.grade ? " " + g.grade : "") + "</td>";
  }
  function layer() {
    if (!gc.layers.cases) { gc.layers.cases = L.layerGroup().addTo(gc.map); }
    return gc.layers.cases;
  }

  function reportForm() {
    var options = (vocab ? vocab.categories : []).map(function (c) {
      return '<optgroup label="' + esc(c.name_zh) + '">' + c.children.map(function (s) {
        return '<option value="' + esc(s.code) + '">' + esc(s.name_zh) + "（" + s.hours + "工作小时）</option>";
      }).join("") + "</optgroup>";
    }).join("");
    return '<h2>上报案件</h2><form id="gc-case-report" class="gc-case-form">' +
      '<label>类别 <select id="gc-case-category">' + options + "</select></label>" +
      '<label>地址 <input id="gc-case-address" placeholder="如：幸福路88号3栋" required></label>' +
      '<label>描述 <input id="gc-case-description" placeholder="问题描述"></label>' +
      '<button type="submit">上报</button></form><p id="gc-case-reported" class="gc-muted">' + esc(message) + "</p>";
  }

  function inboxHtml(list) {
    var rows = list.cases.map(function (c) {
      var buttons = actionsFor(c).map(function (a) {
        return '<button data-code="' + esc(c.code) + '" data-action="' + a + '">' + esc(label(vocab.actions, a)) + "</button>";
      }).join(" ");
      return '<tr class="' + (c.overdue ? "gc-overdue" : "") + '" data-row="' + esc(c.code) + '">' +
        '<td><a href="#" data-show="' + esc(c.code) + '">' + esc(c.code) + "</a></td>" +
        '<td style="white-space:nowrap">' + esc(subName(c.category)) + "</td>" +
        '<td style="white-space:nowrap">' + esc(c.grid_code ? (gridNames[c.grid_code] || c.grid_code) : "待定位") + "</td>" +
        '<td class="gc-case-status">' + esc(label(vocab.statuses, c.status)) + (c.overdue ? "（超期）" : "") +
        (c.pending_request ? "（待审批：" + esc(label(vocab.actions, c.pending_request)) + "）" : "") + "</td>" +
        dueCell(c) + "<td>" + buttons + "</td></tr>";
    });
    var statuses = vocab.statuses.map(function (s) {
      return '<option value="' + s.code + '"' + (filter.status === s.code ? " selected" : "") + ">" + esc(s.name_zh) + "</option>";
    }).join("");
    return '<h2>案件收件箱 <small class="gc-muted">' + gc.num(list.numberMatched) + " 件</small></h2>" +
      '<div class="gc-case-filter"><select id="gc-case-status"><option value="">全部状态</option>' + statuses +
      '</select> <label><input type="checkbox" id="gc-case-overdue"' + (filter.overdue ? " checked" : "") +
      "> 仅超期</label></div>" +
      '<table class="gc-table gc-cases"><thead><tr><th>编号</th><th>类别</th><th>网格</th><th>状态</th>' +
      "<th>处置时限</th><th>操作</th></tr></thead><tbody>" + rows.join("") + "</tbody></table>";
  }

  function statsHtml(stats) {
    var rows = stats.rows.map(function (r) {
      return '<tr data-stat="' + esc(r.key) + '"><td>' + esc(r.name || r.key) + "</td><td>" + gc.num(r.received) +
        '</td><td class="gc-stat-closed">' + gc.num(r.closed) + "</td><td>" + gc.pct(r.on_time_rate) +
        "</td>" + rate(r, "response_rate") + rate(r, "resolution_rate") + rate(r, "satisfaction_rate") +
        "<td>" + gc.num(r.overdue_now) + "</td><td>" + gc.num(r.awaiting_review) + "</td></tr>";
    });
    return '<h2>案件统计（按社区）</h2><table class="gc-table" id="gc-case-stats"><thead><tr><th>社区</th>' +
      "<th>受理</th><th>结案</th><th>按期结案率</th><th>响应率</th><th>解决率</th><th>满意率</th>" +
      "<th>当前超期</th><th>待回访</th></tr></thead><tbody>" + rows.join("") + "</tbody></table>";
  }

  function distributionHtml() {
    var months = ['<option value="">近一年</option>'];
    for (var m = 1; m <= 12; m += 1) {
      months.push('<option value="' + m + '"' + (String(m) === month ? " selected" : "") + ">" + m + "月</option>");
    }
    var kinds = ['<option value="">全部类别</option>'].concat((vocab ? vocab.categories : []).map(function (c) {
      return '<option value="' + esc(c.code) + '"' + (c.code === category ? " selected" : "") + ">" +
        esc(c.name_zh) + "</option>";
    }));
    return '<h2>案件热力图</h2><p><button id="gc-case-spread">在地图上显示</button> ' +
      '<select id="gc-case-month">' + months.join("") + '</select> <select id="gc-case-kind">' +
      kinds.join("") + '</select></p><p class="gc-muted" id="gc-case-spread-note"></p>';
  }

  /* A heat map of the cases of one month and category (all by default): where they pile up, it glows. */
  function showSpread() {
    gc.api("/cases?format=geojson&limit=10000").then(function (fc) {
      var group = layer();
      group.clearLayers();
      var points = [];
      fc.features.forEach(function (f) {
        if (!f.geometry) { return; }
        var when = new Date(f.properties.reported_at);
        if (month && when.getMonth() + 1 !== Number(month)) { return; }
        if (category && String(f.properties.category).slice(0, 2) !== category) { return; }
        points.push([f.geometry.coordinates[1], f.geometry.coordinates[0], 1]);
      });
      var hot = category ? colour(category) : "#b2182b";
      group.addLayer(L.heatLayer(points, {radius: 20, blur: 16, minOpacity: 0.25, maxZoom: 17,
        gradient: {0.3: "#fee8c8", 0.6: "#fdbb84", 1.0: hot}}));
      var note = document.getElementById("gc-case-spread-note");
      if (note) { note.textContent = "共 " + points.length + " 件" + (fc.features.length >= 10000 ? "（前 10000 件）" : ""); }
    }).catch(function (err) { alert(err.message); });
  }

  function showCase(code) {
    gc.api("/cases/" + encodeURIComponent(code)).then(function (c) {
      var group = layer();
      group.clearLayers();
      if (c.lat !== null && c.lon !== null) {
        var marker = L.circleMarker([c.lat, c.lon], {radius: 9, color: c.overdue ? "#b2182b" : "#08519c",
          weight: 3, fillOpacity: 0.6}).bindPopup(esc(code) + " " + esc(subName(c.category)) + "<br>" +
          esc(label(vocab.statuses, c.status)) + "<br>" + esc(c.address || ""));
        group.addLayer(marker);
        gc.map.setView([c.lat, c.lon], Math.max(gc.map.getZoom(), 16));
        marker.openPopup();
      }
      gc.current = c.grid_code;
      gc.restyle();
    }).catch(function (err) { alert(err.message); });
  }

  function move(code, action) {
    var body = {};
    if (NEEDS_NOTE[action]) {
      var note = window.prompt(label(vocab.actions, action) + "原因");
      if (!note) { return; }
      body.note = note;
    }
    if (action === "extend") {
      body.hours = Number(window.prompt("延期小时数", "8"));
      if (!body.hours) { return; }
    }
    if (action === "review") {
      var said = window.prompt("回访结果：满意 / 基本满意 / 不满意 / 未联系上", "满意");
      if (!said) { return; }
      var codes = {"满意": "satisfied", "基本满意": "basic", "不满意": "dissatisfied"};
      body.reached = said !== "未联系上";
      if (body.reached) { body.satisfaction = codes[said] || "satisfied"; }
      if (body.satisfaction === "dissatisfied") {
        body.reason = window.prompt("不满意原因：unsolved（未解决）/ attitude（态度）/ slow（不及时）", "unsolved");
      }
    }
    gc.api("/cases/" + encodeURIComponent(code) + "/" + action, {method: "POST", json: body})
      .then(function () { gc.showPanel("cases"); })
      .catch(function (err) { alert(err.message); gc.showPanel("cases"); });
  }

  function render(section) {
    var parts = [gc.api("/cases/categories")];
    var reads = gc.can("viewer");
    parts.push(reads ? gc.api("/cases?limit=100" + (filter.status ? "&status=" + filter.status : "") +
                              (filter.overdue ? "&overdue=true" : "")) : Promise.resolve(null));
    parts.push(reads ? gc.api("/cases/stats?by=community") : Promise.resolve(null));
    parts.push(reads ? gc.api("/cases/stats?by=grid") : Promise.resolve(null));
    Promise.all(parts).then(function (got) {
      vocab = got[0];
      (got[3] ? got[3].rows : []).forEach(function (r) { gridNames[r.key] = r.name || r.key; });
      var html = [reportForm()];
      if (got[1]) { html.push(inboxHtml(got[1]), distributionHtml()); }
      if (got[2]) { html.push(statsHtml(got[2])); }
      section.innerHTML = html.join("");
      bind(section);
    }).catch(function (err) { section.innerHTML = '<p class="gc-warn">' + esc(err.message) + "</p>"; });
  }

  function bind(section) {
    section.querySelector("#gc-case-report").addEventListener("submit", function (e) {
      e.preventDefault();
      var body = {category: section.querySelector("#gc-case-category").value,
                  address: section.querySelector("#gc-case-address").value,
                  description: section.querySelector("#gc-case-description").value || null};
      gc.api("/cases", {method: "POST", json: body}).then(function (c) {
        gc.lastCase = c.code;
        message = "已上报 " + c.code + "，" + (c.grid_code ? "网格 " + (gridNames[c.grid_code] || c.grid_code) :
          "待定位（" + (c.placement && c.placement.reason || "") + "）");
        render(section);
      }).catch(function (err) {
        section.querySelector("#gc-case-reported").textContent = "上报失败：" + err.message;
      });
    });
    section.querySelectorAll("button[data-action]").forEach(function (b) {
      b.addEventListener("click", function () { move(b.dataset.code, b.dataset.action); });
    });
    section.querySelectorAll("a[data-show]").forEach(function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); showCase(a.dataset.show); });
    });
    var status = section.querySelector("#gc-case-status");
    if (status) {
      status.addEventListener("change", function () { filter.status = status.value; render(section); });
      section.querySelector("#gc-case-overdue").addEventListener("change", function (e) {
        filter.overdue = e.target.checked; render(section);
      });
      section.querySelector("#gc-case-month").addEventListener("change", function (e) { month = e.target.value; });
      section.querySelector("#gc-case-spread").addEventListener("click", showSpread);
      section.querySelector("#gc-case-kind").addEventListener("change", function (e) { category = e.target.value; });
    }
  }

  gc.registerPanel("cases", "案件", render);
})();
