"""Diffs for people: a terminal listing and a pull-request comment body (Markdown + Mermaid).

Both group the changed resources by what they belong to (a pipeline, a component, the stack),
with a one-line summary per owner; show an input holding a JSON document (base64 or text) as the
keys that changed, and a text of several lines (SQL) as unified-diff hunks; show what a created
resource is, and what a deleted or replaced one loses; and report acknowledgements that match
nothing.

Everything a change controls (names, URNs, SQL, values) is escaped for where it lands: inline
code gets a fence longer than any run of backticks in it (CommonMark), `|` is escaped in table
cells, `<summary>` text is HTML-escaped, fenced blocks are longer than any fence inside them,
Mermaid labels use entity codes, and control characters never reach a terminal or a comment raw.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from lakeflow.offline.diff import (
    ABSENT,
    Diff,
    InputChange,
    ResourceChange,
    ValueDiff,
    ancestors,
    summary_parts,
    summary_text,
)

SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": "="}
ACK_HELP = (
    "To acknowledge an intended destroy: `make diff ... ALLOW_DESTROY='<urn>'` locally (single quotes: "
    "a URN contains `$`), or a line `allow-destroy: <urn>` in the pull request description."
)
UNMATCHED = "acknowledgement matches no destroyed resource"
QUOTE_HELP = (
    "A URN contains `$`: in the shell, quote it with single quotes (ALLOW_DESTROY='urn:pulumi:...$...::name'); "
    "in double quotes or unquoted, `$...` expands to nothing and the URN matches no resource."
)
QUOTE_HELP_MD = (
    "A URN contains `$`: in the shell, quote it with single quotes "
    "(`ALLOW_DESTROY='urn:pulumi:...$...::name'`); in double quotes or unquoted, `$...` expands to "
    "nothing and the URN matches no resource."
)

TEXT_ENTRIES = 40  # changed keys of a document listed per input (text output)
TEXT_LINES = 80  # lines of a text diff listed per input (text output)
MARKDOWN_BUDGET = 18_000  # characters per stack; the PR comment holds every stack's (GitHub: 65,536)
MERMAID_NODES = 60
LISTED = 50  # violations, acknowledgements listed in the comment (the text output lists all)
# Control characters, and the bidirectional overrides that would make a name read as another
# ("Trojan Source"): never written as they are.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_ANY_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\u202a-\u202e\u2066-\u2069]")  # a tab may stay


# --- values ------------------------------------------------------------------------------------


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _value(value: Any, limit: int = 70) -> str:
    text = _plain(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _pair(old: Any, new: Any, limit: int = 70) -> tuple[str, str]:
    """Before and after, short. Of two long texts, the stretch around where they first differ
    (a view definition of 300 characters whose one table name changed shows that name)."""
    a, b = _plain(old), _plain(new)
    if len(a) <= limit and len(b) <= limit:
        return a, b
    if not (isinstance(old, str) and isinstance(new, str)) or old == ABSENT or new == ABSENT:
        return _value(old, limit), _value(new, limit)
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(a), len(b)) - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    start = max(0, prefix - 24)

    def window(text: str) -> str:
        end = min(len(text), len(text) - suffix + 24)
        part = text[start:end]
        if len(part) > limit - 2:
            part = part[: limit - 3] + "…"
        return ("…" if start else "") + part + ("…" if end < len(text) and not part.endswith("…") else "")

    return window(a), window(b)


def _entry_text(entry: InputChange, limit: int = 70) -> str:
    """One changed key of a document: `path: old -> new`, `path: added v`, `path: removed v`."""
    if entry.old == ABSENT:
        return f"{entry.path}: added {_value(entry.new, limit)}"
    if entry.new == ABSENT:
        return f"{entry.path}: removed {_value(entry.old, limit)}"
    return "{}: {} -> {}".format(entry.path, *_pair(entry.old, entry.new, limit))


def _count(detail: ValueDiff) -> int:
    return len(detail.entries) + detail.left_off if detail.kind == "json" else len(detail.lines) + detail.left_off


def _pairs_text(pairs: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{k}={v}" for k, v in pairs)


def _title(change: ResourceChange) -> str:
    renamed = " (renamed: alias of its old URN)" if change.renamed_from else ""
    if change.action == "delete" and change.retained:
        renamed += " (retained: leaves the stack, stays in the workspace)"
    action = change.action if change.action != "same" else "rename"
    return f"{SYMBOL[change.action]} {action:<8} {change.short_type} {change.name}{renamed}"


def _lost_label(change: ResourceChange) -> str:
    if change.action == "delete" and change.retained:
        return "was"
    return "lost" if change.action == "delete" else "deletes the old one"


# --- text --------------------------------------------------------------------------------------


def _input_lines(c: InputChange) -> list[str]:
    detail = c.detail
    if detail is None:
        return ["{}: {} -> {}".format(c.path, *_pair(c.old, c.new))]
    total = _count(detail)
    if detail.kind == "json":
        out = [f"{c.path} ({detail.what}): {total} key(s) changed"]
        out += [f"  {_entry_text(e)}" for e in detail.entries[:TEXT_ENTRIES]]
        shown = min(len(detail.entries), TEXT_ENTRIES)
    else:
        out = [f"{c.path} ({detail.what}):" if detail.encoding else f"{c.path}:"]
        out += [f"  {line}" for line in detail.lines[:TEXT_LINES]]
        shown = min(len(detail.lines), TEXT_LINES)
    if total > shown:
        out.append(f"  … and {total - shown} more")
    return out


def _body_lines(change: ResourceChange) -> list[str]:
    out = []
    if change.renamed_from:
        out.append(f"was {change.renamed_from}")
    out += [f"replace: {reason}" for reason in change.replace_reasons]
    if change.action == "create" and change.key_inputs:
        out.append(_pairs_text(change.key_inputs))
    if change.destroys and change.lost_inputs:
        out.append(f"{_lost_label(change)}: {_pairs_text(change.lost_inputs)}")
    if change.data_lost:
        out.append(f"and its data: {change.data_lost}")
    for c in change.changes:
        out += _input_lines(c)
    return out


def _terminal(line: str) -> str:
    """No control character reaches the terminal raw (a name cannot move the cursor or fake a line)."""
    return _ANY_CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x80 else f"\\u{ord(m.group()):04x}", line
    )


def render_text(diff: Diff, base: str) -> str:
    lines = [f"Diff of stack {diff.stack!r} against {base}:"]
    for owner, changes in diff.groups():
        lines.append(f"  [{owner.label}] {summary_text(changes)}")
        for change in changes:
            lines.append(f"    {_title(change)}")
            lines += [f"          {line}" for line in _body_lines(change)]
    if not diff.changed:
        lines.append("  no changes")
    lines.append(diff.summary())
    lines += _guard_lines(diff)
    return "\n".join(_terminal(line) for line in lines)


def _guard_lines(diff: Diff) -> list[str]:
    lines = []
    for urn in diff.acknowledged:
        lines.append(f"Data-loss guard: acknowledged destroy of {urn}")
    for unmatched in diff.unmatched:
        lines.append(f"Data-loss guard: {UNMATCHED}: {unmatched.urn}")
        if unmatched.closest:
            lines.append(f"  closest destroyed or replaced resource: {unmatched.closest}")
    if diff.unmatched:
        lines.append(f"  {QUOTE_HELP}")
    if diff.violations:
        lines.append(f"Data-loss guard: {len(diff.violations)} unacknowledged destroy(s), refusing:")
        lines += [f"  x {v.urn}: {v.reason}" for v in diff.violations]
        lines.append(ACK_HELP)
    return lines


# --- Markdown escaping ---------------------------------------------------------------------------


def _one_line(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "⏎")
    return _CONTROL.sub("\ufffd", text)


def code(text: str, table: bool = False, limit: int = 400) -> str:
    """`text` as a CommonMark code span: one line, fenced by more backticks than any run inside
    it, padded where it starts or ends with a backtick; in a table cell `|` escaped (GFM)."""
    text = _one_line(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text:
        return '`""`'
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " " and text.strip(" ")):
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&!#])")


def md_text(text: str) -> str:
    """Plain text in Markdown: every character that could start markup backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text))


