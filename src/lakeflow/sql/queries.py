"""Databricks SQL for the stack's monitoring alerts, the health check and the stack dashboard.

Pure Python: every function returns the text of one Databricks SQL query and touches nothing.

- Per-pipeline measurements (`failed_updates`, `processing_lag_minutes`, ...) return one row with one numeric
  column: the value of one metric for one pipeline. `make health` runs them one by one.
- Stack-wide verdicts (`event_log_breaches`, `node_breaches`, `cost_breaches`) are what the alerts run: one query
  per metric for the whole stack, returning one row per pipeline (or environment) whose measurement crosses its
  own threshold, with columns `<subject>`, `<metric column>`, `threshold`. No row: all is well. The thresholds
  are a `watched (<subject>, threshold)` VALUES table at the top of the query, so each pipeline keeps its own.
- Dashboard datasets return one row per hour, day, table or pipeline.

Sources, and the documentation the column names were checked against:

- The pipeline event log, published as a Unity Catalog Delta table (`PipelineRef.event_log`): columns `id`,
  `sequence`, `origin` (struct: `pipeline_id`, `pipeline_name`, `update_id`, `flow_name`, ...), `timestamp`,
  `message`, `level`, `maturity_level`, `error`, `details` (a JSON string, read with the `:` operator) and
  `event_type`. Fields read from `details`: `update_progress:state` (COMPLETED, FAILED, CANCELED, RUNNING, ...),
  `flow_progress:status`, `flow_progress:metrics:{num_output_rows,num_upserted_rows,num_deleted_rows}`,
  `flow_progress:data_quality:dropped_records` and `flow_progress:data_quality:expectations` (a JSON array of
  {name, dataset, passed_records, failed_records}).
    https://docs.databricks.com/aws/en/ldp/monitor-event-log-schema
    https://docs.databricks.com/aws/en/ldp/monitor-event-logs
- `system.compute.clusters` (a slowly changing dimension: one row per configuration change): `workspace_id`,
  `cluster_id`, `tags` (map of the user-defined cluster tags; the table has no pipeline-id column, so a pipeline's
  clusters are found by the `Pipeline` and `Environment` tags every pipeline cluster carries).
  `system.compute.node_timeline` (one row per node and minute): `workspace_id`, `cluster_id`, `start_time`,
  `end_time`, `cpu_user_percent`, `cpu_system_percent`, `cpu_wait_percent`, `mem_used_percent`. Records
  typically arrive within an hour, so a short window can be empty (the query then returns NULL).
    https://docs.databricks.com/aws/en/admin/system-tables/compute
- `system.billing.usage`: `workspace_id`, `sku_name`, `cloud`, `usage_start_time`, `usage_end_time`, `usage_date`,
  `custom_tags` (map: compute, job, workspace and budget-policy tags), `usage_unit`, `usage_quantity`,
  `usage_metadata.dlt_pipeline_id`, `record_type`.
    https://docs.databricks.com/aws/en/admin/system-tables/billing
- `system.billing.list_prices`: `price_start_time`, `price_end_time` (NULL while current), `sku_name`, `cloud`,
  `currency_code`, `usage_unit`, `pricing` (struct: `default`, `promotional.default`, `effective_list.default`;
  `effective_list` is the list price used to calculate cost).
    https://docs.databricks.com/aws/en/admin/system-tables/pricing

String literals are escaped the way Databricks documents: a backslash before `'` and `\\`, and a line feed or
carriage return written as `\n` / `\r`, so a literal never spans lines (the templates are dedented and the
dashboard stores its queries line by line: neither may touch what a literal holds). Doubling a quote is not an
escape in Databricks SQL: `'O''Brien'` is two adjacent literals, concatenated to `OBrien`.
    https://docs.databricks.com/aws/en/sql/language-manual/data-types/string-type
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from textwrap import dedent, indent
from typing import Literal

from lakeflow.components.types import Tag
from lakeflow.sql.names import quoted

__all__ = [
    "PipelineRef",
    "availability",
    "cost_breaches",
    "cpu_utilization",
    "data_quality_trend",
    "dbu_by_pipeline",
    "drop_rate",
    "event_log_breaches",
    "execution_summary",
    "expectation_pass_rate",
    "failed_updates",
    "latency_by_table",
    "memory_utilization",
    "node_breaches",
    "processing_lag_minutes",
]

# A Databricks SQL alert's comparison operators, as SQL.
OPERATORS = {"GREATER_THAN": ">", "LESS_THAN": "<"}

_WATCHED_ROW = re.compile(r"^    \('((?:[^'\\]|\\.)*)', .*?([-0-9.e+]+)\),?$", re.M)
_VERDICT_CONDITION = re.compile(r"^WHERE m\.(\w+) ([<>]) w\.threshold$", re.M)

# A string literal's escapes (`_string`), and what `breach_conditions` reads back (a backslash before any other
# character stands for that character).
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r"})
_UNESCAPED = {"n": "\n", "r": "\r"}

_TABLE_NAME = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")

# The array type of details:flow_progress:data_quality:expectations, as the event log documentation parses it.
_EXPECTATIONS_TYPE = "array<struct<name: string, dataset: string, passed_records: bigint, failed_records: bigint>>"

# One list price per usage record: same SKU, cloud and unit, in dollars, valid when the usage started.
_PRICE_MATCH = (
    "lp.sku_name = u.sku_name",
    "lp.cloud = u.cloud",
    "lp.usage_unit = u.usage_unit",
    "lp.currency_code = 'USD'",
    "u.usage_start_time >= lp.price_start_time",
    "(lp.price_end_time IS NULL OR u.usage_start_time < lp.price_end_time)",
)

# effective_list is the list price Databricks uses to calculate cost; default is the long-term list price.
_UNIT_PRICE = "coalesce(lp.pricing.effective_list.default, lp.pricing.default)"


@dataclass(frozen=True)
class PipelineRef:
    """One deployed pipeline, as the monitoring queries see it."""

    name: str  # logical pipeline name, e.g. "sales_pipeline" (value of the Pipeline tag)
    environment: str  # value of the Environment tag, e.g. "prod"
    event_log: str  # fully qualified event log table, e.g. "prod.sales.sales_pipeline_event_log"
    slot: str | None = None  # blue/green: the live slot (value of the Slot tag), so a candidate's run is not counted
    continuous: bool = False  # its update runs until it fails or is stopped: availability is measured in time

    def __post_init__(self) -> None:
        for field in ("name", "environment"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise ValueError(f"PipelineRef.{field} must be a non-empty string, got {value!r}")
        _table(self.event_log)


# --- alert queries: one row, one numeric column --------------------------------------------------------------


def failed_updates(p: PipelineRef, window_minutes: int = 60) -> str:
    """Column `failed_updates`: how many pipeline updates ended FAILED in the last `window_minutes`.

    Counts `update_progress` events whose state is FAILED (an update reports FAILED once, when it ends).
    0 when none failed.
    """
    window = _interval(window_minutes, "MINUTES", "window_minutes")
    return _sql(f"""
        SELECT
          count(*) AS failed_updates
        FROM {_table(p.event_log)}
        WHERE event_type = 'update_progress'
          AND details:update_progress:state = 'FAILED'
          AND timestamp >= current_timestamp() - {window}
    """)


def processing_lag_minutes(p: PipelineRef) -> str:
    """Column `lag_minutes`: minutes since the pipeline last made successful progress.

    Successful progress is the latest of: an update that ended COMPLETED (triggered pipelines), a flow that
    ended COMPLETED, or a RUNNING flow that wrote, upserted or deleted rows in a micro-batch (continuous
    pipelines, whose updates never complete). Fractional minutes; NULL when the event log holds no such event.
    """
    return _sql(f"""
        SELECT
          timestampdiff(SECOND, max(timestamp), current_timestamp()) / 60.0 AS lag_minutes
        FROM {_table(p.event_log)}
        WHERE (
            event_type = 'update_progress'
            AND details:update_progress:state = 'COMPLETED'
          )
          OR (
            event_type = 'flow_progress'
            AND (
              details:flow_progress:status = 'COMPLETED'
              OR (
                details:flow_progress:status = 'RUNNING'
                AND coalesce(CAST(details:flow_progress:metrics:num_output_rows AS BIGINT), 0)
                  + coalesce(CAST(details:flow_progress:metrics:num_upserted_rows AS BIGINT), 0)
                  + coalesce(CAST(details:flow_progress:metrics:num_deleted_rows AS BIGINT), 0) > 0
              )
            )
          )
    """)


def expectation_pass_rate(p: PipelineRef, window_hours: int = 24) -> str:
    """Column `pass_rate` in [0, 1]: the share of expectation checks that passed in the last `window_hours`.

    sum(passed_records) / sum(passed_records + failed_records) over every expectation of every `flow_progress`
    event in the window (a record checked by three expectations counts three times). NULL when no
    expectation was evaluated.
    """
    window = _interval(window_hours, "HOURS", "window_hours")
    return _sql(f"""
        WITH expectations AS (
          SELECT
            explode(from_json(
              details:flow_progress:data_quality:expectations,
              '{_EXPECTATIONS_TYPE}'
            )) AS e
          FROM {_table(p.event_log)}
          WHERE event_type = 'flow_progress'
            AND details:flow_progress:data_quality:expectations IS NOT NULL
            AND timestamp >= current_timestamp() - {window}
        ),
        totals AS (
          SELECT
            sum(coalesce(e.passed_records, 0)) AS passed,
            sum(coalesce(e.failed_records, 0)) AS failed
          FROM expectations
        )
        SELECT
          CAST(passed AS DOUBLE) / nullif(passed + failed, 0) AS pass_rate
        FROM totals
    """)


def drop_rate(p: PipelineRef, window_hours: int = 24) -> str:
    """Column `drop_rate` in [0, 1]: the share of records that expectations dropped in the last `window_hours`.

    sum(dropped_records) / (sum(num_output_rows) + sum(dropped_records)) over the `flow_progress` events that
    carry metrics (dropped records are not written, so written + dropped is what the flows processed). NULL
    when nothing was processed.
    """
    window = _interval(window_hours, "HOURS", "window_hours")
    return _sql(f"""
        WITH flow_metrics AS (
          SELECT
            coalesce(CAST(details:flow_progress:metrics:num_output_rows AS BIGINT), 0) AS output_rows,
            coalesce(CAST(details:flow_progress:data_quality:dropped_records AS BIGINT), 0) AS dropped_records
          FROM {_table(p.event_log)}
          WHERE event_type = 'flow_progress'
            AND details:flow_progress:metrics IS NOT NULL
            AND timestamp >= current_timestamp() - {window}
        ),
        totals AS (
          SELECT
            sum(output_rows) AS output_rows,
            sum(dropped_records) AS dropped_records
          FROM flow_metrics
        )
        SELECT
          CAST(dropped_records AS DOUBLE) / nullif(output_rows + dropped_records, 0) AS drop_rate
        FROM totals
    """)


def availability(p: PipelineRef, window_days: int = 7) -> str:
    """Column `availability` in [0, 1] over the last `window_days`.

    Triggered pipeline: the share of finished updates that did not fail, COMPLETED / (COMPLETED + FAILED),
    counting the `update_progress` events that end an update. CANCELED updates were stopped by someone and
    count neither way; running updates have not finished. NULL when no update finished in the window.

    Continuous pipeline (`p.continuous`): its update never completes, so counting finished updates would read
    0 after one failure, for the whole window. It is the share of time not spent failed instead: each
    `update_progress` state lasts until the next event (the last until now); time in FAILED is down, time
    after a CANCELED (stopped on purpose) counts neither way. NULL when no state changed in the window
    (a pipeline running steadily all along).
    """
    window = _interval(window_days, "DAYS", "window_days")
    if p.continuous:
        return _sql(f"""
            WITH changes AS (
              SELECT
                timestamp AS at,
                details:update_progress:state AS state
              FROM {_table(p.event_log)}
              WHERE event_type = 'update_progress'
                AND timestamp >= current_timestamp() - {window}
            ),
            spans AS (
              SELECT
                state,
                unix_timestamp(coalesce(lead(at) OVER (ORDER BY at), current_timestamp())) - unix_timestamp(at)
                  AS seconds
              FROM changes
            )
            SELECT
              1 - CAST(sum(CASE WHEN state = 'FAILED' THEN seconds ELSE 0 END) AS DOUBLE)
                / nullif(sum(CASE WHEN state = 'CANCELED' THEN 0 ELSE seconds END), 0) AS availability
            FROM spans
        """)
    return _sql(f"""
        WITH finished AS (
          SELECT
            details:update_progress:state AS state
          FROM {_table(p.event_log)}
          WHERE event_type = 'update_progress'
            AND details:update_progress:state IN ('COMPLETED', 'FAILED')
            AND timestamp >= current_timestamp() - {window}
        )
        SELECT
          CAST(count_if(state = 'COMPLETED') AS DOUBLE) / nullif(count(*), 0) AS availability
        FROM finished
    """)


def cpu_utilization(p: PipelineRef, window_minutes: int = 30) -> str:
    """Column `cpu_percent` (0-100): average busy CPU, user + system, of the pipeline's nodes.

    Averages cpu_user_percent + cpu_system_percent over every per-minute node record (driver and workers) in
    the last `window_minutes`, for the clusters tagged Pipeline=<name> and Environment=<environment> (classic
    compute; serverless pipelines have no rows). NULL when no record arrived in the window: node_timeline
    records typically land within an hour, so a short window can be empty.
    """
    return _node_average(p, window_minutes, *_NODE_METRICS["cpu"])


def memory_utilization(p: PipelineRef, window_minutes: int = 30) -> str:
    """Column `memory_percent` (0-100): average mem_used_percent of the pipeline's nodes.

    Same nodes, window and NULL case as `cpu_utilization`.
    """
    return _node_average(p, window_minutes, *_NODE_METRICS["memory"])


# --- stack-wide verdicts: what the alerts run --------------------------------------------------------------------


def event_log_breaches(column: str, operator: str, measurements: Sequence[tuple[PipelineRef, str, float]]) -> str:
    """Columns `pipeline`, `<column>`, `threshold`: the pipelines whose event-log measurement crosses its threshold.

    `measurements` are (pipeline, its per-pipeline query returning `column`, e.g. `failed_updates(p)`, threshold).
    Each pipeline publishes its own event log, so the measurements are one UNION ALL branch per pipeline, and each
    pipeline is measured exactly as `make health` measures it. A NULL measurement (no data yet) is no breach.
    """
    if not measurements:
        raise ValueError("at least one pipeline to watch is required")
    branches = "\n  UNION ALL\n".join(
        f"  SELECT\n    {_string(p.name)} AS pipeline,\n    m.{column}\n"
        f"  FROM (\n{indent(sql.rstrip(), '    ')}\n  ) AS m"
        for p, sql, _ in measurements
    )
    watched = _watched(["pipeline", "threshold"], [(p.name, t) for p, _, t in measurements])
    return f"{watched},\nmeasured AS (\n{branches}\n)\n{_verdict('pipeline', column, operator)}"


def node_breaches(
    metric: Literal["cpu", "memory"],
    environment: str,
    watched: Sequence[tuple[PipelineRef, float]],
    window_minutes: int = 30,
) -> str:
    """Columns `pipeline`, `cpu_percent` | `memory_percent`, `threshold`: the pipelines whose nodes averaged above
    their threshold over the last `window_minutes`.

    One pass over `system.compute.node_timeline` for the whole stack: a node record belongs to the pipeline named by
    the Pipeline tag of its cluster (for a blue/green pipeline, only the live slot's clusters, by their Slot tag),
    among the clusters tagged Environment=<environment>. Per pipeline, the same average as `cpu_utilization` /
    `memory_utilization`; a pipeline without node records in the window is no breach.
    """
    if metric not in _NODE_METRICS:
        raise ValueError(f"metric must be 'cpu' or 'memory', got {metric!r}")
    if not watched:
        raise ValueError("at least one pipeline to watch is required")
    value, column = _NODE_METRICS[metric]
    window = _interval(window_minutes, "MINUTES", "window_minutes")
    rows = [(p.name, p.slot, t) for p, t in watched]
    return (
        _watched(["pipeline", "slot", "threshold"], rows)
        + ",\n"
        + pipeline_clusters(environment)
        + ",\n"
        + _sql(f"""
            measured AS (
              SELECT
                c.pipeline,
                avg({value}) AS {column}
              FROM system.compute.node_timeline AS n
              JOIN pipeline_clusters AS c
                ON c.workspace_id = n.workspace_id
                AND c.cluster_id = n.cluster_id
              WHERE n.start_time >= current_timestamp() - {window}
              GROUP BY c.pipeline
            )
        """)
        + _verdict("pipeline", column, "GREATER_THAN")
    )


def cost_breaches(
    period: Literal["day", "month"],
    environment: str,
    limits: Mapping[str, float],
    by: Literal[Tag.PIPELINE, Tag.ENVIRONMENT] = Tag.PIPELINE,
) -> str:
    """Columns `pipeline` | `environment`, `list_cost_usd`, `threshold`: who spent more than their limit in dollars,
    today or month to date.

    The usage tagged Environment=<environment>, grouped by the `by` tag (Pipeline: each pipeline, keyed by
    `limits`; Environment: the environment as a whole), priced at list price: usage_quantity x
    pricing.effective_list.default (else pricing.default) in USD, matched on SKU, cloud, unit and validity;
    usage_date = current_date() ("day") or from the first of the month ("month"). Corrections (retraction and
    restatement records) are summed with the originals, as Databricks intends. List price, not the negotiated
    price; billing records typically arrive within hours, so today is partial. No usage is no breach.
    """
    if period not in ("day", "month"):
        raise ValueError(f"period must be 'day' or 'month', got {period!r}")
    if by not in (Tag.PIPELINE, Tag.ENVIRONMENT):
        raise ValueError(f"by must be 'Pipeline' or 'Environment', got {by!r}")
    if not limits:
        raise ValueError("at least one limit is required")
    when = "u.usage_date = current_date()" if period == "day" else "u.usage_date >= date_trunc('MONTH', current_date())"
    subject, group = by.lower(), _tag("u.custom_tags", by)
    return (
        _watched([subject, "threshold"], list(limits.items()))
        + ",\n"
        + _sql(f"""
            measured AS (
              SELECT
                {group} AS {subject},
                sum(u.usage_quantity * {_UNIT_PRICE}) AS list_cost_usd
              FROM system.billing.usage AS u
              JOIN system.billing.list_prices AS lp
                ON {_and(_PRICE_MATCH, 16)}
              WHERE {_and([when, *_tag_conditions("u.custom_tags", {Tag.ENVIRONMENT: environment})], 16)}
              GROUP BY {group}
            )
        """)
        + _verdict(subject, "list_cost_usd", "GREATER_THAN")
    )


def breach_conditions(sql: str) -> list[str]:
    """`<subject> <column> <op> <threshold>` for each row of a stack-wide verdict's `watched` table, in order, as
    written by this module (e.g. `sales_pipeline pass_rate < 0.98`); [] for any other SQL. For reading a plan."""
    verdict = _VERDICT_CONDITION.search(sql)
    if not verdict or not sql.startswith("WITH watched ("):
        return []
    block = sql[: sql.index("\n)")]
    rows = _WATCHED_ROW.findall(block)
    subject = [re.sub(r"\\(.)", lambda m: _UNESCAPED.get(m[1], m[1]), name) for name, _ in rows]
    return [f"{name} {verdict[1]} {verdict[2]} {value}" for name, (_, value) in zip(subject, rows, strict=True)]


# --- dashboard datasets: several rows ------------------------------------------------------------------------


def execution_summary(p: PipelineRef) -> str:
    """Columns `hour`, `successful_runs`, `failed_runs`, `total_rows_processed`, `avg_duration_seconds`: last 24 h.

    One row per hour in which updates started. An update is the `update_progress` events sharing
    origin.update_id within the window; it starts at its first event and its state is its last one.
    successful_runs / failed_runs count updates that ended COMPLETED / FAILED; total_rows_processed sums
    num_output_rows of the updates' `flow_progress` events; avg_duration_seconds averages first-to-last event
    of the updates that ended (COMPLETED, FAILED or CANCELED). An update that began before the window is
    counted from its first event inside it.
    """
    table = _table(p.event_log)
    return _sql(f"""
        WITH updates AS (
          SELECT
            origin.update_id AS update_id,
            min(timestamp) AS started_at,
            max(timestamp) AS last_event_at,
            max_by(details:update_progress:state, timestamp) AS final_state
          FROM {table}
          WHERE event_type = 'update_progress'
            AND timestamp >= current_timestamp() - INTERVAL 24 HOURS
          GROUP BY origin.update_id
        ),
        rows_per_update AS (
          SELECT
            origin.update_id AS update_id,
            sum(coalesce(CAST(details:flow_progress:metrics:num_output_rows AS BIGINT), 0)) AS rows_processed
          FROM {table}
          WHERE event_type = 'flow_progress'
            AND timestamp >= current_timestamp() - INTERVAL 24 HOURS
          GROUP BY origin.update_id
        )
        SELECT
          date_trunc('HOUR', u.started_at) AS hour,
          count_if(u.final_state = 'COMPLETED') AS successful_runs,
          count_if(u.final_state = 'FAILED') AS failed_runs,
          coalesce(sum(r.rows_processed), 0) AS total_rows_processed,
          avg(
            CASE
              WHEN u.final_state IN ('COMPLETED', 'FAILED', 'CANCELED')
                THEN (unix_millis(u.last_event_at) - unix_millis(u.started_at)) / 1000.0
            END
          ) AS avg_duration_seconds
        FROM updates AS u
        LEFT JOIN rows_per_update AS r
          ON r.update_id = u.update_id
        GROUP BY date_trunc('HOUR', u.started_at)
        ORDER BY hour
    """)


def data_quality_trend(p: PipelineRef) -> str:
    """Columns `day`, `pass_rate`, `total_dropped`: one row per day of the last 7 days with data-quality metrics.

    pass_rate is `expectation_pass_rate` per day (NULL on a day without expectations); total_dropped sums
    details:flow_progress:data_quality:dropped_records.
    """
    table = _table(p.event_log)
    return _sql(f"""
        WITH quality_events AS (
          SELECT
            CAST(timestamp AS DATE) AS day,
            details:flow_progress:data_quality:expectations AS expectations,
            coalesce(CAST(details:flow_progress:data_quality:dropped_records AS BIGINT), 0) AS dropped_records
          FROM {table}
          WHERE event_type = 'flow_progress'
            AND details:flow_progress:data_quality IS NOT NULL
            AND timestamp >= current_timestamp() - INTERVAL 7 DAYS
        ),
        expectation_totals AS (
          SELECT
            day,
            sum(coalesce(e.passed_records, 0)) AS passed,
            sum(coalesce(e.failed_records, 0)) AS failed
          FROM (
            SELECT
              day,
              explode(from_json(expectations, '{_EXPECTATIONS_TYPE}')) AS e
            FROM quality_events
            WHERE expectations IS NOT NULL
          ) AS checks
          GROUP BY day
        ),
        drops AS (
          SELECT
            day,
            sum(dropped_records) AS total_dropped
          FROM quality_events
          GROUP BY day
        )
        SELECT
          d.day AS day,
          CAST(x.passed AS DOUBLE) / nullif(x.passed + x.failed, 0) AS pass_rate,
          d.total_dropped AS total_dropped
        FROM drops AS d
        LEFT JOIN expectation_totals AS x
          ON x.day = d.day
        ORDER BY day
    """)


def latency_by_table(p: PipelineRef) -> str:
    """Columns `table_name`, `avg_duration_sec`, `max_duration_sec`, `execution_count`: flow runs of the last 24 h.

    A flow run is the `flow_progress` events of one flow (origin.flow_name; a table's default flow is named
    after the table) in one update, from its first event to its last, counted once it reported COMPLETED or
    FAILED. A continuous pipeline's flows keep RUNNING and so do not appear. Slowest tables first.
    """
    return _sql(f"""
        WITH flow_runs AS (
          SELECT
            origin.flow_name AS table_name,
            (unix_millis(max(timestamp)) - unix_millis(min(timestamp))) / 1000.0 AS duration_sec
          FROM {_table(p.event_log)}
          WHERE event_type = 'flow_progress'
            AND origin.flow_name IS NOT NULL
            AND timestamp >= current_timestamp() - INTERVAL 24 HOURS
          GROUP BY origin.update_id, origin.flow_name
          HAVING count_if(details:flow_progress:status IN ('COMPLETED', 'FAILED')) > 0
        )
        SELECT
          table_name,
          avg(duration_sec) AS avg_duration_sec,
          max(duration_sec) AS max_duration_sec,
          count(*) AS execution_count
        FROM flow_runs
        GROUP BY table_name
        ORDER BY avg_duration_sec DESC
    """)


def dbu_by_pipeline(environment: str) -> str:
    """Columns `pipeline`, `dbus`, `list_cost_usd`: DBU usage tagged Environment=<environment>, last 30 days.

    One row per value of the Pipeline tag (custom_tags['Pipeline']), over `system.billing.usage` records in DBUs
    with usage_date in the last 30 days; list_cost_usd prices them as `cost_breaches` does (NULL for a pipeline
    whose SKUs have no USD list price). Most expensive first.
    """
    if not isinstance(environment, str) or not environment:
        raise ValueError(f"environment must be a non-empty string, got {environment!r}")
    conditions = [
        "u.usage_unit = 'DBU'",
        "u.usage_date >= date_sub(current_date(), 30)",
        f"{_tag('u.custom_tags', Tag.PIPELINE)} IS NOT NULL",
        *_tag_conditions("u.custom_tags", {Tag.ENVIRONMENT: environment}),
    ]
    return _sql(f"""
        SELECT
          {_tag("u.custom_tags", Tag.PIPELINE)} AS pipeline,
          sum(u.usage_quantity) AS dbus,
          sum(u.usage_quantity * {_UNIT_PRICE}) AS list_cost_usd
        FROM system.billing.usage AS u
        LEFT JOIN system.billing.list_prices AS lp
          ON {_and(_PRICE_MATCH, 10)}
        WHERE {_and(conditions, 10)}
        GROUP BY {_tag("u.custom_tags", Tag.PIPELINE)}
        ORDER BY list_cost_usd DESC NULLS LAST
    """)


# --- helpers -------------------------------------------------------------------------------------------------


def _cluster_tags(p: PipelineRef) -> dict[str, str]:
    return {Tag.PIPELINE: p.name, Tag.ENVIRONMENT: p.environment, **({Tag.SLOT: p.slot} if p.slot else {})}


def _node_average(p: PipelineRef, window_minutes: int, value: str, column: str) -> str:
    window = _interval(window_minutes, "MINUTES", "window_minutes")
    return _sql(f"""
        WITH pipeline_clusters AS (
          SELECT DISTINCT
            workspace_id,
            cluster_id
          FROM system.compute.clusters
          WHERE {_and(_tag_conditions("tags", _cluster_tags(p)), 12)}
        )
        SELECT
          avg({value}) AS {column}
        FROM system.compute.node_timeline AS n
        JOIN pipeline_clusters AS c
          ON c.workspace_id = n.workspace_id
          AND c.cluster_id = n.cluster_id
        WHERE n.start_time >= current_timestamp() - {window}
    """)


# What the node metrics average, and the column they return it in: per pipeline (health) and stack-wide (alerts).
_NODE_METRICS = {
    "cpu": ("n.cpu_user_percent + n.cpu_system_percent", "cpu_percent"),
    "memory": ("n.mem_used_percent", "memory_percent"),
}


def _watched(columns: Sequence[str], rows: Sequence[tuple[str | float | None, ...]]) -> str:
    """`WITH watched (<columns>) AS (VALUES ...)`: who is watched, and against which threshold (one row per line)."""
    values = ",\n".join("    (" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    return f"WITH watched ({', '.join(columns)}) AS (\n  VALUES\n{values}\n)"


def _verdict(subject: str, column: str, operator: str) -> str:
    """The rows of `measured` that cross their `watched` threshold: the breaches, in a stable order."""
    if operator not in OPERATORS:
        raise ValueError(f"operator must be one of {sorted(OPERATORS)}, got {operator!r}")
    return _sql(f"""
        SELECT
          w.{subject},
          m.{column},
          w.threshold
        FROM watched AS w
        JOIN measured AS m
          ON m.{subject} = w.{subject}
        WHERE m.{column} {OPERATORS[operator]} w.threshold
        ORDER BY w.{subject}
    """)


def _literal(value: str | float | None) -> str:
    if value is None:
        return "CAST(NULL AS STRING)"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f"expected a string, a number or None, got {value!r}")
    return repr(float(value))


def _table(name: str) -> str:
    """`catalog`.`schema`.`table` for a three-part name of letters, digits and underscores; ValueError otherwise."""
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
        raise ValueError(f"not a fully qualified table name (catalog.schema.table): {name!r}")
    return quoted(*name.split("."))


def pipeline_clusters(environment: str) -> str:
    """The `pipeline_clusters` CTE: the classic-compute clusters of each `watched` pipeline (its
    Pipeline tag, its Slot tag when it has a slot, this environment's tag), by workspace and
    cluster id. The one way a pipeline's clusters are found: the resource alerts and the capacity
    history read `system.compute.node_timeline` through it."""
    return f"""pipeline_clusters AS (
  SELECT DISTINCT
    c.workspace_id,
    c.cluster_id,
    w.pipeline
  FROM system.compute.clusters AS c
  JOIN watched AS w
    ON {_tag("c.tags", Tag.PIPELINE)} = w.pipeline
    AND (w.slot IS NULL OR {_tag("c.tags", Tag.SLOT)} = w.slot)
  WHERE {_and(_tag_conditions("c.tags", {Tag.ENVIRONMENT: environment}), 4)}
)"""


def _tag(column: str, key: Tag) -> str:
    """`column['Key']`: one tag of a tags map column."""
    return f"{column}[{_string(key)}]"


def _string(value: str) -> str:
    """A Databricks SQL string literal holding exactly `value`, on one line (backslash, single quote, line feed and
    carriage return escaped)."""
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return "'" + value.translate(_STRING_ESCAPES) + "'"


def _tag_conditions(column: str, tags: Mapping[str, str]) -> list[str]:
    """`<column>['<key>'] = '<value>'`, one condition per tag."""
    if not tags:
        raise ValueError("at least one tag is required")
    return [f"{column}[{_string(key)}] = {_string(value)}" for key, value in tags.items()]


def _and(conditions: Sequence[str], indent: int) -> str:
    """The conditions joined by AND, one per line; continuation lines start at column `indent` of the template."""
    return ("\n" + " " * indent + "AND ").join(conditions)


def _interval(amount: int, unit: str, name: str) -> str:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"{name} must be a positive integer, got {amount!r}")
    return f"INTERVAL {amount} {unit}"


def _sql(text: str) -> str:
    return dedent(text).strip() + "\n"
