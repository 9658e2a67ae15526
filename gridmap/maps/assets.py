"""Offline JavaScript and CSS: folium's CDN links replaced by files of installed packages.

Government intranets often have no internet, so a map must open from a single
HTML file with no request leaving the machine. Leaflet and its plugins come
from XStatic packages installed from PyPI (never copied into this repository)
and are inlined into the page; an asset folium asks for that no installed
package provides is an error rather than a silent CDN link.
"""

from __future__ import annotations

import base64
import importlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import folium
from branca.element import Element, Figure
from folium.elements import JSCSSMixin

from gridmap.errors import ConfigError


@dataclass(frozen=True)
class Asset:
    """One file of an installed XStatic package, under the name folium gives it."""

    package: str
    path: str

    @property
    def file(self) -> Path:
        module = importlib.import_module(f"xstatic.pkg.{self.package}")
        return Path(module.BASE_DIR) / self.path


# folium's names for its resources (Map and plugins' default_js / default_css).
JS_ASSETS: dict[str, Asset] = {
    "leaflet": Asset("leaflet", "leaflet.js"),
    "markerclusterjs": Asset("leaflet_markercluster", "leaflet.markercluster.js"),
}
CSS_ASSETS: dict[str, Asset] = {
    "leaflet_css": Asset("leaflet", "leaflet.css"),
    "markerclustercss": Asset("leaflet_markercluster", "MarkerCluster.css"),
    "markerclusterdefaultcss": Asset("leaflet_markercluster", "MarkerCluster.Default.css"),
}
# folium's Map asks for these for Bootstrap popups and AwesomeMarkers icons;
# gridmap draws neither, so they are dropped instead of inlined.
UNUSED = frozenset(
    {
        "jquery",
        "bootstrap",
        "awesome_markers",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)

_CSS_URL = re.compile(r"url\((?!['\"]?(?:data:|#))['\"]?([^)'\"]+)['\"]?\)")


@cache
def _read_js(name: str) -> str:
    # "</script" inside a script would end the element early.
    return JS_ASSETS[name].file.read_text(encoding="utf-8").replace("</script", "<\\/script")


@cache
def _read_css(name: str) -> str:
    asset = CSS_ASSETS[name]
    text = asset.file.read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = asset.file.parent / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/{image.suffix.lstrip('.')};base64,{encoded})"

    return _CSS_URL.sub(data_uri, text)


def _elements(root: Element) -> list[Element]:
    found, stack = [], [root]
    while stack:
        element = stack.pop()
        found.append(element)
        stack.extend(element._children.values())
    return found


def _collect(links: list[tuple[str, str]], known: dict[str, Asset], names: list[str], what: str) -> None:
    """Add the names of `links` to `names`; a link no installed package provides is an error."""
    for name, url in links:
        if name in UNUSED or name in names:
            continue
        if name not in known:
            raise ConfigError(f"no installed package provides the {what} {name!r} ({url})")
        names.append(name)


def inline_assets(m: folium.Map) -> None:
    """Replace every CDN link the map's elements would add by inlined package files.

    Call once, after every layer and plugin has been added. Order is kept:
    Leaflet before its plugins.
    """
    js: list[str] = []
    css: list[str] = []
    for element in _elements(m):
        if not isinstance(element, JSCSSMixin):
            continue
        _collect(element.default_js, JS_ASSETS, js, "script")
        _collect(element.default_css, CSS_ASSETS, css, "stylesheet")
        # Instance attributes shadow the class lists, which other maps still use.
        element.default_js = []
        element.default_css = []
    js.sort(key=lambda name: name != "leaflet")
    css.sort(key=lambda name: name != "leaflet_css")
    figure = m.get_root()
    assert isinstance(figure, Figure)
    styles = "".join(f"<style>{_read_css(name)}</style>" for name in css)
    scripts = "".join(f"<script>{_read_js(name)}</script>" for name in js)
    figure.header.add_child(Element(styles + scripts), name="gridmap_offline_assets", index=0)


_EXTERNAL = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*['\"]?(?:https?:)?//", re.I)


def external_references(html: str) -> list[str]:
    """Script and stylesheet tags that would load from the network (should be none)."""
    return [html[m.start() : html.find(">", m.start()) + 1] for m in _EXTERNAL.finditer(html)]
