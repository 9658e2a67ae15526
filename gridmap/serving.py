"""The analysis a server shows, built once per store revision and shared by all its workers.

One builder per store keeps the whole analysis in memory and publishes each
revision's results as files in a shared directory (a `Shelf`): documents
rendered once (the coverage figures as JSON, the gaps as Parquet) plus the
feature counts. Workers only read the newest published edition, so a reply
costs file reads whatever the city's size, a reader never waits for a
rebuild, and no worker ever holds the interpreter for the analysis.

After a write the builder redoes only the communities the edit reaches
(`gridmap.incremental`: the features the store's log names are read again,
the rest kept in memory); a change it cannot place (a backend without change times) rebuilds
everything. Either way it works in the background, while workers keep
serving the last edition with its revision.

Publishing follows the edit too: the large documents are kept in parts, one
file per street, and an edition renders only the streets its refresh redid.
Every other part is a hard link to the previous edition's file: no byte is
copied, each edition stays a complete directory of its own (a reader holding
one never sees another's parts), and pruning an old edition only removes its
links, so a file a newer edition shares lives on. A manifest of content
hashes would share files as well, but its pruning would have to count
references across editions itself; the file system's link count does that.

With several worker processes, every worker starts a standby builder
process (`python -m gridmap.serving`); the first to take the shelf's lock
builds, the others wait on the lock and take over if it dies. A builder
exits when the worker that started it is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import fcntl
import hashlib
import importlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd

from gridmap.analysis import (
    Analysis,
    AnalysisOptions,
    analyze,
    party_inputs,
    read_input,
    read_inputs,
)
from gridmap.assignment import BuildingLocator, GridLocator
from gridmap.cases.desk import CaseDesk
from gridmap.cases.repairs import RepairSync, sync_repairs
from gridmap.cases.routing import HeldPlaces
from gridmap.catalogue import LAYER_NAMES
from gridmap.coderows import CodeRows
from gridmap.errors import GridmapError, StoreError
from gridmap.incremental import changed_keys, compacted_all, patched, update
from gridmap.localtime import BEIJING
from gridmap.lookup import LookupService, Stamps, changed_layers
from gridmap.stores import Store, open_store
from gridmap.stores.feed import PARTY, VISITS
from gridmap.visits.service import coverage_input, refreshed_status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Documents:
    """What a render gives the shelf: whole documents, and documents kept in parts (one per street).

    `order` lists, per document in parts, every part key in reading order;
    `parts` holds the parts rendered this time. A key of `order` missing from
    `parts` is the previous edition's part, unchanged.
    """

    whole: Mapping[str, bytes]
    order: Mapping[str, Sequence[str]] = field(default_factory=dict)
    parts: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)


Render = Callable[[Analysis, Collection[str] | None], Documents]
"""Renders the documents workers serve (supplied by the API): the parts of the streets named, or all
(None); parts it cannot tie to one street it renders every time."""

POLL_SECONDS = 0.2
REVISION_POLL_SECONDS = 0.05
"""How often the builder asks a store that sends no change notice (a GeoPackage) for its revision, so
an edit waits a few hundredths of a second, not a fifth, before its refresh starts. While the file
stays as it was, the store answers from two `stat` calls (`gridmap.stores.gpkg_watch`)."""
SETTLE_SECONDS = 0.2
"""How often the builder looks for external edits (QGIS on a GeoPackage) to derive `grid_code` for;
as cheap as the revision while nothing changed."""
LISTEN_SECONDS = 0.5
"""The longest wait for a store's change notice (PostGIS NOTIFY) before looking anyway; bounds how
long a stop request waits."""
_POINTER = "current"
_LOCK = "builder.lock"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_KEEP = 3  # editions kept: the newest and two a slow reader may still be reading
_META = "meta.json"
T = TypeVar("T")


def shelf_directory(store_url: str, base: Path | None = None) -> Path:
    """Where the editions of the store at `store_url` live (one directory per store)."""
    root = base if base is not None else Path(tempfile.gettempdir()) / "gridmap-serving"
    return root / hashlib.sha256(store_url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Edition:
    """One published revision: its documents on disk and what was built."""

    path: Path
    revision: str
    counts: dict[str, int]
    built_at: float
    seconds: float
    streets: list[str] | None  # the streets recomputed, or None for a whole rebuild
    order: Mapping[str, Sequence[str]] = field(default_factory=dict)  # part keys per document in parts

    def read(self, name: str) -> bytes:
        """One whole document of this edition."""
        return (self.path / name).read_bytes()

    def parts(self, name: str) -> list[bytes]:
        """The parts of document `name`, in its reading order (an empty part is b"")."""
        folder = self.path / name
        if name not in self.order:  # an edition from before `name` was kept in parts
            raise FileNotFoundError(folder)
        return [(folder / part_file(key)).read_bytes() for key in self.order[name]]


def part_file(key: str) -> str:
    """The file name of a part: street codes may hold any character, a file name may not."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class Shelf:
    """A directory of editions: one builder publishes, any number of readers take the newest."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seen: tuple[int, int] | None = None
        self._newest: Edition | None = None
        self._lock = threading.Lock()

    def publish(
        self,
        revision: str,
        documents: Documents,
        counts: Mapping[str, int],
        *,
        previous: Edition | None = None,
        **meta: Any,
    ) -> Edition:
        """Write the documents aside, then point readers at them in one atomic rename.

        Parts not rendered are hard-linked from `previous` (the edition the
        render's unchanged parts are the same as); one it lacks is an error, and nothing is published.
        """
        name = f"e-{time.time_ns()}-{uuid.uuid4().hex[:6]}"
        staging = self.directory / f".{name}"
        staging.mkdir()
        try:
            for doc, body in documents.whole.items():
                (staging / doc).write_bytes(body)
            for doc, keys in documents.order.items():
                _write_parts(staging / doc, keys, documents.parts.get(doc, {}), previous, doc)
            order = {doc: list(keys) for doc, keys in documents.order.items()}
            info = {"revision": revision, "counts": dict(counts), "built_at": time.time(), "order": order}
            (staging / _META).write_text(json.dumps({**info, **meta}), encoding="utf-8")
            staging.rename(self.directory / name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        pointer = self.directory / f".{_POINTER}.{uuid.uuid4().hex[:6]}"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, self.directory / _POINTER)
        self._prune(keep=name)
        edition = self.newest()
        assert edition is not None
        return edition

    def reading(self, use: Callable[[Edition], T]) -> tuple[Edition, T]:
        """`use` of the newest edition, taken again from a newer one if this one was pruned mid-read.

        A reply assembled from many parts reads one edition only; a reader
        slower than `_KEEP` publishes loses its edition, never mixes two.
        """
        tries = 0
        while True:
            edition = self.newest()
            if edition is None:
                raise LookupError("nothing published yet")
            try:
                return edition, use(edition)
            except FileNotFoundError:
                tries += 1
                if tries > _KEEP:
                    raise

    def newest(self) -> Edition | None:
        """The newest complete edition (None before the first); one stat when nothing changed."""
        try:
            stat = (self.directory / _POINTER).stat()
        except FileNotFoundError:
            return None
        seen = (stat.st_ino, stat.st_mtime_ns)
        if seen == self._seen:
            return self._newest
        with self._lock:
            try:
                name = (self.directory / _POINTER).read_text(encoding="utf-8").strip()
                info = json.loads((self.directory / name / _META).read_text(encoding="utf-8"))
            except FileNotFoundError:  # replaced while being read: the next call sees the newer one
                return self._newest
            self._newest = Edition(
                path=self.directory / name,
                revision=str(info["revision"]),
                counts={k: int(v) for k, v in info["counts"].items()},
                built_at=float(info["built_at"]),
                seconds=float(info.get("seconds", 0.0)),
                streets=info.get("streets"),
                order={doc: tuple(keys) for doc, keys in info.get("order", {}).items()},
            )
            self._seen = seen
            return self._newest

    def _prune(self, keep: str) -> None:
        editions = sorted(p for p in self.directory.glob("e-*") if p.is_dir())
        for old in editions[:-_KEEP]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
        for staging in self.directory.glob(".e-*"):
            if time.time() - staging.stat().st_mtime > 3600:  # left by a builder killed mid-write
                shutil.rmtree(staging, ignore_errors=True)

    @contextlib.contextmanager
    def builder_lock(self, stop: threading.Event, parent: int | None = None) -> Iterator[bool]:
        """Hold the shelf's builder lock, waiting for it; yields False if stopped (or orphaned) first."""
        fd = os.open(self.directory / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if stop.wait(POLL_SECONDS * 5) or orphaned(parent):
                        yield False
                        return
            yield True
        finally:
            os.close(fd)


def _write_parts(
    folder: Path, keys: Sequence[str], fresh: Mapping[str, bytes], previous: Edition | None, doc: str
) -> None:
    """The parts of one document: the fresh ones written, the others linked from `previous`."""
    folder.mkdir()
    known = set(previous.order.get(doc, ())) if previous is not None else set()
    for key in keys:
        target = folder / part_file(key)
        if key in fresh:
            target.write_bytes(fresh[key])
        elif previous is not None and key in known:
            os.link(previous.path / doc / part_file(key), target)
        else:
            raise GridmapError(f"part {key!r} of {doc} was neither rendered nor published before")


def die_with_parent() -> None:
    """Ask Linux to terminate this process when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere a no-op.

    The parent polling in `main` covers the moment before this call and other systems.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def orphaned(parent: int | None) -> bool:
    """Whether the process that started this one is gone (its children are then re-parented)."""
    return parent is not None and os.getppid() != parent


INDEXED = ("households",)
"""The layers whose code index the live analysis keeps (`CodeRows`): millions of rows, each edit
names a few."""

BOOK_KEYS = {"visit_status": "code", "party_orgs": "code", "party_links": "household_code"}
"""The inputs the books give (`gridmap.analysis.book_inputs`), each with the column keying its rows."""


def beijing_today() -> dt.date:
    """Today's date in Beijing: the day visits fall due and organisations are in force."""
    return dt.datetime.now(BEIJING).date()


@dataclass
class LiveAnalysis:
    """A store's frames and analysis, brought to its newest revision on `refresh`.

    An edit redoes only the communities it reaches (`gridmap.incremental.update`:
    the features the store's log names are read again); a change the store cannot place in a
    layer takes the whole analysis. The books follow their change feed (`gridmap.stores.feed`): a
    logged visit or care change reads those households' visit status again, a party register edit
    the registers; and when the Beijing day (`today`) turns, the books' inputs are read again for
    the new day (visits fall due, organisations come into or out of force). With `narrow`, the
    largest layers hold only the fields the analysis reads (the builder's case); maps and action
    lists want them whole.
    """

    store: Store
    options: AnalysisOptions = field(default_factory=AnalysisOptions)
    narrow: bool = True
    today: Callable[[], dt.date] = beijing_today
    revision: str | None = field(default=None, init=False)
    frames: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, init=False)
    analysis: Analysis | None = field(default=None, init=False)
    _stamps: Stamps = field(default_factory=dict, init=False)
    _position: int | None = field(default=None, init=False)
    _feed: int | None = field(default=None, init=False)  # the books' feed position the frames are at
    _day: dt.date | None = field(default=None, init=False)  # the day the books' inputs are of
    _locator: GridLocator | None = field(default=None, init=False)
    _buildings: BuildingLocator | None = field(default=None, init=False)
    _rows: dict[str, CodeRows] = field(default_factory=dict, init=False)  # code indexes of `INDEXED`

    def refresh(self) -> Refresh | None:
        """Catch up with the store: what was redone, or None when neither its revision, its books'
        feed nor the day has moved.

        A refresh that fails part way forgets everything (the site path replaces frames in
        place), so the next one starts from the whole store rather than from half an edit.
        A moved revision may be an external edit whose `grid_code` is not derived yet (a
        GeoPackage's): it is settled first, in milliseconds (or by the settler thread, whose
        write this one waits for), so one refresh takes the edit and its derived grids together
        rather than one each.
        """
        revision = self.store.revision()
        if revision != self.revision:
            self.store.settle()  # or waits while the settler thread does
            revision = self.store.revision()
        feed, day = self._feed_position(), self.today()
        if (revision, feed, day) == (self.revision, self._feed, self._day) and self.analysis is not None:
            return None
        try:
            streets = self._catch_up(revision, feed, day)
        except BaseException:
            self.forget()
            raise
        return Refresh(revision, streets)

    def placing(self) -> HeldPlaces:
        """Where a case at a point lies in the revision analysed, placed as a lookup places it, from the
        layers and indexes kept here (the builder's repair tickets need no lookup snapshot)."""
        assert self.analysis is not None and self._locator is not None and self._buildings is not None
        layers = {**self.frames, "buildings": self.analysis.frames["buildings"]}  # with grid_code derived
        return HeldPlaces.of(layers, self._locator, self._buildings)

    def forget(self) -> None:
        """Drop the frames and analysis: the next `refresh` reads and analyses the whole store."""
        self.revision, self.analysis, self.frames, self._stamps = None, None, {}, {}
        self._locator = self._buildings = None
        self._rows = {}
        self._position = self._feed = self._day = None

    def _feed_position(self) -> int | None:
        """The books' feed position (None: the store keeps no books)."""
        try:
            return self.store.book_feed().position()
        except StoreError:
            return None

    def _catch_up(self, revision: str, feed: int | None, day: dt.date) -> list[str] | None:
        """Bring frames and analysis to `revision`, `feed` and `day`; the streets redone (None: all)."""
        position = self.store.log_position()  # before any layer is read: they are at least this recent
        stamps = self.store.last_modified()
        changed: set[str] | None = set()  # the books or the day alone moved: no layer changed
        if self.analysis is None:
            changed = None
        elif revision != self.revision:
            changed = changed_layers(self._stamps, stamps)
        edited: dict[str, pd.DataFrame] = {}
        codes: dict[str, list[str]] = {}
        if changed:
            edited, codes = self._edits(changed)
        books = self._book_edits(feed, day, edited) if changed is not None else None
        if changed is None or books is None or self.analysis is None or self._locator is None:
            self.frames = read_inputs(self.store, narrow=self.narrow, on=day)
            self.analysis = compacted_all(self.frames, analyze(self.frames, self.options))
            self._locator = GridLocator(self.frames["grids"])
            self._buildings = BuildingLocator(self.analysis.frames["buildings"])
            self._rows = {
                name: CodeRows.of(self.frames[name]["code"]) for name in INDEXED if name in self.frames
            }
            self.revision, self._stamps, self._position = revision, stamps, position
            self._feed, self._day = feed, day
            return None
        edited |= books[0]
        codes |= books[1]
        rows = {
            name: index.follow(edited[name]["code"]) for name, index in self._rows.items() if name in edited
        }
        self.analysis, streets = update(
            self.frames,
            self.analysis,
            edited,
            self.options,
            locator=self._locator,
            buildings=self._buildings,
            codes=codes,
            rows=rows,
        )
        self._rows |= {name: index.follow(self.frames[name]["code"]) for name, index in rows.items()}
        if "grids" in edited:
            self._locator = GridLocator(self.frames["grids"])
        if "buildings" in edited:
            self._buildings = BuildingLocator(self.analysis.frames["buildings"])
        self.revision, self._stamps, self._position = revision, stamps, position
        self._feed, self._day = feed, day
        return streets

    def _edits(self, changed: set[str]) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
        """The new version of each changed layer, and the codes the log says were touched.

        A layer the log names a few features of is patched with just those (a
        household edit reads one row, not five million); one changed outside
        the log (QGIS), or by a large write, is read whole.
        """
        touched = self.store.touched_since(self._position) if self._position is not None else None
        layers = changed | {name for name in touched or {} if name in LAYER_NAMES}
        edited: dict[str, pd.DataFrame] = {}
        codes: dict[str, list[str]] = {}
        for layer in sorted(layers):
            names = None if touched is None else touched.get(layer)
            if names is None:
                edited[layer] = read_input(self.store, layer, narrow=self.narrow)
            else:
                fresh = self.store.read(layer, codes=names)
                edited[layer] = patched(self.frames[layer], fresh, names, self._rows.get(layer))
                codes[layer] = names
        return edited, codes

    def _book_edits(
        self, feed: int | None, day: dt.date, edited: Mapping[str, pd.DataFrame]
    ) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]] | None:
        """The books' inputs the feed since the last refresh (or a new day) changed, and the keys
        of their rows that changed; None when an input appeared or vanished (all is read again).

        A few households visited read just their status again (`refreshed_status`); a new day,
        a bulk load or a party register edit reads that input whole, compared row by row.
        """
        if feed == self._feed and day == self._day:
            return {}, {}
        if feed is not None and self._feed is not None and day == self._day:
            fed = self.store.book_feed().since(self._feed)
        else:  # a new day, or a feed that came or went: every book input of the day
            fed = {VISITS: None, PARTY: None}
        households = edited.get("households", self.frames["households"])["code"]
        fresh: dict[str, pd.DataFrame] = {}
        changes: dict[str, list[str]] = {}
        visited = fed.get(VISITS, [])
        if visited and "visit_status" in self.frames:
            status = refreshed_status(self.store, self.frames["visit_status"], visited, day)
            fresh["visit_status"], changes["visit_status"] = status, visited
        elif VISITS in fed:  # the whole book, or a first visit
            found = coverage_input(self.store, households, day)
            if (found is None) != ("visit_status" not in self.frames):
                return None
            if found is not None:
                fresh["visit_status"] = found
        if PARTY in fed:
            found_party = party_inputs(self.store, day)
            if found_party.keys() != {n for n in ("party_orgs", "party_links") if n in self.frames}:
                return None
            fresh |= found_party
        for name, frame in fresh.items():
            if name not in changes:
                changes[name] = changed_keys(self.frames[name], frame, BOOK_KEYS[name])
        kept = {name: frame for name, frame in fresh.items() if changes[name]}
        return kept, {name: changes[name] for name in kept}


