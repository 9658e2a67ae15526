"""Reading a patrol from a GPX file (a phone's or a handheld GPS's track log), by gpxpy.

Every track point of every track and segment, in file order, makes one patrol;
each needs a time (the time inside the grid is measured from them).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import gpxpy
import gpxpy.gpx
import numpy as np

from gridmap.errors import Problem, ValidationError
from gridmap.texts import Message
from gridmap.visits.tracks import Track, check_track

MAX_BYTES = 50_000_000
"""The largest GPX file read (a day's track at one fix a second is a few megabytes)."""


def read_gpx(path: Path) -> tuple[Track, dt.datetime]:
    """(the track, the UTC time of its first fix) of a GPX file; a ValidationError names what is wrong."""
    source = str(path)
    if not path.is_file():
        raise ValidationError(source, [Problem(None, "file", Message("read.not_found"))])
    if path.stat().st_size > MAX_BYTES:
        raise ValidationError(source, [Problem(None, "file", Message("visit.gpx_large", most=MAX_BYTES))])
    try:
        parsed = gpxpy.parse(path.read_text(encoding="utf-8"))
    except (gpxpy.gpx.GPXException, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(source, [Problem(None, "file", Message("visit.not_gpx", why=exc))]) from None
    points = [p for track in parsed.tracks for segment in track.segments for p in segment.points]
    if not points:
        raise ValidationError(source, [Problem(None, "trkpt", Message("visit.no_points"))])
    untimed = [i for i, p in enumerate(points) if p.time is None]
    if untimed:
        reason = Message("visit.untimed", n=len(untimed), first=untimed[0] + 1)
        raise ValidationError(source, [Problem(untimed[0] + 1, "time", reason)])
    times = [_utc(p.time) for p in points if p.time is not None]
    seconds = np.array([(t - times[0]).total_seconds() for t in times], dtype=np.float64)
    track = check_track([p.longitude for p in points], [p.latitude for p in points], seconds, source)
    return track, times[0]


def _utc(when: dt.datetime) -> dt.datetime:
    """GPX times are UTC; one written without a zone is read as UTC too."""
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
