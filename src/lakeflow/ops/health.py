"""`make health STACK=<stack> [PIPELINE=] [OUTPUTS=<file>] [JSON=1]`: guide 5.1-5.2's health check.

Reads the pipeline ids from the stack's outputs (`pulumi stack output --json`, or the saved file
OUTPUTS) and checks each pipeline through the Databricks SDK (credentials: see src/lakeflow/ops/workspace.py):

  state                  pipeline state FAILED, or its latest update FAILED: CRITICAL (guide 5.2).
                         A triggered update running longer than monitoring.latency_objective_minutes,
                         or Databricks reporting the pipeline UNHEALTHY: WARNING.
  freshness              age of the last COMPLETED update against the schedule: its cron's longest
                         gap between two runs + latency_objective_minutes; older: WARNING. A
                         continuous pipeline must be RUNNING instead (stopped: CRITICAL). File-arrival,
                         paused and unscheduled pipelines have no fixed period: not judged.
  processing_lag         minutes since the last successful progress in the event log (the alert's
                         query) against thresholds.processing_lag_minutes; a cron-triggered pipeline
                         is one schedule period behind between runs, so it gets that period on top.
  drop_rate              share of records dropped by expectations, last 24 h    (> thresholds.drop_rate)
  expectation_pass_rate  share of expectation checks passed, last 24 h   (< thresholds.expectation_pass_rate)
  cpu, memory            average CPU / memory of the pipeline's nodes, last 30 min
                         (> thresholds.cpu_percent / memory_percent; serverless: no cluster metrics)

The event-log and system-table numbers come from the same SQL (src/lakeflow/sql/queries.py) and the
same thresholds (monitoring.thresholds of the pipeline file) as the stack's alerts, run on the
stack's SQL warehouse (lakeflow:warehouseId). `--threshold drop_rate=0.1` overrides one for this
run. No data in the window (NULL) is no incident: OK, and the detail says the window was empty.
A query that fails (event log table missing, warehouse unreachable) is a WARNING with its message;
a pipeline that cannot be read (403, 404) is CRITICAL: its health is unknown. A pipeline of the
stack's outputs that is not in pipelines/, or a declared one missing from the outputs (not
deployed), is a row of its own: no pipeline is skipped without saying so.

The workspace: `--http-timeout SECONDS` (or LAKEFLOW_HTTP_TIMEOUT; default 30) bounds each call and
connecting (at most 5 s), `--retry-timeout` the SDK's retries (default: the same); see
src/lakeflow/ops/workspace.py. A workspace that cannot be used at all (host unreachable, DNS, connection refused,
TLS, no answer in time, credentials refused, no Databricks API at the host) stops the run at once:
one line on stderr, exit 2. `--verbose` prints the whole text of errors; the JSON report carries it.

Exit status: 0 healthy, 1 warnings, 2 critical, so cron and CI can act. A command error (no
credentials, an unreachable workspace, unknown PIPELINE, a stack without outputs) is one line on
stderr and exit 2 as well.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

from lakeflow.components.metrics import PIPELINE_METRICS, AlertThresholds, Metric
from lakeflow.components.types import PauseStatus
from lakeflow.config.errors import ConfigErrors
from lakeflow.config.loader import StackSettings
from lakeflow.config.models import PipelineSpec, Thresholds, alert_thresholds, schedule_period_minutes
from lakeflow.config.project import command_parser
from lakeflow.model.deployment import PipelineFacts, resolve
from lakeflow.ops import workspace
from lakeflow.ops.workspace import EXIT_CRITICAL, EXIT_OK, EXIT_WARNING, OpsError
from lakeflow.sql.queries import PipelineRef

UPDATE_PAGES = 4  # list-updates pages (25 updates each) searched for the last COMPLETED update
SQL_TIMEOUT_SECONDS = 120


class Status(StrEnum):
    OK = "OK"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return {"OK": 0, "WARNING": 1, "CRITICAL": 2}[self.value]

    @property
    def exit_code(self) -> int:
        return {"OK": EXIT_OK, "WARNING": EXIT_WARNING, "CRITICAL": EXIT_CRITICAL}[self.value]


def worst(statuses: Iterable[Status]) -> Status:
    return max(statuses, key=lambda s: s.rank, default=Status.OK)


@dataclass(frozen=True)
class Check:
    check: str
    status: Status
    value: float | str | None
    """What was measured: a state, minutes, a rate in [0, 1] or a percent (see `unit`); None: no data."""
    unit: str
    """state | minutes | ratio | percent"""
    threshold: float | None = None
    """The limit the value was held to, in `unit`; None when it was not judged."""
    bad_when: str | None = None
    """above | below: on which side of the threshold the value is a problem."""
    detail: str = ""
    """One line; when an error is behind it, its whole text follows on the next lines (the table shows
    the first line, shortened at a word boundary)."""


@dataclass
class PipelineHealth:
    pipeline: str
    pipeline_id: str
    name: str = ""
    """Physical name, as Databricks reports it."""
    checks: list[Check] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return worst(c.status for c in self.checks)


@dataclass
class Report:
    stack: str
    checked_at: datetime
    pipelines: list[PipelineHealth]

    @property
    def status(self) -> Status:
        return worst(p.status for p in self.pipelines)

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "checked_at": _iso(self.checked_at),
            "status": self.status.value,
            "exit_code": self.status.exit_code,
            "pipelines": [
                {
                    "pipeline": p.pipeline,
                    "pipeline_id": p.pipeline_id,
                    "name": p.name,
                    "status": p.status.value,
                    "checks": [{**asdict(c), "status": c.status.value} for c in p.checks],
                }
                for p in self.pipelines
            ],
        }


# --- the checks -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Metric:
    """One event-log / system-table metric as `make health` reports it. The rule (the query, its
    column, the threshold setting and which side of it is bad, the runbook) is the alerts' own
    catalog entry (lakeflow.components.pipeline_alerts.PIPELINE_METRICS); only the wording is here."""

    check: str
    """The name health reports it under."""
    catalog_id: str
    unit: str
    measured: str
    """What the number is, over which window (shown with every value)."""
    no_data: str
    """Why a NULL (nothing in the window) is no incident."""
    action: str
    """What to do when the threshold is crossed (guide 5.2); its runbook follows."""

    @property
    def _entry(self) -> tuple[Metric, Callable[[PipelineRef], str], Callable[[AlertThresholds], float]]:
        return _CATALOG[self.catalog_id]

    @property
    def column(self) -> str:
        return self._entry[0].column

    @property
    def bad_when(self) -> str:
        return {"GREATER_THAN": "above", "LESS_THAN": "below"}[self._entry[0].operator]

    @property
    def advice(self) -> str:
        return f"{self.action}; docs/runbooks/{self._entry[0].runbook}"

    def query(self, ref: PipelineRef) -> str:
        return self._entry[1](ref)

    def threshold(self, thresholds: Thresholds) -> float:
        return self._entry[2](AlertThresholds(**thresholds.model_dump()))


_CATALOG = {metric.id: (metric, query, threshold) for metric, query, threshold in PIPELINE_METRICS}
PROCESSING_LAG = _Metric(
    "processing_lag",
    "processing-lag",
    "minutes",
    "since the last successful progress",
    "event log empty: no successful progress recorded",
    "consider scaling up the cluster",
)
_NO_ROWS = "no data in window: {what} in the last {window} (event log empty for the window)"
_NO_NODES = "no data in window: no node records in the last 30 min (not running, or not yet in system tables)"
QUALITY_METRICS = (
    _Metric(
        "drop_rate",
        "drop-rate",
        "ratio",
        "records dropped by expectations, last 24 h",
        _NO_ROWS.format(what="no records processed", window="24 h"),
        "review the source data quality",
    ),
    _Metric(
        "expectation_pass_rate",
        "expectation-pass-rate",
        "ratio",
        "expectation checks passed, last 24 h",
        _NO_ROWS.format(what="no expectation evaluated", window="24 h"),
        "review the source data quality",
    ),
)
RESOURCE_METRICS = (
    _Metric(
        "cpu",
        "cpu-utilization",
        "percent",
        "average CPU of the pipeline's nodes, last 30 min",
        _NO_NODES,
        "CPU saturated: consider a larger cluster",
    ),
    _Metric(
        "memory",
        "memory-utilization",
        "percent",
        "average memory of the pipeline's nodes, last 30 min",
        _NO_NODES,
        "memory pressure: increase executor memory",
    ),
)
_RUNNING_SOON = {"STARTING", "RECOVERING", "DEPLOYING", "RESETTING"}
_UPDATE_DONE = {"COMPLETED", "FAILED", "CANCELED"}


class _Warehouse:
    """Runs the metric queries on the stack's warehouse. Once the warehouse itself cannot be reached
    (403, timeout, ...), the remaining queries are not sent: each would wait for the same failure."""

    def __init__(self, w: Any, warehouse_id: str):
        self.w, self.warehouse_id = w, warehouse_id
        self.broken: str | None = None

    def value(self, sql: str, column: str) -> float | None:
        """The single value of the query's `column`; None for NULL or no row. OpsError when not measured."""
        if self.broken:
            raise OpsError(f"{self.broken} (not retried)")
        try:
            rows = workspace.run_sql(self.w, self.warehouse_id, sql, timeout_seconds=SQL_TIMEOUT_SECONDS)
        except OpsError:
            raise  # the statement ran and failed (e.g. event log table not found): this query only
        except Exception as exc:  # any SDK failure becomes one line
            error = workspace.api_error(exc, f"SQL warehouse {self.warehouse_id}")
            if isinstance(error, workspace.Unusable):
                raise error from None  # the workspace itself: the same for every later call
            self.broken = str(error)
            raise error from None
        if not rows:
            return None
        if column not in rows[0]:
            raise OpsError(f"the query returned no {column!r} column (columns: {', '.join(rows[0]) or 'none'})")
        raw = rows[0][column]
        if raw is None:
            return None
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise OpsError(f"{column} is not a number: {raw!r}") from None


