"""Compare two offline plans the way the Pulumi engine would, and guard against data loss.

Per resource (matched by URN, or through an alias to an old URN): create, delete, update (with
the changed input paths, old -> new, secrets already masked by the plan), replace (a change to a
property that forces replacement, see `lakeflow.offline.replacements`), or rename (an alias matched: the
same resource under a new URN, never delete + create). Aliases are resolved like the engine does,
including the aliases children inherit from a renamed parent.

The data-loss guard flags every delete or replace of a protected resource or of a resource that
holds data (pipelines own their tables; schemas, tables and volumes are data), unless its URN is
acknowledged. An acknowledgement that matches no destroyed resource is reported (with the closest
destroyed URN as a hint), never silently ignored.

For readers (`lakeflow.offline.diff_render`): an input holding base64 of JSON or text, or a JSON document as
text, is compared decoded (`ValueDiff`: the changed keys, or unified-diff hunks of the lines);
what a created or deleted resource is (`key_inputs`); and which pipeline or component each
changed resource belongs to (`Diff.groups`), with a one-line summary per owner.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakeflow.config.input_files import FileRefused, read_plan, read_preview, read_text, write_text
from lakeflow.config.project import project_root
from lakeflow.offline import UNKNOWN_TEXT, make_urn, urn_parts
from lakeflow.offline.records import PlanRecord
from lakeflow.offline.replacements import HOLDS_DATA, replacement_reasons
from lakeflow.offline.replacements import PIPELINE as PIPELINE_TYPE

ACTIONS = ("create", "update", "replace", "delete")
_MISSING = "(absent)"
ABSENT = _MISSING  # the old value of an added input or key, the new value of a removed one


@dataclass(frozen=True)
class InputChange:
    path: str
    old: Any
    new: Any

    @functools.cached_property
    def detail(self) -> ValueDiff | None:
        """The change decoded for a reader (a JSON document's keys, a text's lines), if it is one."""
        return value_diff(self.path, self.old, self.new)

    def to_json(self) -> dict[str, Any]:
        out = {"path": self.path, "old": self.old, "new": self.new}
        if self.detail is not None:
            out["decoded"] = self.detail.to_json()
        return out


@dataclass
class ResourceChange:
    action: str  # create | update | replace | delete | same
    urn: str  # current URN (the old one for deletes)
    type: str
    name: str
    parent: str | None
    renamed_from: str | None = None
    changes: list[InputChange] = field(default_factory=list)
    replace_reasons: list[str] = field(default_factory=list)
    protected: bool = False
    retained: bool = False
    """retain_on_delete: a delete only removes it from the stack; the object and its data stay."""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """Its inputs after the change (before it, for a delete)."""
    old_inputs: Mapping[str, Any] = field(default_factory=dict)
    """Its inputs before the change (empty for a create): what a delete or replace loses."""

    @property
    def short_type(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def destroys(self) -> bool:
        return self.action in ("delete", "replace")

    @property
    def old_urn(self) -> str:
        return self.renamed_from or self.urn

    @property
    def key_inputs(self) -> list[tuple[str, str]]:
        """What it is (a delete: what it was), in a few inputs."""
        return key_inputs(self.type, self.old_inputs if self.action == "delete" else self.inputs)

    @property
    def lost_inputs(self) -> list[tuple[str, str]]:
        """What a delete or a replace destroys, in a few inputs (of the old resource)."""
        return key_inputs(self.type, self.old_inputs) if self.destroys else []

    @property
    def data_lost(self) -> str | None:
        """The data a delete or a replace takes with it (a pipeline's tables), if it holds any."""
        if not self.destroys or (self.action == "delete" and self.retained):
            return None
        return HOLDS_DATA.get(self.type)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "renamedFrom": self.renamed_from,
            "changes": [c.to_json() for c in self.changes],
            "replaceReasons": self.replace_reasons,
            "protected": self.protected,
            "keyInputs": dict(self.key_inputs),
        }


@dataclass
class GuardViolation:
    urn: str
    reason: str


@dataclass
class UnmatchedAcknowledgement:
    """An acknowledged URN that no destroyed, replaced or moved resource has (a typo, a URN whose
    `$...` the shell expanded, a destroy already deployed); `closest`: the likeliest intended one."""

    urn: str
    closest: str | None = None


@dataclass
class Diff:
    stack: str
    resources: list[ResourceChange]
    violations: list[GuardViolation] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    unmatched: list[UnmatchedAcknowledgement] = field(default_factory=list)

    @property
    def changed(self) -> list[ResourceChange]:
        return [r for r in self.resources if r.action != "same" or r.renamed_from]

    def count(self, action: str) -> int:
        return sum(r.action == action for r in self.resources)

    @property
    def renames(self) -> int:
        return sum(r.renamed_from is not None for r in self.resources)

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(a)} to {a}" for a in ACTIONS)
        return f"Plan: {counts}, {self.renames} renamed (alias)"

    def groups(self) -> list[tuple[Owner, list[ResourceChange]]]:
        """The changed resources by what they belong to (a pipeline, a component, the stack)."""
        return group_changes(self)

    def to_json(self) -> dict[str, Any]:
        groups = self.groups()
        owner = {id(c): o.label for o, changes in groups for c in changes}
        return {
            "stack": self.stack,
            "summary": {**{a: self.count(a) for a in ACTIONS}, "rename": self.renames},
            "resources": [{**r.to_json(), "group": owner.get(id(r))} for r in self.changed],
            "groups": [
                {"name": o.label, "kind": o.kind, "summary": summary_text(changes), "resources": len(changes)}
                for o, changes in groups
            ],
            "dataLossGuard": {
                "violations": [{"urn": v.urn, "reason": v.reason} for v in self.violations],
                "acknowledged": self.acknowledged,
                "unmatchedAcknowledgements": [{"urn": u.urn, "closest": u.closest} for u in self.unmatched],
            },
        }


READS = {"pulumi:pulumi:StackReference"}


