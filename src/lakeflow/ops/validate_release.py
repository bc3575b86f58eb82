"""`make validate-release STACK=<stack> PIPELINE=<name> [SLOT=green] [REFRESH=...] [TIMEOUT=<minutes>] [OUTPUTS=]`

Runs one update of a pipeline, waits for it, and checks its output: may the release proceed? The
CI workflow runs it between staging and prod; a person runs it on a candidate slot (guide 3.2-3.3,
4.2; docs/runbooks/release.md).

Which pipeline: without SLOT, the live one (`pipelines.<name>.id` of the stack's outputs; for a
blue/green pipeline that is its active slot). With SLOT, that slot of a blue/green pipeline
(`releases.<name>.slots.<slot>.pipeline_id`, its tables in `.schema`); a slot that is not the
active one is a *candidate* and is compared with the active slot ("production").

The update (guide 2.3): REFRESH=incremental (default) processes new data; REFRESH=full recomputes
every table, or with TABLES=a,b only those (`full_refresh_selection`, guide 2.3's "refresh specific
tables"); REFRESH=selected TABLES=a,b updates only those tables (`refresh_selection`). TABLES must
be published tables of the pipeline (its `tables:`). A continuous pipeline is refused: its update
never completes. The command prints each state change of the update to stderr and waits at most
TIMEOUT minutes (default 60); on timeout it stops waiting, not the update, and says how to stop it.

Checks, once the update ended (statements run on the stack's SQL warehouse, in this order):

- `update state`: COMPLETED. FAILED fails the validation (the update's last error event is shown)
  and nothing else runs; CANCELED (someone stopped it) validates nothing (exit 2).
- `rows <table>`: each published table in the validated pipeline's schema holds rows (COUNT(*) > 0).
- `rows <table> vs <active>` (candidate only, right after its table's count): the candidate holds
  about as many rows as the active slot's same table: |candidate - expected| <= TOLERANCE x expected
  (`--tolerance`, default 0.1), expected = the active's count, or p % of it on a canary slot
  (`canary_percent: p`: it reads p % of the data). n/a when the active slot's table is empty.
- `expectation pass rate`: from the validated pipeline's event log, over the whole hours since the
  update started (the alert's query, `lakeflow.sql.queries.expectation_pass_rate`, so validation and
  alerts agree), at least the pipeline's `monitoring.thresholds.expectation_pass_rate`.
- candidate only (guide 3.3's `metrics_within_threshold`; a canary, or a fully refreshed idle slot):
  `pass rate vs <active>`: candidate >= production - MARGIN; `drop rate vs <active>` (the alert's
  `drop_rate` query): candidate <= production + MARGIN (`--metric-margin`, default 0.01: one
  percentage point). Production's figures are its event log's last 24 hours, the alerts' window.

A rate is n/a, not a failure, when its event log has no figure (no expectation evaluated, no row
processed: a pipeline without expectations, an incremental update that found no new data, an empty
event log): the report says so, and a full refresh gives the figures. n/a counts as passing.

Exit codes: 0 every check passed: the release may proceed; 1 a check failed or the update FAILED:
it must not; 2 nothing could be validated (bad arguments, no credentials, no stack outputs, an API or
SQL error, a CANCELED update, the timeout). Only a check that measured something and found it wrong
is 1: a statement that could not run or answered something that is not a count or a rate (an SDK
or HTTP error, a FAILED statement, a statement still running after `_SQL_TIMEOUT_SECONDS`, a SQL
warehouse that is not found, an answer of an unexpected shape) is 2, naming the check and its table.
Progress and errors go to stderr (errors one line, `make validate-release: ...`, SDK and SQL messages
shortened at a word boundary; `--verbose` adds their whole text), the report to stdout (`--json`: as
JSON).

The workspace: `--http-timeout SECONDS` (or LAKEFLOW_HTTP_TIMEOUT; default 30) bounds each call and
connecting (at most 5 s), `--retry-timeout` the SDK's retries (default: the same); see
src/lakeflow/ops/workspace.py. An unreachable host (DNS, connection refused, TLS, no answer in time), refused
credentials or a host without the Databricks API is one line within seconds, exit 2, before any
update starts.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lakeflow.config.errors import ConfigErrors, did_you_mean
from lakeflow.config.loader import StackSettings
from lakeflow.config.models import PipelineSpec
from lakeflow.config.project import command_parser
from lakeflow.model.deployment import Deployment, PipelineFacts, resolve
from lakeflow.ops import workspace
from lakeflow.ops.workspace import (
    EXIT_ERROR,
    OpsError,
    api_error,
    brief,
    client,
    guarded,
    load_outputs,
    pipeline_ids,
    run_sql,
)
from lakeflow.sql.names import quoted
from lakeflow.sql.queries import drop_rate, expectation_pass_rate

EXIT_PASSED, EXIT_FAILED = 0, 1
TERMINAL = ("COMPLETED", "FAILED", "CANCELED")
PASS, FAIL, NA = "pass", "FAIL", "n/a"
REFRESH_KINDS = ("incremental", "full", "selected")

_POLL_SECONDS = 10.0
"""Between two reads of the update's state (tests set it to a few milliseconds)."""
_HEARTBEAT_SECONDS = 300.0
"""A "still RUNNING" progress line this often when the state does not change (CI logs stay alive)."""
_SQL_TIMEOUT_SECONDS = 300
"""How long one check's statement may run before it is cancelled and nothing is validated (exit 2)."""
_PRODUCTION_WINDOW_HOURS = 24
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class UpdateNotValidated(OpsError):
    """The update is out of our hands (timeout, interrupted, polling failed): it may still run."""


