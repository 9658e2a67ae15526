"""Walking distance computed inside PostGIS with pgRouting, from the store's own tables.

An independent second engine for `gridmap.walking`: nothing of gridmap's
network is reused. The roads are noded in SQL (every line split at its
vertices by `ST_DumpSegments`, ends joined where they coincide on the
millimetre grid, `ST_SnapToGrid`), the largest connected piece is taken with
`pgr_connectedComponents`, households and service points join it at the
nearest point of their nearest segment (the KNN `<->` operator,
`ST_LineLocatePoint`; buildings from `ST_PointOnSurface`), and every segment
is split at the points on it, so that each point is a vertex of the graph. A
virtual super-source is tied to every service point's vertex by the service
point's straight leg; one `pgr_drivingDistance` from it, stopped at the
cut-off, gives every vertex its walking distance to the nearest service
point, and a household adds its own leg.

Used by the tests (tests/test_walking_pgrouting.py: the same answers as the
scipy path) and by bench/bench_walking_pgrouting.py (which engine is faster
on a PostGIS store). Needs the `pgrouting` extension in the database.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from gridmap.walking import DEFAULT_CUTOFF_M

WALKERS = {"households": "geometry", "buildings": "ST_PointOnSurface(geometry)"}
"""The layers that can walk and the point each walks from (gridmap's analysis walks buildings from
their representative point): an allow-list, its names and expressions go into the SQL."""

_STEPS: tuple[tuple[str, str], ...] = (
    (
        "segments",
        """
        CREATE TEMP TABLE walk_segments ON COMMIT DROP AS
        WITH lines AS (
            SELECT (ST_Dump(ST_Transform(geometry, {srid}))).geom AS geom
            FROM roads
            WHERE walkable IS NOT FALSE AND geometry IS NOT NULL AND NOT ST_IsEmpty(geometry)
        ), segments AS (
            SELECT (ST_DumpSegments(geom)).geom AS geom FROM lines
        )
        SELECT geom, ST_Length(geom) AS length,
               ST_SnapToGrid(ST_StartPoint(geom), 0.001) AS a,
               ST_SnapToGrid(ST_EndPoint(geom), 0.001) AS b
        FROM segments
        """,
    ),
    (
        "nodes",
        """
        CREATE TEMP TABLE walk_nodes ON COMMIT DROP AS
        SELECT row_number() OVER (ORDER BY x, y) AS id, x, y
        FROM (SELECT ST_X(a) AS x, ST_Y(a) AS y FROM walk_segments
              UNION SELECT ST_X(b), ST_Y(b) FROM walk_segments) AS ends
        """,
    ),
    ("nodes_key", "CREATE UNIQUE INDEX ON walk_nodes (x, y)"),
    (
        "edges",
        """
        CREATE TEMP TABLE walk_edges ON COMMIT DROP AS
        SELECT row_number() OVER () AS id, s.geom, s.length, na.id AS source, nb.id AS target
        FROM walk_segments s
        JOIN walk_nodes na ON na.x = ST_X(s.a) AND na.y = ST_Y(s.a)
        JOIN walk_nodes nb ON nb.x = ST_X(s.b) AND nb.y = ST_Y(s.b)
        WHERE na.id <> nb.id
        """,
    ),
    (
        "pieces",
        """
        CREATE TEMP TABLE walk_pieces ON COMMIT DROP AS
        SELECT node, component FROM pgr_connectedComponents(
            'SELECT id, source, target, length AS cost, length AS reverse_cost FROM walk_edges')
        """,
    ),
    (
        "largest",
        """
        DELETE FROM walk_edges WHERE source NOT IN (
            SELECT p.node FROM walk_pieces p WHERE p.component = (
                SELECT c.component FROM walk_pieces c JOIN walk_edges e ON e.source = c.node
                GROUP BY c.component ORDER BY sum(e.length) DESC, c.component LIMIT 1))
        """,
    ),
    ("edges_index", "CREATE INDEX ON walk_edges USING gist (geom)"),
    ("edges_analyse", "ANALYZE walk_edges"),
    (
        "snap",
        """
        CREATE TEMP TABLE walk_points ON COMMIT DROP AS
        WITH points AS (
            SELECT {walker_layer} AS layer, code, ST_Transform({walker_point}, {srid}) AS geom
            FROM {walkers} WHERE geometry IS NOT NULL AND NOT ST_IsEmpty(geometry)
            UNION ALL
            SELECT 'service_points', code, ST_Transform(geometry, {srid})
            FROM service_points WHERE geometry IS NOT NULL AND NOT ST_IsEmpty(geometry)
        )
        SELECT (SELECT max(id) FROM walk_nodes) + row_number() OVER () AS vertex,
               p.layer, p.code, e.id AS edge, ST_Distance(e.geom, p.geom) AS leg,
               ST_LineLocatePoint(e.geom, p.geom) AS fraction
        FROM points p
        CROSS JOIN LATERAL (
            SELECT id, geom FROM walk_edges ORDER BY geom <-> p.geom LIMIT 1
        ) AS e
        """,
    ),
    (
        "graph",
        """
        CREATE TEMP TABLE walk_graph ON COMMIT DROP AS
        WITH stops AS (
            SELECT id AS edge, 0.0::float8 AS fraction, source AS vertex FROM walk_edges
            UNION ALL SELECT id, 1.0, target FROM walk_edges
            UNION ALL SELECT edge, fraction, vertex FROM walk_points
        ), pieces AS (
            SELECT s.vertex AS source,
                   lead(s.vertex) OVER w AS target,
                   (lead(s.fraction) OVER w - s.fraction) * e.length AS cost
            FROM stops s JOIN walk_edges e ON e.id = s.edge
            WINDOW w AS (PARTITION BY s.edge ORDER BY s.fraction, s.vertex = e.target, s.vertex)
        )
        SELECT source, target, cost FROM pieces WHERE target IS NOT NULL
        UNION ALL
        SELECT (SELECT max(vertex) + 1 FROM walk_points), vertex, leg
        FROM walk_points WHERE layer = 'service_points'
        """,
    ),
    (
        "search",
        """
        CREATE TEMP TABLE walk_reached ON COMMIT DROP AS
        SELECT node, agg_cost FROM pgr_drivingDistance(
            'SELECT row_number() OVER () AS id, source, target, cost, cost AS reverse_cost FROM walk_graph',
            (SELECT coalesce(max(vertex) + 1, 0) FROM walk_points), {cutoff}, directed => false)
        """,
    ),
)

_ANSWER = """
    SELECT p.code, r.agg_cost + p.leg AS metres
    FROM walk_points p JOIN walk_reached r ON r.node = p.vertex
    WHERE p.layer = {walker_layer} AND r.agg_cost + p.leg <= {cutoff}