def diff_plans(old: PlanRecord | None, new: PlanRecord, allow_destroy: Iterable[str] = ()) -> Diff:
    """`old`/`new` are JSON plans (`offline.plan --json`); `old` None means the stack is new."""
    # Reads (StackReference) change nothing in the workspace: not part of the diff.
    old_by_urn = {r["urn"]: r for r in (old["resources"] if old else []) if r["type"] not in READS}
    new_resources = [r for r in new["resources"] if r["type"] not in READS]
    new_urns = {r["urn"] for r in new_resources}
    resolved_old: dict[str, str] = {}  # new URN -> old URN it continues
    changes: list[ResourceChange] = []
    fresh: set[str] = set()  # created or replaced: their outputs are unknown until applied

    for res in new_resources:  # registration order: parents are resolved before their children
        old_urn = res["urn"] if res["urn"] in old_by_urn else _alias_match(res, old_by_urn, new_urns, resolved_old)
        if old_urn is None:
            changes.append(_change("create", res, inputs=res["inputs"]))
            fresh.add(res["urn"])
            continue
        resolved_old[res["urn"]] = old_urn
        before = old_by_urn[old_urn]
        inputs = _option_changes(before, res) + _input_changes(before["inputs"], res["inputs"])
        inputs += _source_changes(before, res, resolved_old)
        inputs += _recomputed(res, fresh)
        reasons = replacement_reasons(res["type"], before, res, [c.path for c in inputs])
        action = "replace" if reasons else "update" if inputs or _options_changed(before, res) else "same"
        change = _change(action, res, protected=before["protect"] or res["protect"], inputs=res["inputs"])
        change.old_inputs = before["inputs"]
        change.renamed_from = old_urn if old_urn != res["urn"] else None
        change.changes, change.replace_reasons = inputs, reasons
        changes.append(change)
        if action == "replace":
            fresh.add(res["urn"])

    continued = set(resolved_old.values())
    for urn, res in old_by_urn.items():
        if urn not in continued:
            changes.append(_change("delete", res, protected=res["protect"], old_inputs=res["inputs"]))

    moved_workspace = None
    if old is not None and old.get("workspace") != new.get("workspace"):
        moved_workspace = (old.get("workspace"), new.get("workspace"))
    return _guard(Diff(new["stack"], changes), allow_destroy, moved_workspace)


def _guard(result: Diff, allow_destroy: Iterable[str], moved_workspace: tuple[Any, Any] | None = None) -> Diff:
    """The data-loss guard over a diff's changes (the offline diff's, or the real engine's)."""
    acknowledgements = list(dict.fromkeys(allow_destroy))  # in order, once each
    allowed = set(acknowledgements)
    destroyed: set[str] = set()  # what an acknowledgement may name: deleted, replaced, or moved away
    for change in result.resources:
        if change.destroys:
            destroyed.add(change.old_urn)
        if change.destroys:
            why = _guard_reason(change) or _move_reason(change)
        elif moved_workspace and change.type in HOLDS_DATA and change.action != "create":
            why = (
                f"{change.short_type} holds data ({HOLDS_DATA[change.type]}) and moves to another workspace "
                f"(databricks:host {moved_workspace[0]} -> {moved_workspace[1]}): "
                "the deployment's state points at the new workspace, the data stays in the old one"
            )
        else:
            why = _move_reason(change)
        if why is None:
            continue
        destroyed.add(change.old_urn)
        if change.old_urn in allowed:
            result.acknowledged.append(change.old_urn)
        else:
            result.violations.append(GuardViolation(change.old_urn, why))
    result.unmatched = [
        UnmatchedAcknowledgement(urn, closest_urn(urn, destroyed)) for urn in acknowledgements if urn not in destroyed
    ]
    return result


def closest_urn(urn: str, candidates: Iterable[str]) -> str | None:
    """The candidate an acknowledgement most likely meant (difflib), if any is close."""
    found = difflib.get_close_matches(urn, sorted(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


# The engine's step ops (`pulumi preview --json`) as the diff's actions; `same` and reads are none.
ENGINE_OPS = {
    "create": "create",
    "update": "update",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "delete": "delete",
    "discard": "delete",
}


def diff_from_preview(stack: str, preview: Mapping[str, Any], allow_destroy: Iterable[str] = ()) -> Diff:
    """The guard over the real engine's verdict: `pulumi preview --json` of the stack against its
    deployed state (the deploy gate). What the engine deletes or replaces, and the inputs it
    changes (`diffReasons`), go through the same rules as the offline diff's."""
    by_urn: dict[str, ResourceChange] = {}
    for step in preview.get("steps", []):
        action = ENGINE_OPS.get(step.get("op", ""))
        state = step.get("oldState") or step.get("newState") or {}
        if action is None or not state.get("type") or state["type"].startswith("pulumi:"):
            continue
        if step["urn"] in by_urn and by_urn[step["urn"]].action == "replace":
            continue
        old_state = step.get("oldState") or {}
        change = ResourceChange(
            action=action,
            urn=step["urn"],
            type=state["type"],
            name=step["urn"].rsplit("::", 1)[-1],
            parent=state.get("parent"),
            protected=bool(old_state.get("protect") or (step.get("newState") or {}).get("protect")),
            retained=bool(old_state.get("retainOnDelete")),
        )
        old_inputs = old_state.get("inputs") or {}
        new_inputs = (step.get("newState") or {}).get("inputs") or {}
        change.old_inputs = old_inputs
        change.inputs = new_inputs if step.get("newState") else old_inputs
        change.changes = [
            InputChange(path, old_inputs.get(path, _MISSING), new_inputs.get(path, _MISSING))
            for path in step.get("diffReasons") or []
        ]
        by_urn[step["urn"]] = change
    return _guard(Diff(stack, list(by_urn.values())), allow_destroy)


def _source_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], resolved_old: Mapping[str, str]
) -> list[InputChange]:
    """An input known only after apply (an id) is unchanged as text, yet points elsewhere when it
    now comes from another resource: the switch of a job from one pipeline to another. The
    registration's dependencies say where such values come from."""
    if UNKNOWN_TEXT not in json.dumps(after["inputs"]):
        return []
    old = {_short_name(u) for u in before["dependencies"]}
    new = {_short_name(resolved_old.get(u, u)) for u in after["dependencies"]}
    if old == new:
        return []
    return [InputChange("(known after apply) values from", ", ".join(sorted(old - new)), ", ".join(sorted(new - old)))]


def _recomputed(res: Mapping[str, Any], fresh: set[str]) -> list[InputChange]:
    """Inputs taken from a resource this update creates or replaces: the engine sees the known
    value of the deployment become unknown, a change (which replaces where the input forces it:
    the permissions of a replaced dashboard). Offline both plans say "known after apply"."""
    return [
        InputChange(prop, "(from the deployed " + ", ".join(_short_name(u) for u in urns) + ")", UNKNOWN_TEXT)
        for prop, urns in res.get("propertyDependencies", {}).items()
        if fresh.intersection(urns) and UNKNOWN_TEXT in json.dumps(res["inputs"].get(prop))
    ]


