"""The Store interface every backend implements.

Frames going in and out are canonical (see `gridmap.frames.conform`): the
layer's catalogue columns, typed, geometry in EPSG:4326.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa

from gridmap.catalogue import LAYER_NAMES
from gridmap.errors import StoreError
from gridmap.frames import empty_frame
from gridmap.stores.conditions import Condition
from gridmap.stores.query import Page, PageRequest, RecordPage, Records, Value

if TYPE_CHECKING:
    from gridmap.catalogue import Layer
    from gridmap.changes import LayerChange
    from gridmap.history import Author, Revision
    from gridmap.stores.cases import CaseBook
    from gridmap.stores.feed import BookFeed
    from gridmap.stores.party import PartyBook
    from gridmap.stores.visits import VisitBook

BBox = tuple[float, float, float, float]

TRIGGERS_ASIDE_FROM_ROWS = 1000
"""From this many rows written or deleted in one layer, gridmap's own write sets that layer's
change triggers aside for its transaction (`Store.triggers_aside`): their per-row test (is
gridmap writing?) is false for its writes, yet evaluating it cost a third of a 30,000-household
append on a GeoPackage and 23 % of a 100,000-household append on PostGIS."""


@dataclass
class Receipt:
    """What the writes made inside `receipt()` committed, read back in their own transactions.

    `rows` holds, per layer, the features a write wrote or deleted exactly as its
    transaction left them (a deleted one is absent); `revision` is the last
    revision recorded (None when nothing changed). An acknowledgement built from
    it reports what was committed, never a later read another write may have
    overtaken.
    """

    revision: int | None = None
    rows: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


_RECEIPT: ContextVar[Receipt | None] = ContextVar("gridmap_receipt", default=None)


@contextmanager
def receipt() -> Iterator[Receipt]:
    """Collect what the store writes of this thread (or task) commit while the block runs."""
    mine = Receipt()
    token = _RECEIPT.set(mine)
    try:
        yield mine
    finally:
        _RECEIPT.reset(token)


def current_receipt() -> Receipt | None:
    """The receipt being collected, if any (the write path fills it)."""
    return _RECEIPT.get()


@dataclass
class ChunkedUpsert:
    """A backend's chunked upsert of a layer kept apart from its boundaries' validity dates: the
    layer as stored (with its revision column), who writes, and what the chunks did so far."""

    stored: Layer
    author: Author
    counts: dict[str, int] = field(default_factory=lambda: {"inserted": 0, "updated": 0, "deleted": 0})
    written: int = 0

    def add(self, change: LayerChange, rows: int) -> None:
        """One chunk of `rows` rows applied as `change`."""
        self.counts["inserted"] += change.inserted
        self.counts["updated"] += change.updated
        self.written += rows


def receipt_revision(revision: int) -> None:
    """Tell the receipt being collected, if any, the revision a chunked write committed."""
    wanted = _RECEIPT.get()
    if wanted is not None:
        wanted.revision = revision


class Store(ABC):
    """Where the seven layers live. Every write is atomic: all of it or nothing."""

    url: str

    @abstractmethod
    def read(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        codes: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """The layer's features (those intersecting `bbox`, or with `codes`), ordered by code."""

    def read_columns(self, layer: str, columns: Sequence[str]) -> gpd.GeoDataFrame:
        """Every feature's `columns` and geometry, ordered by code, text held by Arrow (bulk analysis).

        Only the named catalogue fields are read, and strings stay in Arrow
        memory instead of one Python object each: five million households
        read in seconds and a fraction of the memory of `read`. Backends
        override this default, which selects from `read`.
        """
        return self.read(layer)[[*columns, "geometry"]]

    def query(
        self,
        layer: str,
        *,
        bbox: BBox | None = None,
        codes: Sequence[str] | None = None,
        equals: Mapping[str, Value] | None = None,
        where: Condition | None = None,
        limit: int | None = None,
        offset: int = 0,
        order: str = "code",
        after: str | None = None,
        before: str | None = None,
    ) -> Page:
        """One page of the features matching every filter, cut by the database (see `stores.query`).

        `after` / `before` cut the page by a keyset cursor instead of `offset`: the
        codes following `after`, or the `limit` codes just before `before` (then `more`
        says whether earlier ones exist); code order only, every page as cheap as the first.
        The arguments are `PageRequest`'s, which says what each means.
        """
        asked = PageRequest(bbox, codes, equals, where, limit, offset, order, after, before)
        return self.query_page(layer, asked)

    @abstractmethod
    def query_page(self, layer: str, request: PageRequest) -> Page:
        """`query`'s page of `request`: what each store implements."""

    def query_records(self, layer: str, request: PageRequest) -> RecordPage:
        """`query`'s page as records (`stores.query.Records`): what an API page serves, without a frame.

        Both stores read the rows straight from their driver; this default takes `query`'s frame.
        """
        page = self.query_page(layer, request)
        return RecordPage(Records.of_frame(page.frame), page.matched, page.more)

    def read_records(self, layer: str, codes: Sequence[str]) -> Records:
        """The stored features of `codes` as records, by code (`read(codes=...)` without a frame)."""
        return Records.of_frame(self.read(layer, codes=codes))

    def extent(self, layer: str) -> tuple[BBox | None, str | None]:
        """The layer's WGS84 bounding box and its earliest `valid_from` (None: empty, or no dates).

        This default reads the layer; both stores answer from their indexes instead.
        """
        frame = self.read(layer)
        box = None if frame.geometry.isna().all() or len(frame) == 0 else tuple(frame.total_bounds)
        first = frame["valid_from"].dropna().min() if "valid_from" in frame.columns else None
        return box, (None if first is None or pd.isna(first) else str(first))

    @abstractmethod
    def replace(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        """Make the layer exactly `frame`; returns the feature count."""

    def replace_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        """Make the layer exactly the rows of `chunks` taken together, in one atomic step; the count.

        For a layer too big to hold twice in memory (a city's households): the
        backends write chunk by chunk inside one transaction, so a chunk that
        fails (or raises while it is made) leaves the layer as it was. This
        default gathers the chunks and replaces.
        """
        frames = list(chunks)
        return self.replace(layer, pd.concat(frames, ignore_index=True) if frames else empty_frame(layer))

    def upsert_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        """Insert or update the rows of `chunks` taken together, in one atomic step; the rows written.

        For an append too big to hold in memory: the backends compare and write
        chunk by chunk inside one transaction, so a chunk that fails (or raises
        while it is made) changes nothing. This default gathers the chunks.
        """
        frames = list(chunks)
        return self.upsert(layer, pd.concat(frames, ignore_index=True)) if frames else 0

    @staticmethod
    def _chunked_upsert(layer: str) -> ChunkedUpsert | None:
        """How a backend's own `upsert_chunks` of `layer` starts; None for a boundary layer, whose
        versions' dates are settled over the whole write: the backend leaves it to this class's."""
        from gridmap.catalogue import get_layer
        from gridmap.changes import versioned_spec
        from gridmap.history import current_author

        if get_layer(layer).versioned:
            return None
        return ChunkedUpsert(versioned_spec(layer), current_author())

    def insert_chunks(self, layer: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        """Add the rows of `chunks` taken together as new features, in one atomic step; the rows written.

        As `insert`: a code that already exists raises ConflictError and nothing
        is written. The backends check and write chunk by chunk inside one
        transaction; this default gathers the chunks.
        """
        frames = list(chunks)
        return self.insert(layer, pd.concat(frames, ignore_index=True)) if frames else 0

    def codes(self, layer: str) -> pa.Array:
        """Every code of the layer as Arrow text, without the rows (a replace's removals)."""
        codes = self.read_columns(layer, ["code"])["code"]
        return pa.array(codes.astype(object).to_numpy(), pa.large_string())

    def replace_many(self, frames: Mapping[str, gpd.GeoDataFrame]) -> None:
        """Replace several layers in one atomic step (default: one by one)."""
        for layer, frame in frames.items():
            self.replace(layer, frame)

    @abstractmethod
    def upsert(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        """Insert features, or update those whose code exists; returns the rows written."""

    @abstractmethod
    def insert(self, layer: str, frame: gpd.GeoDataFrame) -> int:
        """Add new features only; returns the rows written.

        A code that already exists raises ConflictError and nothing is written.
        The store's own unique key decides, inside the writing transaction, so
        two creates of one code at the same moment give exactly one success,
        whichever processes they come from.
        """

    @abstractmethod
    def delete(self, layer: str, codes: Sequence[str]) -> int:
        """Delete features by code; returns how many existed."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Feature count of every catalogue layer (0 when empty)."""

    @abstractmethod
    def revision(self) -> str:
        """A token that changes whenever any layer changes (for caches in other processes)."""

    def log_position(self) -> int | None:
        """The number of the last write in the store's log (None for a backend without one).

        Read it before the layers: whatever is read then is at least that recent.
        """
        return None

    def touched_since(self, position: int, *, most: int = 100_000) -> dict[str, list[str]] | None:
        """The codes, per layer, that the logged writes after `position` touched.

        None when the log cannot tell (no log, a revision missing) or when they
        touched more than `most` features (reading those layers whole is cheaper).
        Edits made outside gridmap (QGIS, GDAL, psql) are in the log: the store's
        triggers record them as revisions of their own.
        """
        return None

    def wait_for_change(self, seconds: float) -> bool | None:
        """Block until the store says it changed (True) or `seconds` pass (False).

        None, at once, from a backend that cannot tell (a GeoPackage): the caller polls
        `revision`. PostGIS listens for the NOTIFY every commit sends, whoever writes.
        """
        return None

    @abstractmethod
    def triggers_aside(self, layer: str, within: Any = None) -> AbstractContextManager[bool]:
        """The layer's change triggers (history, derived fields, revision of external edits) set aside
        while the block runs; yields whether they were. The integrity checks stay.

        `within` is a write transaction of gridmap's own (the backend's connection or cursor):
        the triggers are dropped and made again inside it, under a lock that makes every other
        writer wait, so no other writer ever meets the layer without them, and gridmap's commit
        does their work set-wise itself. Without `within`, they are set aside in a committed
        transaction of their own and made again at the end: only for measuring what they cost
        on a store nobody else writes meanwhile.
        """

    def settle(self) -> bool:
        """Derive what the store itself could not for edits made outside gridmap; whether any were pending.

        PostGIS derives everything in its triggers (nothing to do); a GeoPackage's
        triggers log changed rows, and `grid_code` (point in polygon) is derived here.
        """
        return False

    # -- history and boundary versions (every write above is recorded as one revision) --

    @abstractmethod
    def history(
        self,
        *,
        layer: str | None = None,
        code: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[Revision]:
        """Revisions, newest first: all, or those that changed `layer` (and the feature `code`)."""

    @abstractmethod
    def changes(self, revision: int, *, layer: str | None = None, code: str | None = None) -> Revision:
        """One revision with each feature it changed, before and after (a NotFoundError if unknown)."""

    @abstractmethod
    def revert(self, revision: int) -> int:
        """Restore the state before `revision` as a new revision (returned); refused if changed since."""

    @abstractmethod
    def read_as_of(self, layer: str, date: str) -> gpd.GeoDataFrame:
        """The versions of a boundary layer in force on `date` (ISO), with valid_from / valid_to."""

    def last_modified(self) -> dict[str, dt.datetime | None]:
        """When each layer last changed (a map's "data date"); None where the backend cannot tell."""
        return dict.fromkeys(LAYER_NAMES)

    def native_tile(
        self, layer: str, z: int, x: int, y: int, *, columns: Sequence[str], extent: int, buffer: int
    ) -> bytes | None:
        """The MVT tile z/x/y encoded by the backend itself, or None when it has no encoder.

        `gridmap.tiles` encodes the tile from `read` when this returns None; a backend
        with a faster encoder of its own (PostGIS's ST_AsMVT) overrides this.
        """
        return None

    def case_book(self) -> CaseBook:
        """The store's cases (`gridmap.cases`); a backend without case tables says so."""
        raise StoreError(f"{type(self).__name__} keeps no cases")

    def visit_book(self) -> VisitBook:
        """The store's visits and care register (`gridmap.visits`); a backend without them says so."""
        raise StoreError(f"{type(self).__name__} keeps no visits")

    def party_book(self) -> PartyBook:
        """The store's party organisation chain (`gridmap.party`); a backend without it says so."""
        raise StoreError(f"{type(self).__name__} keeps no party registers")

    def book_feed(self) -> BookFeed:
        """What the books the analysis reads (visits and care, party registers) changed, in order
        (`gridmap.stores.feed`); a backend without books says so."""
        raise StoreError(f"{type(self).__name__} keeps no books")

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release connections or handles."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