"""


def walk_in_database(
    conn: psycopg.Connection[Any],
    srid: int,
    cutoff_m: float = DEFAULT_CUTOFF_M,
    walkers: str = "households",
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Each household's (or building's: `walkers`) walking distance to its nearest service point
    (metres in EPSG `srid`; NaN beyond `cutoff_m` or without a location) by code, and the seconds
    each SQL step took.

    The temporary tables live in one transaction, rolled back at the end: the store is left as found.
    """
    seconds: dict[str, float] = {}
    if walkers not in WALKERS:
        raise ValueError(f"walkers: expected one of {', '.join(WALKERS)}, got {walkers!r}")
    params = {
        "srid": sql.Literal(int(srid)),
        "cutoff": sql.Literal(float(cutoff_m)),
        "walkers": sql.Identifier(walkers),
        "walker_layer": sql.Literal(walkers),
        "walker_point": sql.SQL(WALKERS[walkers]),
    }
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        for name, statement in _STEPS:
            start = time.perf_counter()
            cur.execute(sql.SQL(statement).format(**params))
            seconds[name] = time.perf_counter() - start
        start = time.perf_counter()
        found = dict(cur.execute(sql.SQL(_ANSWER).format(**params)).fetchall())
        codes = [
            row[0]
            for row in cur.execute(sql.SQL("SELECT code FROM {} ORDER BY code").format(params["walkers"]))
        ]
        seconds["fetch"] = time.perf_counter() - start
    metres = np.array([found.get(code, np.nan) for code in codes], dtype=np.float64)
    return pd.DataFrame({"code": codes, "metres": metres}), seconds
