"""The meeting report's map: an SVG sized to fill its A4 page, with labels that never overlap.

The map takes the page's whole content box: a landscape page when the area
is wider than tall, portrait otherwise, so a street (twice as wide as tall)
no longer fills a third of a portrait page. The viewBox is in quarter
millimetres of paper, so font sizes are paper sizes whatever the area.

Labels are placed greedily by importance (community names, then grids from
the largest): a label whose box would overlap one already placed, a marker
or the page edge is tried smaller, then left off. Around a community or a
grid the neighbouring grids are drawn in grey with their names (what lies
next door), and the area's buildings, households (red without a speaker)
and speakers are drawn when it is small enough to read them.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.coverage import working
from gridmap.vocabulary import GRADE_COLORS, NO_DATA_COLOR

UNITS_PER_MM = 4.0
PORTRAIT_MM = (182.0, 222.0)
"""Content box of a portrait A4 page (14 mm margins) less the heading and the legend."""
LANDSCAPE_MM = (269.0, 146.0)
"""The same on a landscape page."""
DETAIL_HOUSEHOLDS = 6000
"""Most households drawn one by one (a community's or a grid's map)."""
REPAIR_COLOR = "#b2182b"
SITE_COLOR = "#006d2c"
COVERED_COLOR, UNCOVERED_COLOR = "#2166ac", "#d7191c"


@dataclass(frozen=True)
class MeetingMap:
    """The SVG and the page it needs (`landscape`), with what it drew (for the legend)."""

    svg: str
    landscape: bool
    households: bool
    context: bool


class _Labels:
    """Greedy non-overlapping label boxes inside the map."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.boxes: list[tuple[float, float, float, float]] = []

    def block(self, x: float, y: float, r: float) -> None:
        self.boxes.append((x - r, y - r, x + r, y + r))

    def place(self, x: float, y: float, text: str, size: float) -> tuple[float, float, float] | None:
        """Where (x, y, font size) to draw `text` centred near (x, y), or None when it cannot fit."""
        for font in (size, size * 0.8, size * 0.65):
            w = _text_width(text) * font / 2 + 1
            h = font / 2 + 1
            cx = min(max(x, w + 2), self.width - w - 2)  # pulled inside the map, never cut at an edge
            for cy in (y, y - 2.4 * h, y + 2.4 * h):  # on its point, else just above or below it
                if cx - w < 0 or cx + w > self.width or cy - h < 0 or cy + h > self.height:
                    continue
                box = (cx - w, cy - h, cx + w, cy + h)
                if not any(_overlap(box, b) for b in self.boxes):
                    self.boxes.append(box)
                    return cx, cy + font * 0.35, font
        return None


def _text_width(text: str) -> float:
    """Width of `text` in font sizes (CJK full width, other characters about half)."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.58 for ch in text)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def meeting_map(
    grids_all: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    area_grids: gpd.GeoDataFrame,
    *,
    detail: bool,
    buildings: gpd.GeoDataFrame | None = None,
    households: gpd.GeoDataFrame | None = None,
    speakers: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    repairs: pd.DataFrame | None = None,
) -> MeetingMap:
    """The area's grids coloured by grade and named, its communities outlined, repairs and numbered sites.

    `detail` (a community or a grid): neighbouring grids in grey for context,
    and the area's buildings, households (≤ DETAIL_HOUSEHOLDS, coloured by
    speaker coverage) and working speakers.
    """
    minx, miny, maxx, maxy = area_grids.total_bounds
    pad_x, pad_y = (maxx - minx) * 0.06 or 0.001, (maxy - miny) * 0.06 or 0.001
    minx, maxx, miny, maxy = minx - pad_x, maxx + pad_x, miny - pad_y, maxy + pad_y
    kx = float(np.cos(np.radians((miny + maxy) / 2)))
    aspect = (maxx - minx) * kx / (maxy - miny)
    landscape = aspect > 1.15
    box_w, box_h = LANDSCAPE_MM if landscape else PORTRAIT_MM
    if detail:  # widen the view to the page's shape: the room around the area shows its neighbours
        if aspect < box_w / box_h:
            grow = ((maxy - miny) * box_w / box_h / kx - (maxx - minx)) / 2
            minx, maxx = minx - grow, maxx + grow
        else:
            grow = ((maxx - minx) * kx * box_h / box_w - (maxy - miny)) / 2
            miny, maxy = miny - grow, maxy + grow
    scale = min(box_w / ((maxx - minx) * kx), box_h / (maxy - miny)) * UNITS_PER_MM
    width, height = (maxx - minx) * kx * scale, (maxy - miny) * scale

    def xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x - minx) * kx * scale, (maxy - y) * scale

    path = _path_writer(xy)
    view = shapely.box(minx, miny, maxx, maxy)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" class="map" '
        f'style="width:{width / UNITS_PER_MM:.1f}mm;height:{height / UNITS_PER_MM:.1f}mm">'
    ]
    labels = _Labels(width, height)
    codes = set(area_grids["code"].astype(str))
    neighbours = grids_all.iloc[0:0]
    if detail:
        near = grids_all[grids_all.intersects(view) & ~grids_all["code"].astype(str).isin(codes)]
        neighbours = near
        for g in near.geometry:
            out.append(f'<path d="{path(g)}" fill="#f3f3f3" stroke="#aaa" stroke-width="1"/>')
    opacity = 0.35 if detail else 0.75
    for r in area_grids.itertuples():
        color = GRADE_COLORS.get(str(r.grade), NO_DATA_COLOR)
        out.append(
            f'<path d="{path(r.geometry)}" fill="{color}" fill-opacity="{opacity}" '
            'stroke="#444" stroke-width="1.5"/>'
        )
    drew_households = False
    if detail:
        drew_households = _detail(out, codes, xy, path, buildings, households, speakers)
    shown = (
        communities[communities.intersects(view)]
        if detail
        else communities[communities["code"].isin(set(area_grids["community_code"]))]
    )
    for g in shown.geometry:
        out.append(f'<path d="{path(g)}" fill="none" stroke="#111" stroke-width="4"/>')
    markers: list[str] = []
    if repairs is not None and len(repairs):
        rx, ry = xy(repairs["lon"].to_numpy(), repairs["lat"].to_numpy())
        for x, y, rank in zip(rx, ry, repairs["rank"], strict=True):
            labels.block(x, y, 13)
            markers.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="12" fill="{REPAIR_COLOR}" '
                'stroke="#fff" stroke-width="2"/>'
                f'<text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="10" class="site">修{int(rank)}</text>'
            )
    if sites is not None and len(sites):
        sx, sy = xy(shapely.get_x(sites.geometry.values), shapely.get_y(sites.geometry.values))
        for x, y, rank in zip(sx, sy, sites["rank"], strict=True):
            labels.block(x, y, 14)
            markers.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="12" fill="{SITE_COLOR}" '
                'stroke="#fff" stroke-width="2"/>'
                f'<text x="{x:.1f}" y="{y + 5:.1f}" font-size="14" class="site">{int(rank)}</text>'
            )
    # Names by importance: the communities, the area's grids from the largest, then the neighbours.
    big = float(np.clip(np.sqrt(width * height / max(len(area_grids), 1)) / 9, 11, 18))
    texts: list[str] = []
    for name, point in zip(shown["name"].astype(str), shown.geometry.representative_point(), strict=True):
        if view.contains(point):
            _label(texts, labels, xy, point, name, big * 1.5, "big")
    # Degrees squared are enough to rank the grids by size.
    order = area_grids.assign(_a=shapely.area(area_grids.geometry.values)).sort_values("_a", ascending=False)
    for name, point in zip(order["name"].astype(str), order.geometry.representative_point(), strict=True):
        _label(texts, labels, xy, point, _short(name), big, "lbl")
    for name, geom in zip(neighbours["name"].astype(str), neighbours.geometry, strict=True):
        point = geom.intersection(view).representative_point()
        _label(texts, labels, xy, point, _short(name), big * 0.8, "ctx")
    out.extend(texts)
    out.extend(markers)
    out.append("</svg>")
    return MeetingMap("".join(out), landscape, drew_households, bool(len(neighbours)))


def _short(name: str) -> str:
    """A grid's name without its community ("瑞欣社区第11网格" -> "第11网格")."""
    return name.split("社区")[-1].split("村")[-1] or name