@dataclass(frozen=True)
class Target:
    """The pipeline an update runs on, where its tables are, and what it is compared with."""

    pipeline: str
    label: str
    pipeline_id: str
    schema: str
    slot: str | None = None
    active_slot: str | None = None
    """Set on a candidate only: the active slot it is compared with."""
    active_schema: str | None = None
    canary_percent: int | None = None

    @property
    def candidate(self) -> bool:
        return self.active_schema is not None


@dataclass(frozen=True)
class Check:
    check: str
    result: str
    value: str
    expected: str


@dataclass
class Report:
    stack: str
    pipeline: str
    slot: str | None
    pipeline_id: str
    update_id: str
    refresh: str
    state: str
    seconds: float
    checks: list[Check] = field(default_factory=list)
    reason: str | None = None
    """Why a FAILED update failed: its last error event, when the event list could be read."""

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.result == FAIL]

    @property
    def passed(self) -> bool:
        return not self.failed


# --- arguments -> what to run -----------------------------------------------------------------------------


def pipeline_spec(settings: StackSettings, name: str) -> PipelineSpec:
    names = [p.name for p in settings.pipelines]
    if not name:
        raise OpsError(f"PIPELINE= is required: one of {', '.join(names)}")
    if name not in names:
        hint = did_you_mean(name, names)
        raise OpsError(
            f"PIPELINE={name}: not a pipeline of stack {settings.stack!r} (pipelines: {', '.join(names)})"
            + (f"; {hint}" if hint else "")
        )
    spec = settings.pipeline(name)
    if spec.continuous:
        raise OpsError(
            f"PIPELINE={name}: is continuous in stack {settings.stack!r}: its update runs until stopped and never "
            "COMPLETES, so there is nothing to validate; validate it where it is triggered (dev)"
        )
    return spec