def _short_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _change(
    action: str,
    res: Mapping[str, Any],
    protected: bool | None = None,
    inputs: Mapping[str, Any] | None = None,
    old_inputs: Mapping[str, Any] | None = None,
) -> ResourceChange:
    return ResourceChange(
        action=action,
        urn=res["urn"],
        type=res["type"],
        name=res["name"],
        parent=res["parent"],
        protected=res["protect"] if protected is None else protected,
        retained=bool(res.get("retainOnDelete")),
        inputs=inputs or {},
        old_inputs=old_inputs or {},
    )


# Inputs of a data-holding resource that say where its data is: changing one updates the resource
# in place, yet the data does not follow (a pipeline publishes into the new schema, empty; its
# tables, their snapshots and restores stay with the old one).
DATA_LOCATION = {PIPELINE_TYPE: ("catalog", "schema", "target", "storage")}


def _move_reason(change: ResourceChange) -> str | None:
    """Why an update or a retained delete moves data away from where the stack keeps it."""
    if change.action == "update":
        moved = [c for c in change.changes if c.path in DATA_LOCATION.get(change.type, ())]
        if moved:
            where = ", ".join(f"{c.path} {c.old} -> {c.new}" for c in moved)
            return (
                f"{change.short_type} moves where its data is ({where}): the update is in place, but its tables stay "
                "in the old location; snapshots, restores and views follow the new, empty one"
            )
    if change.action == "delete" and change.retained and change.type in HOLDS_DATA:
        return (
            f"{change.short_type} leaves the stack ({HOLDS_DATA[change.type]}): retained, so its data stays in the "
            "workspace, but nothing the stack runs (snapshots, make dr-restore) points at it any more"
        )
    return None


def _guard_reason(change: ResourceChange) -> str | None:
    verb = "deleted" if change.action == "delete" else "replaced (deleted, then created anew)"
    if change.protected:
        return f"protected {change.short_type} would be {verb}"
    if change.action == "delete" and change.retained:
        return None  # it leaves the stack; the workspace keeps it and its data
    if change.type in HOLDS_DATA:
        what = HOLDS_DATA[change.type]
        reason = f"; {'; '.join(change.replace_reasons)}" if change.replace_reasons else ""
        return f"{change.short_type} holds data ({what}) and would be {verb}{reason}"
    return None


_OPTIONS = ("protect", "retainOnDelete", "deleteBeforeReplace", "ignoreChanges", "replaceOnChanges")


def _options_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return any(old.get(k) != new.get(k) for k in _OPTIONS)


def _option_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[InputChange]:
    """Resource options that changed (e.g. protect), shown like inputs: `(option) protect`."""
    return [InputChange(f"(option) {k}", old.get(k), new.get(k)) for k in _OPTIONS if old.get(k) != new.get(k)]


# --- inputs -----------------------------------------------------------------------------------


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{path}.{key}" if path else key))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(_leaves(item, f"{path}[{i}]"))
        return out
    return {path: value}


def _input_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[InputChange]:
    a, b = _leaves(dict(old)), _leaves(dict(new))
    return [
        InputChange(path, a.get(path, _MISSING), b.get(path, _MISSING))
        for path in sorted(a.keys() | b.keys())
        if a.get(path, _MISSING) != b.get(path, _MISSING)
    ]


# --- aliases ----------------------------------------------------------------------------------


def _candidate_old_urns(res: Mapping[str, Any], resolved_old: Mapping[str, str]) -> list[str]:
    """Every URN this resource may have had: its explicit aliases, and the aliases inherited
    from a parent that continues an old URN (as the engine computes them)."""
    stack, project, _, _ = urn_parts(res["urn"])
    parent = res["parent"]
    parent_qualified = urn_parts(parent)[2] if parent else None
    candidates: list[str] = []
    for alias in res["aliases"]:
        if alias.get("urn"):
            candidates.append(alias["urn"])
            continue
        a_parent = alias.get("parentUrn") or None
        if alias.get("noParent"):
            a_parent_qualified = None
        elif a_parent:
            a_parent_qualified = urn_parts(a_parent)[2]
        else:
            a_parent_qualified = parent_qualified
        if a_parent_qualified == "pulumi:pulumi:Stack":
            a_parent_qualified = None
        candidates.append(
            make_urn(
                alias.get("stack") or stack,
                alias.get("project") or project,
                a_parent_qualified,
                alias.get("type") or res["type"],
                alias.get("name") or res["name"],
            )
        )
    # Inherited: the parent continues an old URN, so the child may sit under the old parent,
    # and a child named after its parent was named after the parent's old name.
    if parent and parent in resolved_old and resolved_old[parent] != parent:
        old_parent = resolved_old[parent]
        _, _, old_parent_qualified, old_parent_name = urn_parts(old_parent)
        _, _, _, parent_name = urn_parts(parent)
        names = {res["name"]}
        if res["name"].startswith(parent_name):
            names.add(old_parent_name + res["name"][len(parent_name) :])
        for name in sorted(names):
            candidates.append(make_urn(stack, project, old_parent_qualified, res["type"], name))
    return candidates


def _alias_match(
    res: Mapping[str, Any], old_by_urn: Mapping[str, Any], new_urns: set[str], resolved_old: Mapping[str, str]
) -> str | None:
    for urn in _candidate_old_urns(res, resolved_old):
        # An old URN still used by a resource of the new plan belongs to that resource.
        if urn in old_by_urn and urn not in new_urns and urn not in resolved_old.values():
            return urn
    return None


# --- for readers: decoded values -----------------------------------------------------------------

MAX_DECODED = 4 << 20  # characters of base64 or JSON text decoded at most; a larger value shows as before
MAX_DEPTH = 64  # nesting of a decoded JSON document at most
MAX_ENTRIES = 200  # changed keys of a document, lines of a text diff, kept per input
MAX_LINES = 20_000  # lines of a text compared at most (difflib is quadratic at worst)
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class ValueDiff:
    """An input's change as a reader needs it. `json`: the keys of the document that changed
    (dotted paths; an old or new `(absent)` is an added or removed key); `text`: unified-diff
    hunks of its lines. `encoding` "base64" when the input holds it encoded."""

    kind: str  # json | text
    encoding: str | None
    entries: tuple[InputChange, ...] = ()
    lines: tuple[str, ...] = ()
    left_off: int = 0  # entries or lines beyond MAX_ENTRIES, not kept

    @property
    def what(self) -> str:
        doc = "a JSON document" if self.kind == "json" else "text"
        return f"base64 of {doc}" if self.encoding else doc

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "encoding": self.encoding, "leftOff": self.left_off}
        if self.kind == "json":
            out["changes"] = [{"path": e.path, "old": e.old, "new": e.new} for e in self.entries]
        else:
            out["diff"] = list(self.lines)
        return out


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value == _MISSING)