def check_stack(
    w: Any,
    settings: StackSettings,
    ids: dict[str, str],
    now: datetime,
    overrides: dict[str, float] | None = None,
    whole_stack: bool = True,
) -> Report:
    """Every pipeline of `ids` (logical name -> id), checked at `now`. With `whole_stack`, a declared
    pipeline missing from `ids` (not deployed, or stale outputs) is reported too."""
    warehouse = _Warehouse(w, settings.config.warehouse_id)
    declared = resolve(settings).pipelines
    results = []
    for name, pipeline_id in ids.items():
        facts = declared.get(name)
        if facts is None:
            why = "in the stack's outputs but not in pipelines/: removed from the code? not checked"
            results.append(PipelineHealth(name, pipeline_id, checks=[_problem("declared", Status.WARNING, why)]))
            continue
        thresholds = _thresholds(facts.spec.monitoring.thresholds, overrides or {})
        results.append(check_pipeline(w, warehouse, settings, facts, pipeline_id, thresholds, now))
    for name in declared:
        if whole_stack and name not in ids:
            why = f"not in the stack's outputs: not deployed yet? (pulumi up --stack {settings.stack})"
            results.append(PipelineHealth(name, "", checks=[_problem("deployed", Status.WARNING, why)]))
    return Report(settings.stack, now, results)