def _label(
    texts: list[str],
    labels: _Labels,
    xy: Callable[..., tuple[np.ndarray, np.ndarray]],
    point: shapely.Point,
    text: str,
    size: float,
    css: str,
) -> None:
    px, py = xy(np.array([point.x]), np.array([point.y]))
    placed = labels.place(float(px[0]), float(py[0]), text, size)
    if placed is not None:
        x, y, font = placed
        texts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{font:.1f}" class="{css}">{html.escape(text)}</text>'
        )


def _path_writer(xy: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Callable[[shapely.Geometry], str]:
    def path(geom: shapely.Geometry) -> str:
        parts = []
        for polygon in getattr(geom, "geoms", [geom]):
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = np.asarray(ring.coords)
                px, py = xy(coords[:, 0], coords[:, 1])
                parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True)) + "Z")
        return "".join(parts)

    return path


def _detail(
    out: list[str],
    codes: set[str],
    xy: Callable[..., tuple[np.ndarray, np.ndarray]],
    path: Callable[[shapely.Geometry], str],
    buildings: gpd.GeoDataFrame | None,
    households: gpd.GeoDataFrame | None,
    speakers: gpd.GeoDataFrame | None,
) -> bool:
    """The area's buildings, households as dots (red without a speaker) and working speakers."""
    if buildings is not None and "grid_code" in buildings:
        for g in buildings[buildings["grid_code"].isin(codes)].geometry:
            out.append(f'<path d="{path(g)}" fill="#fafafa" stroke="#777" stroke-width="0.8"/>')
    drew = False
    if households is not None:
        mine = households[households["grid_code"].isin(codes)]
        if 0 < len(mine) <= DETAIL_HOUSEHOLDS:
            covered = mine["speaker_covered"].fillna(False).astype(bool).to_numpy()
            hx, hy = xy(shapely.get_x(mine.geometry.values), shapely.get_y(mine.geometry.values))
            for x, y, ok in zip(hx, hy, covered, strict=True):
                color = COVERED_COLOR if ok else UNCOVERED_COLOR
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{color}"/>')
            drew = True
    if speakers is not None and len(speakers) and "grid_code" in speakers:
        on = speakers[working(speakers) & speakers["grid_code"].isin(codes).to_numpy()]
        wx, wy = xy(shapely.get_x(on.geometry.values), shapely.get_y(on.geometry.values))
        for x, y in zip(wx, wy, strict=True):
            out.append(
                f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#2166ac" stroke="#fff"/>'
            )
    return drew


def frames_of(analysis: object, frames: Mapping[str, gpd.GeoDataFrame], name: str) -> gpd.GeoDataFrame | None:
    """A layer with its derived `grid_code` (the analysis's copy when it has one)."""
    derived = getattr(analysis, "frames", None) or {}
    return derived.get(name, frames.get(name))