def update_request(spec: PipelineSpec, refresh: str, tables: str | None) -> dict[str, Any]:
    """The keyword arguments of `start_update` for REFRESH and TABLES (guide 2.3)."""
    names = list(dict.fromkeys(t.strip() for t in (tables or "").split(",") if t.strip()))
    published = ", ".join(spec.tables) or f"none: {spec.name} declares no tables:"
    if refresh == "incremental":
        if names:
            raise OpsError(
                f"TABLES={tables}: goes with REFRESH=selected (update these tables) or REFRESH=full (recompute them)"
            )
        return {"full_refresh": False}
    unknown = [t for t in names if t not in spec.tables]
    if unknown:
        hint = did_you_mean(unknown[0], spec.tables)
        raise OpsError(
            f"TABLES={','.join(unknown)}: not published by {spec.name} (its tables: {published})"
            + (f"; {hint}" if hint else "")
        )
    if refresh == "full":
        return {"full_refresh_selection": names} if names else {"full_refresh": True}
    if not names:
        raise OpsError(f"REFRESH=selected needs TABLES=a,b: the tables to update (tables of {spec.name}: {published})")
    return {"refresh_selection": names}


def describe_request(request: dict[str, Any]) -> str:
    if request.get("full_refresh"):
        return "full refresh"
    if "full_refresh_selection" in request:
        return "full refresh of " + ", ".join(request["full_refresh_selection"])
    if "refresh_selection" in request:
        return "refresh of " + ", ".join(request["refresh_selection"])
    return "incremental"


def resolve_target(settings: StackSettings, outputs: dict[str, Any], spec: PipelineSpec, slot: str | None) -> Target:
    """The live pipeline (no slot), or a slot of a blue/green pipeline, from the stack's outputs."""
    stack, name, release = settings.stack, spec.name, spec.release
    releases = outputs.get("releases")
    deployed = _mapping(releases.get(name) if isinstance(releases, dict) else None)
    deployed_slots = _mapping(deployed.get("slots"))

    def schema_of(s: str) -> str:
        schema = _mapping(deployed_slots.get(s)).get("schema") or spec.slot_schema(s)
        if not _NAME.fullmatch(str(schema)):
            raise OpsError(f"stack {stack!r}: releases.{name}.slots.{s}.schema in its outputs is not a schema name")
        return str(schema)

    if slot is None:
        pipeline_id = pipeline_ids(outputs, stack, only=name)[name]
        if release is None:
            return Target(name, name, pipeline_id, spec.schema_name)
        active = str(deployed.get("active") or release.active)
        return Target(name, f"{name} (active slot {active})", pipeline_id, schema_of(active), slot=active)

    if release is None:
        raise OpsError(f"SLOT={slot}: {name} has no release: section (it is not blue/green); omit SLOT to validate it")
    if slot not in release.slots:
        raise OpsError(f"SLOT={slot}: not a slot of {name} (slots: {', '.join(release.slots)})")
    pipeline_id = str(_mapping(deployed_slots.get(slot)).get("pipeline_id") or "")
    if not pipeline_id:
        raise OpsError(
            f"stack {stack!r} has no releases.{name}.slots.{slot}.pipeline_id in its outputs: "
            f"deploy the release first (`pulumi up --stack {stack}`), or pass this stack's OUTPUTS="
        )
    active = str(deployed.get("active") or release.active)
    if slot == active:
        return Target(name, f"{name} slot {slot} (active)", pipeline_id, schema_of(slot), slot=slot)
    canary = release.slots[slot].canary_percent
    label = f"{name} slot {slot} (candidate" + (f", {canary} % canary)" if canary else ")")
    return Target(name, label, pipeline_id, schema_of(slot), slot, active, schema_of(active), canary)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- the update ----------------------------------------------------------------------------------------------


def start(w: Any, target: Target, request: dict[str, Any]) -> str:
    response = guarded(
        f"starting an update of {target.label} ({target.pipeline_id})",
        lambda: w.pipelines.start_update(target.pipeline_id, **request),
    )
    if not response.update_id:
        raise OpsError(f"starting an update of {target.label}: the API answered without an update id")
    return str(response.update_id)


