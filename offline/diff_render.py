"""Diffs for people: a terminal listing and a pull-request comment body (Markdown + Mermaid)."""

from __future__ import annotations

import difflib
import json
from typing import Any

from offline.diff import Diff, ResourceChange

SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": "="}
ACK_HELP = (
    "To acknowledge an intended destroy: `make diff ... ALLOW_DESTROY=<urn>` locally, or a line "
    "`allow-destroy: <urn>` in the pull request description."
)


def _value(value: Any, limit: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _values(old: Any, new: Any) -> tuple[str, str]:
    """Before and after, short. Of two texts of several lines (an alert's SQL), only the lines that
    differ: a threshold changed among 500 pipelines shows as that one row."""
    if not (isinstance(old, str) and isinstance(new, str) and "\n" in old + new):
        return _value(old), _value(new)
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0))
    gone = [line[1:].strip() for line in diff if line.startswith("-") and not line.startswith("---")]
    came = [line[1:].strip() for line in diff if line.startswith("+") and not line.startswith("+++")]
    return tuple(_value(f"lines: {'; '.join(side)}" if side else "(no line)", 160) for side in (gone, came))  # type: ignore[return-value]


def _title(change: ResourceChange) -> str:
    renamed = " (renamed: alias of its old URN)" if change.renamed_from else ""
    if change.action == "delete" and change.retained:
        renamed += " (retained: leaves the stack, stays in the workspace)"
    action = change.action if change.action != "same" else "rename"
    return f"{SYMBOL[change.action]} {action:<8} {change.short_type} {change.name}{renamed}"


def render_text(diff: Diff, base: str) -> str:
    lines = [f"Diff of stack {diff.stack!r} against {base}:"]
    for change in diff.changed:
        lines.append(f"  {_title(change)}")
        if change.renamed_from:
            lines.append(f"        was {change.renamed_from}")
        for reason in change.replace_reasons:
            lines.append(f"        replace: {reason}")
        for c in change.changes:
            lines.append("        {}: {} -> {}".format(c.path, *_values(c.old, c.new)))
    if not diff.changed:
        lines.append("  no changes")
    lines.append(diff.summary())
    lines += _guard_lines(diff)
    return "\n".join(lines)


def _guard_lines(diff: Diff) -> list[str]:
    lines = []
    for urn in diff.acknowledged:
        lines.append(f"Data-loss guard: acknowledged destroy of {urn}")
    if diff.violations:
        lines.append(f"Data-loss guard: {len(diff.violations)} unacknowledged destroy(s), refusing:")
        lines += [f"  x {v.urn}: {v.reason}" for v in diff.violations]
        lines.append(ACK_HELP)
    return lines


def render_markdown(diff: Diff, base: str) -> str:
    out = [f"<!-- lakeflow-diff:{diff.stack} -->", f"### Stack `{diff.stack}` against `{base}`", ""]
    out.append(f"**{diff.summary()}**")
    out.append("")
    if diff.violations:
        out.append("> [!CAUTION]")
        out.append("> **Data-loss guard:** this change would destroy data. It fails until acknowledged.")
        for v in diff.violations:
            out.append(f"> - `{v.urn}`: {v.reason}")
        out.append(f"> {ACK_HELP}")
        out.append("")
    for urn in diff.acknowledged:
        out.append(f"- Acknowledged destroy: `{urn}`")
    for change in diff.changed:
        out.append(f"<details><summary><code>{_title(change)}</code></summary>")
        out.append("")
        if change.renamed_from:
            out.append(f"Same resource, previously `{change.renamed_from}`.")
            out.append("")
        for reason in change.replace_reasons:
            out.append(f"- **replace**: {reason}")
        if change.changes:
            out += ["| input | before | after |", "|---|---|---|"]
            for c in change.changes:
                before, after = _values(c.old, c.new)
                out.append(f"| `{c.path}` | `{_escape(before)}` | `{_escape(after)}` |")
        out += ["", "</details>"]
    if diff.changed:
        out += ["", mermaid(diff)]
    return "\n".join(out) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def mermaid(diff: Diff) -> str:
    """The changed resources under their components, coloured by action."""
    ids: dict[str, str] = {}

    def node(urn: str) -> str:
        return ids.setdefault(urn, f"r{len(ids)}")

    by_urn = {c.urn: c for c in diff.resources}
    lines = ["```mermaid", "flowchart LR"]
    for change in diff.changed:
        label = f"{SYMBOL[change.action]} {change.short_type}<br/>{change.name}"
        lines.append(f'  {node(change.urn)}["{label}"]:::{change.action}')
        parent = change.parent
        if parent and parent in by_urn:
            p = by_urn[parent]
            lines.append(f'  {node(parent)}["{p.short_type}<br/>{p.name}"] --> {node(change.urn)}')
    lines += [
        "  classDef create fill:#d4f7d4,stroke:#2b8a3e",
        "  classDef update fill:#fff3bf,stroke:#e67700",
        "  classDef replace fill:#ffd8a8,stroke:#d9480f",
        "  classDef delete fill:#ffc9c9,stroke:#c92a2a",
        "  classDef same fill:#e7f5ff,stroke:#1971c2",
        "```",
    ]
    return "\n".join(lines)