def _problem(check: str, status: Status, detail: str) -> Check:
    return Check(check, status, None, "state", detail=detail)


def check_pipeline(
    w: Any,
    warehouse: _Warehouse,
    settings: StackSettings,
    facts: PipelineFacts,
    pipeline_id: str,
    thresholds: Thresholds,
    now: datetime,
) -> PipelineHealth:
    """One pipeline, judged by `thresholds` (its file's, unless `--threshold` overrides some)."""
    spec = facts.spec
    result = PipelineHealth(spec.name, pipeline_id)
    try:
        pipeline = _read(lambda: w.pipelines.get(pipeline_id=pipeline_id), f"pipeline {spec.name} ({pipeline_id})")
        updates = _updates(w, spec.name, pipeline_id)
    except _Unreadable as exc:
        error = exc.args[0]
        detail = workspace.with_full(f"{error}: health unknown", error)
        result.checks.append(_problem("pipeline", Status.CRITICAL, detail))
        return result
    result.name = pipeline.name or ""
    state = pipeline.state.value if pipeline.state else "UNKNOWN"
    result.checks.append(_state_check(spec, state, pipeline, updates, now))
    result.checks.append(_freshness_check(settings, spec, state, updates, now))

    ref = facts.ref
    # What the alerts judge by (the deployment's thresholds, the schedule allowance included); with
    # overridden thresholds, the same rule (config.models.alert_thresholds) on those. A pipeline with
    # no fixed period (file arrival, a paused schedule, started by hand) has no lag to judge here.
    period, why = _schedule_period(settings, spec)
    judged = (
        facts.thresholds
        if thresholds == spec.monitoring.thresholds
        else alert_thresholds(
            spec.model_copy(update={"monitoring": spec.monitoring.model_copy(update={"thresholds": thresholds})}),
            {p.name: p for p in settings.pipelines},
        )
    )
    lag_limit: float | None = None
    lag_note = ""
    if spec.continuous:
        lag_limit = judged.processing_lag_minutes
    elif period is not None:
        lag_limit = judged.processing_lag_minutes
        lag_note = f"objective {thresholds.processing_lag_minutes} min + one schedule period ({_duration(period)})"
    else:
        lag_note = f"{why}: lag not judged"
    result.checks.append(_metric_check(warehouse, PROCESSING_LAG, ref, lag_limit, lag_note))
    for metric in QUALITY_METRICS:
        result.checks.append(_metric_check(warehouse, metric, ref, metric.threshold(thresholds)))
    for metric in RESOURCE_METRICS:
        if spec.serverless:
            note = "serverless: no cluster metrics"
            result.checks.append(Check(metric.check, Status.OK, None, metric.unit, detail=note))
        else:
            result.checks.append(_metric_check(warehouse, metric, ref, metric.threshold(thresholds)))
    return result


