"""Offline assets: every script and stylesheet inlined from installed packages, nothing from a CDN."""

from __future__ import annotations

import folium
import pytest
from folium.plugins import Fullscreen

from gridmap.errors import ConfigError
from gridmap.maps import coverage_map, render_html
from gridmap.maps.assets import external_references, inline_assets


def test_coverage_map_page_loads_nothing_from_the_network(fake) -> None:
    analysis, frames = fake
    html = render_html(coverage_map(analysis, frames=frames))
    assert external_references(html) == []
    for cdn in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "netdna.bootstrapcdn.com"):
        assert cdn not in html
    assert "url(data:image/png;base64," in html  # the layer control's icon, inlined
    # Counts are drawn per grid by the page itself: no clustering plugin is loaded.
    assert "Leaflet 1.9" in html and "MarkerClusterGroup" not in html


def test_folium_class_defaults_are_left_alone(fake) -> None:
    analysis, frames = fake
    render_html(coverage_map(analysis, frames=frames))
    assert any(url.startswith("https://") for _, url in folium.Map.default_js)


def test_an_asset_no_package_provides_is_an_error() -> None:
    m = folium.Map(tiles=None)
    Fullscreen().add_to(m)
    with pytest.raises(ConfigError, match=r"Control\.Fullscreen"):
        inline_assets(m)


def test_external_references_finds_cdn_tags() -> None:
    html = (
        '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/y.css">'
    )
    assert len(external_references(html)) == 2
    assert external_references('<script>var u = "https://tile.example/{z}";</script>') == []
