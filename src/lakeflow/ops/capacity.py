"""`make capacity STACK=<stack> GROWTH=0.1 MONTHS=6 [HISTORY=metrics.csv]`: guide 9.2's model.

For each pipeline: throughput per worker = current throughput / current workers; the volume of
month m = current throughput x (1 + growth)^m; required workers = ceil(volume / throughput per
worker); monthly cost = (required workers + 1 driver) x run hours a month x DBU per node-hour x
list price per DBU. A month whose required workers exceed the cluster's max_workers (or the
stack's cap) is flagged: that is when autoscaling stops keeping up.

Inputs come from the pipeline file's `capacity:` section, or from a CSV exported from the
system tables (columns: pipeline, month as YYYY-MM, rows_processed, avg_workers, run_hours,
dbus, list_cost_usd): its latest month gives throughput, workers and hours, the DBU and price
figures come from its dbus/cost columns, and GROWTH, when not given, is the compound monthly
growth of rows from its first month to its latest (over the calendar months between them, so a
missing month does not inflate it). A pipeline with HISTORY rows is projected from them, even when
its file has a `capacity:` section. Every pipeline of the stack is either projected or named with
the reason it is not ("not projected: <pipeline>: ..."; on stderr with --json, whose output stays
a list of projections); HISTORY rows of a pipeline the stack does not have are a warning.

GROWTH is a fraction per month: 0.1 is +10 %/month. What is checked before anything is projected:

  errors (exit 2, one line each on stderr, nothing projected):
    - GROWTH at most -0.9 or above 10, or not a number; MONTHS below 1 or above 120;
    - HISTORY: not readable, a column missing, a value that is not a number or is negative, a month
      that is not YYYY-MM or appears twice for a pipeline;
    - HISTORY: a pipeline's latest month with 0 rows_processed, avg_workers or run_hours (nothing
      to project from: the pipeline did not run, or it is single-node or serverless, for which the
      per-worker model does not hold);
    - GROWTH missing where there is no trend (one month of HISTORY, or only a `capacity:` section).
  warnings (stderr, "make capacity: warning: ...", and the projection runs; exit 0):
    - GROWTH above 1.0 (+100 %/month): almost certainly a percentage ("GROWTH=10 means
      +1000 %/month; for 10 % write 0.1"); below -0.5 (halving every month);
    - MONTHS above 60: five years of compound growth is guesswork;
    - a growth fitted from HISTORY above 1.0 or below -0.5 (check the export);
    - HISTORY: an earlier month with 0 rows_processed, avg_workers or run_hours (it does not count
      for the trend); rows_processed jumping more than 10x up or down from one month to the next
      (a backfill, a full refresh, a unit change?); months missing between two rows; a latest month
      with 0 dbus or list_cost_usd (its costs are projected as $0); rows of a pipeline the stack
      does not have (ignored).

The HISTORY CSV, exported with this query (a SQL warehouse, then "Download as CSV"; `history_query`
writes it for any stack's pipelines). It reads the last 3 complete calendar months: rows from the
pipeline's event log (`flow_progress` num_output_rows), workers and run hours from
`system.compute.node_timeline` (minute records of each node of the pipeline's clusters, found by
their Pipeline and Environment tags: worker node-seconds / driver node-seconds, and driver hours;
update and maintenance clusters alike), DBUs and list-price dollars from `system.billing.usage`
priced with `system.billing.list_prices` (as the cost alerts do). Classic compute only: a
serverless pipeline has no node records and no row. node_timeline keeps about 90 days, so run it
every month and append to keep a longer history. For the shipped `sales_pipeline` of prod:

    WITH watched (pipeline, slot) AS (
      VALUES
        ('sales_pipeline', CAST(NULL AS STRING))
    ),
    flow_rows AS (
      SELECT
        'sales_pipeline' AS pipeline,
        date_format(timestamp, 'yyyy-MM') AS month,
        sum(coalesce(CAST(details:flow_progress:metrics:num_output_rows AS BIGINT), 0)) AS rows_processed
      FROM `prod`.`sales`.`sales_pipeline_event_log`
      WHERE event_type = 'flow_progress'
        AND timestamp >= add_months(date_trunc('MONTH', current_date()), -3)
        AND timestamp < date_trunc('MONTH', current_date())
      GROUP BY date_format(timestamp, 'yyyy-MM')
    ),
    pipeline_clusters AS (
      SELECT DISTINCT
        c.workspace_id,
        c.cluster_id,
        w.pipeline
      FROM system.compute.clusters AS c
      JOIN watched AS w
        ON c.tags['Pipeline'] = w.pipeline
        AND (w.slot IS NULL OR c.tags['Slot'] = w.slot)
      WHERE c.tags['Environment'] = 'prod'
    ),
    node_seconds AS (
      SELECT
        c.pipeline,
        date_format(n.start_time, 'yyyy-MM') AS month,
        n.driver,
        unix_timestamp(n.end_time) - unix_timestamp(n.start_time) AS seconds
      FROM system.compute.node_timeline AS n
      JOIN pipeline_clusters AS c
        ON c.workspace_id = n.workspace_id
        AND c.cluster_id = n.cluster_id
      WHERE n.start_time >= add_months(date_trunc('MONTH', current_date()), -3)
        AND n.start_time < date_trunc('MONTH', current_date())
    ),
    nodes AS (
      SELECT
        pipeline,
        month,
        sum(CASE WHEN driver THEN seconds ELSE 0 END) / 3600.0 AS run_hours,
        sum(CASE WHEN driver THEN 0 ELSE seconds END) / nullif(sum(CASE WHEN driver THEN seconds ELSE 0 END), 0)
          AS avg_workers
      FROM node_seconds
      GROUP BY pipeline, month
    ),
    usage AS (
      SELECT
        w.pipeline,
        date_format(u.usage_date, 'yyyy-MM') AS month,
        sum(u.usage_quantity) AS dbus,
        sum(u.usage_quantity * coalesce(lp.pricing.effective_list.default, lp.pricing.default)) AS list_cost_usd
      FROM system.billing.usage AS u
      JOIN watched AS w
        ON u.custom_tags['Pipeline'] = w.pipeline
        AND (w.slot IS NULL OR u.custom_tags['Slot'] = w.slot)
      LEFT JOIN system.billing.list_prices AS lp
        ON lp.sku_name = u.sku_name
        AND lp.cloud = u.cloud
        AND lp.usage_unit = u.usage_unit
        AND lp.currency_code = 'USD'
        AND u.usage_start_time >= lp.price_start_time
        AND (lp.price_end_time IS NULL OR u.usage_start_time < lp.price_end_time)
      WHERE u.usage_unit = 'DBU'
        AND u.custom_tags['Environment'] = 'prod'
        AND u.usage_date >= add_months(date_trunc('MONTH', current_date()), -3)
        AND u.usage_date < date_trunc('MONTH', current_date())
      GROUP BY w.pipeline, date_format(u.usage_date, 'yyyy-MM')
    )
    SELECT
      r.pipeline,
      r.month,
      r.rows_processed,
      round(n.avg_workers, 2) AS avg_workers,
      round(n.run_hours, 2) AS run_hours,
      round(coalesce(u.dbus, 0), 2) AS dbus,
      round(coalesce(u.list_cost_usd, 0), 2) AS list_cost_usd
    FROM flow_rows AS r
    JOIN nodes AS n
      ON n.pipeline = r.pipeline
      AND n.month = r.month
    LEFT JOIN usage AS u
      ON u.pipeline = r.pipeline
      AND u.month = r.month
    ORDER BY r.pipeline, r.month

For another pipeline, environment or blue/green slot, `history_query` writes the same query with
its names (one `flow_rows` branch per pipeline, joined by UNION ALL).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lakeflow.config.errors import ConfigErrors
from lakeflow.config.input_files import FileRefused, read_text
from lakeflow.config.loader import StackSettings
from lakeflow.config.models import Capacity
from lakeflow.config.project import command_parser
from lakeflow.model.deployment import resolve
from lakeflow.sql.queries import PipelineRef, _string, _table, pipeline_clusters

HISTORY_COLUMNS = ("pipeline", "month", "rows_processed", "avg_workers", "run_hours", "dbus", "list_cost_usd")

# Plausible ranges: outside the outer bounds an error, outside the inner ones a warning.
GROWTH_ERROR = (-0.9, 10.0)
"""GROWTH must be more than -0.9 and at most 10 (exclusive, inclusive)."""
GROWTH_PLAUSIBLE = (-0.5, 1.0)
MONTHS_ERROR = (1, 120)
MONTHS_PLAUSIBLE = 60
JUMP = 10.0
"""rows_processed growing or shrinking by more than this factor from one month to the next: a warning."""
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_NEEDED = ("rows_processed", "avg_workers", "run_hours")
"""History columns the projection divides by or scales: 0 in the latest month is an error."""


@dataclass(frozen=True)
class Month:
    month: int
    rows_per_hour: float
    required_workers: int
    monthly_cost_usd: float
    exceeds_cap: bool


@dataclass(frozen=True)
class Projection:
    pipeline: str
    source: str
    growth: float
    cap: int | None
    months: list[Month]


@dataclass
class Plan:
    projections: list[Projection] = field(default_factory=list)
    not_projected: list[tuple[str, str]] = field(default_factory=list)
    """(pipeline, why) of each pipeline of the stack that is not projected."""
    warnings: list[str] = field(default_factory=list)


def project(inputs: Capacity, growth: float, months: int, cap: int | None) -> list[Month]:
    per_worker = inputs.current_rows_per_hour / inputs.current_workers
    out = []
    for m in range(1, months + 1):
        volume = inputs.current_rows_per_hour * (1 + growth) ** m
        # A tiny epsilon keeps float noise (x.0000000001) from adding a worker.
        workers = math.ceil(volume / per_worker - 1e-9)
        cost = (workers + 1) * inputs.run_hours_per_month * inputs.dbu_per_node_hour * inputs.usd_per_dbu
        out.append(Month(m, round(volume, 2), workers, round(cost, 2), cap is not None and workers > cap))
    return out


class HistoryError(ValueError):
    """A history CSV (or argument) that cannot be used; the message names the file, row and column."""


# --- arguments -----------------------------------------------------------------------------------------------


def _percent(growth: float) -> str:
    return f"{growth * 100:+.0f} %/month"


def check_growth(growth: float) -> list[str]:
    """Warnings for a GROWTH that is possible but odd; HistoryError for one that cannot be meant."""
    low, high = GROWTH_ERROR
    if not math.isfinite(growth) or growth <= low or growth > high:
        hint = f"; for {growth:g} % write {growth / 100:g}" if math.isfinite(growth) and growth > high else ""
        raise HistoryError(
            f"GROWTH={growth:g}: must be a rate such as 0.1 (10 % a month), more than {low:g} and at most {high:g}"
            + hint
        )
    if growth > GROWTH_PLAUSIBLE[1]:
        return [f"GROWTH={growth:g} means {_percent(growth)}; for {growth:g} % write {growth / 100:g}"]
    if growth < GROWTH_PLAUSIBLE[0]:
        return [f"GROWTH={growth:g} means {_percent(growth)}: shrinking by more than half every month"]
    return []


def check_fitted_growth(pipeline: str, growth: float) -> list[str]:
    """A growth fitted from HISTORY outside the plausible range: the export is worth a look."""
    low, high = GROWTH_PLAUSIBLE
    if low <= growth <= high:
        return []
    return [f"the growth fitted from HISTORY for {pipeline} is {_percent(growth)}: check the export (or give GROWTH=)"]


def check_months(months: int) -> list[str]:
    low, high = MONTHS_ERROR
    if not low <= months <= high:
        raise HistoryError(f"MONTHS={months}: must be between {low} and {high}")
    if months > MONTHS_PLAUSIBLE:
        return [f"MONTHS={months}: {months / 12:g} years of compound growth is guesswork; 6-24 months is usual"]
    return []


# --- history -------------------------------------------------------------------------------------------------


def read_history(path: Path) -> dict[str, list[dict[str, float | str]]]:
    """Rows by pipeline, each pipeline's months in order. HistoryError for what cannot be used at all: a
    missing column, a value that is not a number or is negative, a month that is not YYYY-MM or repeats."""
    try:
        text = read_text(path, "HISTORY", max_bytes=16 << 20)
    except FileRefused as exc:
        raise HistoryError(str(exc)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: dict[str, list[dict[str, float | str]]] = {}
    seen: dict[tuple[str, str], int] = {}
    try:
        missing = [c for c in HISTORY_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise HistoryError(f"{path}: missing column(s) {', '.join(missing)}; needs {', '.join(HISTORY_COLUMNS)}")
        for n, row in enumerate(reader, start=2):
            if None in row or any(row[c] is None for c in HISTORY_COLUMNS):
                raise HistoryError(f"{path}:{n}: expected the {len(reader.fieldnames or [])} columns of the header")
            pipeline, month = row["pipeline"].strip(), row["month"].strip()
            if not pipeline or not month:
                raise HistoryError(f"{path}:{n}: pipeline and month must not be empty")
            if not _MONTH.fullmatch(month):
                raise HistoryError(f"{path}:{n}: month: {month!r} is not a month such as 2026-08 (YYYY-MM)")
            if (pipeline, month) in seen:
                raise HistoryError(
                    f"{path}:{n}: {pipeline} {month} appears twice (also line {seen[pipeline, month]}): "
                    "one row per pipeline and month"
                )
            seen[pipeline, month] = n
            parsed: dict[str, float | str] = {"month": month, "line": n}
            for col in HISTORY_COLUMNS[2:]:
                try:
                    value = float(row[col])
                except ValueError:
                    raise HistoryError(f"{path}:{n}: {col}: {row[col]!r} is not a number") from None
                if not math.isfinite(value) or value < 0:
                    raise HistoryError(f"{path}:{n}: {col}: {row[col]!r} must be a finite number, 0 or more")
                parsed[col] = value
            rows.setdefault(pipeline, []).append(parsed)
    except csv.Error as exc:
        raise HistoryError(f"{path}:{reader.line_num}: not CSV ({exc})") from None
    return {p: sorted(r, key=lambda x: str(x["month"])) for p, r in rows.items()}


def _month_index(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def history_warnings(pipeline: str, rows: list[dict[str, float | str]], path: Path | str = "HISTORY") -> list[str]:
    """What looks wrong in one pipeline's months without making them unusable; HistoryError for a latest
    month that cannot be projected from."""
    warnings: list[str] = []
    last = rows[-1]
    zero = [c for c in _NEEDED if float(last[c]) == 0]
    if zero:
        raise HistoryError(
            f"{path}:{last['line']}: {pipeline} {last['month']} (its latest month): {', '.join(zero)} is 0: nothing "
            "to project from (did it run? single-node and serverless pipelines do not fit the per-worker model); "
            "drop the row, or give the pipeline file a capacity: section and leave it out of HISTORY"
        )
    for earlier in rows[:-1]:
        zero = [c for c in _NEEDED if float(earlier[c]) == 0]
        if zero:
            warnings.append(
                f"HISTORY {pipeline} {earlier['month']}: {', '.join(zero)} is 0 (did it run?): "
                "not counted for the trend"
            )
    counted = [r for r in rows if all(float(r[c]) > 0 for c in _NEEDED)]
    for before, after in itertools.pairwise(counted):
        a, b = float(before["rows_processed"]), float(after["rows_processed"])
        if b / a > JUMP or a / b > JUMP:
            warnings.append(
                f"HISTORY {pipeline}: rows_processed {'grows' if b > a else 'falls'} {max(b / a, a / b):,.0f}x from "
                f"{before['month']} to {after['month']} ({a:,.0f} -> {b:,.0f}): a backfill, a full refresh, a unit "
                "change? the trend runs through it"
            )
    for before, after in itertools.pairwise(rows):
        gap = _month_index(str(after["month"])) - _month_index(str(before["month"])) - 1
        if gap > 0:
            warnings.append(
                f"HISTORY {pipeline}: {gap} month(s) missing between {before['month']} and {after['month']} "
                "(the growth is fitted over the calendar months)"
            )
    empty = [c for c in ("dbus", "list_cost_usd") if float(last[c]) == 0]
    if empty:
        warnings.append(
            f"HISTORY {pipeline} {last['month']}: {', '.join(empty)} is 0: its costs are projected as $0 "
            "(export the pipeline's usage with the query in src/lakeflow/ops/capacity.py)"
        )
    return warnings


def from_history(rows: list[dict[str, float | str]]) -> tuple[Capacity, float | None]:
    """The latest month's figures, and the compound monthly growth of rows from the first month that ran to
    the latest, over the calendar months between them (None: no trend)."""
    last = rows[-1]
    hours, workers = float(last["run_hours"]), float(last["avg_workers"])
    dbus, cost = float(last["dbus"]), float(last["list_cost_usd"])
    # model_construct: a month without DBUs or cost projects $0 (a warning says so), not a validation error.
    inputs = Capacity.model_construct(
        current_rows_per_hour=float(last["rows_processed"]) / hours,
        current_workers=workers,
        run_hours_per_month=hours,
        dbu_per_node_hour=dbus / ((workers + 1) * hours),
        usd_per_dbu=cost / dbus if dbus else 0.0,
    )
    counted = [r for r in rows if all(float(r[c]) > 0 for c in _NEEDED)]
    growth = None
    if len(counted) >= 2:
        first = counted[0]
        span = _month_index(str(last["month"])) - _month_index(str(first["month"]))
        growth = (float(last["rows_processed"]) / float(first["rows_processed"])) ** (1 / span) - 1
    return inputs, growth


# --- the plan ------------------------------------------------------------------------------------------------


def plan_capacity(
    settings: StackSettings, growth: float | None, months: int, history: Path | None = None
) -> list[Projection]:
    """The projections only (see `capacity_plan` for what is not projected, and the warnings)."""
    return capacity_plan(settings, growth, months, history).projections


def capacity_plan(settings: StackSettings, growth: float | None, months: int, history: Path | None = None) -> Plan:
    plan = Plan()
    if growth is not None:
        plan.warnings += check_growth(growth)
    plan.warnings += check_months(months)
    hist = read_history(history) if history else {}
    declared = [spec.name for spec in settings.pipelines]
    for name in sorted(set(hist) - set(declared)):
        plan.warnings.append(
            f"HISTORY has {len(hist[name])} row(s) of {name}, not a pipeline of stack {settings.stack!r} "
            f"(pipelines: {', '.join(declared)}): ignored"
        )
    for spec in settings.pipelines:
        caps = [c.autoscale.max_workers if c.autoscale else c.num_workers for c in spec.clusters]
        caps += [settings.config.max_workers_cap]
        cap = min((c for c in caps if c is not None), default=None)
        if spec.name in hist:
            rows = hist[spec.name]
            plan.warnings += history_warnings(spec.name, rows, history or "HISTORY")
            inputs, fitted = from_history(rows)
            source, g = f"history ({len(rows)} months)", growth if growth is not None else fitted
            if growth is None and fitted is not None:
                plan.warnings += check_fitted_growth(spec.name, fitted)
        elif spec.capacity is not None:
            inputs, source, g = spec.capacity, "pipeline file", growth
        else:
            why = "no capacity: section in its pipeline file"
            why += ", and no rows in HISTORY" if history else ", and no HISTORY given"
            if spec.serverless:
                why += " (serverless: HISTORY from system tables has no rows for it)"
            plan.not_projected.append((spec.name, why))
            continue
        if g is None:
            why = "one month of history gives no trend" if spec.name in hist else "its pipeline file gives no trend"
            raise HistoryError(f"{spec.name}: GROWTH is needed ({why})")
        plan.projections.append(Projection(spec.name, source, round(g, 4), cap, project(inputs, g, months, cap)))
    return plan


def render(projections: list[Projection], not_projected: Sequence[tuple[str, str]] = ()) -> str:
    lines = []
    for p in projections:
        lines.append(f"{p.pipeline}  (from {p.source}, growth {p.growth:.1%}/month, max workers {p.cap})")
        lines.append(f"  {'month':>5}  {'rows/hour':>14}  {'workers':>7}  {'cost/month':>12}")
        for m in p.months:
            flag = "  EXCEEDS max_workers" if m.exceeds_cap else ""
            cost = f"${m.monthly_cost_usd:>11,.2f}"
            lines.append(f"  {m.month:>5}  {m.rows_per_hour:>14,.0f}  {m.required_workers:>7}  {cost}{flag}")
    if not projections:
        lines.append("No pipeline has a capacity: section, and no HISTORY was given.")
    if not_projected:
        lines.append("")
        lines += [f"not projected: {name}: {why}" for name, why in not_projected]
    return "\n".join(lines)


# --- the HISTORY export --------------------------------------------------------------------------------------


def history_query(pipelines: Sequence[PipelineRef], environment: str, months: int = 3) -> str:
    """The Databricks SQL that exports HISTORY (the columns `read_history` reads) for these pipelines: the
    last `months` complete calendar months. See the module's text for where each column comes from."""
    if not pipelines:
        raise ValueError("at least one pipeline is required")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    since = f"add_months(date_trunc('MONTH', current_date()), -{months})"
    until = "date_trunc('MONTH', current_date())"
    slot = "CAST(NULL AS STRING)"
    watched = ",\n".join(f"    ({_string(p.name)}, {_string(p.slot) if p.slot else slot})" for p in pipelines)
    rows = "\n  UNION ALL\n".join(
        f"""  SELECT
    {_string(p.name)} AS pipeline,
    date_format(timestamp, 'yyyy-MM') AS month,
    sum(coalesce(CAST(details:flow_progress:metrics:num_output_rows AS BIGINT), 0)) AS rows_processed
  FROM {_table(p.event_log)}
  WHERE event_type = 'flow_progress'
    AND timestamp >= {since}
    AND timestamp < {until}
  GROUP BY date_format(timestamp, 'yyyy-MM')"""
        for p in pipelines
    )
    env = _string(environment)
    return f"""WITH watched (pipeline, slot) AS (
  VALUES
{watched}
),
flow_rows AS (
{rows}
),
{pipeline_clusters(environment)},
node_seconds AS (
  SELECT
    c.pipeline,
    date_format(n.start_time, 'yyyy-MM') AS month,
    n.driver,
    unix_timestamp(n.end_time) - unix_timestamp(n.start_time) AS seconds
  FROM system.compute.node_timeline AS n
  JOIN pipeline_clusters AS c
    ON c.workspace_id = n.workspace_id
    AND c.cluster_id = n.cluster_id
  WHERE n.start_time >= {since}
    AND n.start_time < {until}
),
nodes AS (
  SELECT
    pipeline,
    month,
    sum(CASE WHEN driver THEN seconds ELSE 0 END) / 3600.0 AS run_hours,
    sum(CASE WHEN driver THEN 0 ELSE seconds END) / nullif(sum(CASE WHEN driver THEN seconds ELSE 0 END), 0)
      AS avg_workers
  FROM node_seconds
  GROUP BY pipeline, month
),
usage AS (
  SELECT
    w.pipeline,
    date_format(u.usage_date, 'yyyy-MM') AS month,
    sum(u.usage_quantity) AS dbus,
    sum(u.usage_quantity * coalesce(lp.pricing.effective_list.default, lp.pricing.default)) AS list_cost_usd
  FROM system.billing.usage AS u
  JOIN watched AS w
    ON u.custom_tags['Pipeline'] = w.pipeline
    AND (w.slot IS NULL OR u.custom_tags['Slot'] = w.slot)
  LEFT JOIN system.billing.list_prices AS lp
    ON lp.sku_name = u.sku_name
    AND lp.cloud = u.cloud
    AND lp.usage_unit = u.usage_unit
    AND lp.currency_code = 'USD'
    AND u.usage_start_time >= lp.price_start_time
    AND (lp.price_end_time IS NULL OR u.usage_start_time < lp.price_end_time)
  WHERE u.usage_unit = 'DBU'
    AND u.custom_tags['Environment'] = {env}
    AND u.usage_date >= {since}
    AND u.usage_date < {until}
  GROUP BY w.pipeline, date_format(u.usage_date, 'yyyy-MM')
)
SELECT
  r.pipeline,
  r.month,
  r.rows_processed,
  round(n.avg_workers, 2) AS avg_workers,
  round(n.run_hours, 2) AS run_hours,
  round(coalesce(u.dbus, 0), 2) AS dbus,
  round(coalesce(u.list_cost_usd, 0), 2) AS list_cost_usd
FROM flow_rows AS r
JOIN nodes AS n
  ON n.pipeline = r.pipeline
  AND n.month = r.month
LEFT JOIN usage AS u
  ON u.pipeline = r.pipeline
  AND u.month = r.month
ORDER BY r.pipeline, r.month
"""