def wait_for_update(
    w: Any, target: Target, update_id: str, timeout_seconds: float, progress: Callable[[str], None]
) -> tuple[str, float]:
    """Poll until the update ends; (final state, seconds). A line per state change, `still X` now and then."""
    started = time.monotonic()
    deadline = started + timeout_seconds
    state: str | None = None
    last_line = started
    stop = f"it keeps running: stop it with `databricks pipelines stop {target.pipeline_id}`"
    try:
        while True:
            try:
                response = guarded(
                    f"reading update {update_id} of {target.label}",
                    lambda: w.pipelines.get_update(target.pipeline_id, update_id),
                )
            except OpsError as exc:
                raise UpdateNotValidated(f"{exc}; {stop}") from None
            info = response.update
            new = info.state.value if info is not None and info.state is not None else "UNKNOWN"
            now = time.monotonic()
            if new != state:
                progress(f"  {_duration(now - started):>7}  " + (f"{state} -> {new}" if state else new))
                state, last_line = new, now
            elif now - last_line >= _HEARTBEAT_SECONDS:
                progress(f"  {_duration(now - started):>7}  still {state}")
                last_line = now
            if state in TERMINAL:
                return state, now - started
            if now >= deadline:
                raise UpdateNotValidated(
                    f"update {update_id} of {target.label} is still {state} after {_duration(timeout_seconds)} "
                    f"(TIMEOUT); {stop}, or wait for it in the workspace and run validate-release again"
                )
            time.sleep(min(_POLL_SECONDS, max(deadline - now, 0.0)))
    except KeyboardInterrupt:
        raise UpdateNotValidated(f"interrupted: update {update_id} of {target.label}: {stop}") from None


def failure_reason(w: Any, pipeline_id: str, update_id: str) -> str | None:
    """The latest ERROR event of this update, best effort (None when the event list cannot be read)."""
    try:
        events = w.pipelines.list_pipeline_events(pipeline_id, filter="level='ERROR'", max_results=25)
        for event in itertools.islice(events, 25):
            if event.origin is not None and event.origin.update_id == update_id and event.message:
                return brief(str(event.message))
    except Exception:  # the reason is a courtesy: the verdict does not depend on it
        return None
    return None


# --- the checks ----------------------------------------------------------------------------------------------


def run_checks(
    w: Any,
    deployment: Deployment,
    facts: PipelineFacts,
    target: Target,
    seconds: float,
    tolerance: float,
    margin: float,
) -> list[Check]:
    warehouse, spec = deployment.config.warehouse_id, facts.spec
    checks: list[Check] = []
    if not spec.tables:
        checks.append(Check("rows", NA, "no published tables", f"declare them: tables: in {spec.name}'s file"))
    for table in spec.tables:
        count = _count(w, warehouse, spec.catalog, target.schema, table)
        checks.append(Check(f"rows {table}", PASS if count > 0 else FAIL, f"{count:,}", "> 0"))
        if target.candidate:
            assert target.active_schema is not None
            active = _count(w, warehouse, spec.catalog, target.active_schema, table)
            checks.append(compare_rows(table, count, active, target, tolerance))

    ref = facts.ref_of(target.schema, target.slot)  # the slot under test: the live one's, or a candidate's
    # The whole hours since the update started (and a few minutes before): this update's events.
    window = max(1, math.ceil((seconds + 300) / 3600))
    rate = _rate(w, warehouse, expectation_pass_rate(ref, window), f"expectation pass rate of {ref.event_log}")
    threshold = facts.thresholds.expectation_pass_rate
    since = f"last {window} h"
    if rate is None:
        checks.append(Check("expectation pass rate", NA, f"no expectation evaluated ({since})", f">= {threshold:.2%}"))
    else:
        ok = rate >= threshold
        checks.append(
            Check("expectation pass rate", PASS if ok else FAIL, f"{rate:.2%} ({since})", f">= {threshold:.2%}")
        )

    if target.candidate:
        assert target.active_schema is not None
        production = facts.ref_of(target.active_schema, target.active_slot)
        prod_rate = _rate(
            w,
            warehouse,
            expectation_pass_rate(production, _PRODUCTION_WINDOW_HOURS),
            f"expectation pass rate of {production.event_log}",
        )
        candidate_drop = _rate(w, warehouse, drop_rate(ref, window), f"drop rate of {ref.event_log}")
        prod_drop = _rate(
            w, warehouse, drop_rate(production, _PRODUCTION_WINDOW_HOURS), f"drop rate of {production.event_log}"
        )
        checks.append(compare_rates("pass rate", rate, prod_rate, target, margin, higher_is_better=True))
        checks.append(compare_rates("drop rate", candidate_drop, prod_drop, target, margin, higher_is_better=False))
    return checks


