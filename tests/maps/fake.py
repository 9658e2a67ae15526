"""A small hand-made district shaped like `gridmap.analysis.Analysis`, with known answers.

One street, two communities, four grids of 500 m × 300 m near Shanghai; three
buildings of ten households per grid; a working speaker over grid G1, a
broken one over G4, a service point over G3; G4 has no party branch.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, box

from gridmap.crs import metric_crs

WGS84 = "EPSG:4326"
LON0, LAT0 = 121.40, 31.20


@dataclass
class FakeAnalysis:
    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    uncovered_areas: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    unassigned: gpd.GeoDataFrame


def _to_wgs84(metric: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return metric.to_crs(WGS84)


def build() -> tuple[FakeAnalysis, dict[str, gpd.GeoDataFrame]]:
    """(analysis, frames) of the fake district."""
    origin = gpd.GeoSeries([Point(LON0, LAT0)], crs=WGS84)
    crs = metric_crs(origin)
    ox, oy = origin.to_crs(crs).iloc[0].coords[0]

    def frame(data: dict, geoms: list) -> gpd.GeoDataFrame:
        moved = [shapely.affinity.translate(g, ox, oy) for g in geoms]
        return _to_wgs84(gpd.GeoDataFrame(data, geometry=moved, crs=crs))

    streets = frame({"code": ["S1"], "name": ["示例街道"]}, [MultiPolygon([box(0, 0, 1000, 600)])])
    communities = frame(
        {"code": ["C1", "C2"], "name": ["东苑社区", "西苑社区"], "street_code": ["S1", "S1"]},
        [MultiPolygon([box(0, 0, 500, 600)]), MultiPolygon([box(500, 0, 1000, 600)])],
    )
    grid_boxes = {"G1": (0, 0), "G2": (0, 300), "G3": (500, 0), "G4": (500, 300)}
    grid_geoms = [MultiPolygon([box(x, y, x + 500, y + 300)]) for x, y in grid_boxes.values()]

    bcodes, bgeoms, bgrid, hh_rows = [], [], [], []
    for g, (x, y) in grid_boxes.items():
        for i, (bx, by) in enumerate([(60, 60), (220, 180), (380, 90)]):
            code = f"{g}-B{i + 1}"
            bcodes.append(code)
            bgeoms.append(box(x + bx, y + by, x + bx + 40, y + by + 25))
            bgrid.append(g)
            for k in range(10):
                hh_rows.append((f"{code}-{k + 1:02d}", g, code, Point(x + bx + 20, y + by + 12.5)))
    buildings = frame(
        {
            "code": bcodes,
            "name": [f"{c}号楼" for c in bcodes],
            "address": [f"示例路{i + 1}号" for i in range(len(bcodes))],
            "floors": [6] * len(bcodes),
            "grid_code": bgrid,
        },
        bgeoms,
    )
    speakers = frame(
        {
            "code": ["SPK1", "SPK2"],
            "name": ["一号广播", "二号广播"],
            "radius_m": [300.0, 300.0],
            "status": ["working", "broken"],
            "grid_code": ["G1", "G4"],
        },
        [Point(250, 150), Point(750, 450)],
    )
    service_points = frame(
        {"code": ["SP1"], "name": ["西苑服务站"], "kind": ["综合"], "radius_m": [500.0], "grid_code": ["G3"]},
        [Point(750, 150)],
    )

    hh_geoms = [r[3] for r in hh_rows]
    spk = np.array([shapely.distance(g, Point(250, 150)) <= 300 for g in hh_geoms])
    svc = np.array([shapely.distance(g, Point(750, 150)) <= 500 for g in hh_geoms])
    codes = [r[0] for r in hh_rows]
    grid_of = [r[1] for r in hh_rows]
    center = [c.endswith("B1-01") for c in codes]
    linked_to = []
    for c, g in zip(codes, grid_of, strict=True):
        first = f"{g}-B1-01"
        n = int(c.split("-")[-1]) + 10 * (int(c.split("-")[1][1]) - 1)
        linked_to.append(first if n <= 11 else None)
    households = frame(
        {
            "code": codes,
            "grid_code": grid_of,
            "building_code": [r[2] for r in hh_rows],
            "party_member": [c.endswith("-01") or c.endswith("-02") for c in codes],
            "center_household": center,
            "speaker_covered": spk,
            "service_covered": svc,
            "linked_to": linked_to,
        },
        hh_geoms,
    )
    register = households[["code", "building_code", "geometry"]].copy()
    register["address"] = [f"示例路 {c}" for c in codes]

    per = pd.DataFrame(
        {"grid": grid_of, "spk": spk, "svc": svc, "lk": [x is not None for x in linked_to]}
    ).groupby("grid")
    share = per.mean()
    grid_codes = list(grid_boxes)
    speaker_share = [float(share.loc[g, "spk"]) for g in grid_codes]
    grades = ["A" if s >= 0.95 else "B" if s >= 0.8 else "C" if s >= 0.5 else "D" for s in speaker_share]
    grids = frame(
        {
            "code": grid_codes,
            "name": ["东苑一网格", "东苑二网格", "西苑一网格", "西苑二网格"],
            "community_code": ["C1", "C1", "C2", "C2"],
            "party_branch": ["东苑一支部", "东苑二支部", "西苑一支部", None],
            "worker_name": ["张三", "李四", "王五", "赵六"],
            "worker_phone": ["13800000001"] * 4,
            "street_code": ["S1"] * 4,
            "households": [30] * 4,
            "party_members": [6] * 4,
            "center_households": [1] * 4,
            "speaker_share": speaker_share,
            "service_share": [float(share.loc[g, "svc"]) for g in grid_codes],
            "linkage_share": [float(share.loc[g, "lk"]) for g in grid_codes],
            "uncovered_households": [int(30 - 30 * s) for s in speaker_share],
            "has_party_branch": [True, True, True, False],
            "has_worker": [True] * 4,
            "gap_count": [0, 1, 1, 2],
            "grade": grades,
            "uncovered_area_m2": [0.0] * 4,
        },
        grid_geoms,
    )
    ranges = shapely.buffer(Point(250, 150), 300)
    uncovered_areas = frame(
        {"grid_code": grid_codes, "area_m2": [0.0] * 4},
        [g.difference(ranges) for g in grid_geoms],
    )
    findings = frame(
        {
            "kind": ["overlap", "gap"],
            "severity": ["error", "warning"],
            "codes": [["G1", "G3"], ["G2"]],
            "community_code": ["C1", "C1"],
            "area_m2": [12.0, 3.5],
        },
        [box(498, 100, 502, 103), box(100, 299, 103, 301)],
    )
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=WGS84)
    analysis = FakeAnalysis(
        grids=grids,
        communities=communities,
        streets=streets,
        households=households,
        uncovered_areas=uncovered_areas,
        findings=findings,
        gaps=empty,
        unassigned=empty,
    )
    frames = {
        "streets": streets,
        "communities": communities,
        "grids": grids,
        "buildings": buildings,
        "households": register,
        "speakers": speakers,
        "service_points": service_points,
    }
    return analysis, frames


STREET_W, STREET_H = 3200.0, 1500.0
"""A street of the sample city (bench/work/city200.gpkg): 3.2 km × 1.5 km."""


def city(streets: int = 200, columns: int = 14) -> FakeAnalysis:
    """A city of `streets` streets side by side, each one community of 2 × 2 grids with 10 households.

    Shaped like the sample city's streets, with names as long as theirs, so what a map does at a
    city's opening zoom can be checked in seconds.
    """
    origin = gpd.GeoSeries([Point(LON0, LAT0)], crs=WGS84)
    crs = metric_crs(origin)
    ox, oy = origin.to_crs(crs).iloc[0].coords[0]
    corners = [(ox + (i % columns) * STREET_W, oy + (i // columns) * STREET_H) for i in range(streets)]
    street_codes = [f"S{i:03d}" for i in range(streets)]
    blocks = [MultiPolygon([box(x, y, x + STREET_W, y + STREET_H)]) for x, y in corners]
    syllables = "紫阳青林金湖碧园白溪丹峰翠山云岭松桥玉川"
    names = [
        f"{syllables[i % 20]}{syllables[(i // 20) % 20]}{'东' if i >= 400 else ''}街道"
        for i in range(streets)
    ]

    def frame(data: dict, geoms: list) -> gpd.GeoDataFrame:
        return _to_wgs84(gpd.GeoDataFrame(data, geometry=geoms, crs=crs))

    streets_frame = frame({"code": street_codes, "name": names}, blocks)
    communities = frame(
        {
            "code": [f"C{c[1:]}" for c in street_codes],
            "name": [n.replace("街道", "社区") for n in names],
            "street_code": street_codes,
        },
        blocks,
    )
    half_w, half_h = STREET_W / 2, STREET_H / 2
    grid_rows = [
        (f"G{s[1:]}{k}", f"{n[:2]}第{k + 1}网格", f"C{s[1:]}", s, x + (k % 2) * half_w, y + (k // 2) * half_h)
        for s, n, (x, y) in zip(street_codes, names, corners, strict=True)
        for k in range(4)
    ]
    count = len(grid_rows)
    share = np.resize([1.0, 0.9, 0.75, 0.4], count)
    households = 10
    grids = frame(
        {
            "code": [r[0] for r in grid_rows],
            "name": [r[1] for r in grid_rows],
            "community_code": [r[2] for r in grid_rows],
            "party_branch": ["支部"] * count,
            "worker_name": ["网格员"] * count,
            "worker_phone": ["13800000001"] * count,
            "street_code": [r[3] for r in grid_rows],
            "households": [households] * count,
            "party_members": [1] * count,
            "center_households": [1] * count,
            "speaker_share": share,
            "service_share": share,
            "linkage_share": share,
            "uncovered_households": (households * (1 - share)).round().astype(int),
            "has_party_branch": [True] * count,
            "has_worker": [True] * count,
            "gap_count": [0] * count,
            "grade": ["A" if s >= 0.95 else "B" if s >= 0.8 else "C" if s >= 0.5 else "D" for s in share],
            "uncovered_area_m2": [0.0] * count,
        },
        [MultiPolygon([box(r[4], r[5], r[4] + half_w, r[5] + half_h)]) for r in grid_rows],
    )
    # A city's map colours communities by their grids' figures summed.
    figures = grids.groupby("community_code").agg(
        households=("households", "sum"),
        uncovered_households=("uncovered_households", "sum"),
        party_members=("party_members", "sum"),
        center_households=("center_households", "sum"),
        speaker_share=("speaker_share", "mean"),
        service_share=("service_share", "mean"),
        linkage_share=("linkage_share", "mean"),
    )
    communities = communities.join(figures, on="code").assign(
        grade="C", grids_without_party_branch=0, grids_without_worker=0
    )
    uncovered = grids.loc[grids["uncovered_households"] > 0]
    points = uncovered.to_crs(crs).geometry.centroid
    homes = frame(
        {
            "code": [f"H{c}" for c in uncovered["code"]],
            "grid_code": uncovered["code"].to_numpy(),
            "building_code": [None] * len(uncovered),
            "party_member": [False] * len(uncovered),
            "center_household": [False] * len(uncovered),
            "speaker_covered": [False] * len(uncovered),
            "service_covered": [False] * len(uncovered),
            "linked_to": [None] * len(uncovered),
        },
        list(points),
    )
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=WGS84)
    return FakeAnalysis(
        grids=grids,
        communities=communities,
        streets=streets_frame,
        households=homes,
        uncovered_areas=gpd.GeoDataFrame({"grid_code": [], "area_m2": []}, geometry=[], crs=WGS84),
        findings=empty,
        gaps=empty,
        unassigned=empty,
    )
