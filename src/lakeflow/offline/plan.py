"""`make plan STACK=<stack> [JSON=<path>]`: the offline plan of one stack.

Loads the stack's settings exactly as `pulumi up` would (errors: report, exit 2, nothing
registered), runs `lakeflow.program.build` under the recording monitor, fails if any input would be
rejected by the real provider (exit 3), prints the resource tree and optionally writes the JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lakeflow.config.errors import ConfigErrors
from lakeflow.config.input_files import FileRefused, check_writable, read_outputs, write_text
from lakeflow.config.project import command_parser, project_root
from lakeflow.offline.records import ResourceRecord
from lakeflow.sql.queries import breach_conditions

ROOT = project_root()


def plan_stack(
    stack: str,
    root: Path = ROOT,
    references: Mapping[str, dict[str, Any]] | None = None,
    _seen: frozenset[str] = frozenset(),
    deployed: bool = False,
) -> Any:
    """Settings -> build -> recorded Plan. Raises ConfigErrors before anything is registered.

    A stack promoted from another (lakeflow:promoteFrom, a StackReference) reads that stack's
    outputs: from `references` (`<org>/<project>/<stack>` -> outputs, e.g. a saved `pulumi stack
    output --json`), else from the offline plan of that stack when this project has its file."""
    from lakeflow.config.loader import load_settings
    from lakeflow.offline.stack_file import project_name, read_stack_config

    project = project_name(root)
    config, secret_keys = read_stack_config(root, project, stack)
    settings = load_settings(project, stack, config, secret_keys, root)
    # Only valid settings need Pulumi and the Databricks SDK (about 3 s of imports): a config
    # error is reported at once.
    from lakeflow.offline.recorder import record
    from lakeflow.program import build

    resolved = dict(references or {})
    # As stack.build reads it: only when a blue/green pipeline may need the promoted version.
    source = settings.config.promote_from if any(s.release for s in settings.pipelines) else None
    if source and source not in resolved:
        other = source.rsplit("/", 1)[1]
        if other in _seen or not (root / f"Pulumi.{other}.yaml").exists():
            raise ReferenceUnavailable(
                f"stack {stack!r} is promoted from {source}: pass its outputs with --reference {source}=<file.json> "
                "(pulumi stack output --json)"
            )
        key = _fingerprint(root, other)
        if key not in _REFERENCED_OUTPUTS:
            try:
                _REFERENCED_OUTPUTS[key] = plan_stack(other, root, references, _seen | {stack}).outputs
            except ConfigErrors as exc:
                raise exc.within(
                    f"in stack {other!r}, planned because {stack!r} is promoted from it (lakeflow:promoteFrom "
                    f"{source}): its outputs give the versions {stack}'s blue/green slots run"
                ) from None
        resolved[source] = _REFERENCED_OUTPUTS[key]
    return record(project, stack, config, secret_keys, lambda: build(settings), references=resolved, deployed=deployed)


# Outputs of referenced stacks by the content they were planned from: a process planning prod
# many times (the tests, the diff) plans an unchanged staging once.
_REFERENCED_OUTPUTS: dict[str, dict[str, Any]] = {}


def _fingerprint(root: Path, stack: str) -> str:
    digest = hashlib.sha256(stack.encode())
    for path in [root / "Pulumi.yaml", root / f"Pulumi.{stack}.yaml", *sorted((root / "pipelines").glob("*.y*ml"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class ReferenceUnavailable(Exception):
    """A StackReference whose outputs the offline plan cannot supply."""


def refused(exc: Exception) -> bool:
    """A plan refused for a reason the user can act on, reported in one message: a reference's
    outputs missing or malformed, or the program's own `pulumi.RunError` (a promotion source
    that runs no version of a pipeline). Pulumi is imported only once settings are valid."""
    pulumi = sys.modules.get("pulumi")
    return isinstance(exc, (ReferenceUnavailable, FileRefused)) or (
        pulumi is not None and isinstance(exc, pulumi.RunError)
    )


def _references(items: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        name, sep, file = item.partition("=")
        if not sep or name.count("/") != 2:
            raise SystemExit(f"make plan: --reference {item!r}: expected <org>/<project>/<stack>=<outputs.json>")
        out[name] = read_outputs(Path(file), f"--reference {name}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("plan", __doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the plan as JSON to PATH")
    parser.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="ORG/PROJECT/STACK=FILE",
        help="outputs of a referenced stack (pulumi stack output --json); default: its offline plan",
    )
    # As an update after a deployment sees it (placeholder ids): the agreement tests' base state.
    parser.add_argument("--deployed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    try:
        if args.json:
            check_writable(Path(args.json), "JSON")
        plan = plan_stack(args.stack, args.root, _references(args.reference), deployed=args.deployed)
    except ConfigErrors as exc:
        print(f"Stack {args.stack!r} not planned, nothing registered.\n{exc.report()}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not refused(exc):
            raise
        print(f"Stack {args.stack!r} not planned: {exc}", file=sys.stderr)
        return 2
    if plan.schema_errors:
        print(f"Stack {args.stack!r}: the Databricks provider would reject these inputs:", file=sys.stderr)
        for problem in plan.schema_errors:
            print(f"  - {problem}", file=sys.stderr)
        return 3
    print(render_tree(plan))
    for warning in plan.warnings:
        print(f"warning: {warning}")
    from lakeflow.offline.stack_file import project_name, read_stack_config, unset_secrets

    project = project_name(args.root)
    for key in unset_secrets(read_stack_config(args.root, project, args.stack, stand_ins=False)[0], project):
        print(
            f"note: {key} is not set in Pulumi.{args.stack}.yaml: planned with a stand-in secret; "
            f"a deploy needs: pulumi config set --secret {key} <value> --stack {args.stack}"
        )
    if args.json:
        try:
            write_text(Path(args.json), "JSON", json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n")
        except FileRefused as exc:
            print(f"make plan: {exc}", file=sys.stderr)
            return 2
        print(f"\nJSON plan written to {args.json}")
    return 0


# --- rendering --------------------------------------------------------------------------------


def render_tree(plan: Any) -> str:
    children: dict[str | None, list[ResourceRecord]] = {}
    for res in plan.resources:
        children.setdefault(res["parent"], []).append(res)
    lines = [f"Offline plan of stack {plan.stack!r} (project {plan.project!r}); ids are known after apply.", ""]

    def walk(parent: str | None, depth: int) -> None:
        for res in children.get(parent, []):
            flags = [
                f for f, on in (("protected", res["protect"]), ("retained on delete", res["retainOnDelete"])) if on
            ]
            mark = f"  [{', '.join(flags)}]" if flags else ""
            lines.append(f"{'    ' * depth}{_short(res['type'])} {res['name']}{mark}")
            for detail in describe(res):
                lines.append(f"{'    ' * depth}    | {detail}")
            walk(res["urn"], depth + 1)

    walk(None, 0)
    counts = Counter(_short(r["type"]) for r in plan.resources)
    lines += [
        "",
        "Resources: " + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) + f" ({len(plan.resources)} in all)",
    ]
    return "\n".join(lines)


def _shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(", ", 1)[0] + ", …"


def _short(token: str) -> str:
    return token.rsplit(":", 1)[-1]


def describe(res: ResourceRecord) -> list[str]:
    i, kind = res["inputs"], _short(res["type"])
    if kind == "Pipeline":
        out = [
            f"name={i.get('name')}  target={i.get('catalog')}.{i.get('schema')}",
            "  ".join(
                f"{k}={i[k]}"
                for k in ("development", "continuous", "photon", "serverless", "edition", "channel")
                if k in i
            ),
        ]
        for c in i.get("clusters", []):
            a = c.get("autoscale") or {}
            size = (
                f"autoscale {int(a['minWorkers'])}-{int(a['maxWorkers'])} {a.get('mode', '')}"
                if a
                else f"{int(c.get('numWorkers', 0))} workers"
            )
            spot = next((v.get("availability") for k, v in c.items() if k.endswith("Attributes")), None)
            out.append(f"cluster {c.get('label')}: {size}" + (f", {spot}" if spot else ""))
        if "runAs" in i:
            out.append(f"run_as={next(iter(i['runAs'].values()))}")
        if "budgetPolicyId" in i:
            out.append(f"budget_policy_id={i['budgetPolicyId']}")
        if "tags" in i:
            out.append("tags: " + ", ".join(f"{k}={v}" for k, v in i["tags"].items()))
        return out
    if kind == "Job":
        out = [f"name={i.get('name')}  max_concurrent_runs={int(i.get('maxConcurrentRuns', 0))}"]
        if "schedule" in i:
            s = i["schedule"]
            out.append(f"cron '{s['quartzCronExpression']}' {s.get('timezoneId')} {s.get('pauseStatus')}")
        if "trigger" in i:
            t = i["trigger"]
            if "fileArrival" in t:
                out.append(f"on file arrival {t['fileArrival']['url']} {t.get('pauseStatus')}")
            if "tableUpdate" in t:
                tables = ", ".join(t["tableUpdate"]["tableNames"])
                out.append(f"on update of {tables} ({t['tableUpdate'].get('condition')}) {t.get('pauseStatus')}")
        tasks = [
            t["taskKey"]
            + (f" (after {', '.join(d['taskKey'] for d in t['dependsOns'])})" if t.get("dependsOns") else "")
            for t in i.get("tasks", [])
        ]
        out.append("tasks: " + "; ".join(tasks))
        if "emailNotifications" in i:
            out.append("on failure: " + ", ".join(i["emailNotifications"].get("onFailures", [])))
        if "webhookNotifications" in i:
            out.append(f"on failure: {len(i['webhookNotifications'].get('onFailures', []))} destination(s)")
        for rule in (i.get("health") or {}).get("rules", []):
            out.append(f"health: {rule['metric']} {rule['op']} {rule['value']}")
        return out
    if kind == "Repo":
        ref = f"tag {i['tag']}" if "tag" in i else f"branch {i['branch']}" if "branch" in i else "default branch"
        return [f"{i.get('path')} @ {ref}"]
    if kind == "SqlTable":
        return [
            f"{i.get('tableType')} {i.get('catalogName')}.{i.get('schemaName')}.{i.get('name')}: "
            + str(i.get("viewDefinition", ""))
        ]
    if kind == "Grants":
        return ["; ".join(f"{g['principal']}: {', '.join(g['privileges'])}" for g in i.get("grants", []))]
    if kind == "AlertV2":
        e = i.get("evaluation", {})
        source, value = e.get("source", {}), (e.get("threshold") or {}).get("value", {}).get("doubleValue")
        subscribers = len((e.get("notification") or {}).get("subscriptions", []))
        schedule = i.get("schedule", {})
        watched = breach_conditions(i.get("queryText") or "")
        return [
            i.get("displayName", ""),
            f"{source.get('aggregation', '')}({source.get('name')}) {e.get('comparisonOperator')} {value}; "
            f"'{schedule.get('quartzCronSchedule')}' {schedule.get('pauseStatus')}; "
            + (f"{subscribers} destination(s)" if subscribers else "muted"),
            *([f"breach when: {_shorten(', '.join(watched))}"] if watched else []),
        ]
    if kind == "NotificationDestination":
        config = i.get("config")
        kinds = ", ".join(k for k, v in config.items() if v) if isinstance(config, dict) else "config is a secret"
        return [f"{i.get('displayName')} ({kinds})"]
    if kind == "Budget":
        thresholds = [a.get("quantityThreshold") for a in i.get("alertConfigurations", [])]
        tags = [f"{t['key']}={','.join(t['value']['values'])}" for t in (i.get("filter") or {}).get("tags", [])]
        return [f"{i.get('displayName')}: emails at ${', $'.join(map(str, thresholds))}; {' '.join(tags)}"]
    if kind == "BudgetPolicy":
        custom = ", ".join(f"{t['key']}={t['value']}" for t in i.get("customTags", []))
        return [f"{i.get('policyName')}: tags {custom}"]
    if res["type"].startswith("pulumi:providers:"):
        return [f"provider host={i.get('host')}" + (f" account_id={i['accountId']}" if "accountId" in i else "")]
    if kind == "Dashboard":
        return [f"{i.get('displayName')} in {i.get('parentPath')}"]
    if kind == "Permissions":
        return [
            ", ".join(
                f"{next(v for k, v in a.items() if k != 'permissionLevel')}={a['permissionLevel']}"
                for a in i.get("accessControls", [])
            )
        ]
    return []


if __name__ == "__main__":
    from lakeflow.offline import batch

    batch.run(main)