class _Unreadable(Exception):
    pass


def _read(call: Callable[[], Any], what: str) -> Any:
    try:
        return call()
    except Exception as exc:  # every SDK error class ends here as one line
        error = workspace.api_error(exc, what)
        if isinstance(error, workspace.Unusable):
            raise error from None  # unreachable, refused credentials: the same for every pipeline: stop here
        raise _Unreadable(error) from None


def _updates(w: Any, name: str, pipeline_id: str) -> list[Any]:
    """The pipeline's updates, newest first, up to the first COMPLETED one (at most UPDATE_PAGES pages)."""
    found: list[Any] = []
    token: str | None = None

    def page_of(token: str | None) -> Any:
        return w.pipelines.list_updates(pipeline_id=pipeline_id, max_results=25, page_token=token)

    for _ in range(UPDATE_PAGES):
        page = _read(partial(page_of, token), f"updates of pipeline {name} ({pipeline_id})")
        found.extend(page.updates or [])
        token = page.next_page_token
        if not token or any(_update_state(u) == "COMPLETED" for u in found):
            break
    return found


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 2)


def _update_state(update: Any) -> str:
    return update.state.value if update.state else "UNKNOWN"


def _update_time(update: Any) -> datetime | None:
    return datetime.fromtimestamp(update.creation_time / 1000, UTC) if update.creation_time else None


def _state_check(spec: PipelineSpec, state: str, pipeline: Any, updates: list[Any], now: datetime) -> Check:
    latest = updates[0] if updates else None
    latest_state = _update_state(latest) if latest else None
    value = state if latest is None else f"{state} / {latest_state}"
    started = _update_time(latest) if latest else None
    if state == "FAILED":
        cause = f" ({pipeline.cause})" if pipeline.cause else ""
        return Check(
            "state",
            Status.CRITICAL,
            value,
            "state",
            detail=f"pipeline is FAILED{cause}: see docs/runbooks/pipeline-failure.md",
        )
    if latest is not None and latest_state == "FAILED":
        when = f" started {_iso(started)}" if started else ""
        return Check(
            "state",
            Status.CRITICAL,
            value,
            "state",
            detail=f"latest update {latest.update_id} FAILED{when}: see docs/runbooks/pipeline-failure.md",
        )
    objective = spec.monitoring.latency_objective_minutes
    if not spec.continuous and latest is not None and latest_state not in _UPDATE_DONE and started is not None:
        running = _minutes(now - started)
        if running > objective:
            return Check(
                "state",
                Status.WARNING,
                value,
                "state",
                detail=f"update {latest.update_id} {latest_state} for {_duration(running)} "
                f"(latency objective {objective} min)",
            )
    health = pipeline.health.value if pipeline.health else None
    if health == "UNHEALTHY":
        return Check("state", Status.WARNING, value, "state", detail="Databricks reports the pipeline UNHEALTHY")
    detail = "no update yet" if latest is None else f"latest update {latest_state}"
    return Check("state", Status.OK, value, "state", detail=detail)


