"""Basemaps: none (offline default), OpenStreetMap, Tianditu, Amap (GCJ-02) or a local tile URL.

Amap tiles are drawn in GCJ-02, so a map on Amap shifts its data layers to
GCJ-02 (`Basemap.crs`); the others use WGS84 (Tianditu's CGCS2000 is the same
at this scale).
"""

from __future__ import annotations

from dataclasses import dataclass

import folium

from gridmap.errors import ConfigError
from gridmap.maps.labels import Lang

BASEMAP_NAMES = ("none", "osm", "tianditu", "amap")
NO_BASEMAP_BACKGROUND = "#eef0f3"


@dataclass(frozen=True)
class Tiles:
    """One tile layer of a basemap."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 19


@dataclass(frozen=True)
class Basemap:
    """A basemap: its name shown in the layer control, the CRS its tiles use, its tile layers."""

    key: str
    name_zh: str
    name_en: str
    crs: str
    tiles: tuple[Tiles, ...] = ()

    def name(self, lang: Lang) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def _tianditu(key: str | None, lang: Lang) -> tuple[Tiles, ...]:
    if not key:
        raise ConfigError("the tianditu basemap needs a key: set GRIDMAP_TIANDITU_KEY")
    attribution = "&copy; 天地图 Tianditu"
    layers = ("vec", "cva" if lang == "zh" else "eva")
    return tuple(
        Tiles(
            f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}",
            attribution,
            subdomains="01234567",
            max_zoom=18,
        )
        for layer in layers
    )


def resolve_basemap(spec: str, *, lang: Lang = "zh", tianditu_key: str | None = None) -> Basemap:
    """The basemap named by `spec`: one of BASEMAP_NAMES, or a tile URL template with {z}/{x}/{y}."""
    if spec == "none":
        return Basemap("none", "无底图", "No basemap", "wgs84")
    if spec == "osm":
        tiles = Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "&copy; OpenStreetMap contributors")
        return Basemap("osm", "OpenStreetMap", "OpenStreetMap", "wgs84", (tiles,))
    if spec == "tianditu":
        return Basemap("tianditu", "天地图", "Tianditu", "wgs84", _tianditu(tianditu_key, lang))
    if spec == "amap":
        amap_lang = "zh_cn" if lang == "zh" else "en"
        tiles = Tiles(
            f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={amap_lang}&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            "&copy; 高德地图 AutoNavi",
            subdomains="1234",
            max_zoom=18,
        )
        return Basemap("amap", "高德地图", "Amap", "gcj02", (tiles,))
    if all(part in spec for part in ("{z}", "{x}", "{y}")):
        return Basemap("url", "本地瓦片", "Local tiles", "wgs84", (Tiles(spec, "local tiles"),))
    raise ConfigError(
        f"unknown basemap {spec!r}; expected one of: {', '.join(BASEMAP_NAMES)}, "
        "or a tile URL template containing {z}, {x} and {y}"
    )


def add_basemap(m: folium.Map, basemap: Basemap, lang: Lang) -> None:
    """Add the basemap's tile layers to `m` (nothing for 'none': the page keeps a plain background)."""
    for i, tiles in enumerate(basemap.tiles):
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name=basemap.name(lang) if i == 0 else f"{basemap.name(lang)} ({i + 1})",
            subdomains=tiles.subdomains,
            max_zoom=tiles.max_zoom,
            max_native_zoom=tiles.max_zoom,
            overlay=i > 0,
            control=i == 0,
        ).add_to(m)
