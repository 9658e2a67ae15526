"""What a planner does next, per grid: why its grade, and the action list that would raise it.

Read by the console's grid panel (through the API), the maps' popups and the
meeting report, so all three say the same thing. Everything is computed on
whole arrays (one k-d tree for all broken speakers, one pass over grids for
the reasons); the lists for a grid are filtered from the analysis, never
recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from gridmap.action_plan import speaker_plan
from gridmap.analysis import Analysis, GradeRule
from gridmap.coverage import metric_xy, speaker_radii, working
from gridmap.crs import metric_crs
from gridmap.errors import NotFoundError
from gridmap.privacy import Role, protect
from gridmap.texts import Message
from gridmap.vocabulary import GAP_KINDS, GRADES, Lang, grade_levels, graded_measures

LIST_LIMIT = 200
"""Most households listed per kind for one grid (the counts stay exact)."""


@dataclass(frozen=True)
class Reason:
    """One rule that lowered a grade: which, in words, and the grade it leads to on its own."""

    rule: str
    zh: str
    en: str
    grade: str

    def text(self, lang: Lang = "zh") -> str:
        return self.zh if lang == "zh" else self.en


def grade_reasons(grids: pd.DataFrame, rule: GradeRule | None = None) -> dict[str, list[Reason]]:
    """Per grid code, every rule that kept it from grade A (shares below A, then each problem)."""
    rule = rule or GradeRule()
    reasons: dict[str, list[Reason]] = {str(c): [] for c in grids["code"]}
    codes = grids["code"].astype(str).to_numpy()
    for m in graded_measures():
        if m.code not in rule.thresholds:
            continue
        a, b, c = rule.thresholds[m.code]
        share = pd.to_numeric(grids[m.column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        level = grade_levels(share, (a, b, c))
        for i in np.flatnonzero(np.isfinite(share) & (level > 0)):
            letter = GRADES[level[i]]
            need = (a, b, c)[level[i] - 1]
            reasons[codes[i]].append(
                Reason(
                    m.code,
                    f"{m.zh} {share[i]:.1%}，低于 {GRADES[level[i] - 1]} 级线 {need:.0%}，评 {letter}",
                    f"{m.en} {share[i]:.1%} is below the {GRADES[level[i] - 1]} line of {need:.0%}: {letter}",
                    letter,
                )
            )
    for flag, kind in (("has_party_branch", "no_party_branch"), ("has_worker", "no_worker")):
        if flag in grids:
            missing = ~grids[flag].fillna(False).astype(bool).to_numpy()
            gap = GAP_KINDS[kind]
            for i in np.flatnonzero(missing):
                reasons[codes[i]].append(Reason(kind, f"{gap.zh}，降一级", f"{gap.en}: one grade lower", ""))
    if "topology_errors" in grids:
        errors = grids["topology_errors"].fillna(0).to_numpy(dtype=np.int64)
        for i in np.flatnonzero(errors > 0):
            reasons[codes[i]].append(
                Reason(
                    "topology",
                    f"{errors[i]} 处拓扑错误，降一级",
                    f"{errors[i]} topology error(s): one grade lower",
                    "",
                )
            )
    return reasons


def repairable_speakers(analysis: Analysis, frames: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Broken speakers with the uncovered households each would reach once repaired, most first.

    Columns: code, name, grid_code, radius_m, would_cover, lon, lat.
    """
    speakers = frames.get("speakers")
    columns = ["code", "name", "grid_code", "radius_m", "would_cover", "lon", "lat"]
    if speakers is None or speakers.empty:
        return pd.DataFrame(columns=columns)
    broken = speakers[~working(speakers)]
    broken = broken[~(broken.geometry.isna() | broken.geometry.is_empty)]
    if broken.empty:
        return pd.DataFrame(columns=columns)
    households = analysis.households
    uncovered = households[~households["speaker_covered"].fillna(False).astype(bool)]
    metric = metric_crs(broken)
    radius = speaker_radii(broken)
    counts = np.zeros(len(broken), dtype=np.int64)
    if not uncovered.empty:
        tree = cKDTree(metric_xy(uncovered, metric))
        counts = np.asarray(tree.query_ball_point(metric_xy(broken, metric), radius, return_length=True))
    derived = analysis.frames.get("speakers") if hasattr(analysis, "frames") else None
    grid_of = (
        derived.set_index("code")["grid_code"] if derived is not None and "grid_code" in derived else None
    )
    out = pd.DataFrame(
        {
            "code": broken["code"].astype(str).to_numpy(),
            "name": broken["name"].to_numpy() if "name" in broken else None,
            "grid_code": (
                broken["code"].map(grid_of).to_numpy() if grid_of is not None else broken.get("grid_code")
            ),
            "radius_m": radius,
            "would_cover": counts,
            "lon": broken.geometry.x.to_numpy(),
            "lat": broken.geometry.y.to_numpy(),
        }
    )
    return out.sort_values(["would_cover", "code"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


@dataclass
class GridActions:
    """Everything the grid panel and the report show for one grid."""

    grid: dict[str, Any]
    reasons: list[Reason]
    repair: list[dict[str, Any]]
    uncovered: list[dict[str, Any]]
    uncovered_total: int
    unlinked: list[dict[str, Any]]
    unlinked_total: int
    sites: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        return {
            "grid": self.grid,
            "reasons": [{"rule": r.rule, "text": r.text(lang), "grade": r.grade} for r in self.reasons],
            "repair": self.repair,
            "uncovered": {"total": self.uncovered_total, "households": self.uncovered},
            "unlinked": {"total": self.unlinked_total, "households": self.unlinked},
            "sites": self.sites,
            "findings": self.findings,
        }


def grid_sites(
    analysis: Analysis, frames: Mapping[str, gpd.GeoDataFrame], grid_code: str, k: int
) -> gpd.GeoDataFrame:
    """Up to `k` new speaker sites for one grid's uncovered households, numbered from 1.

    Candidates are the grid's buildings; existing working speakers anywhere
    count as coverage. Empty when the grid has no uncovered household left.
    """
    # Imported here: scipy.optimize (the MIP solver) takes about a second to import, and every API
    # worker imports this module at start while few requests ever site anything.
    from gridmap.siting import site

    derived = getattr(analysis, "frames", None) or frames
    households = derived["households"]
    mine = households[(households["grid_code"] == grid_code).fillna(False)]
    if mine.empty or k < 1:
        return gpd.GeoDataFrame({"rank": []}, geometry=[], crs="EPSG:4326")
    chosen: dict[str, gpd.GeoDataFrame] = {"households": mine, "speakers": frames["speakers"]}
    buildings = derived.get("buildings")
    if buildings is not None and "grid_code" in buildings:
        chosen["buildings"] = buildings[(buildings["grid_code"] == grid_code).fillna(False)]
    if chosen.get("buildings") is None or chosen["buildings"].empty:
        return gpd.GeoDataFrame({"rank": []}, geometry=[], crs="EPSG:4326")
    return site(chosen, "speakers", k).sites


def grid_actions(
    analysis: Analysis,
    frames: Mapping[str, gpd.GeoDataFrame],
    grid_code: str,
    *,
    role: Role | str = Role.VIEWER,
    propose: int = 3,
    limit: int = LIST_LIMIT,
) -> GridActions:
    """The figures, grade reasons and action list of one grid, with personal fields as `role` may read.

    The grid's broken speakers and proposed sites come from its speaker plan
    (`gridmap.action_plan`): each repair with what it adds after those above
    it (`would_cover`), every broken speaker listed, sites chosen after them.
    """

    grids = analysis.grids
    match = grids[grids["code"] == grid_code]
    if match.empty:
        raise NotFoundError(Message("error.no_grid_code", codes=repr(grid_code)))
    row = protect("grids", match.drop(columns="geometry"), role).iloc[0]
    grid = {str(k): _plain(v) for k, v in row.items()}
    names = analysis.communities.set_index("code")["name"]
    grid["community_name"] = _plain(names.get(grid.get("community_code")))
    reasons = grade_reasons(match)[grid_code]
    plan = speaker_plan(analysis, frames, [grid_code], sites=propose)
    fixes = plan.repairs.assign(would_cover=plan.repairs["gain"])
    households = analysis.households[(analysis.households["grid_code"] == grid_code).fillna(False)]
    register = frames.get("households")
    uncovered = households[~households["speaker_covered"].fillna(False).astype(bool)]
    unlinked = households[households["linked_to"].isna()]
    sites = plan.sites if propose else None
    findings = analysis.findings
    mine = (
        findings[findings["codes"].map(lambda codes: grid_code in _codes(codes))]
        if len(findings)
        else findings
    )
    return GridActions(
        grid=grid,
        reasons=reasons,
        repair=_records(fixes),
        uncovered=_people(uncovered, register, role, limit),
        uncovered_total=len(uncovered),
        unlinked=_people(unlinked, register, role, limit),
        unlinked_total=len(unlinked),
        sites=_site_records(sites),
        findings=_records(pd.DataFrame(mine.drop(columns="geometry"))) if len(mine) else [],
    )


def _codes(codes: Any) -> Sequence[str]:
    if codes is None or (isinstance(codes, float) and np.isnan(codes)):
        return ()
    return [codes] if isinstance(codes, str) else [str(c) for c in codes]


def _people(
    households: gpd.GeoDataFrame, register: gpd.GeoDataFrame | None, role: Role | str, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` households with their address and contact, masked per role (none for anonymous)."""
    if Role(role) is Role.ANONYMOUS or households.empty:
        return []
    first = households.sort_values("code").head(limit)
    table = pd.DataFrame({"code": first["code"].astype(str).to_numpy()})
    if register is not None:
        wanted = [c for c in ("address", "building_code", "contact_name", "contact_phone") if c in register]
        # Mask only the listed rows: masking a whole city's register per panel would dominate it.
        details = register.loc[register["code"].isin(table["code"]), ["code", *wanted]].set_index("code")
        shown = protect("households", details, role)
        table = table.join(shown, on="code")
    table["lon"] = first.geometry.x.round(6).to_numpy()
    table["lat"] = first.geometry.y.round(6).to_numpy()
    return _records(table)


def _site_records(sites: gpd.GeoDataFrame | None) -> list[dict[str, Any]]:
    if sites is None or sites.empty:
        return []
    table = pd.DataFrame(sites.drop(columns="geometry"))
    table["lon"] = sites.geometry.x.round(6).to_numpy()
    table["lat"] = sites.geometry.y.round(6).to_numpy()
    return _records(table)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    """A JSON-ready scalar (numpy numbers to Python, NA/NaN to None, sequences to lists)."""
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