def _html(text: str) -> str:
    return html.escape(_one_line(text), quote=True)


def fenced(lines: Iterable[str], info: str = "") -> list[str]:
    """A fenced code block longer than any run of backticks in its lines (none can close it)."""
    body = [_CONTROL.sub("\ufffd", line) for line in lines]
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *body, fence]


def _cell(value: Any, limit: int = 120) -> str:
    if isinstance(value, str) and value == ABSENT:
        return "*(absent)*"
    return code(_value(value, limit), table=True)


# --- Markdown ------------------------------------------------------------------------------------


def _summary_markdown(changes: list[ResourceChange]) -> str:
    out = []
    for part in summary_parts(changes):
        notes = [code(note) for note in part.notes] + ([f"… {part.more} more"] if part.more else [])
        kinds = f" ({md_text(', '.join(part.kinds))})" if part.kinds else ""
        out.append(
            f"{part.count} {md_text(part.noun)} {part.verb}{kinds}" + (f" ({'; '.join(notes)})" if notes else "")
        )
    return ", ".join(out)


def _input_markdown(c: InputChange, level: str) -> list[str]:
    """A decoded input: its changed keys as a table, or its hunks as a ```diff block (compact:
    fewer rows, and the changed lines without their context)."""
    detail = c.detail
    assert detail is not None
    rows, lines = (40, 60) if level == "full" else (8, 12)
    if detail.kind == "json":
        out = [f"{code(c.path)} ({detail.what}): {_count(detail)} key(s) changed", ""]
        out += ["| key | before | after |", "|---|---|---|"]
        for e in detail.entries[:rows]:
            out.append(f"| {code(e.path, table=True)} | {_cell(e.old)} | {_cell(e.new)} |")
        hidden = _count(detail) - min(len(detail.entries), rows)
    else:
        body = detail.lines if level == "full" else [line for line in detail.lines if not line.startswith(" ")]
        out = [f"{code(c.path)}" + (f" ({detail.what})" if detail.encoding else "") + ":", ""]
        out += fenced(body[:lines], "diff")
        hidden = len(body) - min(len(body), lines) + detail.left_off
    if hidden > 0:
        out += ["", f"… and {hidden} more"]
    return [*out, ""]


