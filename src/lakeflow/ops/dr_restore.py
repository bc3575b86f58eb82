"""`make dr-restore STACK=<stack> PIPELINE=<name> [TABLE=...] [VERSION=...|TIMESTAMP=...]`

Prints the ordered restore plan of one pipeline (guide 10.3) for this stack, with its real names
(docs/adr/0006): pause what would write during the restore, stop the pipeline, clone the chosen
snapshot version into a restore table beside it (`CREATE OR REPLACE TABLE <t>_dr_restore DEEP
CLONE <t>_dr_snapshot [VERSION|TIMESTAMP AS OF …]`, plain Delta tables only), fully refresh the
chosen and the non-critical tables (a streaming table is refilled by the pipeline from its restore
table, a materialized view recomputed), verify, drop the restore tables, and resume. It never
writes a pipeline's table and changes nothing itself: a person runs it, step by step
(docs/runbooks/disaster-recovery.md).

Ids come from the stack's outputs: pass `OUTPUTS=<file>` (saved `pulumi stack output --json`),
or the plan reads them with `pulumi stack output` when you run it.

Critical tables not chosen (TABLE=) keep their data: the full refresh selects only the chosen
and the non-critical tables.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lakeflow.components.types import TABLE_TRIGGER_CONDITION, TABLE_TRIGGER_SETTLE_SECONDS
from lakeflow.config.errors import ConfigErrors
from lakeflow.config.input_files import FileRefused, read_outputs
from lakeflow.config.loader import StackSettings
from lakeflow.config.models import PipelineSpec, upstream_tables
from lakeflow.config.project import command_parser
from lakeflow.model.deployment import resolve
from lakeflow.sql.snapshots import RESTORE_CONFIG, TIMESTAMP, Snapshot, as_of, restore_sql


@dataclass(frozen=True)
class Step:
    title: str
    kind: str
    """`shell` (commands for a terminal with the Databricks CLI) or `sql` (for a SQL warehouse)."""
    commands: list[str]
    note: str = ""


@dataclass(frozen=True)
class RestorePlan:
    stack: str
    pipeline: str
    physical_name: str
    retention_days: int
    snapshots: list[dict[str, Any]]
    steps: list[Step] = field(default_factory=list)


class RestoreError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def restore_plan(
    settings: StackSettings,
    pipeline: str,
    table: str | None = None,
    version: int | None = None,
    timestamp: str | None = None,
    outputs: dict[str, Any] | None = None,
) -> RestorePlan:
    cfg, stack = settings.config, settings.stack
    problems: list[str] = []
    deployment = resolve(settings)
    if pipeline not in deployment.pipelines:
        names = ", ".join(deployment.pipelines)
        raise RestoreError([f"PIPELINE={pipeline}: not a pipeline of stack {stack!r} (pipelines: {names})"])
    facts = deployment.pipelines[pipeline]
    spec = facts.spec
    if not cfg.disaster_recovery:
        problems.append(
            f"STACK={stack}: takes no snapshots (lakeflow:disasterRecovery is not true); "
            "rebuild its tables with a full refresh instead"
        )
    if spec.dr is None:
        problems.append(
            f"PIPELINE={pipeline}: declares no dr.critical_tables, so it has no snapshots; "
            "a full refresh rebuilds its tables from source"
        )
    if problems:
        raise RestoreError(problems)
    assert spec.dr is not None
    chosen = list(facts.snapshots)
    critical = [s.table for s in chosen]
    if table is not None:
        chosen = [s for s in chosen if s.table == table]
        if not chosen:
            problems.append(f"TABLE={table}: not a critical table of {pipeline} (critical: {', '.join(critical)})")
    if version is not None and timestamp is not None:
        problems.append("VERSION and TIMESTAMP: give one of them, not both")
    if version is not None and version < 0:
        problems.append(f"VERSION={version}: must be a snapshot table version (0 or more)")
    if version is not None and table is None and len(critical) > 1:
        problems.append(
            f"VERSION={version}: each snapshot has its own version numbers; give TABLE=, or use TIMESTAMP= for all"
        )
    if timestamp is not None and not TIMESTAMP.fullmatch(timestamp):
        problems.append(f"TIMESTAMP={timestamp}: not a timestamp such as 2026-11-28T06:00:00Z")
    if outputs is not None:
        _check_outputs(outputs, pipeline, problems)
    if problems:
        raise RestoreError(problems)

    plan = RestorePlan(
        stack=stack,
        pipeline=pipeline,
        physical_name=facts.physical_name,
        retention_days=spec.dr.retention_days,
        snapshots=[asdict(s) for s in chosen],
    )
    plan.steps.extend(_steps(settings, spec, chosen, critical, version, timestamp, outputs))
    return plan


def _check_outputs(outputs: Any, pipeline: str, problems: list[str]) -> None:
    entry = (outputs.get("pipelines") or {}).get(pipeline) if isinstance(outputs, dict) else None
    if not isinstance(entry, dict) or not entry.get("id"):
        problems.append(f"OUTPUTS: has no pipelines.{pipeline}.id (is it `pulumi stack output --json` of this stack?)")


def _steps(
    settings: StackSettings,
    spec: PipelineSpec,
    chosen: list[Snapshot],
    critical: list[str],
    version: int | None,
    timestamp: str | None,
    outputs: dict[str, Any] | None,
) -> list[Step]:
    stack = settings.stack
    steps: list[Step] = []

    def output(key: str, var: str, pipeline: str = spec.name) -> str:
        if outputs is not None:
            value = ((outputs.get("pipelines") or {}).get(pipeline) or {}).get(key)
            return f"{var}={shlex.quote(str(value or ''))}"
        reader = f'import json,sys; print(json.load(sys.stdin)[{json.dumps(pipeline)}][{json.dumps(key)}] or "")'
        return (
            f"{var}=$(pulumi stack output pipelines --json --stack {shlex.quote(stack)} "
            f"| python3 -c {shlex.quote(reader)})"
        )

    # Jobs that would write during the restore: its own schedule, and dependent schedules, which run it
    # first or start when its tables are updated (the restore updates them).
    dependents = [s for s in settings.pipelines if s.schedule and spec.name in s.schedule.after]
    jobs = [(p, "JOB_ID" if p is spec else _shell_var("JOB_ID", p.name)) for p in [spec, *dependents] if p.schedule]
    steps.append(
        Step(
            "Look up the pipeline and its jobs",
            "shell",
            [
                output("id", "PIPELINE_ID"),
                *(output("job_id", var, p.name) for p, var in jobs),
                output("snapshot_job_id", "SNAPSHOT_JOB_ID"),
            ],
        )
    )
    pause = [f'[ -n "${var}" ] && ' + _pause_command(f"${var}", _schedule_trigger(settings, p)) for p, var in jobs]
    pause.append(
        '[ -n "$SNAPSHOT_JOB_ID" ] && ' + _pause_command("$SNAPSHOT_JOB_ID", _snapshot_trigger(settings, spec))
    )
    steps.append(
        Step(
            "Pause what would write during the restore",
            "shell",
            pause,
            "The snapshot job must not copy a damaged table over the snapshot you restore from, and no job may "
            "start the pipeline mid-restore"
            + (
                f" (the jobs of {', '.join(p.name for p in dependents)} run it first or start on its table updates)"
                if dependents
                else ""
            )
            + ". The pause is drift on purpose: the `pulumi up` of the last step undoes it.",
        )
    )
    steps.append(
        Step(
            "Stop the pipeline",
            "shell",
            ['databricks pipelines stop "$PIPELINE_ID"'],
            'Wait until its state is IDLE: databricks pipelines get "$PIPELINE_ID" (guide 2.1).',
        )
    )
    steps.append(
        Step(
            "Choose the snapshot version",
            "sql",
            [f"DESCRIBE HISTORY {s.snapshot}" for s in chosen],
            "Each row is one snapshot (a CREATE OR REPLACE TABLE … AS SELECT). Without VERSION or TIMESTAMP "
            "the restore takes the latest; the history reaches back "
            f"{spec.dr.retention_days if spec.dr else 0} days.",
        )
    )
    steps.append(
        Step(
            "Put the chosen snapshot into the restore tables",
            "sql",
            [restore_sql(s, version, timestamp) for s in chosen],
            "A plain Delta table beside each snapshot. The pipeline's own tables are never written here: "
            "Databricks refuses CREATE OR REPLACE on streaming tables and materialized views (docs/adr/0006).",
        )
    )
    steps.append(
        Step(
            "Check the restore tables against their snapshot",
            "sql",
            [_count_check(s, version, timestamp) for s in chosen],
            "The two counts must match.",
        )
    )
    refill = [s.table for s in chosen if s.kind == "streaming_table"]
    recompute = [s.table for s in chosen if s.kind != "streaming_table"]
    rest = [t for t in spec.tables if t not in critical]
    selection = [*refill, *recompute, *rest]
    body = json.dumps({"full_refresh_selection": selection})
    why = []
    if refill:
        why.append(
            f"{', '.join(refill)}: emptied and refilled by the pipeline from the restore tables (its code reads "
            f"the configuration {RESTORE_CONFIG}<table>; check it does before you start, docs/adr/0006), then from "
            "what the sources still hold"
        )
    if recompute:
        why.append(f"{', '.join(recompute)}: materialized views, recomputed from their sources")
    if rest:
        why.append(f"{', '.join(rest)}: not snapshotted, rebuilt from source (guide 10.3)")
    steps.append(
        Step(
            "Rebuild through the pipeline and resume it",
            "shell",
            [f'databricks pipelines start-update "$PIPELINE_ID" --json {shlex.quote(body)}'],
            "Full refresh of " + "; ".join(why) + ". Wait for the update to COMPLETE.",
        )
    )
    steps.append(
        Step(
            "Verify the rebuilt tables",
            "sql",
            [_rebuilt_check(s) for s in chosen],
            "A refilled streaming table holds at least the restored rows; a materialized view is what its sources "
            "give now (the restore table shows what it held).",
        )
    )
    steps.append(
        Step(
            "Drop the restore tables",
            "sql",
            [f"DROP TABLE IF EXISTS {s.restore}" for s in chosen],
            "Once the counts are right: while a restore table exists, every later full refresh would refill from it "
            "again.",
        )
    )
    steps.append(
        Step(
            "Resume the schedules",
            "shell",
            [f"pulumi up --stack {shlex.quote(stack)}"],
            "Restores the declared pause status of the jobs (undoes the pause above).",
        )
    )
    return steps


def _schedule_trigger(settings: StackSettings, spec: PipelineSpec) -> dict[str, Any]:
    s = spec.schedule
    assert s is not None
    if s.cron:
        return {
            "schedule": {
                "quartz_cron_expression": s.cron,
                "timezone_id": s.timezone or settings.config.timezone,
                "pause_status": "PAUSED",
            }
        }
    if s.file_arrival is not None:
        arrival = s.file_arrival.model_dump(exclude_none=True)
        return {"trigger": {"file_arrival": arrival, "pause_status": "PAUSED"}}
    # Started by its upstream pipelines' table updates (settings.models.upstream_tables).
    table_update = {
        "table_names": upstream_tables(spec, {p.name: p for p in settings.pipelines}),
        "condition": TABLE_TRIGGER_CONDITION,
        "wait_after_last_change_seconds": TABLE_TRIGGER_SETTLE_SECONDS,
    }
    return {"trigger": {"table_update": table_update, "pause_status": "PAUSED"}}


def _snapshot_trigger(settings: StackSettings, spec: PipelineSpec) -> dict[str, Any]:
    from lakeflow.sql.snapshots import snapshot_schedule

    sched = snapshot_schedule(spec, settings.config)
    return {"schedule": {"quartz_cron_expression": sched.cron, "timezone_id": sched.timezone, "pause_status": "PAUSED"}}


def _shell_var(prefix: str, name: str) -> str:
    """A shell variable named after a pipeline: anything but letters, digits and _ becomes _."""
    return f"{prefix}_" + re.sub(r"\W", "_", name.upper(), flags=re.ASCII)


def _pause_command(job_var: str, settings: dict[str, Any]) -> str:
    # `jobs update` replaces each top-level field it is given: the trigger is given whole.
    body = json.dumps({"new_settings": settings})
    return f'databricks jobs update "{job_var}" --json {shlex.quote(body)}'


def _count_check(s: Snapshot, version: int | None, timestamp: str | None) -> str:
    return (
        f"SELECT (SELECT COUNT(*) FROM {s.restore}) AS restore_rows, "
        f"(SELECT COUNT(*) FROM {s.snapshot}{as_of(version, timestamp)}) AS snapshot_rows"
    )


def _rebuilt_check(s: Snapshot) -> str:
    return (
        f"SELECT (SELECT COUNT(*) FROM {s.source}) AS rebuilt_rows, (SELECT COUNT(*) FROM {s.restore}) AS restore_rows"
    )


def render(plan: RestorePlan) -> str:
    lines = [
        f"Restore plan: pipeline {plan.pipeline} ({plan.physical_name}) of stack {plan.stack!r}",
        f"Snapshots keep {plan.retention_days} days of history. Tables restored:",
        *(f"  {s['source']}  <-  {s['snapshot']}  (RPO {s['rpo_minutes']} min)" for s in plan.snapshots),
        "",
    ]
    for i, step in enumerate(plan.steps, 1):
        lines.append(f"{i}. {step.title}  [{step.kind}]")
        for command in step.commands:
            lines.extend(
                f"     {line}" for line in (_sql_lines(command) if step.kind == "sql" else command.splitlines())
            )
            if step.kind == "sql":
                lines[-1] += ";"
        if step.note:
            lines.append(f"   -- {step.note}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _sql_lines(statement: str) -> list[str]:
    """The statement's lines, split only at line feeds outside quotes: the indent `render` gives each line would
    otherwise land inside a quoted name that holds a line break, and name another table."""
    lines, start, quote, escaped = [], 0, "", False
    for i, char in enumerate(statement):
        if escaped:  # the character after a backslash in a string literal
            escaped = False
        elif quote:
            escaped = char == "\\" and quote != "`"  # a backquoted name has no escapes, only a doubled backquote
            quote = "" if char == quote else quote
        elif char in "`'\"":
            quote = char
        elif char == "\n":
            lines.append(statement[start:i])
            start = i + 1
    return [*lines, statement[start:]]


def main(argv: list[str] | None = None) -> int:
    from lakeflow.offline.stack_file import load_stack

    parser = command_parser("dr-restore", __doc__.splitlines()[0], stack="prod")
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--table")
    parser.add_argument("--version", type=int)
    parser.add_argument("--timestamp")
    parser.add_argument("--outputs", type=Path, help="saved `pulumi stack output --json` of the stack")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    args = parser.parse_args(argv)
    try:
        settings = load_stack(args.root, args.stack)
        outputs = read_outputs(args.outputs, "OUTPUTS") if args.outputs else None
        plan = restore_plan(settings, args.pipeline, args.table, args.version, args.timestamp, outputs)
    except ConfigErrors as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except FileRefused as exc:
        print(f"make dr-restore: {exc}", file=sys.stderr)
        return 2
    except RestoreError as exc:
        for problem in exc.problems:
            print(f"make dr-restore: {problem}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(plan), indent=2) if args.json else render(plan), end="" if not args.json else "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