def _unbase64(text: str, hinted: bool) -> str | None:
    """The text `text` encodes in base64, or None. Unless the input's name says base64, only
    what decodes to a JSON document or to text with spaces counts (not every short word that
    happens to be valid base64)."""
    if len(text) > MAX_DECODED or len(text) % 4 or (not hinted and len(text) < 16):
        return None
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeDecodeError
        return None
    if _BINARY.search(decoded):
        return None
    if hinted or _json_document(decoded) is not None or any(c in decoded for c in " \n\t"):
        return decoded
    return None


def _json_document(text: str) -> dict[str, Any] | list[Any] | None:
    """`text` as a JSON object or array (not too large, not too deep), or None."""
    if len(text) > MAX_DECODED or not text.lstrip().startswith(("{", "[")):
        return None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict | list):
        return None
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return None
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return doc


def value_diff(path: str, old: Any, new: Any) -> ValueDiff | None:
    """A string input's change decoded (see ValueDiff), or None: show it as old -> new."""
    sides = (old, new)
    present = [v for v in sides if _present(v)]
    if not present or not all(isinstance(v, str) for v in present):
        return None
    hinted = "base64" in path.rsplit(".", 1)[-1].lower()
    decoded = [_unbase64(v, hinted) if _present(v) else None for v in sides]
    encoding: str | None = None
    texts: list[str | None] = [v if _present(v) else None for v in sides]
    if all(d is not None for d, v in zip(decoded, sides, strict=True) if _present(v)):
        texts, encoding = decoded, "base64"
    docs = [_json_document(t) if t is not None else None for t in texts]
    if all(d is not None for d, t in zip(docs, texts, strict=True) if t is not None):
        shape = next(d for d in docs if d is not None)
        a, b = (d if d is not None else type(shape)() for d in docs)
        entries = _document_changes(a, b, "", [])
        if entries:
            return ValueDiff(
                "json", encoding, tuple(entries[:MAX_ENTRIES]), left_off=max(0, len(entries) - MAX_ENTRIES)
            )
        # the same document written differently: the lines say how
    if encoding is None and not any("\n" in t for t in texts if t is not None):
        return None
    lines = _hunks(texts[0] or "", texts[1] or "")
    if not lines:
        return None
    return ValueDiff("text", encoding, lines=tuple(lines[:MAX_ENTRIES]), left_off=max(0, len(lines) - MAX_ENTRIES))


def _hunks(old: str, new: str, context: int = 3) -> list[str]:
    """Unified-diff hunks (`@@` headers, then ' ', '-', '+' lines) of two texts."""
    a, b = old.splitlines(), new.splitlines()
    if len(a) + len(b) > MAX_LINES:
        return []
    return list(difflib.unified_diff(a, b, lineterm="", n=context))[2:]  # without the ---/+++ header


