"""Compare two offline plans the way the Pulumi engine would, and guard against data loss.

Per resource (matched by URN, or through an alias to an old URN): create, delete, update (with
the changed input paths, old -> new, secrets already masked by the plan), replace (a change to a
property that forces replacement, see `offline.replacements`), or rename (an alias matched: the
same resource under a new URN, never delete + create). Aliases are resolved like the engine does,
including the aliases children inherit from a renamed parent.

The data-loss guard flags every delete or replace of a protected resource or of a resource that
holds data (pipelines own their tables; schemas, tables and volumes are data), unless its URN is
acknowledged.
"""

from __future__ import annotations

import argparse
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

from offline import UNKNOWN_TEXT
from offline.replacements import HOLDS_DATA, replacement_reasons
from offline.replacements import PIPELINE as PIPELINE_TYPE
from settings.input_files import FileRefused, read_plan, read_preview, read_text, write_text

ACTIONS = ("create", "update", "replace", "delete")
_MISSING = "(absent)"


@dataclass(frozen=True)
class InputChange:
    path: str
    old: Any
    new: Any


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

    @property
    def short_type(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def destroys(self) -> bool:
        return self.action in ("delete", "replace")

    @property
    def old_urn(self) -> str:
        return self.renamed_from or self.urn

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "renamedFrom": self.renamed_from,
            "changes": [{"path": c.path, "old": c.old, "new": c.new} for c in self.changes],
            "replaceReasons": self.replace_reasons,
            "protected": self.protected,
        }


@dataclass
class GuardViolation:
    urn: str
    reason: str


@dataclass
class Diff:
    stack: str
    resources: list[ResourceChange]
    violations: list[GuardViolation] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)

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

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "summary": {**{a: self.count(a) for a in ACTIONS}, "rename": self.renames},
            "resources": [r.to_json() for r in self.changed],
            "dataLossGuard": {
                "violations": [{"urn": v.urn, "reason": v.reason} for v in self.violations],
                "acknowledged": self.acknowledged,
            },
        }


READS = {"pulumi:pulumi:StackReference"}


def diff_plans(old: Mapping[str, Any] | None, new: Mapping[str, Any], allow_destroy: Iterable[str] = ()) -> Diff:
    """`old`/`new` are JSON plans (`offline.plan --json`); `old` None means the stack is new."""
    # Reads (StackReference) change nothing in the workspace: not part of the diff.
    old_by_urn = {r["urn"]: r for r in (old or {}).get("resources", []) if r["type"] not in READS}
    new_resources = [r for r in new["resources"] if r["type"] not in READS]
    new_urns = {r["urn"] for r in new_resources}
    resolved_old: dict[str, str] = {}  # new URN -> old URN it continues
    changes: list[ResourceChange] = []
    fresh: set[str] = set()  # created or replaced: their outputs are unknown until applied

    for res in new_resources:  # registration order: parents are resolved before their children
        old_urn = res["urn"] if res["urn"] in old_by_urn else _alias_match(res, old_by_urn, new_urns, resolved_old)
        if old_urn is None:
            changes.append(_change("create", res))
            fresh.add(res["urn"])
            continue
        resolved_old[res["urn"]] = old_urn
        before = old_by_urn[old_urn]
        inputs = _option_changes(before, res) + _input_changes(before["inputs"], res["inputs"])
        inputs += _source_changes(before, res, resolved_old)
        inputs += _recomputed(res, fresh)
        reasons = replacement_reasons(res["type"], before, res, [c.path for c in inputs])
        action = "replace" if reasons else "update" if inputs or _options_changed(before, res) else "same"
        change = _change(action, res, protected=before["protect"] or res["protect"])
        change.renamed_from = old_urn if old_urn != res["urn"] else None
        change.changes, change.replace_reasons = inputs, reasons
        changes.append(change)
        if action == "replace":
            fresh.add(res["urn"])

    continued = set(resolved_old.values())
    for urn, res in old_by_urn.items():
        if urn not in continued:
            changes.append(_change("delete", res, protected=res["protect"]))

    moved_workspace = None
    if old is not None and old.get("workspace") != new.get("workspace"):
        moved_workspace = (old.get("workspace"), new.get("workspace"))
    return _guard(Diff(new["stack"], changes), allow_destroy, moved_workspace)


def _guard(result: Diff, allow_destroy: Iterable[str], moved_workspace: tuple[Any, Any] | None = None) -> Diff:
    """The data-loss guard over a diff's changes (the offline diff's, or the real engine's)."""
    allowed = set(allow_destroy)
    for change in result.resources:
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
        if change.old_urn in allowed:
            result.acknowledged.append(change.old_urn)
        else:
            result.violations.append(GuardViolation(change.old_urn, why))
    return result


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