def compare_rows(table: str, count: int, active: int, target: Target, tolerance: float) -> Check:
    name = f"rows {table} vs {target.active_slot}"
    share = (target.canary_percent or 100) / 100
    expected = active * share
    basis = f"{target.canary_percent} % of " if target.canary_percent else ""
    basis += f"{target.active_slot}'s {active:,} ± {tolerance:.0%}"
    if active == 0:
        return Check(name, NA, f"{count:,}", f"{target.active_slot}'s table is empty: nothing to compare")
    low, high = expected * (1 - tolerance), expected * (1 + tolerance)
    ok = low <= count <= high
    deviation = (count - expected) / expected
    return Check(name, PASS if ok else FAIL, f"{count:,} ({deviation:+.1%})", f"{low:,.0f}-{high:,.0f} ({basis})")


def compare_rates(
    what: str, candidate: float | None, production: float | None, target: Target, margin: float, higher_is_better: bool
) -> Check:
    name = f"{what} vs {target.active_slot}"
    if candidate is None or production is None:
        missing = [n for n, v in (("candidate", candidate), (str(target.active_slot), production)) if v is None]
        return Check(name, NA, f"no figure for {' and '.join(missing)}", "(full refresh gives figures)")
    if higher_is_better:
        bound, ok, sign = production - margin, candidate >= production - margin, ">="
    else:
        bound, ok, sign = production + margin, candidate <= production + margin, "<="
    op = "-" if higher_is_better else "+"
    expected = f"{sign} {max(bound, 0.0):.2%} ({target.active_slot} {production:.2%} {op} {margin:.2%})"
    return Check(name, PASS if ok else FAIL, f"{candidate:.2%}", expected)


def _count(w: Any, warehouse: str, catalog: str, schema: str, table: str) -> int:
    what = f"COUNT(*) of {catalog}.{schema}.{table}"
    rows = _query(w, warehouse, f"SELECT COUNT(*) AS n FROM {quoted(catalog, schema, table)}", what)
    if not rows:
        raise OpsError(f"{what}: the statement answered no row, not a count")
    value = _first_value(rows, what)
    try:
        count = int(str(value).strip())
    except ValueError:
        raise OpsError(f"{what}: answered {_shown(value)}, not a count") from None
    if count < 0:
        raise OpsError(f"{what}: answered {_shown(value)}, not a count")
    return count


def _rate(w: Any, warehouse: str, statement: str, what: str) -> float | None:
    """A share in [0, 1]; None (n/a) when the event log has no figure: NULL, or no row."""
    rows = _query(w, warehouse, statement, what)
    if not rows:
        return None
    value = _first_value(rows, what)
    if value is None:
        return None
    try:
        rate = float(str(value).strip())
    except ValueError:
        raise OpsError(f"{what}: answered {_shown(value)}, not a rate") from None
    if not 0.0 <= rate <= 1.0:  # also NaN
        raise OpsError(f"{what}: answered {_shown(value)}, not a share between 0 and 1")
    return rate


def _first_value(rows: list[dict[str, Any]], what: str) -> Any:
    """The first column of the first row (None: NULL); an answer without columns is no answer."""
    if not rows[0]:
        raise OpsError(f"{what}: the statement answered a row without columns (no result manifest)")
    return next(iter(rows[0].values()))


def _shown(value: Any) -> str:
    return "NULL" if value is None else brief(repr(value), 80)