def _resource_markdown(change: ResourceChange, level: str) -> tuple[str, str, list[str]]:
    """A resource's line (its title; a create's first key inputs) as HTML for a <summary> (raw
    HTML: no Markdown in it) and as Markdown for a list item, and what details it has."""
    html_line, md_line = f"<code>{_html(_title(change))}</code>", code(_title(change))
    if change.action == "create" and change.key_inputs:
        html_line += ": " + ", ".join(f"{_html(k)} <code>{_html(v)}</code>" for k, v in change.key_inputs[:3])
        md_line += ": " + ", ".join(f"{md_text(k)} {code(v)}" for k, v in change.key_inputs[:3])
    out = []
    if change.renamed_from:
        out += [f"Same resource, previously {code(change.renamed_from)}.", ""]
    for reason in change.replace_reasons:
        out.append(f"- **replace**: {md_text(reason)}")
    if change.replace_reasons:
        out.append("")
    if change.action == "create" and len(change.key_inputs) > 3:
        out += [f"- {md_text(k)}: {code(v)}" for k, v in change.key_inputs] + [""]
    if change.destroys and (change.lost_inputs or change.data_lost):
        label = {
            "was": "Stays in the workspace, leaves the stack",
            "lost": "Lost",
            "deletes the old one": "Deleted, then created anew",
        }
        out.append(f"**{label[_lost_label(change)]}:**")
        out += [f"- {md_text(k)}: {code(v)}" for k, v in change.lost_inputs]
        out += [f"- **and its data:** {md_text(change.data_lost)}"] if change.data_lost else []
        out.append("")
    plain = [c for c in change.changes if c.detail is None]
    if plain:
        out += ["| input | before | after |", "|---|---|---|"]
        for c in plain:
            before, after = _pair(c.old, c.new, 120)
            out.append(f"| {code(c.path, table=True)} | {code(before, table=True)} | {code(after, table=True)} |")
        out.append("")
    for c in change.changes:
        if c.detail is not None:
            out += _input_markdown(c, level)
    return html_line, md_line, out


