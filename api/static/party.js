/* The party organisation tree of the console (党组织): the chain in force today from /party/orgs,
 * one street committee at a time; a community's 大党委 opens to its branches and groups, and a
 * 楼栋党小组 leads to its building on the map (from /collections/buildings/items).
 * On the map, the 专属网格 of the organisations in force (/party/dedicated): dashed outlines
 * labelled with each organisation's name, apart from the base grids' solid lines. */
(function () {
  "use strict";
  var gc = window.gc, esc = gc.esc;
  var shown = null;  // the building drawn for the group followed last

  function node(org, kinds) {
    var kind = kinds[org.kind] || org.kind;
    var follow = org.kind === "building_group"
      ? ' <button type="button" class="gc-link" data-building="' + esc(org.area_code) + '">在地图上查看</button>' : "";
    var secretary = org.secretary ? " · 书记 " + esc(org.secretary) : "";
    var head = '<span class="gc-org" data-org="' + esc(org.code) + '">' + esc(org.name) + "</span> <small>" +
      esc(kind) + secretary + "</small>" + follow;
    if (!org.children.length) { return "<li>" + head + "</li>"; }
    var open = org.kind === "street_committee" ? " open" : "";
    return '<li><details data-org="' + esc(org.code) + '"' + open + "><summary>" + head + "</summary><ul>" +
      org.children.map(function (c) { return node(c, kinds); }).join("") + "</ul></details></li>";
  }

  function followBuilding(code) {
    return gc.api("/collections/buildings/items/" + encodeURIComponent(code)).then(function (feature) {
      if (shown) { gc.map.removeLayer(shown); }
      shown = L.geoJSON(feature, {style: {color: "#c51b7d", weight: 3, fillOpacity: 0.4}}).addTo(gc.map);
      gc.map.fitBounds(shown.getBounds(), {maxZoom: 18});
      gc.partyBuilding = code;
    });
  }

  function render(section) {
    if (!gc.state || gc.state.role === "anonymous") {
      section.innerHTML = "<p>登录后查看党组织体系。</p>";
      return;
    }
    section.innerHTML = "<p>加载中…</p>";
    gc.api("/party/orgs").then(function (body) {
      if (!body.orgs.length) { section.innerHTML = "<p>尚未登记党组织。</p>"; return; }
      section.innerHTML = "<h2>党组织体系 <small>" + esc(body.on) + "</small></h2><ul class=\"gc-tree\" id=\"gc-party-tree\">" +
        body.orgs.map(function (o) { return node(o, body.kinds); }).join("") + "</ul>";
      section.querySelectorAll("button[data-building]").forEach(function (b) {
        b.addEventListener("click", function (e) { e.preventDefault(); followBuilding(b.dataset.building); });
      });
    }).catch(function (err) {
      section.innerHTML = '<p class="gc-warn">' + esc(err.message) + "</p>";
    });
  }

  var DEDICATED = {color: "#d95f02", weight: 2.5, dashArray: "8 6", fill: false};

  function drawDedicated() {
    if (!gc.state || gc.state.role === "anonymous") { return; }
    gc.api("/party/dedicated").then(function (fc) {
      if (!fc.features.length) { return; }
      gc.layers.dedicated = L.geoJSON(fc, {style: DEDICATED, interactive: false, onEachFeature: function (f, layer) {
        layer.bindTooltip(esc(f.properties.name), {permanent: true, direction: "center", className: "gc-dedicated"});
      }}).addTo(gc.map);
      gc.overlays.addOverlay(gc.layers.dedicated, esc(fc.label));
      gc.legendRows.push('<div><i class="gc-dash" style="border-color:' + DEDICATED.color + '"></i>' + esc(fc.label) + "</div>");
      gc.drawLegend();
    }).catch(function () { /* no party register: nothing to draw */ });
  }

  gc.mapHooks.push(drawDedicated);
  gc.registerPanel("party", "党组织", render);
})();
