"""Quartz cron expressions, as Databricks Jobs accept them, checked offline.

Databricks schedules use Quartz syntax (`0 0 */6 * * ?`), not Unix cron: six or seven fields
(seconds first, optional year last) and exactly one of day-of-month / day-of-week must be `?`.
A wrong expression is only rejected by the Jobs API at `pulumi up`, so it is caught here instead.
"""

from __future__ import annotations

import re

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
