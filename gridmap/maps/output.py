"""Writing a map as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import folium

from gridmap.errors import ConfigError
from gridmap.maps.assets import external_references, inline_assets


def render_html(m: folium.Map) -> str:
    """The page of `m` with every script and stylesheet inlined from installed packages."""
    inline_assets(m)
    html: str = m.get_root().render()
    leaks = external_references(html)
    if leaks:
        raise ConfigError(f"the map would load assets from the network: {leaks[0]}")
    return html


def write_html(m: folium.Map, path: str | Path) -> Path:
    """Write `m` to `path` (parent folders created) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(m), encoding="utf-8")
    return out
