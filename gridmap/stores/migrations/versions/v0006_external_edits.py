"""The database keeps its own truths: edits made outside gridmap (QGIS, ogr2ogr, psql) are made right.

Triggers, for every write whose transaction has not set `gridmap.author`
(gridmap's own writes set it with `set_config(..., true)` and keep their
history path, so nothing is recorded twice):

- derive `grid_code` by the rules of `gridmap.assignment`: a building takes
  the grid holding the largest share of its area (measured in the CGCS2000
  Gauss-Krüger zone of the building inside China, else its UTM zone; shares
  within a millionth of the area tie, the smallest code wins; a building
  without area goes by its representative point); a household with a
  registered building that has a grid takes that grid; any other point
  takes the grid of the registered building it lies in (smallest code on
  overlaps), else the grid covering it (smallest code on shared edges);
  a case also takes that grid's community and street;
- move the old row of every update and delete to `<layer>_history`,
  superseded by one revision per transaction, recorded in
  `gridmap_revisions` as "external edit by <role> (<application_name>)",
  with per-layer counts; the store revision is bumped and `pg_notify`
  ('gridmap_revision', revision) tells servers at commit;
- re-derive what an edited grid or building affects (the features in its
  old and new shape, the households naming the building).

External writers take the writers' advisory lock gridmap's commits take
(before any row is locked, in a statement trigger), so they queue behind a
gridmap write rather than failing it. CHECK constraints carry the rules of
`gridmap.stores.constraints` (a fixed snapshot of that list: the tests
compare them), named for what is wrong; they are NOT VALID, so an older
store with a stray value still upgrades, while every new write is checked.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WRITERS_LOCK = 29117719583220081  # gridmap.stores.postgis._WRITERS_LOCK
EXTERNAL = "(coalesce(current_setting('gridmap.author', true), '') = '')"

COLUMNS = {
    "streets": ("code", "name", "valid_from", "valid_to", "revision", "geometry"),
    "communities": ("code", "name", "street_code", "kind", "valid_from", "valid_to", "revision", "geometry"),
    "grids": (
        "code",
        "name",
        "community_code",
        "party_branch",
        "worker_name",
        "worker_phone",
        "valid_from",
        "valid_to",
        "revision",
        "geometry",
    ),
    "buildings": ("code", "name", "address", "floors", "grid_code", "revision", "geometry"),
    "households": (
        "code",
        "address",
        "building_code",
        "unit",
        "room",
        "size",
        "party_member",
        "center_household",
        "contact_name",
        "contact_phone",
        "grid_code",
        "revision",
        "geometry",
    ),
    "service_points": ("code", "name", "kind", "radius_m", "grid_code", "revision", "geometry"),
    "speakers": (
        "code",
        "name",
        "radius_m",
        "status",
        "power_w",
        "sensitivity_db",
        "grid_code",
        "revision",
        "geometry",
    ),
}
LAYERS = tuple(COLUMNS)

DERIVE = {
    "buildings": "gridmap_building_grid(NEW.geometry)",
    "households": "gridmap_household_grid(NEW.building_code, NEW.geometry)",
    "service_points": "gridmap_located_grid(NEW.geometry)",
    "speakers": "gridmap_located_grid(NEW.geometry)",
}

NO_CONTROL = "!~ '[\\x01-\\x1f\\x7f]'"
CHECKS = (
    ("streets", "streets_code_must_have_no_control_characters", f"code {NO_CONTROL}"),
    ("communities", "communities_code_must_have_no_control_characters", f"code {NO_CONTROL}"),
    ("communities", "communities_street_code_must_have_no_control_characters", f"street_code {NO_CONTROL}"),
    ("communities", "communities_kind_must_be_community_or_village", "kind IN ('community', 'village')"),
    ("grids", "grids_code_must_have_no_control_characters", f"code {NO_CONTROL}"),
    ("grids", "grids_community_code_must_have_no_control_characters", f"community_code {NO_CONTROL}"),
    ("buildings", "buildings_code_must_have_no_control_characters", f"code {NO_CONTROL}"),
    ("buildings", "buildings_floors_must_not_be_negative", "floors >= 0"),
    ("buildings", "buildings_grid_code_must_have_no_control_characters", f"grid_code {NO_CONTROL}"),
    ("households", "households_code_must_have_no_control_characters", f"code {NO_CONTROL}"),
    ("households", "households_building_code_must_have_no_control_characters", f"building_code {NO_CONTROL}"),
    ("households", "households_size_must_not_be_negative", "size >= 0"),
    ("households", "households_grid_code_must_have_no_control_characters", f"grid_code {NO_CONTROL}"),
    ("service_points", "service_points_code_must_have_no_control_characters", f"code {NO_CONTROL}"),
    ("service_points", "service_points_radius_m_must_not_be_negative", "radius_m >= 0"),
    ("service_points", "service_points_grid_code_must_have_no_control_characters", f"grid_code {NO_CONTROL}"),
    ("speakers", "speakers_code_must_have_no_control_characters", f"code {NO_CONTROL}"),
    ("speakers", "speakers_radius_m_must_not_be_negative", "radius_m >= 0"),
    ("speakers", "speakers_status_must_be_working_or_broken", "status IN ('working', 'broken')"),
    ("speakers", "speakers_power_w_must_not_be_negative", "power_w >= 0"),
    ("speakers", "speakers_sensitivity_db_must_not_be_negative", "sensitivity_db >= 0"),
    ("speakers", "speakers_grid_code_must_have_no_control_characters", f"grid_code {NO_CONTROL}"),
)
RENAMED = (("communities", "communities_kind_check"), ("speakers", "speakers_status_check"))

FUNCTIONS = (
    # Which metric CRS measures a building: the CGCS2000 3-degree Gauss-Krüger zone inside China
    # (gridmap.crs.metric_crs picks it from the centre of all grids; here, of the building).
    """
    CREATE FUNCTION gridmap_metric_srid(g geometry) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
            WHEN x BETWEEN 73.62 AND 134.77 AND y BETWEEN 16.7 AND 53.56
                THEN 4534 + (least(greatest(3 * round(x / 3.0), 75), 135)::integer - 75) / 3
            ELSE (CASE WHEN y >= 0 THEN 32600 ELSE 32700 END) + least(floor((x + 180) / 6)::integer + 1, 60)
        END
        FROM (SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_Centroid(g) AS c) AS centre) AS xy
    $$
    """,
    """
    CREATE FUNCTION gridmap_point_grid(p geometry) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT code FROM grids WHERE p IS NOT NULL AND geometry && p AND ST_Intersects(geometry, p)
        ORDER BY code LIMIT 1
    $$
    """,
    # A point in a registered building takes the building's grid (smallest building code on
    # overlaps); one whose building has no grid, or in no building, the grid covering it.
    """
    CREATE FUNCTION gridmap_located_grid(p geometry) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT coalesce(
            (SELECT grid_code FROM buildings
             WHERE p IS NOT NULL AND geometry && p AND ST_Intersects(geometry, p) ORDER BY code LIMIT 1),
            gridmap_point_grid(p)
        )
    $$
    """,
    """
    CREATE FUNCTION gridmap_household_grid(building text, p geometry) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT coalesce((SELECT grid_code FROM buildings WHERE code = building), gridmap_located_grid(p))
    $$
    """,
    """
    CREATE FUNCTION gridmap_building_grid(b geometry) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
    DECLARE
        srid integer;
        metric geometry;
        whole double precision;
        best text;
    BEGIN
        IF b IS NULL OR ST_IsEmpty(b) THEN
            RETURN NULL;
        END IF;
        srid := gridmap_metric_srid(b);
        metric := ST_Transform(b, srid);
        whole := ST_Area(metric);
        IF NOT whole > 0 THEN
            RETURN gridmap_point_grid(ST_PointOnSurface(b));
        END IF;
        WITH shares AS (
            SELECT g.code,
                   CASE WHEN ST_ContainsProperly(g.geometry, b) THEN 1.0
                        ELSE ST_Area(ST_Intersection(ST_Transform(g.geometry, srid), metric)) / whole
                   END AS share
            FROM grids g WHERE g.geometry && b AND ST_Intersects(g.geometry, b)
        ), usable AS (
            SELECT code, share FROM shares WHERE share > 1e-6
        )
        SELECT code INTO best FROM usable
        WHERE share >= (SELECT max(share) FROM usable) - 1e-6 ORDER BY code LIMIT 1;
        RETURN best;
    END
    $$
    """,
    # One revision per external transaction, made by the first row it changes.
    f"""
    CREATE FUNCTION gridmap_external_revision() RETURNS bigint
    LANGUAGE plpgsql AS $$
    DECLARE
        r bigint := nullif(current_setting('gridmap.external_revision', true), '')::bigint;
        who text;
    BEGIN
        IF r IS NOT NULL THEN
            RETURN r;
        END IF;
        PERFORM pg_advisory_xact_lock({WRITERS_LOCK});
        UPDATE gridmap_meta SET revision = revision + 1, modified_at = now() WHERE key = 'store'
            RETURNING revision INTO r;
        who := 'external edit by ' || current_user || ' ('
            || coalesce(nullif(current_setting('application_name', true), ''), 'unnamed application') || ')';
        INSERT INTO gridmap_revisions (id, author, role, command, reverts, layers, counts)
            VALUES (r, who, NULL, 'external edit', NULL, '{{}}', '{{}}'::jsonb);
        PERFORM set_config('gridmap.external_revision', r::text, true);
        RETURN r;
    END
    $$
    """,
    """
    CREATE FUNCTION gridmap_external_count(layer text, change text, step integer DEFAULT 1) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        key text := 'gridmap.count_' || layer || '_' || change;
    BEGIN
        PERFORM set_config(
            key, (coalesce(nullif(current_setting(key, true), ''), '0')::bigint + step)::text, true
        );
    END
    $$
    """,
    """
    CREATE FUNCTION gridmap_external_counted(layer text, change text) RETURNS bigint
    LANGUAGE sql STABLE AS $$
        SELECT coalesce(
            nullif(current_setting('gridmap.count_' || layer || '_' || change, true), ''), '0'
        )::bigint
    $$
    """,
    # Statement triggers: queue behind gridmap's writers before any row is locked, then (after)
    # write the revision's per-layer counts once per statement rather than once per row.
    f"""
    CREATE FUNCTION gridmap_external_turn() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock({WRITERS_LOCK});
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE FUNCTION gridmap_external_counts() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        r bigint := nullif(current_setting('gridmap.external_revision', true), '')::bigint;
        counted jsonb;
    BEGIN
        IF r IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT coalesce(jsonb_object_agg(layer, jsonb_build_object(
                   'inserted', inserted, 'updated', updated, 'deleted', deleted)), '{{}}'::jsonb)
            INTO counted
            FROM (
                SELECT layer,
                       gridmap_external_counted(layer, 'inserted') AS inserted,
                       gridmap_external_counted(layer, 'updated') AS updated,
                       gridmap_external_counted(layer, 'deleted') AS deleted
                FROM unnest(ARRAY[{", ".join(f"'{name}'" for name in LAYERS)}]) AS layer
            ) AS per_layer
            WHERE inserted <> 0 OR updated <> 0 OR deleted <> 0;
        UPDATE gridmap_revisions
            SET counts = counted, layers = ARRAY(SELECT jsonb_object_keys(counted))
            WHERE id = r AND counts IS DISTINCT FROM counted;
        UPDATE gridmap_meta SET modified_at = now() WHERE key = TG_TABLE_NAME;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION gridmap_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('gridmap_revision', NEW.revision::text);
        RETURN NULL;
    END
    $$
    """,
    # What a changed shape reaches: features in it re-derive (their row triggers decide and record).
    """
    CREATE FUNCTION gridmap_rederive_in(area geometry) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        IF area IS NULL THEN
            RETURN;
        END IF;
        UPDATE buildings SET grid_code = grid_code WHERE geometry && area AND ST_Intersects(geometry, area);
        PERFORM gridmap_rederive_points_in(area);
    END
    $$
    """,
    """
    CREATE FUNCTION gridmap_rederive_points_in(area geometry) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        IF area IS NULL THEN
            RETURN;
        END IF;
        UPDATE households SET grid_code = grid_code WHERE geometry && area AND ST_Intersects(geometry, area);
        UPDATE service_points SET grid_code = grid_code
            WHERE geometry && area AND ST_Intersects(geometry, area);
        UPDATE speakers SET grid_code = grid_code WHERE geometry && area AND ST_Intersects(geometry, area);
        PERFORM set_config('gridmap.rederive', 'on', true);
        UPDATE cases SET grid_code = grid_code WHERE geometry && area AND ST_Intersects(geometry, area);
        PERFORM set_config('gridmap.rederive', '', true);
    END
    $$
    """,
    """
    CREATE FUNCTION gridmap_external_regrid() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.code = OLD.code AND NEW.geometry IS NOT DISTINCT FROM OLD.geometry
           AND NEW.community_code IS NOT DISTINCT FROM OLD.community_code THEN
            RETURN NULL;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            PERFORM gridmap_rederive_in(OLD.geometry);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM gridmap_rederive_in(NEW.geometry);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION gridmap_external_rebuilding() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        codes text[] := ARRAY[]::text[];
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.code = OLD.code AND NEW.geometry IS NOT DISTINCT FROM OLD.geometry
           AND NEW.grid_code IS NOT DISTINCT FROM OLD.grid_code THEN
            RETURN NULL;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            codes := codes || OLD.code;
            PERFORM gridmap_rederive_points_in(OLD.geometry);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            codes := codes || NEW.code;
            PERFORM gridmap_rederive_points_in(NEW.geometry);
        END IF;
        UPDATE households SET grid_code = grid_code WHERE building_code = ANY(codes);
        PERFORM set_config('gridmap.rederive', 'on', true);
        UPDATE cases SET grid_code = grid_code WHERE building_code = ANY(codes);
        PERFORM set_config('gridmap.rederive', '', true);
        RETURN NULL;
    END
    $$
    """,
    # Cases keep their own history (case_events) and version; an external edit derives the place
    # and bumps the version, so the case desk's conditional update sees it.
    """
    CREATE FUNCTION gridmap_external_case() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        p geometry;
        grid text;
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.lon IS DISTINCT FROM OLD.lon OR NEW.lat IS DISTINCT FROM OLD.lat
           OR NEW.building_code IS DISTINCT FROM OLD.building_code
           OR current_setting('gridmap.rederive', true) = 'on' THEN
            IF NEW.lon IS NOT NULL AND NEW.lat IS NOT NULL THEN
                p := ST_SetSRID(ST_MakePoint(NEW.lon, NEW.lat), 4326);
            END IF;
            grid := gridmap_household_grid(NEW.building_code, p);
            NEW.grid_code := grid;
            NEW.community_code := (SELECT community_code FROM grids WHERE code = grid);
            NEW.street_code := (SELECT street_code FROM communities WHERE code = NEW.community_code);
        END IF;
        IF TG_OP = 'UPDATE' THEN
            IF (to_jsonb(NEW) - 'geometry' - 'version') = (to_jsonb(OLD) - 'geometry' - 'version') THEN
                RETURN NULL;
            END IF;
            NEW.version := OLD.version + 1;
        END IF;
        RETURN NEW;
    END
    $$
    """,
)


def _row_function(layer: str) -> str:
    """The BEFORE ROW trigger of one layer: derive, skip a no-op, record the old row, stamp the revision."""
    columns = COLUMNS[layer]
    old = ", ".join(f"OLD.{c}" for c in columns)
    derive = ""
    if layer in DERIVE:
        derive = f"NEW.grid_code := {DERIVE[layer]};"
    return f"""
    CREATE FUNCTION gridmap_external_{layer}() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        r bigint;
    BEGIN
        IF TG_OP <> 'DELETE' THEN
            {derive}
            IF TG_OP = 'UPDATE' THEN
                NEW.revision := OLD.revision;
                IF NEW IS NOT DISTINCT FROM OLD THEN
                    RETURN NULL;
                END IF;
            END IF;
        END IF;
        r := gridmap_external_revision();
        IF TG_OP = 'INSERT' THEN
            PERFORM gridmap_external_count('{layer}', 'inserted');
        ELSIF OLD.revision IS DISTINCT FROM r THEN
            INSERT INTO {layer}_history ({", ".join(columns)}, superseded, closed_on)
                VALUES ({old}, r, NULL);
            PERFORM gridmap_external_count('{layer}', lower(TG_OP) || 'd');
        ELSIF TG_OP = 'DELETE' THEN
            -- This revision wrote the row: deleting it undoes an insert, or turns an update into a delete.
            IF EXISTS (SELECT 1 FROM {layer}_history WHERE code = OLD.code AND superseded = r) THEN
                PERFORM gridmap_external_count('{layer}', 'updated', -1);
                PERFORM gridmap_external_count('{layer}', 'deleted');
            ELSE
                PERFORM gridmap_external_count('{layer}', 'inserted', -1);
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        NEW.revision := r;
        RETURN NEW;
    END
    $$
    """


def _triggers(layer: str) -> list[str]:
    events = "INSERT OR UPDATE OR DELETE"
    out = [
        _row_function(layer),
        f"CREATE TRIGGER gridmap_external_turn BEFORE {events} ON {layer} "
        f"FOR EACH STATEMENT WHEN {EXTERNAL} EXECUTE FUNCTION gridmap_external_turn()",
        f"CREATE TRIGGER gridmap_external_row BEFORE {events} ON {layer} "
        f"FOR EACH ROW WHEN {EXTERNAL} EXECUTE FUNCTION gridmap_external_{layer}()",
        f"CREATE TRIGGER gridmap_external_counts AFTER {events} ON {layer} "
        f"FOR EACH STATEMENT WHEN {EXTERNAL} EXECUTE FUNCTION gridmap_external_counts()",
    ]
    cascade = {"grids": "gridmap_external_regrid", "buildings": "gridmap_external_rebuilding"}
    if layer in cascade:
        out.append(
            f"CREATE TRIGGER gridmap_external_cascade AFTER {events} ON {layer} "
            f"FOR EACH ROW WHEN {EXTERNAL} EXECUTE FUNCTION {cascade[layer]}()"
        )
    return out


def _statements() -> list[str]:
    out: list[str] = []
    for table, name in RENAMED:
        out.append(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    for table, name, check in CHECKS:
        out.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check}) NOT VALID")
    out += FUNCTIONS
    for layer in LAYERS:
        out += _triggers(layer)
    out.append(
        "CREATE TRIGGER gridmap_external_row BEFORE INSERT OR UPDATE ON cases "
        f"FOR EACH ROW WHEN {EXTERNAL} EXECUTE FUNCTION gridmap_external_case()"
    )
    out.append(
        "CREATE TRIGGER gridmap_notify AFTER UPDATE ON gridmap_meta FOR EACH ROW "
        "WHEN (NEW.key = 'store' AND NEW.revision IS DISTINCT FROM OLD.revision) "
        "EXECUTE FUNCTION gridmap_notify()"
    )
    return out


def upgrade() -> None:
    for statement in _statements():
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER gridmap_notify ON gridmap_meta")
    op.execute("DROP TRIGGER gridmap_external_row ON cases")
    for layer in LAYERS:
        for trigger in ("turn", "row", "counts", "cascade"):
            op.execute(f"DROP TRIGGER IF EXISTS gridmap_external_{trigger} ON {layer}")
        op.execute(f"DROP FUNCTION gridmap_external_{layer}()")
    for function in (
        "gridmap_external_case()",
        "gridmap_external_rebuilding()",
        "gridmap_external_regrid()",
        "gridmap_rederive_points_in(geometry)",
        "gridmap_rederive_in(geometry)",
        "gridmap_notify()",
        "gridmap_external_counts()",
        "gridmap_external_turn()",
        "gridmap_external_counted(text, text)",
        "gridmap_external_count(text, text, integer)",
        "gridmap_external_revision()",
        "gridmap_building_grid(geometry)",
        "gridmap_household_grid(text, geometry)",
        "gridmap_located_grid(geometry)",
        "gridmap_point_grid(geometry)",
        "gridmap_metric_srid(geometry)",
    ):
        op.execute(f"DROP FUNCTION {function}")
    for table, name, _check in CHECKS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table, check in (
        ("communities", "kind IN ('community', 'village')"),
        ("speakers", "status IN ('working', 'broken')"),
    ):
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{check.split()[0]}_check CHECK ({check})")
