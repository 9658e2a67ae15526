/* The grid worker's phone page (/field): today's visits, patrols and case reports.
   Visits, patrols and cases are queued on the phone (localStorage) and sent when the connection allows,
   each with an idempotency key chosen once: a resend after a lost answer never records twice.
   A service worker (/field-sw.js) keeps the page and the last answers it read, so after a first visit
   the page opens without a signal too. */
(function () {
  "use strict";
  var QUEUE = "gridmap-field-queue", PATROL = "gridmap-field-patrol", DUE = "gridmap-field-due:";
  var RETRY_MS = 15000;
  var state = {who: null, grid: null, due: [], map: null, gridLayer: null, homes: null, me: null,
               watch: null, flushing: false};

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  function $(id) { return document.getElementById(id); }

  /* A call with the session cookie (writes echo the CSRF nonce); rejects with .status on an error answer,
     without .status when no answer came (offline). */
  function api(path, options) {
    options = options || {};
    var headers = {"Accept": "application/json"};
    if (options.method && options.method !== "GET") { headers["X-CSRF-Token"] = cookie("gridmap_csrf"); }
    if (options.json !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(path, {method: options.method || "GET", headers: headers, credentials: "same-origin",
                        body: options.json === undefined ? undefined : JSON.stringify(options.json)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (!r.ok) { var e = new Error(body.detail || r.statusText); e.status = r.status; throw e; }
          if (!options.method || options.method === "GET") { keep(path); }
          return body;
        });
      });
  }

  /* ---- opening without a signal: the service worker keeps the page and the answers it read ---- */
  function keep(path) {
    // Once the worker controls the page it keeps every answer itself; before (the first visit), it is asked to.
    if (!("serviceWorker" in navigator) || navigator.serviceWorker.controller) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      registration.active.postMessage({keep: [path]});
    });
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field-sw.js", {scope: "/field"}).catch(function () {});
  }

  /* ---- the queue ---- */
  function queue() { try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; } }
  function saveQueue(items) { localStorage.setItem(QUEUE, JSON.stringify(items)); showNet(); }
  function enqueue(path, body) {
    var items = queue();
    items.push({path: path, body: body});
    saveQueue(items);
    flush();
  }
  function flush() {
    if (state.flushing || !navigator.onLine) { showNet(); return; }
    var items = queue();
    if (!items.length) { showNet(); return; }
    state.flushing = true;
    var item = items[0];
    api(item.path, {method: "POST", json: item.body}).then(function () {
      done(item.body.key, null);
    }, function (err) {
      if (err.status && err.status < 500 && [408, 409, 429].indexOf(err.status) < 0) {
        done(item.body.key, err.message);  // refused for good: resending cannot help
      } else {
        state.flushing = false; showNet();  // no answer: keep it, try again later
      }
    });
  }
  function done(key, problem) {
    saveQueue(queue().filter(function (i) { return i.body.key !== key; }));
    state.flushing = false;
    if (problem) { alert("一条记录未被接受：" + problem); }
    flush();
  }
  function showNet() {
    var net = $("fd-net"), waiting = queue().length, online = navigator.onLine;
    net.textContent = (online ? "在线" : "离线") + (waiting ? " · 待发送 " + waiting + " 条" : "");
    net.classList.toggle("fd-offline", !online);
  }

  /* ---- signing in, the grid ---- */
  function start() {
    api("/session").then(function (who) {
      state.who = who;
      if (who.role === "anonymous") { $("fd-login").hidden = false; return; }
      if (who.role !== "editor" && who.role !== "admin") {
        $("fd-who").textContent = "此页面供网格员使用"; return;
      }
      $("fd-who").textContent = (who.name || "网格员") + " · 今日工作";
      $("fd-work").hidden = false;
      initMap();
      resumePatrol();
      loadGrids();
      loadCategories();  // kept on the phone: a case can be reported where there is no signal
    }, function () { $("fd-who").textContent = "离线：请联网后打开"; });
  }
  $("fd-login").addEventListener("submit", function (e) {
    e.preventDefault();
    api("/login", {method: "POST", json: {token: $("fd-token").value}})
      .then(function () { location.reload(); }, function (err) { alert("登录失败：" + err.message); });
  });

  function loadGrids() {
    var communities = state.who.communities || [];
    var asks = communities.length ? communities.map(function (c) {
      return api("/collections/grids/items?f=json&limit=500&community_code=" + encodeURIComponent(c));
    }) : [api("/collections/grids/items?f=json&limit=500")];
    Promise.all(asks).then(function (pages) {
      var grids = [].concat.apply([], pages.map(function (p) { return p.features; }));
      var mine = grids.filter(function (g) { return g.properties.worker_name === state.who.name; });
      var shown = mine.length ? mine : grids;
      $("fd-grid").innerHTML = shown.map(function (g) {
        return '<option value="' + esc(g.properties.code) + '">' + esc(g.properties.name || g.properties.code) +
          "</option>";
      }).join("");
      state.grids = {};
      shown.forEach(function (g) { state.grids[g.properties.code] = g; });
      $("fd-grid").hidden = $("fd-grid-label").hidden = shown.length < 2;
      if (shown.length) { chooseGrid(shown[0].properties.code); }
    });
  }
  $("fd-grid").addEventListener("change", function () { chooseGrid(this.value); });

  function chooseGrid(code) {
    state.grid = code;
    state.gridLayer.clearLayers().addData(state.grids[code]);
    state.map.fitBounds(state.gridLayer.getBounds(), {animate: false});
    api("/visits/due?grid=" + encodeURIComponent(code)).then(function (answer) {
      localStorage.setItem(DUE + code, JSON.stringify(answer.households));
      showDue(answer.households);
    }, function () {
      showDue(JSON.parse(localStorage.getItem(DUE + code) || "[]"));  // offline: the list last fetched
    });
  }

  /* ---- the map ---- */
  function initMap() {
    state.map = L.map("fd-map", {zoomControl: false, attributionControl: false, preferCanvas: true});
    state.gridLayer = L.geoJSON(null, {style: {color: "#b71c1c", weight: 3, fillOpacity: 0.05}}).addTo(state.map);
    state.homes = L.layerGroup().addTo(state.map);
  }
  function locate(found) {
    if (!navigator.geolocation) { alert("此设备无法定位"); return; }
    navigator.geolocation.getCurrentPosition(found, function (err) { alert("定位失败：" + err.message); },
                                             {enableHighAccuracy: true, timeout: 20000, maximumAge: 10000});
  }
  function showMe(position) {
    var at = [position.coords.latitude, position.coords.longitude];
    if (state.me) { state.me.setLatLng(at); } else {
      state.me = L.circleMarker(at, {radius: 8, color: "#fff", weight: 3, fillColor: "#1565c0", fillOpacity: 1})
        .addTo(state.map);
    }
  }

  /* ---- today's visits: tap 走访, then tap 见到本人 or 未见到 ---- */
  function showDue(households) {
    state.due = households;
    state.homes.clearLayers();
    var grid = state.grids && state.grids[state.grid];
    $("fd-due-title").textContent = "今日走访 · " + (grid ? grid.properties.name || state.grid : "") +
      "（" + households.length + " 户）";
    $("fd-due").innerHTML = households.map(function (h, i) {
      var late = h.status === "overdue";
      var cats = (h.category_labels || []).join("、");
      return '<li data-code="' + esc(h.code) + '"><div class="fd-addr">' + (i + 1) + ". " + esc(h.address || h.code) +
        '</div><div class="fd-meta"><span class="' + (late ? "fd-overdue" : "") + '">' + esc(h.status_label) +
        (late && h.days_overdue != null ? " " + esc(h.days_overdue) + " 天" : "") + "</span>" +
        (cats ? " · " + esc(cats) : "") + " · 上次 " + esc(h.last_visit || "从未") + "</div>" +
        '<div class="fd-row"><button type="button" class="fd-go">走访</button></div></li>';
    }).join("");
    households.forEach(function (h, i) {
      if (h.lat == null) { return; }
      L.circleMarker([h.lat, h.lon], {radius: 7, color: "#fff", weight: 2, fillOpacity: 1,
                                      fillColor: h.status === "overdue" ? "#b71c1c" : "#ef6c00"})
        .bindTooltip(String(i + 1)).addTo(state.homes);
    });
  }
  $("fd-due").addEventListener("click", function (e) {
    var button = e.target.closest("button"), item = e.target.closest("li");
    if (!button || !item) { return; }
    var row = item.querySelector(".fd-row");
    if (button.classList.contains("fd-go")) {
      row.innerHTML = '<button type="button" class="fd-met" data-reached="1">见到本人</button>' +
        '<button type="button" data-reached="0">未见到</button>';
      return;
    }
    if (button.dataset.reached === undefined) { return; }
    enqueue("/visits", {key: newKey(), household_code: item.dataset.code, reached: button.dataset.reached === "1",
                        visited_at: new Date().toISOString()});
    row.innerHTML = '<span class="fd-done">✓ 已记录' + (button.dataset.reached === "1" ? "（见到本人）" : "（未见到）") +
      "</span>";
  });

  /* ---- patrols: the fixes kept on the phone until stopped, then queued as one record ---- */
  function patrol() { try { return JSON.parse(localStorage.getItem(PATROL) || "null"); } catch (e) { return null; } }
  function addFix(position) {
    var p = patrol();
    if (!p) { return; }
    var last = p.fixes[p.fixes.length - 1], t = Math.max(position.timestamp, last ? last[2] : 0);
    p.fixes.push([position.coords.longitude, position.coords.latitude, t]);
    localStorage.setItem(PATROL, JSON.stringify(p));
    showMe(position);
    showPatrol();
  }
  function watch() {
    state.watch = navigator.geolocation.watchPosition(addFix, function () {}, {enableHighAccuracy: true,
                                                                               maximumAge: 5000});
  }
  function showPatrol() {
    var p = patrol(), button = $("fd-patrol"), note = $("fd-patrol-state");
    button.textContent = p ? "结束巡查" : "开始巡查";
    button.classList.toggle("fd-on", !!p);
    note.hidden = !p;
    if (p) { note.textContent = "巡查中：已记录 " + p.fixes.length + " 个位置"; }
  }
  function resumePatrol() { if (patrol()) { watch(); } showPatrol(); }
  $("fd-patrol").addEventListener("click", function () {
    var p = patrol();
    if (!p) {
      if (!state.grid || !navigator.geolocation) { return; }
      localStorage.setItem(PATROL, JSON.stringify({key: newKey(), grid_code: state.grid, fixes: []}));
      watch();  // its first answer is where the patrol starts
      showPatrol();
      return;
    }
    if (state.watch !== null) { navigator.geolocation.clearWatch(state.watch); state.watch = null; }
    localStorage.removeItem(PATROL);
    if (p.fixes.length) { enqueue("/patrols", p); }
    showPatrol();
  });

  /* ---- a case where the worker stands, queued like the rest ---- */
  $("fd-case").addEventListener("click", function () {
    var form = $("fd-case-form");
    form.hidden = !form.hidden;
    if (!form.hidden && !$("fd-case-category").options.length) { loadCategories(); }
  });
  function loadCategories() {
    var kept = localStorage.getItem("gridmap-field-categories");
    api("/cases/categories").then(function (vocab) {
      localStorage.setItem("gridmap-field-categories", JSON.stringify(vocab.categories));
      fillCategories(vocab.categories);
    }, function () { fillCategories(kept ? JSON.parse(kept) : []); });  // offline: the list last loaded
  }
  function fillCategories(categories) {
    $("fd-case-category").innerHTML = categories.map(function (c) {
      return '<optgroup label="' + esc(c.name_zh) + '">' + c.children.map(function (s) {
        return '<option value="' + esc(s.code) + '">' + esc(s.name_zh) + "</option>";
      }).join("") + "</optgroup>";
    }).join("");
  }
  $("fd-case-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var category = $("fd-case-category").value;
    if (!category) { alert("请先选择案件类别（首次需联网载入）"); return; }
    locate(function (position) {
      showMe(position);
      enqueue("/cases", {key: newKey(), category: category, source: "grid_worker",
                         description: $("fd-case-text").value || null,
                         lon: position.coords.longitude, lat: position.coords.latitude});
      $("fd-case-text").value = ""; $("fd-case-form").hidden = true;
      $("fd-case-state").hidden = false;
      $("fd-case-state").textContent = "案件已记录，" + (navigator.onLine ? "正在上报" : "联网后自动上报");
    });
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", showNet);
  setInterval(flush, RETRY_MS);
  showNet();
  start();
  flush();
}());