def _resources_markdown(changes: list[ResourceChange], level: str) -> list[str]:
    """Each resource: a collapsible block when it has details, else a list item (a run of them
    one list); blank lines between the two kinds, so neither swallows the other."""
    out: list[str] = []
    listing = False
    for change in changes:
        html_line, md_line, body = _resource_markdown(change, level)
        if not body or (level == "compact" and change.action == "create"):
            out.append(f"- {md_line}")
            listing = True
            continue
        if listing:
            out.append("")
            listing = False
        out += [f"<details><summary>{html_line}</summary>", "", *body, "</details>", ""]
    return [*out, ""] if listing else out


def _guard_markdown(diff: Diff) -> list[str]:
    out = []
    if diff.violations:
        out.append("> [!CAUTION]")
        out.append("> **Data-loss guard:** this change would destroy data. It fails until acknowledged.")
        for v in diff.violations[:LISTED]:
            out.append(f"> - {code(v.urn)}: {md_text(v.reason)}")
        if len(diff.violations) > LISTED:
            out.append(f"> - … and {len(diff.violations) - LISTED} more (`make diff` lists them all)")
        out += [f"> {ACK_HELP}", ""]
    if diff.unmatched:
        out.append("> [!WARNING]")
        out.append("> **Acknowledgements that match nothing** (they acknowledge no destroy; a typo?):")
        for u in diff.unmatched[:LISTED]:
            hint = f"; closest destroyed or replaced resource: {code(u.closest)}" if u.closest else ""
            out.append(f"> - {UNMATCHED}: {code(u.urn)}{hint}")
        if len(diff.unmatched) > LISTED:
            out.append(f"> - … and {len(diff.unmatched) - LISTED} more")
        out += [f"> {QUOTE_HELP_MD}", ""]
    for urn in diff.acknowledged[:LISTED]:
        out.append(f"- Acknowledged destroy: {code(urn)}")
    if len(diff.acknowledged) > LISTED:
        out.append(f"- … and {len(diff.acknowledged) - LISTED} more acknowledged destroys")
    if diff.acknowledged:
        out.append("")
    return out


def _markdown(diff: Diff, base: str, level: str) -> str:
    stack = re.sub(r"[^A-Za-z0-9_.-]", "_", diff.stack).replace("--", "-_")
    out = [f"<!-- lakeflow-diff:{stack} -->", f"### Stack {code(diff.stack)} against {code(base)}", ""]
    out += [f"**{md_text(diff.summary())}**", ""]
    out += _guard_markdown(diff)
    groups = diff.groups()
    if groups:
        out += ["**What changes, by owner:**", ""]
        shown = groups if level != "minimal" else groups[:40]
        out += [f"- {code(owner.label)}: {_summary_markdown(changes)}" for owner, changes in shown]
        if len(groups) > len(shown):
            out.append(f"- … and {len(groups) - len(shown)} more")
        out.append("")
    if level == "minimal":
        if diff.changed:
            out += [
                "*The changes of each resource are left out to keep this comment short: "
                f"`make diff STACK={md_text(diff.stack)}` prints them.*",
                "",
            ]
    else:
        for owner, changes in groups:
            out += [f"#### {code(owner.label)}", "", *_resources_markdown(changes, level)]
    if diff.changed:
        out.append(mermaid(diff))
    return "\n".join(out) + "\n"