def _change(action: str, res: Mapping[str, Any], protected: bool | None = None) -> ResourceChange:
    return ResourceChange(
        action=action,
        urn=res["urn"],
        type=res["type"],
        name=res["name"],
        parent=res["parent"],
        protected=res["protect"] if protected is None else protected,
        retained=bool(res.get("retainOnDelete")),
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


def _urn_parts(urn: str) -> tuple[str, str, str, str]:
    """urn:pulumi:<stack>::<project>::<qualified type>::<name>"""
    head, project, qualified, name = urn.split("::", 3)
    return head.removeprefix("urn:pulumi:"), project, qualified, name


def _make_urn(stack: str, project: str, parent_qualified: str | None, type_: str, name: str) -> str:
    qualified = f"{parent_qualified}${type_}" if parent_qualified else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _candidate_old_urns(res: Mapping[str, Any], resolved_old: Mapping[str, str]) -> list[str]:
    """Every URN this resource may have had: its explicit aliases, and the aliases inherited
    from a parent that continues an old URN (as the engine computes them)."""
    stack, project, _, _ = _urn_parts(res["urn"])
    parent = res["parent"]
    parent_qualified = _urn_parts(parent)[2] if parent else None
    candidates: list[str] = []
    for alias in res["aliases"]:
        if alias.get("urn"):
            candidates.append(alias["urn"])
            continue
        a_parent = alias.get("parentUrn") or None
        if alias.get("noParent"):
            a_parent_qualified = None
        elif a_parent:
            a_parent_qualified = _urn_parts(a_parent)[2]
        else:
            a_parent_qualified = parent_qualified
        if a_parent_qualified == "pulumi:pulumi:Stack":
            a_parent_qualified = None
        candidates.append(
            _make_urn(
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
        _, _, old_parent_qualified, old_parent_name = _urn_parts(old_parent)
        _, _, _, parent_name = _urn_parts(parent)
        names = {res["name"]}
        if res["name"].startswith(parent_name):
            names.add(old_parent_name + res["name"][len(parent_name) :])
        for name in sorted(names):
            candidates.append(_make_urn(stack, project, old_parent_qualified, res["type"], name))
    return candidates


def _alias_match(
    res: Mapping[str, Any], old_by_urn: Mapping[str, Any], new_urns: set[str], resolved_old: Mapping[str, str]
) -> str | None:
    for urn in _candidate_old_urns(res, resolved_old):
        # An old URN still used by a resource of the new plan belongs to that resource.
        if urn in old_by_urn and urn not in new_urns and urn not in resolved_old.values():
            return urn
    return None


# --- command line -----------------------------------------------------------------------------


class DiffError(Exception):
    """A diff that cannot be made (bad ref, a plan that fails); the message says why."""


def plan_json(cwd: Path, stack: str, root: Path | None = None, deployed: bool = False) -> dict[str, Any]:
    """Run `offline.plan` of the code in `cwd` (a fresh process: the code at that ref)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan.json"
        cmd = [sys.executable, "-m", "offline.plan", "--stack", stack, "--json", str(out)]
        if root is not None:
            cmd += ["--root", str(root)]
        if deployed:
            cmd.append("--deployed")
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise DiffError(proc.stderr.strip() or proc.stdout.strip())
        return json.loads(out.read_text(encoding="utf-8"))


def plan_at_ref(root: Path, ref: str, stack: str) -> dict[str, Any] | None:
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
            if not (worktree / "offline" / "plan.py").exists():
                raise DiffError(f"{ref} predates the offline plan: nothing to compare with")
            try:
                return plan_json(worktree, stack, base_root)
            except DiffError as exc:
                raise DiffError(f"stack {stack!r} does not plan at {ref}:\n{exc}") from None
        finally:
            git("worktree", "remove", "--force", str(worktree), cwd=top)


_ACK_LINE = re.compile(r"^\s*allow-destroy:\s*(urn:pulumi:\S+)\s*$", re.IGNORECASE | re.MULTILINE)


def acknowledged_urns(text: str) -> list[str]:
    """URNs acknowledged by `allow-destroy: <urn>` lines (the pull-request / commit convention)."""
    return _ACK_LINE.findall(text)


def main(argv: list[str] | None = None) -> int:
    from offline.diff_render import render_markdown, render_text

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
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent, help=argparse.SUPPRESS)
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
            new = (
                read_plan(args.new, "--new")
                if args.new
                else plan_json(Path(__file__).resolve().parent.parent, args.stack, args.root)
            )
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