def _key_path(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _document_changes(old: Any, new: Any, path: str, out: list[InputChange]) -> list[InputChange]:
    """The changed paths between two JSON values: added and removed keys, changed leaves; list
    elements aligned by content (an element inserted is one addition, not a shift of the rest)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(k for k in old if k not in new)]:  # the new order; removed keys last
            sub = _key_path(path, str(key))
            if key not in new:
                out.append(InputChange(sub, old[key], _MISSING))
            elif key not in old:
                out.append(InputChange(sub, _MISSING, new[key]))
            else:
                _document_changes(old[key], new[key], sub, out)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) == len(new) or len(old) * len(new) > 1_000_000:
            for i in range(max(len(old), len(new))):
                a = old[i] if i < len(old) else _MISSING
                b = new[i] if i < len(new) else _MISSING
                _document_changes(a, b, f"{path}[{i}]", out)
            return out
        matcher = difflib.SequenceMatcher(None, [_canonical(v) for v in old], [_canonical(v) for v in new], False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            paired = min(i2 - i1, j2 - j1)
            for k in range(paired):
                _document_changes(old[i1 + k], new[j1 + k], f"{path}[{j1 + k}]", out)
            out += [InputChange(f"{path}[{i}]", old[i], _MISSING) for i in range(i1 + paired, i2)]
            out += [InputChange(f"{path}[{j}]", _MISSING, new[j]) for j in range(j1 + paired, j2)]
    elif not _same(old, new):
        out.append(InputChange(path or "(document)", old, new))
    return out


# --- for readers: what a resource is ------------------------------------------------------------

KEY_INPUTS_SHOWN = 6


def _at(value: Any, *path: str | int) -> Any:
    """value[path...], or None where the shape differs."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                return None
        elif not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _text(value: Any, limit: int = 80) -> str | None:
    """A value in a few characters: scalars as written, structures as compact JSON."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    text = " ".join(text.split()) if "\n" in text or "\r" in text else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(sql: Any) -> str | None:
    if not isinstance(sql, str):
        return None
    lines = [line.strip() for line in sql.splitlines() if line.strip()]
    if not lines:
        return None
    return lines[0] + (" …" if len(lines) > 1 else "")


def _cron(schedule: Any) -> str | None:
    if not isinstance(schedule, dict):
        return None
    cron = schedule.get("quartzCronExpression") or schedule.get("quartzCronSchedule")
    if not cron:
        return None
    text = f"{cron} {schedule.get('timezoneId') or ''}".strip()
    return text + (" (paused)" if schedule.get("pauseStatus") == "PAUSED" else "")


def _principal(entry: Any) -> str:
    for key, prefix in (("groupName", ""), ("userName", ""), ("servicePrincipalName", "sp:"), ("principal", "")):
        if isinstance(entry, dict) and entry.get(key):
            return f"{prefix}{entry[key]}"
    return "?"


def _summary_list(items: Any, render: Any, limit: int = 5) -> str | None:
    if not isinstance(items, list) or not items:
        return None
    shown = [render(item) for item in items[:limit]]
    return ", ".join(shown) + (f", … ({len(items) - limit} more)" if len(items) > limit else "")


def _cluster(cluster: Any) -> str:
    label = _at(cluster, "label") or "default"
    auto = _at(cluster, "autoscale")
    if isinstance(auto, dict):
        size = f"{auto.get('minWorkers', '?')}-{auto.get('maxWorkers', '?')} workers"
        size += f" {auto['mode']}" if auto.get("mode") else ""
    elif _at(cluster, "numWorkers") is not None:
        size = f"{_at(cluster, 'numWorkers')} workers"
    else:
        size = "default size"
    node = _at(cluster, "nodeTypeId")
    return f"{label}: {size}" + (f" of {node}" if node else "")


def _pipeline_inputs(i: Mapping[str, Any]) -> list[tuple[str, Any]]:
    compute = "serverless" if i.get("serverless") else _summary_list(i.get("clusters"), _cluster)
    out = [("name", i.get("name")), ("catalog", i.get("catalog")), ("schema", i.get("schema") or i.get("target"))]
    out += [("compute", compute), ("continuous", i.get("continuous"))]
    return out + ([("development", True)] if i.get("development") else [])


def _job_trigger(trigger: Any) -> str | None:
    if not isinstance(trigger, dict):
        return None
    if isinstance(trigger.get("tableUpdate"), dict):
        tables = trigger["tableUpdate"].get("tableNames")
        return "update of " + (_summary_list(tables, str, 3) or "tables")
    if isinstance(trigger.get("fileArrival"), dict):
        return f"file arrival at {trigger['fileArrival'].get('url', '?')}"
    if isinstance(trigger.get("periodic"), dict):
        return f"every {trigger['periodic'].get('interval', '?')} {trigger['periodic'].get('unit', '?')}".lower()
    return _text(trigger)


def _task(task: Any) -> str:
    kinds = [k.removesuffix("Task") for k in task if k.endswith("Task")] if isinstance(task, dict) else []
    return f"{_at(task, 'taskKey') or '?'}" + (f" ({kinds[0]})" if kinds else "")


def _job_inputs(i: Mapping[str, Any]) -> list[tuple[str, Any]]:
    continuous = _at(i, "continuous", "pauseStatus")
    return [
        ("name", i.get("name")),
        ("schedule", _cron(i.get("schedule"))),
        ("trigger", _job_trigger(i.get("trigger"))),
        ("continuous", f"yes ({continuous.lower()})" if isinstance(continuous, str) else None),
        ("tasks", _summary_list(i.get("tasks"), _task, 3)),
    ]


_OPERATORS = {
    "GREATER_THAN": ">",
    "GREATER_THAN_OR_EQUAL": ">=",
    "LESS_THAN": "<",
    "LESS_THAN_OR_EQUAL": "<=",
    "EQUAL": "=",
    "NOT_EQUAL": "!=",
    "IS_NULL": "is null",
}


def _evaluation(evaluation: Any) -> str | None:
    if not isinstance(evaluation, dict):
        return None
    source = _at(evaluation, "source", "name") or "?"
    aggregation = _at(evaluation, "source", "aggregation")
    measured = f"{aggregation}({source})" if aggregation else str(source)
    op = evaluation.get("comparisonOperator")
    value = _at(evaluation, "threshold", "value")
    if isinstance(value, dict) and value:
        threshold = next(iter(value.values()))
    else:
        threshold = _at(evaluation, "threshold", "column", "name")
    return " ".join(str(p) for p in (measured, _OPERATORS.get(str(op), op), threshold) if p is not None)


def _alert_inputs(i: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("name", i.get("displayName")),
        ("evaluation", _evaluation(i.get("evaluation"))),
        ("schedule", _cron(i.get("schedule"))),
    ]


def _securable(i: Mapping[str, Any], skip: str) -> tuple[str, Any]:
    for key, value in i.items():
        if key != skip and isinstance(value, str | int):
            return key, value
    return "on", None


def _permissions_inputs(i: Mapping[str, Any]) -> list[tuple[str, Any]]:
    access = _summary_list(i.get("accessControls"), lambda a: f"{_principal(a)} {_at(a, 'permissionLevel')}", 6)
    return [_securable(i, "accessControls"), ("access", access)]


def _grants_inputs(i: Mapping[str, Any]) -> list[tuple[str, Any]]:
    def grant(g: Any) -> str:
        return f"{_principal(g)}: {' '.join(str(p) for p in _at(g, 'privileges') or [])}"

    return [_securable(i, "grants"), ("grants", _summary_list(i.get("grants"), grant, 4))]


def _dotted(*parts: Any) -> str | None:
    return ".".join(str(p) for p in parts if p) or None


def _table_inputs(i: Mapping[str, Any]) -> list[tuple[str, Any]]:
    columns = i.get("columns")
    return [
        ("name", _dotted(i.get("catalogName"), i.get("schemaName"), i.get("name"))),
        ("type", i.get("tableType")),
        ("view", _first_line(i.get("viewDefinition"))),
        ("columns", len(columns) if isinstance(columns, list) else None),
    ]


def _file_inputs(i: Mapping[str, Any]) -> list[tuple[str, Any]]:
    content = None
    if isinstance(i.get("contentBase64"), str):
        text = _unbase64(i["contentBase64"], hinted=True)
        if text is None:
            content = "binary"
        else:
            kind = "JSON document" if _json_document(text) is not None else "text"
            content = f"{kind}, {len(text.encode())} bytes"
    return [("path", i.get("path")), ("content", content), ("source", i.get("source"))]


def _fields(*names: str) -> Any:
    return lambda i: [(n, i.get(n)) for n in names]


_KEY_INPUTS: dict[str, Any] = {
    PIPELINE_TYPE: _pipeline_inputs,
    "databricks:index/job:Job": _job_inputs,
    "databricks:index/alertV2:AlertV2": _alert_inputs,
    "databricks:index/permissions:Permissions": _permissions_inputs,
    "databricks:index/grants:Grants": _grants_inputs,
    "databricks:index/sqlTable:SqlTable": _table_inputs,
    "databricks:index/file:File": _file_inputs,
    "databricks:index/query:Query": lambda i: [
        ("name", i.get("displayName")),
        ("sql", _first_line(i.get("queryText"))),
    ],
    "databricks:index/schema:Schema": lambda i: [("name", _dotted(i.get("catalogName"), i.get("name")))],
    "databricks:index/volume:Volume": lambda i: [
        ("name", _dotted(i.get("catalogName"), i.get("schemaName"), i.get("name"))),
        ("type", i.get("volumeType")),
    ],
    "databricks:index/catalog:Catalog": _fields("name"),
    "databricks:index/dashboard:Dashboard": _fields("displayName", "parentPath"),
    "databricks:index/directory:Directory": _fields("path"),
    "databricks:index/repo:Repo": _fields("url", "path", "tag", "branch"),
    "databricks:index/notificationDestination:NotificationDestination": lambda i: [
        ("name", i.get("displayName")),
        ("kind", ", ".join(sorted(i["config"])) if isinstance(i.get("config"), dict) else None),
    ],
    "databricks:index/budget:Budget": _fields("displayName"),
    "databricks:index/budgetPolicy:BudgetPolicy": _fields("policyName"),
    "databricks:index/accessControlRuleSet:AccessControlRuleSet": lambda i: [
        ("rules", _summary_list(i.get("grantRules"), lambda r: f"{_at(r, 'role')}: {_text(_at(r, 'principals'))}"))
    ],
}


def _first_scalars(inputs: Mapping[str, Any]) -> list[tuple[str, Any]]:
    scalars = [(k, v) for k, v in inputs.items() if isinstance(v, str | int | float | bool)]
    return scalars[:4]


def key_inputs(type_: str, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The few inputs that say what a resource is (a pipeline: its name, catalog, schema, compute);
    for a type not listed, its first scalar inputs. Never fails on an unexpected shape."""
    if not isinstance(inputs, Mapping) or not inputs:
        return []
    try:
        picked = _KEY_INPUTS.get(type_, _first_scalars)(inputs)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError):
        picked = _first_scalars(inputs)
    out = [(str(k), _text(v)) for k, v in picked]
    return [(k, v) for k, v in out if v is not None][:KEY_INPUTS_SHOWN]