def render_markdown(diff: Diff, base: str) -> str:
    """The pull-request comment of one stack: in full, or shortened to stay within the budget."""
    for level in ("full", "compact"):
        text = _markdown(diff, base, level)
        if len(text) <= MARKDOWN_BUDGET:
            return text
    return _markdown(diff, base, "minimal")


# --- Mermaid -------------------------------------------------------------------------------------

_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 _\-.,:/+=~@]")


def mermaid_text(text: str, limit: int = 60) -> str:
    """Text for a quoted Mermaid label: ASCII punctuation that could end or restyle it (quotes,
    brackets, `<`, `#`, `;`, backticks, `|`) and control characters as entity codes; at most
    `limit` characters of the text, and 3 * `limit` once escaped."""
    text = " ".join(_one_line(text).split())
    out: list[str] = []
    size = 0
    for i, ch in enumerate(text):
        safe = _MERMAID_SAFE.fullmatch(ch) or (not ch.isascii() and ch.isprintable())
        piece = ch if safe else f"#{ord(ch)};"
        if (i >= limit - 1 and i < len(text) - 1) or size + len(piece) > 3 * limit:
            out.append("…")
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


def mermaid(diff: Diff, limit: int = MERMAID_NODES) -> str:
    """The changed resources in a subgraph per owner, each under the component it belongs to
    (unchanged components shown plainly), coloured by action; at most `limit` nodes."""
    groups = diff.groups()
    by_urn = {c.urn: c for c in diff.resources if c.action != "delete"}
    by_urn.update({c.urn: c for c in diff.resources if c.action == "delete" and c.urn not in by_urn})
    home_of = {id(c): gi for gi, (_, changes) in enumerate(groups) for c in changes}
    ids: dict[str, str] = {}
    nodes: dict[int, list[str]] = {}
    edges: list[str] = []
    left_off = 0

    def label(change: ResourceChange | None, type_: str, name: str) -> tuple[str, str]:
        if change is None or (change.action == "same" and not change.renamed_from):
            return mermaid_text(f"{type_.rsplit(':', 1)[-1]} {name}", 80), "owner"
        op = change.action if change.action != "same" else "rename"
        what = mermaid_text(f"{change.short_type} {change.name}", 80)
        return f"{mermaid_text(SYMBOL[change.action] + ' ' + op)}<br/>{what}", change.action

    for gi, (_, changes) in enumerate(groups):
        for change in changes:
            chain = [(change.urn, change.type, change.name), *ancestors(change, by_urn)]
            new: list[tuple[str, str, str]] = []
            for link in chain:
                if link[0] in ids:
                    break
                new.append(link)
            if change.urn in ids:
                continue
            if len(ids) + len(new) > limit:
                left_off += 1
                continue
            for urn, type_, name in new:
                ids[urn] = f"n{len(ids)}"
                known = by_urn.get(urn) if urn != change.urn else change
                home = home_of.get(id(known), gi) if known is not None else gi
                text, cls = label(known, type_, name)
                nodes.setdefault(home, []).append(f'    {ids[urn]}["{text}"]:::{cls}')
            for child, parent in zip(new, chain[1:], strict=False):  # up to the first already drawn
                edges.append(f"  {ids[parent[0]]} --> {ids[child[0]]}")
    lines = ["```mermaid", "flowchart LR"]
    for gi, (owner, _) in enumerate(groups):
        if gi in nodes:
            lines += [f'  subgraph g{gi} ["{mermaid_text(owner.label)}"]', *nodes[gi], "  end"]
    lines += edges
    if left_off:
        lines.append(f'  more["… and {left_off} more changed resources"]')
    lines += [
        "  classDef create fill:#d4f7d4,stroke:#2b8a3e",
        "  classDef update fill:#fff3bf,stroke:#e67700",
        "  classDef replace fill:#ffd8a8,stroke:#d9480f",
        "  classDef delete fill:#ffc9c9,stroke:#c92a2a",
        "  classDef same fill:#e7f5ff,stroke:#1971c2",
        "  classDef owner fill:#f8f9fa,stroke:#868e96",
        "```",
    ]
    return "\n".join(lines)