def _query(w: Any, warehouse: str, statement: str, what: str) -> list[dict[str, Any]]:
    """The rows of one check's statement; whatever keeps it from answering is one line naming the check
    (OpsError: nothing validated, exit 2), never a check that failed."""
    try:
        return run_sql(w, warehouse, statement, timeout_seconds=_SQL_TIMEOUT_SECONDS)
    except OpsError as exc:  # FAILED, CANCELED or CLOSED statement, or still running at the timeout
        raise type(exc)(f"{what}: {_one_line(str(exc))}", f"{what}: {exc.full}") from None
    except Exception as exc:  # the SDK's errors, HTTP failures, an answer the SDK cannot read
        raise _sql_error(exc, what, warehouse) from None


def _sql_error(exc: Exception, what: str, warehouse: str) -> OpsError:
    from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied

    where = f"SQL warehouse {warehouse} (the stack's lakeflow:warehouseId)"
    detail = _one_line(str(exc)) or type(exc).__name__
    # OSError: the HTTP client's connection errors and timeouts
    general = api_error(exc, f"{what} on {where}") if isinstance(exc, DatabricksError | OSError) else None
    if isinstance(general, workspace.Unusable):  # unreachable, credentials refused, not the Databricks API
        return general
    if isinstance(exc, NotFound):
        return OpsError(f"{what}: not found (404) on {where}: {detail}", f"{what}: not found (404) on {where}: {exc}")
    if isinstance(exc, PermissionDenied):
        line = (
            f"{what}: permission denied (403) on {where}: the identity needs CAN_USE on the warehouse and "
            f"SELECT on the table"
        )
        return OpsError(f"{line} ({detail})", f"{line} ({exc})")
    if general is not None:
        return general
    line = f"{what}: an answer of the statement execution API that is not understood ({type(exc).__name__}"
    return OpsError(f"{line}: {detail})", f"{line}: {exc})")


def _one_line(text: str) -> str:
    """The first non-blank line (a Spark error's context lines follow it), shortened at a word boundary."""
    return brief(text)


# --- report --------------------------------------------------------------------------------------------------