@dataclass(frozen=True)
class Refresh:
    """What a `LiveAnalysis.refresh` did: the revision reached, the streets redone (None: all)."""

    revision: str
    streets: list[str] | None


@dataclass
class Builder:
    """The whole store's analysis for the newest revision it has seen, published to a shelf."""

    store: Store
    shelf: Shelf
    render: Render
    options: AnalysisOptions = field(default_factory=AnalysisOptions)
    live: LiveAnalysis = field(init=False)
    desk: CaseDesk | None = field(default=None, init=False)
    last: Edition | None = field(default=None, init=False)
    """The edition published from the live analysis as it was before its latest refresh."""

    def __post_init__(self) -> None:
        # Only the fields the analysis reads: half the memory of whole layers.
        self.live = LiveAnalysis(self.store, self.options, narrow=True)

    def sync_repairs(self) -> RepairSync | None:
        """Repair tickets follow the speakers of the revision just analysed, however they were edited.

        A failure is logged and tried again with the next revision; it never keeps the analysis from
        being published.
        """
        try:
            if self.desk is None:  # its lookup is never loaded: the tickets are placed by `placing`
                self.desk = CaseDesk(self.store, LookupService(self.store))
            frames = self.live.frames
            done = sync_repairs(self.desk, frames["speakers"], frames["households"], self.live.placing())
        except GridmapError:
            log.exception("repair tickets not synchronised")
            return None
        if done.opened or done.closed:
            log.info("repair tickets: %d opened, %d closed", len(done.opened), len(done.closed))
        return done

    def step(self) -> Edition | None:
        """Publish the store's current revision if it is not published yet (None when nothing changed)."""
        started = time.perf_counter()
        done = self.live.refresh()
        if done is None:
            return None
        assert self.live.analysis is not None
        counts = {name: len(frame) for name, frame in self.live.frames.items()}
        previous = self.last if done.streets is not None else None  # parts to share, if any
        self.last = None  # until this revision is published: nothing to share with
        redo = done.streets if previous is not None else None
        documents = self.render(self.live.analysis, redo)
        seconds = time.perf_counter() - started
        edition = self.shelf.publish(
            done.revision, documents, counts, previous=previous, seconds=seconds, streets=redo
        )
        self.last = edition
        redone = "whole store" if done.streets is None else done.streets
        log.info("published revision %s in %.2f s (%s)", done.revision, seconds, redone)
        self.sync_repairs()
        return edition

    def run(self, stop: threading.Event) -> None:
        """Publish every new revision until `stop` is set; a failed step is logged and retried.

        Beside it, a thread settles external edits (`Store.settle`) every
        `SETTLE_SECONDS`, so a feature QGIS moved gets its grid within a second
        even while an analysis is being built.
        """
        settler = threading.Thread(target=settle_until, args=(self.store, stop), name="settler", daemon=True)
        settler.start()
        while not stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("analysis not published; retrying")
                self.live.forget()  # rebuild and publish from scratch next time
                stop.wait(POLL_SECONDS * 10)
            if self.store.wait_for_change(LISTEN_SECONDS) is None:
                stop.wait(REVISION_POLL_SECONDS)


