"""Working-hour deadlines: known answers across weekends and holidays, and properties (hypothesis)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.cases.calendar import WorkingCalendar, load_calendar
from gridmap.errors import ConfigError, ValidationError

CAL = WorkingCalendar()  # Mon–Fri 09:00–12:00 and 13:30–17:30 Beijing time, official holidays
BJ = CAL.zone


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=BJ)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(2026, 12, 1, 9), 2, at(2026, 12, 1, 11)),  # inside the morning
        (at(2026, 12, 1, 11), 2, at(2026, 12, 1, 14, 30)),  # over the lunch break
        (at(2026, 12, 4, 16, 30), 2, at(2026, 12, 7, 10)),  # Friday afternoon → Monday
        (at(2026, 12, 5, 10), 1, at(2026, 12, 7, 10)),  # reported on Saturday: counts from Monday 09:00
        (at(2026, 12, 1, 20), 7, at(2026, 12, 2, 17, 30)),  # a whole working day is 7 hours
        (at(2026, 9, 30, 17), 1, at(2026, 10, 8, 9, 30)),  # National Day holiday 10-01…10-07
        (at(2026, 10, 9, 17), 1, at(2026, 10, 10, 9, 30)),  # Saturday 10-10 is a make-up working day
        (at(2026, 12, 1, 9), 0, at(2026, 12, 1, 9)),
    ],
)
def test_known_deadlines(start: dt.datetime, hours: float, due: dt.datetime) -> None:
    assert CAL.add_hours(start, hours) == due
    assert CAL.hours_between(start, due) == pytest.approx(hours)


def test_configured_calendar(tmp_path: Path) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(
        json.dumps(
            {
                "weekdays": [0, 1, 2, 3, 4, 5],
                "hours": [["08:00", "12:00"]],
                "holidays": ["2026-12-07"],
                "official": False,
            }
        )
    )
    cal = load_calendar(path)
    assert cal.add_hours(at(2026, 12, 4, 11), 6) == at(2026, 12, 8, 9)  # Fri 1 h, Sat 4 h, Mon off, Tue 1 h


def test_bad_calendars_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps({"weekdays": [], "hours": [["09:00", "12:00"]]}))
    with pytest.raises(ConfigError, match=r"calendar\.json: weekdays"):
        load_calendar(path)
    with pytest.raises(ConfigError, match="overlap"):
        WorkingCalendar(hours=((dt.time(9), dt.time(12)), (dt.time(11), dt.time(13))))
    with pytest.raises(ConfigError, match="timezone"):
        WorkingCalendar(timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match="no 10000000 working hours within 3660 days"):
        WorkingCalendar(weekdays=frozenset({0}), holidays=frozenset(), official=False).add_hours(
            at(2026, 1, 1), 10_000_000
        )


@functools.cache
def _official_workday(day: dt.date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def _minute_oracle(start: dt.datetime, minutes: int) -> dt.datetime:
    """Step minute by minute with the official calendar, independently of WorkingCalendar's arithmetic."""
    moment = start
    left = minutes
    while left > 0:
        local = moment.astimezone(BJ)
        t = local.time()
        working = _official_workday(local.date()) and (
            dt.time(9) <= t < dt.time(12) or dt.time(13, 30) <= t < dt.time(17, 30)
        )
        moment += dt.timedelta(minutes=1)
        left -= working
    return moment


starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 20), timezones=st.just(dt.UTC)
).map(lambda d: d.replace(second=0, microsecond=0))


@settings(max_examples=60, deadline=None)
@given(start=starts, minutes=st.integers(min_value=1, max_value=24 * 60))
def test_deadline_matches_a_minute_by_minute_count(start: dt.datetime, minutes: int) -> None:
    due = CAL.add_hours(start, minutes / 60)
    expected = _minute_oracle(start, minutes)
    assert abs((due - expected).total_seconds()) < 1e-3


@settings(max_examples=200, deadline=None)
@given(
    start=starts, hours=st.floats(min_value=0.01, max_value=300), more=st.floats(min_value=0, max_value=50)
)
def test_deadline_properties(start: dt.datetime, hours: float, more: float) -> None:
    due = CAL.add_hours(start, hours)
    assert due > start
    assert CAL.hours_between(start, due) == pytest.approx(hours, abs=1e-6)
    assert CAL.add_hours(start, hours + more) >= due
    local = due.astimezone(BJ)
    assert CAL.is_working_day(local.date())
    assert any(begin < due <= end for begin, end in CAL.periods(local.date()))


def test_periods_are_local_days_and_bounded() -> None:
    start, end = CAL.period(dt.date(2026, 7, 1), dt.date(2026, 7, 31))
    assert start == at(2026, 7, 1) and end == at(2026, 8, 1)
    assert CAL.period(None, None) == (None, None)
    with pytest.raises(ValidationError, match="until must not be before since"):
        CAL.period(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    with pytest.raises(ValidationError, match="9999-12-31 is outside"):
        CAL.period(None, dt.date.max)


def test_calendar_hours_run_day_and_night() -> None:
    """An emergency's hours are clock hours: no lunch break, no weekend, no holiday."""
    calendar = WorkingCalendar()
    beijing = ZoneInfo("Asia/Shanghai")
    noon = dt.datetime(2026, 12, 1, 11, 24, 57, tzinfo=beijing)  # a Tuesday
    assert calendar.deadline(noon, 1, "calendar") == dt.datetime(2026, 12, 1, 12, 24, 57, tzinfo=beijing)
    assert calendar.deadline(noon, 1, "working") == dt.datetime(2026, 12, 1, 13, 54, 57, tzinfo=beijing)
    friday = dt.datetime(2026, 12, 4, 19, 0, tzinfo=beijing)
    assert calendar.deadline(friday, 1, "calendar") == dt.datetime(2026, 12, 4, 20, 0, tzinfo=beijing)
    assert calendar.elapsed(friday, friday + dt.timedelta(hours=60), "calendar") == 60
    assert calendar.elapsed(friday, friday + dt.timedelta(hours=60), "working") == 0
    assert calendar.add_working_days(dt.date(2026, 12, 4), 1) == dt.date(2026, 12, 7)
    assert calendar.add_working_days(dt.date(2026, 12, 7), -1) == dt.date(2026, 12, 4)
    assert calendar.working_days_between(dt.date(2026, 12, 4), dt.date(2026, 12, 8)) == 2