# --- for readers: who a change belongs to ---------------------------------------------------------

# Components made per pipeline, named after it (their children are named "<pipeline>-...").
PIPELINE_COMPONENTS = {
    "lakeflow:index:DltPipeline",
    "lakeflow:index:BlueGreenPipeline",
    "lakeflow:index:PipelineSchedule",
    "lakeflow:index:PipelineSnapshots",
}
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Owner:
    """What changed resources belong to: a pipeline (by name), a component, or the stack."""

    kind: str  # pipeline | component | stack
    label: str  # the pipeline's name; "<name> (<ComponentType>)"; "stack"
    urn: str | None = None  # a component's URN


def _qualified(urn: str) -> list[str]:
    """The types of a URN's ancestors and its own, outermost first."""
    try:
        return urn_parts(urn)[2].split("$")
    except ValueError:
        return []


def _top_level(change: ResourceChange) -> bool:
    return not change.parent or _qualified(change.parent)[-1:] == [STACK_TYPE]


def ancestors(change: ResourceChange, by_urn: Mapping[str, ResourceChange]) -> list[tuple[str, str, str]]:
    """(urn, type, name) of the parents, nearest first; a parent known only by its URN ends it."""
    out: list[tuple[str, str, str]] = []
    parent, seen = change.parent, {change.urn}
    while parent and parent not in seen:
        seen.add(parent)
        types = _qualified(parent)
        if not types or types[-1] == STACK_TYPE:
            break
        known = by_urn.get(parent)
        out.append((parent, known.type if known else types[-1], known.name if known else _short_name(parent)))
        parent = known.parent if known else None
    return out


def pipeline_names(diff: Diff) -> set[str]:
    """The pipelines the diff's resources belong to: per-pipeline components at the top of the
    stack, and the `Pipeline` tag of pipelines."""
    names = set()
    for change in diff.resources:
        if change.type in PIPELINE_COMPONENTS and _top_level(change):
            names.add(change.name)
        parent_types = _qualified(change.parent) if change.parent else []
        if len(parent_types) == 1 and parent_types[0] in PIPELINE_COMPONENTS:  # a preview: only the URN
            names.add(_short_name(change.parent or ""))
        for inputs in (change.inputs, change.old_inputs):
            tag = _at(inputs, "tags", "Pipeline") if change.type == PIPELINE_TYPE else None
            if isinstance(tag, str) and tag:
                names.add(tag)
    return names


def _pipeline_in(name: str, pipelines: Iterable[str]) -> str | None:
    """The pipeline a resource name is about: `<p>`, `<p>-...`, `...-<p>-...` or `...-<p>`."""
    found = [p for p in pipelines if f"-{p}-" in f"-{name}-"]
    return max(found, key=len) if found else None


def owner_of(change: ResourceChange, by_urn: Mapping[str, ResourceChange], pipelines: Iterable[str]) -> Owner:
    """Who a change belongs to: the pipeline named in it or in its parents, else its outermost
    component (from the parents, or the URN's type chain), else the stack."""
    chain = ancestors(change, by_urn)
    for name in [change.name, *(name for _, _, name in chain)]:
        pipeline = _pipeline_in(name, pipelines)
        if pipeline:
            return Owner("pipeline", pipeline)
    components = [(u, t, n) for u, t, n in chain if not t.startswith(("databricks:", "pulumi:"))]
    if components:
        urn, type_, name = components[-1]
        if len(_qualified(urn)) == 1:
            if type_ in PIPELINE_COMPONENTS:
                return Owner("pipeline", name)
            return Owner("component", f"{name} ({type_.rsplit(':', 1)[-1]})", urn)
    outer = _qualified(change.urn)[:1]
    if change.parent and outer and outer[0].startswith("lakeflow:"):
        return Owner("component", outer[0].rsplit(":", 1)[-1], None)  # its name unknown (an engine preview)
    if change.type.startswith("lakeflow:") and _top_level(change):
        return Owner("component", f"{change.name} ({change.short_type})", change.urn)
    return Owner("stack", "stack")


def group_changes(diff: Diff) -> list[tuple[Owner, list[ResourceChange]]]:
    """The changed resources by owner: pipelines (by name), components, then the stack's own."""
    by_urn = {c.urn: c for c in diff.resources if c.action != "delete"}
    by_urn.update({c.urn: c for c in diff.resources if c.action == "delete" and c.urn not in by_urn})
    pipelines = pipeline_names(diff)
    groups: dict[Owner, list[ResourceChange]] = {}
    for change in diff.changed:
        groups.setdefault(owner_of(change, by_urn, pipelines), []).append(change)
    order = {"pipeline": 0, "component": 1, "stack": 2}
    return sorted(groups.items(), key=lambda g: (order[g[0].kind], g[0].label if g[0].kind == "pipeline" else ""))


