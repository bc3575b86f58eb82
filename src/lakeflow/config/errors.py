"""Configuration diagnostics, collected and reported together.

Every problem found while loading a stack's settings becomes one `ConfigError` naming the file,
the dotted key, the offending value and what is allowed. Loading never stops at the first
problem: the loader gathers them all and raises one `ConfigErrors`, so a user fixes a file in
one pass and nothing is registered with Pulumi while any error remains.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass(frozen=True)
class ConfigError:
    file: str
    key: str
    message: str
    value: Any = _MISSING
    line: int | None = None
    hint: str | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        value = "" if self.value is _MISSING else f" {_show(self.value)}:"
        text = f"{where}:{key}{value} {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ConfigErrors(Exception):
    """All problems found in one load; `str()` is the report a user reads.

    `not_checked`: rules that could not run because of the errors (and why), so a user knows
    another round may follow. `context`: why this configuration was loaded, when it is not the
    stack the user asked for (a promotion source planned for the promotion gate)."""

    def __init__(self, errors: Iterable[ConfigError], not_checked: Iterable[str] = (), context: str | None = None):
        self.errors = sorted(errors, key=lambda e: (e.file, e.line or 0, e.key))
        self.not_checked = tuple(not_checked)
        self.context = context
        super().__init__(self.report())

    def within(self, context: str) -> ConfigErrors:
        """The same errors, reported as found while loading for `context`."""
        return ConfigErrors(self.errors, self.not_checked, context)

    def report(self) -> str:
        n = len(self.errors)
        head = f"{n} configuration error{'s' if n != 1 else ''}"
        lines = [f"{head} {self.context}:" if self.context else f"{head}:"]
        lines += [f"  - {e.render()}" for e in self.errors]
        if self.not_checked:
            lines.append("Not checked until these are fixed:")
            lines += [f"  - {item}" for item in self.not_checked]
        return "\n".join(lines)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A suggestion only when it is plausible: a close spelling of one of `choices`."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f"did you mean {match[0]!r}?" if match else None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
