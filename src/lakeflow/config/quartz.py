"""Quartz cron expressions, as Databricks Jobs accept them, checked offline.

Databricks schedules use Quartz syntax (`0 0 */6 * * ?`), not Unix cron: six or seven fields
(seconds first, optional year last) and exactly one of day-of-month / day-of-week must be `?`.
A wrong expression is only rejected by the Jobs API at `pulumi up`, so it is caught here instead.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache, lru_cache
from itertools import pairwise

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

# name, low, high, symbolic names (1-based)
_FIELDS = [
    ("seconds", 0, 59, []),
    ("minutes", 0, 59, []),
    ("hours", 0, 23, []),
    ("day-of-month", 1, 31, []),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2099, []),
]

_RANGE = re.compile(r"^(?P<start>\*|[A-Z0-9]+)(?:-(?P<end>[A-Z0-9]+))?(?:/(?P<step>\d+))?$")


@lru_cache(maxsize=256)  # pure, like cron_period_minutes; bounded, as the text comes from any file
def quartz_error(expression: str) -> str | None:
    """Why `expression` is not a valid Quartz cron expression, or None when it is."""
    parts = expression.split()
    if len(parts) not in (6, 7):
        return (
            f"has {len(parts)} fields; Quartz needs 6 or 7 "
            "(seconds minutes hours day-of-month month day-of-week [year]), e.g. '0 0 */6 * * ?'"
        )
    for (name, low, high, names), part in zip(_FIELDS, parts, strict=False):
        for item in part.upper().split(","):
            problem = _item_error(name, item, low, high, names)
            if problem:
                return f"{name} field {part!r}: {problem}"
    dom, dow = parts[3], parts[5]  # '?' has no case
    if (dom == "?") == (dow == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    seconds = _expand(parts[0].upper(), 0, 59)
    if seconds is not None and len(seconds) > 1:
        return f"seconds field {parts[0]!r} fires {len(seconds)} times a minute; a schedule names one second, e.g. '0'"
    upper = [p.upper() for p in parts]
    if len(parts) == 6 or upper[6] in ("*", "?"):
        days = _run_days(upper[3], upper[4], upper[5])
        if days == []:
            return (
                f"never fires: no date matches day-of-month {parts[3]!r}, month {parts[4]!r}, day-of-week {parts[5]!r}"
            )
    return None


def _item_error(name: str, item: str, low: int, high: int, names: list[str]) -> str | None:
    if item == "?":
        return None if name in ("day-of-month", "day-of-week") else "'?' is only allowed in day fields"
    if name == "day-of-month" and re.fullmatch(r"L(-\d{1,2})?|LW|\d{1,2}W", item):
        digits = re.findall(r"\d+", item)
        return _bounds(int(digits[0]), 1, 30 if item.startswith("L") else 31) if digits else None
    if name == "day-of-week" and (m := re.fullmatch(r"([A-Z0-9]+)(L|#([1-5]))", item)):
        return _value_error(m.group(1), low, high, names)
    if name == "day-of-week" and item == "L":
        return None
    m = _RANGE.match(item)
    if not m:
        return f"{item!r} is not a value, range (a-b), step (a/n) or list"
    if m["start"] != "*":
        for token in (m["start"], m["end"]):
            if token and (problem := _value_error(token, low, high, names)):
                return problem
    elif m["end"]:
        return f"{item!r}: '*' cannot start a range"
    if m["step"] is not None and not 1 <= int(m["step"]) <= high:
        return f"step {m['step']} must be between 1 and {high}"
    return None


def _value_error(token: str, low: int, high: int, names: list[str]) -> str | None:
    if token in names:
        return None
    if not token.isdigit():
        allowed = f"{low}-{high}" + (f" or {names[0]}..{names[-1]}" if names else "")
        return f"{token!r} is not allowed (use {allowed})"
    return _bounds(int(token), low, high)


def _bounds(value: int, low: int, high: int) -> str | None:
    return None if low <= value <= high else f"{value} is outside {low}-{high}"


# --- Quartz cron: the longest gap between two runs ---------------------------------------------------------

_PERIOD_ITEM = re.compile(r"(\*|[A-Z0-9]+)(?:-([A-Z0-9]+))?(?:/(\d+))?")
_HORIZON_DAYS = 2 * 366


@cache  # a pure function of the text; a stack repeats a few expressions across many pipelines
def cron_period_minutes(expression: str) -> int | None:
    """The longest gap, in minutes, between two consecutive runs of a Quartz cron expression.

    `0 0 */6 * * ?` -> 360, `0 30 2 * * ?` -> 1440, `0 0 9 ? * MON-FRI` -> 4320 (Friday to Monday).
    Fields: *, ?, values, names, lists, ranges (wrapping, e.g. FRI-MON) and steps. None when there is
    no fixed period to derive: L, W or # days, a year field, or fewer than two runs in two years.
    Seconds are ignored (minute resolution) and so are daylight-saving shifts (the latency
    objective added to the period absorbs the hour).
    """
    parts = expression.upper().split()
    if len(parts) not in (6, 7) or (len(parts) == 7 and parts[6] not in ("*", "?")):
        return None
    _, minute, hour, dom, month, dow = parts[:6]
    minutes = _expand(minute, 0, 59)
    hours = _expand(hour, 0, 23)
    days = None if dom == "?" else _expand(dom, 1, 31)
    months = _expand(month, 1, 12, _MONTHS)
    weekdays = None if dow == "?" else _expand(dow, 1, 7, _DAYS)
    if not (minutes and hours and months) or (dom != "?" and not days) or (dow != "?" and not weekdays):
        return None
    times = sorted(h * 60 + m for h in hours for m in minutes)
    run_days = _run_days(dom, month, dow) or []
    if not run_days or len(run_days) * len(times) < 2:
        return None
    gaps = [b - a for a, b in pairwise(times)]
    gaps += [(b - a).days * 1440 + times[0] - times[-1] for a, b in pairwise(run_days)]
    return max(gaps)


def _run_days(dom: str, month: str, dow: str) -> list[date] | None:
    """The days of two years (from 2024, a leap year) the day fields select; None when they use
    L, W or # (no calendar to enumerate here)."""
    days = None if dom == "?" else _expand(dom, 1, 31)
    months = _expand(month, 1, 12, _MONTHS)
    weekdays = None if dow == "?" else _expand(dow, 1, 7, _DAYS)
    if not months or (dom != "?" and days is None) or (dow != "?" and weekdays is None):
        return None
    start = date(2024, 1, 1)
    found = []
    for offset in range(_HORIZON_DAYS):
        d = start + timedelta(days=offset)
        quartz_dow = (d.weekday() + 1) % 7 + 1  # Quartz: 1 = SUN ... 7 = SAT
        if d.month in months and (days is None or d.day in days) and (weekdays is None or quartz_dow in weekdays):
            found.append(d)
    return found


def _expand(text: str, low: int, high: int, names: list[str] | None = None) -> set[int] | None:
    values: set[int] = set()
    for item in text.split(","):
        m = _PERIOD_ITEM.fullmatch(item)
        if not m:
            return None  # L, W, #: no fixed period
        first, last, step_text = m.groups()
        step = int(step_text) if step_text else 1
        if first == "*":
            a, b = low, high
        else:
            start, end = _number(first, names), _number(last, names) if last else None
            if start is None or (last and end is None):
                return None
            a, b = start, end if end is not None else (high if step_text else start)
        if step < 1:
            return None
        sequence = list(range(a, b + 1)) if a <= b else [*range(a, high + 1), *range(low, b + 1)]
        values.update(v for v in sequence[::step] if low <= v <= high)
    return values


def _number(token: str, names: list[str] | None) -> int | None:
    if names and token in names:
        return names.index(token) + 1
    return int(token) if token.isdigit() else None