# One line per owner: "1 pipeline updated (clusters[0].autoscale.maxWorkers 20 -> 16), ..."

NOUNS = {
    "Pipeline": ("pipeline", "pipelines"),
    "Job": ("job", "jobs"),
    "AlertV2": ("alert", "alerts"),
    "Alert": ("alert", "alerts"),
    "Permissions": ("permission set", "permission sets"),
    "Grants": ("grant set", "grant sets"),
    "Query": ("query", "queries"),
    "SqlTable": ("table", "tables"),
    "Schema": ("schema", "schemas"),
    "Volume": ("volume", "volumes"),
    "File": ("file", "files"),
    "Dashboard": ("dashboard", "dashboards"),
    "Directory": ("folder", "folders"),
    "NotificationDestination": ("notification destination", "notification destinations"),
    "BudgetPolicy": ("budget policy", "budget policies"),
    "AccessControlRuleSet": ("access rule set", "access rule sets"),
}
VERBS = {"delete": "deleted", "replace": "replaced", "update": "updated", "create": "created", "same": "renamed"}
NOTES_SHOWN = 2


@dataclass
class SummaryPart:
    count: int
    noun: str  # singular or plural, as the count says
    verb: str
    notes: list[str]  # what changed, a few distinct examples
    more: int = 0  # further distinct notes
    kinds: list[str] = field(default_factory=list)  # several kinds in one part: "1 pipeline", "2 jobs"


def _noun(change: ResourceChange, count: int) -> str:
    if change.type == "databricks:index/sqlTable:SqlTable" and change.inputs.get("tableType") == "VIEW":
        return "view" if count == 1 else "views"
    if change.type.startswith("lakeflow:"):
        return f"{change.short_type} component" + ("" if count == 1 else "s")
    one, many = NOUNS.get(change.short_type, (change.short_type, change.short_type + "s"))
    return one if count == 1 else many


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def briefs(change: InputChange, limit: int = 2) -> list[str]:
    """An input change in a few words: its first changed keys, or its first changed lines."""
    detail = change.detail
    if detail is not None and detail.kind == "json":
        out = []
        for entry in detail.entries[:limit]:
            if not _present(entry.old):
                out.append(f"{entry.path} added")
            elif not _present(entry.new):
                out.append(f"{entry.path} removed")
            else:
                out.append(f"{entry.path} {_short(entry.old)} -> {_short(entry.new)}")
        return out
    if detail is not None:
        gone = next((line[1:].strip() for line in detail.lines if line.startswith("-")), None)
        came = next((line[1:].strip() for line in detail.lines if line.startswith("+")), None)
        if gone is not None and came is not None:
            return [f"{change.path} {_short(gone, 50)} -> {_short(came, 50)}"]
        if came is not None:
            return [f"{change.path} adds {_short(came, 50)}"]
        return [f"{change.path} drops {_short(gone or '', 50)}"]
    return [f"{change.path} {_short(change.old)} -> {_short(change.new)}"]


def summary_parts(changes: Iterable[ResourceChange]) -> list[SummaryPart]:
    """The changes of one owner counted by kind and action, with a few examples of what changed.
    Creates and deletes of several kinds are one part: "19 resources created (1 pipeline, ...)"."""
    by_action: dict[str, dict[str, list[ResourceChange]]] = {}
    for change in changes:
        kind = "view" if _noun(change, 1) == "view" else change.type
        by_action.setdefault(change.action, {}).setdefault(kind, []).append(change)
    parts = []
    for action in ("delete", "replace", "update", "create", "same"):
        kinds = by_action.get(action, {})
        if action in ("create", "delete") and len(kinds) > 1:
            counts: dict[str, int] = {}
            for members in kinds.values():
                noun = "component" if members[0].type.startswith("lakeflow:") else _noun(members[0], 1)
                counts[noun] = counts.get(noun, 0) + len(members)
            named = [f"{n} {_plural(noun, n)}" for noun, n in counts.items()]
            retained = sum(c.retained for members in kinds.values() for c in members)
            named += [f"{retained} retained in the workspace"] if action == "delete" and retained else []
            parts.append(SummaryPart(sum(counts.values()), "resources", VERBS[action], [], kinds=named))
            continue
        for members in kinds.values():
            notes: list[str] = []
            unlisted = 0  # changes not even put into words (inputs, keys of a document)
            for change in members:
                if action == "replace":
                    notes += change.replace_reasons[:1]
                elif action == "update":
                    for c in change.changes[: NOTES_SHOWN + 1]:
                        said = briefs(c, NOTES_SHOWN)
                        notes += said
                        if c.detail is not None and c.detail.kind == "json":
                            unlisted += len(c.detail.entries) + c.detail.left_off - len(said)
                    unlisted += max(0, len(change.changes) - NOTES_SHOWN - 1)
                elif action == "delete" and change.retained:
                    notes.append("retained in the workspace")
            distinct = list(dict.fromkeys(notes))
            noun = _noun(members[0], len(members))
            more = max(0, len(distinct) - NOTES_SHOWN) + unlisted
            parts.append(SummaryPart(len(members), noun, VERBS[action], distinct[:NOTES_SHOWN], more))
    return parts


def _plural(noun: str, count: int) -> str:
    if count == 1:
        return noun
    for one, many in NOUNS.values():
        if noun == one:
            return many
    return {"view": "views", "component": "components"}.get(noun, noun + "s")


def summary_text(changes: Iterable[ResourceChange]) -> str:
    """E.g. "1 pipeline updated (clusters[0].autoscale.maxWorkers 20 -> 16), 2 alerts updated (...)"."""
    out = []
    for part in summary_parts(changes):
        notes = "; ".join(part.notes) + (f"; … {part.more} more" if part.more else "")
        kinds = f" ({', '.join(part.kinds)})" if part.kinds else ""
        out.append(f"{part.count} {part.noun} {part.verb}{kinds}" + (f" ({notes})" if notes else ""))
    return ", ".join(out)


# --- command line -----------------------------------------------------------------------------


class DiffError(Exception):
    """A diff that cannot be made (bad ref, a plan that fails); the message says why."""


