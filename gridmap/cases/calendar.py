"""Working time: deadlines count working hours, not clock hours (限时办结).

A `WorkingCalendar` knows the working weekdays, the working periods of a day
(09:00–12:00 and 13:30–17:30 by default), extra holidays and make-up working
days (调休), and by default the official Chinese public holidays and make-up
days as published by the State Council (the `chinesecalendar` package). A
city configures its own with a JSON file (`GRIDMAP_CASE_CALENDAR`):
`{"timezone", "weekdays": [0..6, Monday = 0], "hours": [["09:00", "12:00"], …],
"holidays": ["2026-10-01", …], "workdays": [...], "official": true}`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from pydantic import BaseModel, Field

from gridmap.cases._config import read_model
from gridmap.errors import ConfigError, Problem, ValidationError
from gridmap.texts import Message

MAX_DAYS = 3660
"""How far ahead a deadline may fall (ten years): a calendar with no working time fails, not hangs."""

DEFAULT_TIMEZONE = "Asia/Shanghai"
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
"""The dates a period may name (times beyond them do not convert between timezones)."""
_DEFAULT_HOURS = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30)))
_HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class WorkingCalendar:
    """When the departments work; all datetimes in and out are timezone-aware."""

    timezone: str = DEFAULT_TIMEZONE
    weekdays: frozenset[int] = frozenset(range(5))
    hours: tuple[tuple[dt.time, dt.time], ...] = _DEFAULT_HOURS
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    official: bool = True
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(Message("calendar.timezone", zone=repr(self.timezone))) from None
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ConfigError(Message("calendar.weekdays"))
        if not self.hours:
            raise ConfigError(Message("calendar.no_hours"))
        previous = dt.time(0, 0)
        for start, end in self.hours:
            if not start < end or start < previous:
                raise ConfigError(Message("calendar.periods", period=f"{start:%H:%M}–{end:%H:%M}"))
            previous = end

    @property
    def zone(self) -> ZoneInfo:
        """Where the working hours are read (local time of the city)."""
        return self._zone

    def month_starts(self, first: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
        """The local midnights opening each calendar month from the one holding `first` to the one holding
        `last` (a case reported at 00:30 Beijing on 1 December is December's, though UTC says 30 November)."""
        _require_aware(first)
        _require_aware(last)
        month = first.astimezone(self._zone).date().replace(day=1)
        end = last.astimezone(self._zone).date()
        out = []
        while month <= end:
            out.append(dt.datetime.combine(month, dt.time(), tzinfo=self._zone))
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return out

    def period(
        self, since: dt.date | None, until: dt.date | None
    ) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Local dates, both inclusive, as the instants [since 00:00, the day after until 00:00)."""
        if since and until and until < since:
            raise ValidationError(Message("period.source"), [Problem(None, "until", Message("period.order"))])
        for name, day in (("since", since), ("until", until)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                reason = Message("period.outside", day=day, first=FIRST_DAY, last=LAST_DAY)
                raise ValidationError(Message("period.source"), [Problem(None, name, reason)])
        start = dt.datetime.combine(since, dt.time(), tzinfo=self._zone) if since else None
        end = (
            dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=self._zone) if until else None
        )
        return start, end

    def is_working_day(self, day: dt.date) -> bool:
        """Whether `day` has working hours: configured exceptions first, then official ones, then weekdays."""
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        if self.official:
            if day in chinese_calendar.holidays:
                return False
            if day in chinese_calendar.workdays:
                return True
        return day.weekday() in self.weekdays

    def periods(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The working periods of `day` as aware datetimes (none on a day off)."""
        if self.is_working_day(day):
            for start, end in self.hours:
                yield (
                    dt.datetime.combine(day, start, tzinfo=self._zone),
                    dt.datetime.combine(day, end, tzinfo=self._zone),
                )

    def add_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The moment `hours` working hours after `start` (a deadline counted from dispatch).

        Time outside working periods does not count, so a case dispatched on
        Friday evening with 4 hours is due on Monday (or after the holiday)
        at 13:00. Zero hours is `start` itself.
        """
        _require_aware(start)
        remaining = dt.timedelta(hours=hours)
        if remaining <= dt.timedelta(0):
            return start
        local = start.astimezone(self._zone)
        day = local.date()
        for _ in range(MAX_DAYS):
            for begin, end in self.periods(day):
                begin = max(begin, local)
                if begin >= end:
                    continue
                if remaining <= end - begin:
                    return begin + remaining
                remaining -= end - begin
            day += dt.timedelta(days=1)
        raise ConfigError(Message("calendar.hours_out", hours=hours, days=MAX_DAYS, start=start))

    def deadline(self, start: dt.datetime, hours: float, clock: str = "working") -> dt.datetime:
        """`hours` after `start` on `clock`: working hours, or calendar hours (emergencies, day and night)."""
        _require_aware(start)
        if clock == "calendar":
            return start + dt.timedelta(hours=max(hours, 0.0))
        return self.add_hours(start, hours)

    def elapsed(self, start: dt.datetime, end: dt.datetime, clock: str = "working") -> float:
        """Hours from `start` to `end` on `clock` (0 when `end` is not later)."""
        if clock == "calendar":
            _require_aware(start)
            _require_aware(end)
            return max((end - start) / _HOUR, 0.0)
        return self.hours_between(start, end)

    def add_working_days(self, day: dt.date, days: int) -> dt.date:
        """The working day `days` working days after (or, negative, before) `day`."""
        step = dt.timedelta(days=1 if days >= 0 else -1)
        left = abs(days)
        for _ in range(MAX_DAYS):
            if left == 0:
                return day
            day += step
            if self.is_working_day(day):
                left -= 1
        raise ConfigError(Message("calendar.days_out", n=days, days=MAX_DAYS, day=day))

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` is not later)."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours from `start` to `end` (0 when `end` is not later)."""
        _require_aware(start)
        _require_aware(end)
        if end <= start:
            return 0.0
        local_start, local_end = start.astimezone(self._zone), end.astimezone(self._zone)
        total = dt.timedelta(0)
        day = local_start.date()
        while day <= local_end.date():
            for begin, finish in self.periods(day):
                overlap = min(finish, local_end) - max(begin, local_start)
                if overlap > dt.timedelta(0):
                    total += overlap
            day += dt.timedelta(days=1)
        return total / _HOUR


class _CalendarFile(BaseModel):
    timezone: str = DEFAULT_TIMEZONE
    weekdays: list[int] = Field(default=[0, 1, 2, 3, 4], min_length=1)
    hours: list[tuple[dt.time, dt.time]] = Field(default=list(_DEFAULT_HOURS), min_length=1)
    holidays: list[dt.date] = []
    workdays: list[dt.date] = []
    official: bool = True


def load_calendar(path: str | Path | None = None) -> WorkingCalendar:
    """The calendar in `path`, or the default one; a bad file is a ConfigError naming it and the field."""
    if path is None:
        return WorkingCalendar()
    parsed = read_model(path, _CalendarFile, "working calendar")
    return WorkingCalendar(
        timezone=parsed.timezone,
        weekdays=frozenset(parsed.weekdays),
        hours=tuple(parsed.hours),
        holidays=frozenset(parsed.holidays),
        workdays=frozenset(parsed.workdays),
        official=parsed.official,
    )


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is needed, got {moment!r}")