def _schedule_period(settings: StackSettings, spec: PipelineSpec) -> tuple[int | None, str]:
    """Minutes between two scheduled runs (None: no fixed period), and why there is none."""
    schedule = spec.schedule
    if spec.continuous:
        return None, "continuous"
    if schedule is None:
        return None, "no schedule (started by hand)"
    if (schedule.pause_status or settings.config.schedule_pause_status) == PauseStatus.PAUSED:
        return None, "schedule paused"
    if schedule.file_arrival is not None:
        return None, "file-arrival: no fixed period"
    period = schedule_period_minutes(spec, {p.name: p for p in settings.pipelines})
    if schedule.cron is None:  # started by its upstream pipelines' table updates
        return period, "" if period is not None else f"after {', '.join(schedule.after)}: no fixed period"
    return period, "" if period is not None else f"cron {schedule.cron!r}: no fixed period"


def _freshness_check(
    settings: StackSettings, spec: PipelineSpec, state: str, updates: list[Any], now: datetime
) -> Check:
    if spec.continuous:
        if state == "RUNNING":
            return Check("freshness", Status.OK, state, "state", detail="continuous: running")
        if state in _RUNNING_SOON:
            return Check("freshness", Status.WARNING, state, "state", detail=f"continuous pipeline is {state}")
        return Check(
            "freshness",
            Status.CRITICAL,
            state,
            "state",
            detail=f"continuous pipeline is {state}, not RUNNING: no data is processed",
        )
    last = next((u for u in updates if _update_state(u) == "COMPLETED"), None)
    when = _update_time(last) if last else None
    age = _minutes(now - when) if when else None
    period, why = _schedule_period(settings, spec)
    objective = spec.monitoring.latency_objective_minutes
    if period is None:
        seen = f"last success {_iso(when)}; " if when else ""
        return Check("freshness", Status.OK, age, "minutes", detail=f"{seen}{why}: age not judged")
    limit = period + objective
    rule = f"cron {spec.schedule.cron if spec.schedule else ''}: every {_duration(period)} + objective {objective} min"
    if when is None:
        seen = f"no COMPLETED update among the last {len(updates)}" if updates else "no update yet"
        return Check("freshness", Status.WARNING, None, "minutes", limit, "above", f"{seen}; {rule}")
    late = age is not None and age > limit
    detail = f"last success {_iso(when)}; {rule}" + ("; runs missed? docs/runbooks/processing-lag.md" if late else "")
    return Check("freshness", Status.WARNING if late else Status.OK, age, "minutes", limit, "above", detail)


def _metric_check(
    warehouse: _Warehouse, metric: _Metric, ref: PipelineRef, limit: float | None, note: str = ""
) -> Check:
    """`note` says how the limit was chosen, or why there is none."""
    try:
        value = warehouse.value(metric.query(ref), metric.column)
    except workspace.Unusable:
        raise
    except OpsError as exc:  # the table shows the first line, the JSON report the whole text
        detail = workspace.with_full(f"not measured: {exc}", exc)
        return Check(metric.check, Status.WARNING, None, metric.unit, limit, metric.bad_when, detail)
    if value is None:
        return Check(metric.check, Status.OK, None, metric.unit, limit, metric.bad_when, metric.no_data)
    if limit is None:
        return Check(
            metric.check, Status.OK, value, metric.unit, None, None, "; ".join(filter(None, [metric.measured, note]))
        )
    bad = value > limit if metric.bad_when == "above" else value < limit
    detail = "; ".join(filter(None, [metric.measured, note, metric.advice if bad else ""]))
    return Check(metric.check, Status.WARNING if bad else Status.OK, value, metric.unit, limit, metric.bad_when, detail)