def render(report: Report) -> str:
    slot = f" slot {report.slot}" if report.slot else ""
    lines = [
        f"validate-release {report.stack} {report.pipeline}{slot}: update {report.update_id} "
        f"({report.refresh}) {report.state} after {_duration(report.seconds)}",
        "",
    ]
    rows = [
        ("check", "result", "value", "expected"),
        *((c.check, c.result, c.value, c.expected) for c in report.checks),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        lines.append("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:3])) + "  " + r[3])
    lines.append("")
    if report.reason:
        lines.append(f"update {report.update_id} FAILED: {report.reason}")
    if report.state != "COMPLETED":
        lines.append(f"the other checks did not run: see the update in the event log (pipeline {report.pipeline_id})")
    if report.passed:
        na = sum(c.result == NA for c in report.checks)
        lines.append("PASSED: the release may proceed" + (f" ({na} check(s) n/a: nothing to measure)" if na else ""))
    else:
        lines.append(f"FAILED: {len(report.failed)} check(s) failed: the release must not proceed")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


# --- command -------------------------------------------------------------------------------------------------


def validate(
    w: Any,
    deployment: Deployment,
    facts: PipelineFacts,
    target: Target,
    request: dict[str, Any],
    timeout_seconds: float,
    tolerance: float,
    margin: float,
    progress: Callable[[str], None],
) -> Report:
    began = time.monotonic()
    update_id = start(w, target, request)
    refresh = describe_request(request)
    progress(
        f"validate-release: update {update_id} of {target.label} ({target.pipeline_id}): {refresh}; "
        f"waiting up to {_duration(timeout_seconds)}"
    )
    state, _ = wait_for_update(w, target, update_id, timeout_seconds, progress)
    seconds = time.monotonic() - began
    report = Report(deployment.stack, facts.name, target.slot, target.pipeline_id, update_id, refresh, state, seconds)
    if state == "CANCELED":
        raise OpsError(
            f"update {update_id} of {target.label} was CANCELED after {_duration(seconds)} (someone stopped it): "
            "nothing was validated; run validate-release again"
        )
    report.checks.append(Check("update state", PASS if state == "COMPLETED" else FAIL, state, "COMPLETED"))
    if state != "COMPLETED":
        report.reason = failure_reason(w, target.pipeline_id, update_id)
        return report
    not_checked = f"update {update_id} COMPLETED, but its output could not be checked"
    try:
        report.checks.extend(run_checks(w, deployment, facts, target, seconds, tolerance, margin))
    except OpsError as exc:
        raise type(exc)(f"{not_checked}: {exc}", f"{not_checked}: {exc.full}") from None
    except KeyboardInterrupt:
        raise OpsError(f"{not_checked}: interrupted; nothing was validated") from None
    except Exception as exc:  # no traceback: whatever went wrong, nothing was validated (exit 2)
        raise OpsError(f"{not_checked}: {type(exc).__name__}: {_one_line(str(exc))}") from None
    return report


def main(argv: list[str] | None = None) -> int:
    from lakeflow.offline.stack_file import load_stack

    parser = command_parser("validate-release", __doc__.splitlines()[0], stack=None)
    parser.add_argument("--pipeline", default="")
    parser.add_argument("--slot", help="a blue/green slot (default: the live pipeline)")
    parser.add_argument("--refresh", choices=REFRESH_KINDS, default="incremental")
    parser.add_argument("--tables", help="comma-separated published tables (REFRESH=selected or full)")
    parser.add_argument("--timeout-minutes", type=float, default=60.0)
    parser.add_argument("--tolerance", type=float, default=0.1, help="row counts vs the active slot (default 0.1)")
    parser.add_argument("--metric-margin", type=float, default=0.01, help="rates vs production (default 0.01)")
    parser.add_argument("--outputs", type=Path, help="saved `pulumi stack output --json` of the stack")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    workspace.add_connection_options(parser)
    args = parser.parse_args(argv)

    def fail(message: str | OpsError) -> int:
        one_line = " ".join(line.strip() for line in str(message).splitlines() if line.strip())
        print(f"make validate-release: {one_line}", file=sys.stderr)
        if args.verbose and isinstance(message, OpsError) and message.full != str(message):
            for line in message.full.splitlines():
                print(f"  | {line}", file=sys.stderr)
        return EXIT_ERROR

    if not 0 < args.timeout_minutes <= 24 * 60:
        return fail(f"TIMEOUT={args.timeout_minutes:g}: minutes, more than 0 and at most 1440")
    if not 0 < args.tolerance < 1:
        return fail(f"--tolerance {args.tolerance:g}: a share such as 0.1 (10 %), between 0 and 1")
    if not 0 <= args.metric_margin < 1:
        return fail(f"--metric-margin {args.metric_margin:g}: a share such as 0.01 (one percentage point)")
    try:
        bounds = workspace.connection_timeouts(args)
        settings = load_stack(args.root, args.stack)
    except ConfigErrors as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_ERROR
    except OpsError as exc:
        return fail(exc)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        spec = pipeline_spec(settings, args.pipeline)
        request = update_request(spec, args.refresh, args.tables)
        outputs = load_outputs(args.stack, args.outputs)
        target = resolve_target(settings, outputs, spec, args.slot)
        w = client(bounds, verbose=args.verbose)
        deployment = resolve(settings)
        report = validate(
            w,
            deployment,
            deployment.pipeline(spec.name),
            target,
            request,
            args.timeout_minutes * 60,
            args.tolerance,
            args.metric_margin,
            progress,
        )
    except OpsError as exc:
        return fail(exc)
    if args.json:
        print(json.dumps({**asdict(report), "passed": report.passed}, indent=2))
    else:
        print(render(report))
    return EXIT_PASSED if report.passed else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