def plan_json(code: Path | None, stack: str, root: Path | None = None, deployed: bool = False) -> PlanRecord:
    """The offline plan of `stack` as JSON, by this package's code (`code` None) or by the checkout
    `code`'s (the code at that ref: `src/lakeflow`, or the flat layout before it moved).

    Another checkout's code plans in a fresh process of its own, with that checkout first on the path.
    Code that is this package's, file for file, plans in this process (with `root` given): the same
    program, without a second start of Python and the provider SDK (about 1.5 s each)."""
    args = ["--stack", stack, *(["--root", str(root)] if root is not None else [])]
    args += ["--deployed"] if deployed else []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan.json"
        args += ["--json", str(out)]
        if root is not None and (code is None or _same_code(code)):
            status, errors = _plan_here(args)
        else:
            status, errors = _plan_in_a_process(code, args, cwd=code or root)
        if status != 0:
            raise DiffError(errors)
        return json.loads(out.read_text(encoding="utf-8"))


def _plan_here(args: list[str]) -> tuple[int, str]:
    """`lakeflow.offline.plan` run in this process: its status and what it wrote to stderr (its
    stdout, the resource tree, is not the diff's). A crash is reported, traceback and all, as the
    process would have."""
    import contextlib
    import io
    import traceback

    from lakeflow.offline.plan import main as plan_main

    errors = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
        try:
            status = plan_main(args)
        except Exception:
            return 1, traceback.format_exc().strip()
    return status, errors.getvalue().strip()


def _plan_in_a_process(code: Path | None, args: list[str], cwd: Path | None) -> tuple[int, str]:
    env = dict(os.environ)
    module = "lakeflow.offline.plan"
    if code is not None:
        if (code / "src" / "lakeflow" / "offline" / "plan.py").exists():
            env["PYTHONPATH"] = str(code / "src")
        else:
            module, env["PYTHONPATH"] = "offline.plan", str(code)
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    return proc.returncode, proc.stderr.strip() or proc.stdout.strip()


def _same_code(code: Path) -> bool:
    """Whether the checkout `code` holds this package, file for file (compiled files aside)."""
    return _package_files(code / "src" / "lakeflow") == _package_files(Path(__file__).resolve().parent.parent)


def _package_files(package: Path) -> dict[str, bytes] | None:
    if not (package / "__init__.py").is_file():
        return None
    return {
        str(path.relative_to(package)): path.read_bytes()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def plan_at_ref(root: Path, ref: str, stack: str) -> PlanRecord | None:
    """The stack's plan at git `ref`, from a temporary worktree; None if the stack is new."""

    def git(*args: str, cwd: Path = root) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)

    if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise DiffError(f"BASE {ref!r} is not a commit of the repository at {root}")
    top = Path(git("rev-parse", "--show-toplevel").stdout.strip())
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "base"
        added = git("worktree", "add", "--detach", "--quiet", str(worktree), ref, cwd=top)
        if added.returncode != 0:
            raise DiffError(f"cannot check out {ref}: {added.stderr.strip()}")
        try:
            base_root = worktree / root.resolve().relative_to(top.resolve())
            if not (base_root / f"Pulumi.{stack}.yaml").exists():
                return None
            if not any((worktree / where / "plan.py").exists() for where in ("src/lakeflow/offline", "offline")):
                raise DiffError(f"{ref} predates the offline plan: nothing to compare with")
            try:
                return plan_json(worktree, stack, base_root)
            except DiffError as exc:
                raise DiffError(f"stack {stack!r} does not plan at {ref}:\n{exc}") from None
        finally:
            git("worktree", "remove", "--force", str(worktree), cwd=top)


# The URN may be quoted or in backticks (a pull request description written in Markdown).
_ACK_LINE = re.compile(
    r"^[ \t]*allow-destroy:[ \t]*([`'\"]?)(urn:pulumi:\S+?)\1[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)


def acknowledged_urns(text: str) -> list[str]:
    """URNs acknowledged by `allow-destroy: <urn>` lines (the pull-request / commit convention)."""
    return [m.group(2) for m in _ACK_LINE.finditer(text)]


def main(argv: list[str] | None = None) -> int:
    from lakeflow.offline.diff_render import render_markdown, render_text

    parser = argparse.ArgumentParser(
        prog="make diff", description="Offline diff of a stack between a git ref and the working tree."
    )
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--base", default="origin/main", help="git ref to compare with (default: origin/main)")
    parser.add_argument("--json", metavar="PATH", help="write the diff as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write a pull-request comment body")
    parser.add_argument(
        "--allow-destroy",
        metavar="URN",
        action="append",
        default=[],
        help="acknowledge the delete/replace of this URN (repeatable; also $LAKEFLOW_ALLOW_DESTROY)",
    )
    parser.add_argument(
        "--acknowledgements",
        metavar="FILE",
        type=Path,
        help="text (a PR description, commit messages) whose 'allow-destroy: <urn>' lines acknowledge destroys",
    )
    parser.add_argument("--old", type=Path, help="compare this JSON plan instead of planning BASE")
    parser.add_argument(
        "--engine-preview",
        type=Path,
        metavar="FILE",
        help="judge this `pulumi preview --json` (the stack against its deployed state) instead of two plans",
    )
    parser.add_argument("--new", type=Path, help="compare this JSON plan instead of the working tree")
    parser.add_argument("--root", type=Path, default=project_root(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    allowed = [*args.allow_destroy, *os.environ.get("LAKEFLOW_ALLOW_DESTROY", "").split()]
    try:
        if args.acknowledgements:
            allowed += acknowledged_urns(read_text(args.acknowledgements, "ACKNOWLEDGEMENTS", max_bytes=1 << 20))
        if args.engine_preview:
            base = f"the deployed state ({args.engine_preview})"
            result = diff_from_preview(args.stack, read_preview(args.engine_preview, "ENGINE_PREVIEW"), allowed)
        else:
            base = str(args.old) if args.old else args.base
            old = read_plan(args.old, "--old") if args.old else plan_at_ref(args.root, args.base, args.stack)
            new = read_plan(args.new, "--new") if args.new else plan_json(None, args.stack, args.root)
            result = diff_plans(old, new, allowed)
        print(render_text(result, base))
        if args.json:
            write_text(Path(args.json), "JSON", json.dumps(result.to_json(), indent=2) + "\n")
        if args.markdown:
            write_text(Path(args.markdown), "MARKDOWN", render_markdown(result, base))
    except (DiffError, FileRefused) as exc:
        print(f"make diff: {exc}", file=sys.stderr)
        return 2
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