def _thresholds(base: Thresholds, overrides: dict[str, float]) -> Thresholds:
    if not overrides:
        return base
    from pydantic import ValidationError

    try:
        return Thresholds.model_validate({**base.model_dump(), **overrides})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise OpsError(f"--threshold {where}={overrides.get(where)}: {error['msg']}") from None


def parse_thresholds(items: list[str]) -> dict[str, float]:
    known = list(Thresholds.model_fields)
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in known:
            raise OpsError(f"--threshold {item}: use NAME=VALUE with NAME one of {', '.join(known)}")
        try:
            out[key] = float(value)
        except ValueError:
            raise OpsError(f"--threshold {item}: {value!r} is not a number") from None
    return out


# --- output -----------------------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def _duration(minutes: float) -> str:
    total = round(minutes)
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def _shown(value: float | str | None, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if unit == "minutes":
        return _duration(value)
    if unit == "ratio":
        return f"{value:.2%}"
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:g}"


def _limit(check: Check) -> str:
    if check.threshold is None:
        return "-"
    side = "max" if check.bad_when == "above" else "min"
    return f"{side} {_shown(check.threshold, check.unit)}"


def render(report: Report) -> str:
    header = ("PIPELINE", "CHECK", "STATUS", "VALUE", "LIMIT", "DETAIL")
    blocks = [
        [
            (
                p.pipeline if i == 0 else "",
                c.check,
                c.status.value,
                _shown(c.value, c.unit),
                _limit(c),
                workspace.brief(c.detail),
            )
            for i, c in enumerate(p.checks)
        ]
        for p in report.pipelines
    ]
    widths = [max(len(row[i]) for row in [header, *(r for b in blocks for r in b)]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()

    lines = [f"Health of stack {report.stack!r} at {_iso(report.checked_at)}: {report.status.value}", "", line(header)]
    for block in blocks:
        lines += [line(row) for row in block]
    counts = {s: sum(1 for p in report.pipelines if p.status is s) for s in Status}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    lines += ["", f"{len(report.pipelines)} pipeline(s): {summary or 'none'}; exit {report.status.exit_code}"]
    return "\n".join(lines)


# --- command ------------------------------------------------------------------------------------------------------


def _selected(settings: StackSettings, outputs: dict[str, Any], stack: str, only: str | None) -> dict[str, str]:
    declared = [p.name for p in settings.pipelines]
    if only is not None:
        if only not in declared:
            raise OpsError(f"PIPELINE={only}: not a pipeline of stack {stack!r} (pipelines: {', '.join(declared)})")
        if only not in outputs["pipelines"]:
            raise OpsError(f"PIPELINE={only}: not in stack {stack!r}'s outputs: not deployed yet? (pulumi up)")
    return workspace.pipeline_ids(outputs, stack, only)


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise OpsError(f"--now {text}: not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    from lakeflow.offline.stack_file import load_stack

    parser = command_parser("health", __doc__.splitlines()[0])
    parser.add_argument("--pipeline", help="check this pipeline only")
    parser.add_argument("--outputs", type=Path, help="saved `pulumi stack output --json` of the stack")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--threshold", action="append", default=[], metavar="NAME=VALUE", help="override a threshold for this run"
    )
    workspace.add_connection_options(parser)
    parser.add_argument("--now", help=argparse.SUPPRESS)  # tests: the time ages are measured at
    args = parser.parse_args(argv)
    try:
        bounds = workspace.connection_timeouts(args)
        now = _now(args.now)
        overrides = parse_thresholds(args.threshold)
        _thresholds(Thresholds(), overrides)  # a bad override stops here, before any API call
        settings = load_stack(args.root, args.stack)
        ids = _selected(settings, workspace.load_outputs(args.stack, args.outputs), args.stack, args.pipeline)
        w = workspace.client(bounds, verbose=args.verbose)
        report = check_stack(w, settings, ids, now, overrides, whole_stack=args.pipeline is None)
    except ConfigErrors as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_CRITICAL
    except OpsError as exc:
        workspace.report_error("make health", exc, args.verbose)
        return workspace.EXIT_ERROR
    print(json.dumps(report.as_json(), indent=2) if args.json else render(report))
    return report.status.exit_code


if __name__ == "__main__":
    sys.exit(main())