def stack_history_query(settings: StackSettings, months: int = 3) -> str:
    """`history_query` for the stack's pipelines on classic compute (the live slot of a blue/green one)."""
    refs = [facts.ref for facts in resolve(settings).pipelines.values() if not facts.spec.serverless]
    if not refs:
        raise HistoryError(f"stack {settings.stack!r} has no pipeline on classic compute: no HISTORY to export")
    return history_query(refs, settings.config.environment, months)


# --- command -------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from lakeflow.offline.stack_file import load_stack

    parser = command_parser("capacity", __doc__.splitlines()[0])
    parser.add_argument("--growth", type=float, help="monthly growth as a fraction: 0.1 is +10 %% a month")
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--history", type=Path, help="CSV of monthly metrics exported from system tables")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--history-sql", action="store_true", help="print the SQL that exports HISTORY for the stack's pipelines"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_stack(args.root, args.stack)
        if args.history_sql:
            print(stack_history_query(settings), end="")
            return 0
        plan = capacity_plan(settings, args.growth, args.months, args.history)
    except ConfigErrors as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except HistoryError as exc:
        print(f"make capacity: {exc}", file=sys.stderr)
        return 2
    for warning in plan.warnings:
        print(f"make capacity: warning: {warning}", file=sys.stderr)
    if args.json:
        for name, why in plan.not_projected:
            print(f"make capacity: not projected: {name}: {why}", file=sys.stderr)
        print(json.dumps([asdict(p) for p in plan.projections], indent=2))
    else:
        print(render(plan.projections, plan.not_projected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
