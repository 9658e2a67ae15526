/* The gridmap console: map from the API (GeoJSON boundaries, MVT buildings and households),
 * one search box, a grid panel (figures, reasons, action list) and editing through the write API.
 * Panels are registered with gc.registerPanel so others (e.g. a case inbox) can be added. */
(function () {
  "use strict";
  var gc = window.gc = {
    map: null, layers: {}, panels: {}, order: [], state: {role: "anonymous"}, vocabulary: null,
    grids: {}, figures: {}, measure: "speaker", current: null, timings: {}, ready: false,
    mapHooks: [], legendRows: [],
  };
  var started = performance.now();
  var RANK = {anonymous: 0, viewer: 1, department: 1.5, editor: 2, admin: 3};
  var ROLE_ZH = {anonymous: "访客", viewer: "查看", department: "职能部门", editor: "编辑", admin: "管理员"};
  var KIND_ZH = {grid: "网格", community: "社区", street: "街道", address: "地址", point: "坐标"};

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
  function num(v) { return v === null || v === undefined ? "—" : Number(v).toLocaleString("zh-CN"); }
  function can(role) { return RANK[gc.state.role] >= RANK[role]; }
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  gc.esc = esc; gc.pct = pct; gc.num = num; gc.can = can;

  /* Every call goes with the session cookie; writes echo the CSRF nonce. The console is Chinese, so the
     API's error details it shows are asked for in Chinese whatever the browser's own language. */
  gc.api = function (path, options) {
    options = options || {};
    var headers = Object.assign({"Accept": "application/json", "Accept-Language": "zh-CN"}, options.headers || {});
    if (options.method && options.method !== "GET") { headers["X-CSRF-Token"] = cookie("gridmap_csrf"); }
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.json);
    }
    return fetch(path, {method: options.method || "GET", headers: headers, body: options.body,
                        credentials: "same-origin"}).then(function (r) {
      if (r.status === 204) { return null; }
      return r.json().then(function (body) {
        if (r.status === 503 && body.code === "not_ready" && !options.method) {
          /* The server is building its first analysis: ask again when it says to. */
          var seconds = Number(r.headers.get("Retry-After")) || 5;
          return new Promise(function (done) { setTimeout(done, seconds * 1000); }).then(function () {
            return gc.api(path, options);
          });
        }
        if (!r.ok) { var e = new Error(body.detail || r.statusText); e.status = r.status; e.body = body; throw e; }
        return body;
      });
    });
  };

  /* ---- panels ---- */
  gc.registerPanel = function (id, title, render) {
    gc.panels[id] = {title: title, render: render};
    if (gc.order.indexOf(id) < 0) { gc.order.push(id); }
    var tabs = document.getElementById("gc-tabs");
    var section = document.createElement("section");
    section.className = "gc-panel"; section.id = "gc-panel-" + id; section.hidden = true;
    document.getElementById("gc-panels").appendChild(section);
    var button = document.createElement("button");
    button.textContent = title; button.dataset.panel = id;
    button.addEventListener("click", function () { gc.showPanel(id); });
    tabs.appendChild(button);
    if (gc.order.length === 1) { gc.showPanel(id); }
  };
  gc.showPanel = function (id) {
    gc.order.forEach(function (other) {
      document.getElementById("gc-panel-" + other).hidden = other !== id;
      document.querySelector('#gc-tabs [data-panel="' + other + '"]').classList.toggle("gc-on", other === id);
    });
    var panel = gc.panels[id];
    if (panel.render) { panel.render(document.getElementById("gc-panel-" + id)); }
  };

  /* ---- who am I ---- */
  function renderUser() {
    var box = document.getElementById("gc-user"), s = gc.state;
    if (s.role === "anonymous") {
      box.innerHTML = '<form id="gc-login"><input id="gc-token" type="password" placeholder="令牌" ' +
        'aria-label="令牌"><button type="submit">登录</button></form>';
      document.getElementById("gc-login").addEventListener("submit", function (e) {
        e.preventDefault();
        gc.api("/login", {method: "POST", json: {token: document.getElementById("gc-token").value}})
          .then(function () { location.reload(); })
          .catch(function (err) { alert("登录失败：" + err.message); });
      });
    } else {
      box.innerHTML = '<span class="gc-role" id="gc-role">' + esc(s.name || "") + " · " +
        esc(ROLE_ZH[s.role]) + '</span><button id="gc-logout">退出</button>';
      document.getElementById("gc-logout").addEventListener("click", function () {
        gc.api("/logout", {method: "POST"}).then(function () { location.reload(); });
      });
    }
  }

  /* ---- map ---- */
  /* A value's colour is its class from /vocabulary (the grade rule lives in gridmap.vocabulary):
     a letter's own class, or the first class whose lowest share the value reaches. */
  function gradeColor(value, measure) {
    var v = gc.vocabulary, classes = v.measures[measure].classes;
    if (value === null || value === undefined) { return v.no_data; }
    if (typeof value === "string") { return v.grades[value] || v.no_data; }
    for (var i = 0; i < classes.length; i++) { if (value >= classes[i].low) { return classes[i].color; } }
    return v.no_data;
  }
  function gridStyle(feature) {
    var f = gc.figures[feature.properties.code], m = gc.vocabulary.measures[gc.measure];
    var fill = f ? gradeColor(f[m.column], gc.measure) : "#ffffff";
    var current = gc.current === feature.properties.code;
    return {color: current ? "#000" : "#4d4d4d", weight: current ? 3 : 0.8, fillColor: fill,
            fillOpacity: f ? 0.6 : 0.15};
  }
  gc.restyle = function () { if (gc.layers.grids) { gc.layers.grids.setStyle(gridStyle); } };

  function items(layer, bbox) {
    var q = "/collections/" + layer + "/items?limit=10000" + (bbox ? "&bbox=" + bbox : "");
    return gc.api(q);
  }
  function viewBbox() {
    var b = gc.map.getBounds().pad(0.3);
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
  }

  var names = [];
  function addNames(level, features) {
    features.forEach(function (f) {
      var layer = L.geoJSON(f), c = layer.getBounds().getCenter();
      names.push({level: level, code: f.properties.code, name: f.properties.name || f.properties.code, at: c});
    });
  }
  function drawNames() {
    var z = gc.map.getZoom(), view = gc.map.getBounds(), group = gc.layers.names, shown = 0;
    var level = z < gc.zooms.community ? "street" : z < gc.zooms.grid ? "community" : "grid";
    group.clearLayers();
    names.forEach(function (n) {
      if (n.level !== level || shown > 500 || !view.contains(n.at)) { return; }
      shown += 1;
      group.addLayer(L.marker(n.at, {interactive: false, keyboard: false, zIndexOffset: 4000,
        icon: L.divIcon({className: "gc-name gc-name-" + level, html: esc(n.name), iconSize: null})}));
    });
  }

  var gridsLoaded = {};
  function loadGrids() {
    if (gc.map.getZoom() < gc.zooms.gridData) { return Promise.resolve(); }
    var key = viewBbox();
    if (gridsLoaded[key]) { return gridsLoaded[key]; }
    gridsLoaded[key] = items("grids", key).then(function (fc) {
      var fresh = fc.features.filter(function (f) { return !gc.grids[f.properties.code]; });
      fresh.forEach(function (f) { gc.grids[f.properties.code] = f; });
      gc.layers.grids.addData(fresh);
      addNames("grid", fresh);
      drawNames();
    });
    return gridsLoaded[key];
  }

  function loadPoints() {
    if (gc.map.getZoom() < 14) { return; }
    var box = viewBbox();
    [["speakers", "#2166ac"], ["service_points", "#7b3294"]].forEach(function (pair) {
      items(pair[0], box).then(function (fc) {
        var group = gc.layers[pair[0]];
        fc.features.forEach(function (f) {
          if (group.byCode[f.properties.code]) { return; }
          var broken = f.properties.status === "broken";
          var marker = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
            radius: broken ? 6 : 5, color: "#fff", weight: 1, fillOpacity: 1,
            fillColor: broken ? "#b2182b" : pair[1]});
          marker.feature = f;
          marker.bindTooltip(esc(f.properties.name || f.properties.code) + (broken ? "（故障）" : ""));
          group.byCode[f.properties.code] = marker;
          group.addLayer(marker);
        });
      });
    });
  }

  function initMap() {
    gc.map = L.map("gc-map", {preferCanvas: true, zoomControl: true, maxZoom: 20});
    L.control.scale({imperial: false}).addTo(gc.map);
    gc.layers.streets = L.geoJSON(null, {style: {color: "#252525", weight: 3, fill: false}, interactive: false}).addTo(gc.map);
    gc.layers.communities = L.geoJSON(null, {style: {color: "#525252", weight: 1.6, fill: false}, interactive: false}).addTo(gc.map);
    gc.layers.grids = L.geoJSON(null, {style: gridStyle, onEachFeature: function (f, layer) {
      layer.on("click", function () { gc.openGrid(f.properties.code); });
      layer.bindTooltip(function () {
        var fig = gc.figures[f.properties.code];
        return esc(f.properties.name || f.properties.code) + (fig ? "：" + esc(fig.grade) : "");
      }, {sticky: true});
    }}).addTo(gc.map);
    gc.layers.names = L.layerGroup().addTo(gc.map);
    gc.layers.sites = L.layerGroup().addTo(gc.map);
    gc.layers.speakers = L.featureGroup().addTo(gc.map); gc.layers.speakers.byCode = {};
    gc.layers.service_points = L.featureGroup().addTo(gc.map); gc.layers.service_points.byCode = {};
    gc.layers.buildings = L.vectorGrid.protobuf("/tiles/buildings/{z}/{x}/{y}.mvt", {
      minZoom: 15, maxNativeZoom: 18, rendererFactory: L.canvas.tile, interactive: false,
      vectorTileLayerStyles: {buildings: {weight: 0.6, color: "#737373", fill: true, fillColor: "#d9d9d9", fillOpacity: 0.7}},
    });
    var overlays = {"建筑（矢量瓦片）": gc.layers.buildings, "广播": gc.layers.speakers,
                    "志愿服务点": gc.layers.service_points, "名称": gc.layers.names, "建议站点": gc.layers.sites};
    if (can("viewer")) {
      gc.layers.households = L.vectorGrid.protobuf("/tiles/households/{z}/{x}/{y}.mvt", {
        minZoom: 16, maxNativeZoom: 18, rendererFactory: L.canvas.tile, interactive: false,
        vectorTileLayerStyles: {households: {radius: 2, weight: 0, fill: true, fillColor: "#e6550d", fillOpacity: 0.8}},
      });
      overlays["住户（矢量瓦片）"] = gc.layers.households;
    }
    gc.overlays = L.control.layers(null, overlays, {collapsed: true}).addTo(gc.map);
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () { gc.legendBox = L.DomUtil.create("div", "gc-legend"); return gc.legendBox; };
    legend.addTo(gc.map);
    gc.map.on("zoomend", function () {
      var z = gc.map.getZoom();
      [["buildings", 15], ["households", 16]].forEach(function (pair) {
        var layer = gc.layers[pair[0]];
        if (!layer) { return; }
        if (z >= pair[1] && !gc.map.hasLayer(layer)) { layer.addTo(gc.map); }
      });
    });
    gc.map.on("moveend", function () { if (gc.zooms) { loadGrids(); loadPoints(); drawNames(); } });
  }

  function drawLegend() {
    var m = gc.vocabulary.measures[gc.measure], rows = ["<b>" + esc(m.zh) + "</b>"];
    m.classes.forEach(function (c) { rows.push('<div><i style="background:' + c.color + '"></i>' + esc(c.text) + "</div>"); });
    if (!can("viewer")) { rows.push('<div class="gc-muted">登录后显示覆盖率</div>'); }
    gc.legendBox.innerHTML = rows.concat(gc.legendRows).join("");
  }
  gc.drawLegend = drawLegend;

  function fillMeasures() {
    var select = document.getElementById("gc-measure");
    Object.keys(gc.vocabulary.measures).forEach(function (code) {
      var o = document.createElement("option");
      o.value = code; o.textContent = gc.vocabulary.measures[code].zh;
      select.appendChild(o);
    });
    select.addEventListener("change", function () { gc.measure = select.value; gc.restyle(); drawLegend(); });
  }

  /* A measure the analysis could not take (walking without roads) has no column: not offered. */
  function offerTakenMeasures(row) {
    if (!row) { return; }
    Array.prototype.forEach.call(document.getElementById("gc-measure").options, function (o) {
      o.hidden = row[gc.vocabulary.measures[o.value].column] === undefined;
    });
  }

  gc.loadFigures = function () {
    if (!can("viewer")) { return Promise.resolve(); }
    return gc.api("/coverage?level=grids").then(function (body) {
      gc.figures = {};
      body.grids.forEach(function (g) { gc.figures[g.code] = g; });
      offerTakenMeasures(body.grids[0]);
      gc.restyle();
    });
  };

  /* Zoom levels where each name level fits, from the sizes of the units themselves. */
  function zoomsFor(communities) {
    var world = 156543.03 * Math.cos(gc.map.getCenter().lat * Math.PI / 180);
    function fits(bounds, px) {
      var width = gc.map.distance(bounds.getSouthWest(), bounds.getSouthEast());
      return Math.ceil(Math.log2(world * px / Math.max(width, 1)));
    }
    var sizes = communities.map(function (f) { return L.geoJSON(f).getBounds(); });
    var community = sizes.length ? fits(sizes[Math.floor(sizes.length / 2)], 180) : 13;
    return {community: community, grid: community + 2, gridData: Math.max(community - 1, 0)};
  }

  /* ---- search ---- */
  function initSearch() {
    var form = document.getElementById("gc-search"), list = document.getElementById("gc-results");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = document.getElementById("gc-q").value.trim();
      if (!q) { return; }
      gc.api("/search?q=" + encodeURIComponent(q)).then(function (body) {
        var results = body.results;
        list.innerHTML = results.map(function (r, i) {
          return '<li data-i="' + i + '">' + esc(r.name || r.code) + '<span class="gc-kind">' +
            esc(KIND_ZH[r.kind] || r.kind) + " " + esc(r.code) + "</span></li>";
        }).join("");
        list.hidden = results.length < 2;
        list.querySelectorAll("li").forEach(function (li) {
          li.addEventListener("click", function () { list.hidden = true; gc.go(results[+li.dataset.i]); });
        });
        if (results.length) { gc.go(results[0]); }
      }).catch(function (err) {
        var s = (err.body && err.body.suggestions) || [], grids = (err.body && err.body.candidates) || [];
        // Said from what was asked (the API's detail names only the address).
        var said = err.status === 404 ? "未找到“" + q + "”对应的地址、网格、社区或坐标" + (s.length || grids.length ? "，可点选下列建议" : "")
          : "搜索失败（" + (err.status || "网络错误") + "），请稍后重试";
        list.innerHTML = '<li class="gc-warn">' + esc(said) + "</li>" + grids.map(function (code) {
          return '<li data-grid="' + esc(code) + '">' + esc(code) + '<span class="gc-kind">门牌号可能所在网格</span></li>';
        }).join("") + s.map(function (x) {
          return '<li data-q="' + esc(x.address) + '">' + esc(x.address) + '<span class="gc-kind">建议</span></li>';
        }).join("");
        list.hidden = false;
        list.querySelectorAll("li[data-grid]").forEach(function (li) {
          li.addEventListener("click", function () { list.hidden = true; gc.openGrid(li.dataset.grid); });
        });
        list.querySelectorAll("li[data-q]").forEach(function (li) {
          li.addEventListener("click", function () {
            document.getElementById("gc-q").value = li.dataset.q; list.hidden = true; form.requestSubmit();
          });
        });
      });
    });
  }
  gc.go = function (result) {
    if (result.bbox && result.bbox.length === 4) {
      gc.map.fitBounds([[result.bbox[1], result.bbox[0]], [result.bbox[3], result.bbox[2]]], {maxZoom: 17, animate: false});
    }
    if (result.grid_code) { gc.openGrid(result.grid_code); }
  };

  /* ---- grid panel ---- */
  function figureTable(g) {
    var rows = [["网格编码", esc(g.code)], ["所属社区", esc(g.community_name || g.community_code)],
      ["网格党支部", g.party_branch ? esc(g.party_branch) : '<span class="gc-warn">缺失</span>'],
      ["网格员", g.worker_name === undefined ? '<span class="gc-muted">登录后可见</span>' : g.worker_name ? esc(g.worker_name) : '<span class="gc-warn">缺失</span>']];
    if (g.worker_phone) { rows.push(["网格员电话", esc(g.worker_phone)]); }
    if (g.households !== undefined) {
      rows.push(["住户数", num(g.households)], ["党员户", num(g.party_members)], ["党员中心户", num(g.center_households)],
        ["广播未覆盖户", num(g.uncovered_households)]);
      Object.keys(gc.vocabulary.measures).forEach(function (code) {
        var m = gc.vocabulary.measures[code];
        if (!m.count || g[m.column] === undefined) { return; }
        var value = pct(g[m.column]);
        rows.push([esc(m.zh), code === "speaker" ? '<span id="gc-speaker-share">' + value + "</span>" : value]);
      });
    }
    return "<table>" + rows.map(function (r) { return "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>"; }).join("") + "</table>";
  }
  function people(list, total) {
    if (!total) { return '<p class="gc-muted">无</p>'; }
    if (!list.length) { return '<p class="gc-muted">共 ' + num(total) + " 户（登录后可见名单）</p>"; }
    return '<p class="gc-muted">共 ' + num(total) + " 户" + (total > list.length ? "，列出前 " + list.length + " 户" : "") +
      "</p><ol class=\"gc-people\">" + list.map(function (h) {
        var contact = [h.contact_name, h.contact_phone].filter(Boolean).map(esc).join(" ");
        return "<li>" + esc(h.address || h.code) + (contact ? ' <span class="gc-muted">' + contact + "</span>" : "") + "</li>";
      }).join("") + "</ol>";
  }
  function drawSites(sites) {
    gc.layers.sites.clearLayers();
    sites.forEach(function (s) {
      gc.layers.sites.addLayer(L.marker([s.lat, s.lon], {zIndexOffset: 9000, icon: L.divIcon({
        className: "", html: '<div class="gc-site" style="width:24px;height:24px">' + esc(s.rank) + "</div>",
        iconSize: [24, 24]})}).bindTooltip("建议站点 " + esc(s.rank) + "：新增覆盖 " + num(s.gain) + " 户"));
      gc.layers.sites.addLayer(L.circle([s.lat, s.lon], {radius: s.radius_m, color: "#006d2c", weight: 2,
        dashArray: "6 4", fill: false, interactive: false}));
    });
  }
  function renderGrid(section) {
    var a = gc.actions;
    if (!gc.current) { section.innerHTML = '<p class="gc-muted">在地图上点击网格，或在上方搜索地址、网格、社区、坐标。</p>'; return; }
    if (!a) { section.innerHTML = "<p>正在读取网格 " + esc(gc.current) + " …</p>"; return; }
    var g = a.grid, grade = g.grade ? '<span class="gc-grade" style="background:' + (gc.vocabulary.grades[g.grade] || "#999") +
      '">' + esc(g.grade) + "</span>" : "";
    var html = ["<h2>" + esc(g.name || g.code) + " " + grade + "</h2>", figureTable(g)];
    if (a.reasons) {
      html.push("<h3>评级原因</h3>", a.reasons.length ? "<ul id=\"gc-reasons\">" + a.reasons.map(function (r) {
        return "<li>" + esc(r.text) + "</li>"; }).join("") + "</ul>" : '<p class="gc-ok">各项均达 A 级</p>');
      if (gc.editable(g.community_code)) { html.push(gc.editorHtml()); }  // editors act first, read after
      html.push("<h3>待办事项</h3>", '<div id="gc-actions">');
      html.push("<h4>修复故障广播</h4>", a.repair.length ? "<ol>" + a.repair.map(function (s) {
        return "<li>" + esc(s.name || s.code) + "（" + esc(s.code) + "）：修复后可覆盖 " + num(s.would_cover) + " 户</li>"; }).join("") + "</ol>" : '<p class="gc-muted">无</p>');
      html.push("<h4>建议新增广播站点</h4>", a.sites.length ? "<ol>" + a.sites.map(function (s) {
        return "<li>" + esc(s.label || s.code) + "：新增覆盖 " + num(s.gain) + " 户</li>"; }).join("") + "</ol>" : '<p class="gc-muted">无</p>');
      html.push("<h4>广播未覆盖住户（上门告知）</h4>", people(a.uncovered.households, a.uncovered.total));
      html.push("<h4>未纳入一户十联的住户</h4>", people(a.unlinked.households, a.unlinked.total));
      if (a.findings.length) {
        html.push("<h4>拓扑问题</h4><ul>" + a.findings.map(function (f) { return "<li>" + esc(f.message_zh) + "</li>"; }).join("") + "</ul>");
      }
      html.push("</div>");
      html.push('<p><a href="/reports/grid/' + encodeURIComponent(g.code) + '.pdf" target="_blank">打印本网格会议报告（PDF）</a> · ' +
        '<a href="/maps/grid/' + encodeURIComponent(g.code) + '" target="_blank">网格详图</a></p>');
    }
    section.innerHTML = html.join("");
    if (a.reasons && gc.editable(g.community_code)) { gc.bindEditor(section); }
  }
  gc.openGrid = function (code) {
    if (code !== gc.current) { gc.lastEdit = ""; }
    gc.current = code; gc.actions = null; gc.restyle();
    gc.showPanel("grid");
    var t0 = performance.now();
    var request = can("viewer") ? gc.api("/grids/" + encodeURIComponent(code) + "/actions")
      : gc.api("/collections/grids/items/" + encodeURIComponent(code)).then(function (f) { return {grid: f.properties}; });
    return request.then(function (a) {
      if (gc.current !== code) { return; }
      gc.actions = a;
      drawSites(a.sites || []);
      gc.showPanel("grid");
      gc.timings.gridPanel = performance.now() - t0;
      gc.panelAt = performance.now();
    }).catch(function (err) {
      document.getElementById("gc-panel-grid").innerHTML = '<p class="gc-warn">' + esc(err.message) + "</p>";
    });
  };

  /* ---- editing (editors within their communities, admins anywhere) ---- */
  gc.editable = function (community) {
    return gc.state.role === "admin" || (gc.state.role === "editor" && gc.state.communities.indexOf(community) >= 0);
  };
  gc.editorHtml = function () {
    return '<h3>编辑</h3><div class="gc-edit">' +
      '<button id="gc-move">移动广播/服务点</button><button id="gc-add-speaker">新增广播</button>' +
      '<button id="gc-add-service">新增服务点</button><button id="gc-redraw">重绘网格边界</button></div>' +
      '<div id="gc-edit-status" class="gc-muted">' + (gc.lastEdit ? '<span class="gc-ok">' + esc(gc.lastEdit) + "</span>" : "") + "</div>";
  };
  function status(html) { var s = document.getElementById("gc-edit-status"); if (s) { s.innerHTML = html; } }
  function afterWrite(message) {
    gc.lastEdit = message;
    status('<span class="gc-ok">' + esc(message) + "</span>");
    return gc.loadFigures().then(function () { return gc.openGrid(gc.current); });
  }
  function showError(err) {
    var detail = err.body && err.body.errors ? err.body.errors.map(function (e) { return e.reason; }).join("；") : "";
    var html = '<span class="gc-warn">未保存：' + esc(err.message) + (detail ? "（" + esc(detail) + "）" : "") + "</span>";
    var findings = document.getElementById("gc-findings");  // while redrawing, keep the controls
    if (findings) { findings.innerHTML = "<p>" + html + "</p>"; } else { status(html); }
  }
  gc.bindEditor = function (section) {
    section.querySelector("#gc-move").addEventListener("click", function () {
      status("拖动地图上的广播或服务点到新位置，松开即保存。");
      ["speakers", "service_points"].forEach(function (layer) {
        Object.keys(gc.layers[layer].byCode).forEach(function (code) {
          var old = gc.layers[layer].byCode[code], f = old.feature;
          var color = old.options.fillColor;
          var marker = L.marker(old.getLatLng(), {draggable: true, title: f.properties.name || code, icon: L.divIcon({
            className: "gc-handle", iconSize: [16, 16],
            html: '<div style="width:16px;height:16px;border-radius:50%;border:2px solid #fff;box-shadow:0 0 3px #000;background:' + color + '"></div>'})});
          marker.feature = f;
          gc.layers[layer].removeLayer(old);
          gc.layers[layer].byCode[code] = marker;
          gc.layers[layer].addLayer(marker);
          marker.on("dragend", function () { gc.moveFeature(layer, f, marker.getLatLng()); });
        });
      });
    });
    [["#gc-add-speaker", "speakers"], ["#gc-add-service", "service_points"]].forEach(function (pair) {
      section.querySelector(pair[0]).addEventListener("click", function () {
        status("在地图上点击新位置。");
        gc.map.once("click", function (e) {
          var code = prompt("编码（唯一）");
          if (!code) { status(""); return; }
          var name = prompt("名称") || "";
          var props = {code: code, name: name};
          if (pair[1] === "speakers") { props.status = "working"; }
          gc.api("/collections/" + pair[1] + "/items", {method: "POST", json: {type: "Feature", properties: props,
            geometry: {type: "Point", coordinates: [e.latlng.lng, e.latlng.lat]}}})
            .then(function () { gc.layers[pair[1]].byCode = {}; gc.layers[pair[1]].clearLayers(); loadPoints(); return afterWrite("已新增 " + code); })
            .catch(showError);
        });
      });
    });
    section.querySelector("#gc-redraw").addEventListener("click", function () { gc.redraw(gc.current); });
  };
  gc.moveFeature = function (layer, feature, latlng) {
    var props = Object.assign({}, feature.properties);
    delete props.grid_code;
    var body = {type: "Feature", properties: props, geometry: {type: "Point", coordinates: [latlng.lng, latlng.lat]}};
    return gc.api("/collections/" + layer + "/items/" + encodeURIComponent(props.code), {method: "PUT", json: body})
      .then(function (saved) { feature.geometry = saved.geometry; return afterWrite("已保存 " + props.code + " 的新位置"); })
      .catch(showError);
  };
  /* Redraw a grid's outline. Its neighbours' vertices that coincide with its own move with them, so an
     edge shared with a neighbour moves for both grids at once: they are checked together and saved in
     one write (PUT /collections/grids/items), and never overlap on the way. */
  gc.redraw = function (code) {
    var feature = gc.grids[code];
    if (!feature) { status('<span class="gc-warn">网格边界未加载</span>'); return; }
    var rings = {}, polygons = {}, changed = {};
    rings[code] = outerRing(feature);
    var mine = {};
    rings[code].forEach(function (p) { mine[vertexKey(p)] = true; });
    Object.keys(gc.grids).forEach(function (c) {
      if (c === code) { return; }
      var ring = outerRing(gc.grids[c]);
      if (ring.some(function (p) { return mine[vertexKey(p)]; })) { rings[c] = ring; }
    });
    Object.keys(rings).forEach(function (c) {
      var own = c === code;
      polygons[c] = L.polygon(toLatLngs(rings[c]), {color: own ? "#ff6f00" : "#1f78b4", weight: own ? 3 : 2, dashArray: own ? null : "4 3", fillOpacity: 0.1}).addTo(gc.map);
    });
    var handles = rings[code].map(function (p) {
      var here = vertexKey(p), holders = [];
      Object.keys(rings).forEach(function (c) {
        rings[c].forEach(function (q, j) { if (vertexKey(q) === here) { holders.push([c, j]); } });
      });
      var shared = holders.length > 1;
      var h = L.marker([p[1], p[0]], {draggable: true, icon: L.divIcon({className: "", html: '<div style="width:10px;height:10px;background:' + (shared ? "#1f78b4" : "#ff6f00") + ';border:1px solid #fff"></div>', iconSize: [10, 10]})}).addTo(gc.map);
      h.on("drag", function () {
        var at = [h.getLatLng().lng, h.getLatLng().lat];
        holders.forEach(function (w) { rings[w[0]][w[1]] = at; changed[w[0]] = true; polygons[w[0]].setLatLngs(toLatLngs(rings[w[0]])); });
        document.getElementById("gc-save").disabled = true;  // moved since the last check
      });
      return h;
    });
    changed[code] = true;
    function redrawn() {
      return {type: "FeatureCollection", features: Object.keys(changed).map(function (c) {
        return {type: "Feature", properties: Object.assign({}, gc.grids[c].properties, {code: c}),
          geometry: {type: "Polygon", coordinates: [rings[c].concat([rings[c][0]])]}};
      })};
    }
    function done() {
      Object.keys(polygons).forEach(function (c) { gc.map.removeLayer(polygons[c]); });
      handles.forEach(function (h) { gc.map.removeLayer(h); });
    }
    var others = Object.keys(rings).length - 1;
    status('拖动顶点改边界' + (others ? '（蓝色顶点为与相邻 ' + others + ' 个网格共用的顶点，相邻网格随之一起修改）' : '') +
      '，然后 <button id="gc-check">检查拓扑</button> <button id="gc-save" disabled>保存</button> <button id="gc-cancel">取消</button><div id="gc-findings"></div>');
    document.getElementById("gc-cancel").addEventListener("click", function () { done(); status(""); });
    document.getElementById("gc-check").addEventListener("click", function () {
      gc.api("/grids/check", {method: "POST", json: redrawn()}).then(function (r) {
        document.getElementById("gc-findings").innerHTML = r.findings.length ? "<ul>" + r.findings.map(function (f) {
          return '<li class="' + (f.severity === "error" ? "gc-warn" : "") + '">' + esc(f.label) + "：" + esc(f.message) + "</li>"; }).join("") + "</ul>"
          : '<p class="gc-ok">拓扑检查通过：无重叠、无缝隙、未超出社区</p>';
        document.getElementById("gc-save").disabled = !r.ok;
      }).catch(showError);
    });
    document.getElementById("gc-save").addEventListener("click", function () {
      var codes = Object.keys(changed);
      gc.api("/collections/grids/items", {method: "PUT", json: redrawn()}).then(function (saved) {
        done();
        saved.features.forEach(function (f) { gc.grids[f.properties.code] = f; });
        gc.layers.grids.clearLayers(); gc.layers.grids.addData(Object.values(gc.grids));
        return afterWrite("已保存网格 " + codes.join("、") + " 的新边界");
      }).catch(showError);
    });
  };
  function outerRing(f) {
    var g = f.geometry;
    return (g.type === "MultiPolygon" ? g.coordinates[0][0] : g.coordinates[0]).slice(0, -1).map(function (p) { return [p[0], p[1]]; });
  }
  function vertexKey(p) { return p[0].toFixed(7) + "," + p[1].toFixed(7); }  // about a centimetre
  function toLatLngs(ring) { return ring.map(function (q) { return [q[1], q[0]]; }); }

  /* ---- start ---- */
  gc.registerPanel("grid", "网格", renderGrid);
  gc.registerPanel("about", "说明", function (section) {
    section.innerHTML = "<h2>使用说明</h2><ul><li>搜索地址、网格编码或名称、社区名、坐标（经度,纬度）。</li>" +
      "<li>点击网格查看指标、评级原因和待办事项。</li><li>切换指标查看广播、志愿服务、一户十联覆盖。</li>" +
      (can("editor") ? "<li>编辑员可在本社区移动或新增广播、服务点，重绘网格边界（保存前检查拓扑）。</li>" : "") +
      '</ul><p><a href="/docs" target="_blank">接口文档</a> · <a href="/maps/coverage" target="_blank">覆盖图</a> · ' +
      '<a href="/reports/district.pdf" target="_blank">全区会议报告（PDF）</a></p>';
  });

  gc.api("/session").then(function (who) {
    gc.state = who;
    renderUser();
    initMap();
    initSearch();
    return Promise.all([gc.api("/vocabulary"), items("streets"), items("communities")]);
  }).then(function (parts) {
    gc.vocabulary = parts[0];
    fillMeasures();
    gc.layers.streets.addData(parts[1].features);
    gc.layers.communities.addData(parts[2].features);
    var bounds = gc.layers.streets.getBounds();
    if (!bounds.isValid()) { bounds = gc.layers.communities.getBounds(); }
    gc.map.fitBounds(bounds.isValid() ? bounds : [[18, 73], [54, 135]], {animate: false});
    gc.zooms = zoomsFor(parts[2].features);
    addNames("street", parts[1].features);
    addNames("community", parts[2].features);
    drawLegend();
    drawNames();
    gc.firstMapAt = performance.now();
    gc.timings.firstMap = gc.firstMapAt - started;
    gc.ready = true;
    gc.mapHooks.forEach(function (hook) { hook(); });  // other panels' layers (e.g. party.js)
    return Promise.all([loadGrids(), gc.loadFigures()]);
  }).then(function () {
    loadPoints();
    gc.timings.figures = performance.now() - started;
    gc.loaded = true;
  }).catch(function (err) {
    document.getElementById("gc-panel-grid").innerHTML = '<p class="gc-warn">' + esc(err.message) + "</p>";
  });
})();