def settle_until(store: Store, stop: threading.Event) -> None:
    """Derive what the store could not for edits made outside gridmap, until `stop` is set."""
    while not stop.wait(SETTLE_SECONDS):
        try:
            store.settle()
        except Exception:
            log.exception("external edits not settled; retrying")


def resolve(reference: str) -> Render:
    """`module:function` as the callable it names."""
    module, _, name = reference.partition(":")
    render: Render = getattr(importlib.import_module(module), name)
    return render


@dataclass
class BuilderHandle:
    """A builder running for this process: a thread, or a standby process; `stop` ends it."""

    stop_event: threading.Event
    thread: threading.Thread | None = None
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=30)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_builder(store_url: str, shelf: Shelf, render: str, *, in_process: bool) -> BuilderHandle:
    """Start this process's builder: a thread (`in_process`), or a standby `python -m gridmap.serving`."""
    stop = threading.Event()
    if not in_process:
        command = [sys.executable, "-m", "gridmap.serving", str(shelf.directory), render, str(os.getpid())]
        env = {**os.environ, "GRIDMAP_STORE": store_url}
        return BuilderHandle(stop, process=subprocess.Popen(command, env=env))

    def run() -> None:
        with shelf.builder_lock(stop) as held:
            if held:
                with open_store(store_url) as store:
                    Builder(store, shelf, resolve(render)).run(stop)

    thread = threading.Thread(target=run, name="analysis-builder", daemon=True)
    thread.start()
    return BuilderHandle(stop, thread=thread)


def main(argv: list[str] | None = None) -> None:
    """A builder process: wait for the shelf's lock, then publish revisions until the parent is gone."""
    parser = argparse.ArgumentParser(prog="python -m gridmap.serving")
    parser.add_argument("directory", type=Path)
    parser.add_argument("render", help="module:function turning an Analysis into documents")
    parser.add_argument("parent", type=int, help="pid of the worker that started this builder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s builder %(process)d: %(message)s")
    log.setLevel(logging.INFO)  # its own progress; the libraries' only when they warn
    shelf, stop = Shelf(args.directory), threading.Event()

    die_with_parent()

    def watch_parent() -> None:
        # Exits at once, not after the step under way: a refresh can run for minutes, and an
        # orphan has no worker left to read what it publishes.
        while not stop.wait(POLL_SECONDS * 5):
            if orphaned(args.parent):
                log.warning("the worker %s that started this builder is gone; exiting", args.parent)
                logging.shutdown()
                os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    with shelf.builder_lock(stop, args.parent) as held:
        if held:
            with open_store(os.environ["GRIDMAP_STORE"]) as store:
                Builder(store, shelf, resolve(args.render)).run(stop)


if __name__ == "__main__":
    main()
