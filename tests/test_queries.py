"""monitoring.queries: every query parses as Databricks SQL, reads the documented sources and columns, and embeds
its parameters (windows, tags, table names) safely."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from lakeflow.sql import queries
from lakeflow.sql.queries import (
    PipelineRef,
    availability,
    breach_conditions,
    cost_breaches,
    cpu_utilization,
    data_quality_trend,
    dbu_by_pipeline,
    drop_rate,
    event_log_breaches,
    execution_summary,
    expectation_pass_rate,
    failed_updates,
    latency_by_table,
    memory_utilization,
    node_breaches,
    processing_lag_minutes,
)
from tests.conftest import by_type

EVENT_LOG = "prod.sales.sales_pipeline_event_log"
REF = PipelineRef(name="sales_pipeline", environment="prod", event_log=EVENT_LOG)
OTHER_LOG = "prod.web.clicks_event_log"
OTHER = PipelineRef(name="clicks", environment="prod", event_log=OTHER_LOG, slot="blue")

QUERIES: dict[str, Callable[[], str]] = {
    "failed_updates": lambda: failed_updates(REF),
    "processing_lag_minutes": lambda: processing_lag_minutes(REF),
    "expectation_pass_rate": lambda: expectation_pass_rate(REF),
    "drop_rate": lambda: drop_rate(REF),
    "availability": lambda: availability(REF),
    "cpu_utilization": lambda: cpu_utilization(REF),
    "memory_utilization": lambda: memory_utilization(REF),
    "event_log_breaches": lambda: event_log_breaches(
        "availability", "LESS_THAN", [(REF, availability(REF), 0.995), (OTHER, availability(OTHER), 0.99)]
    ),
    "node_breaches_cpu": lambda: node_breaches("cpu", "prod", [(REF, 90), (OTHER, 80)]),
    "node_breaches_memory": lambda: node_breaches("memory", "prod", [(REF, 85)]),
    "cost_breaches_day": lambda: cost_breaches("day", "prod", {"sales_pipeline": 120, "clicks": 40}),
    "cost_breaches_month": lambda: cost_breaches("month", "prod", {"sales_pipeline": 3000}),
    "environment_cost": lambda: cost_breaches("month", "prod", {"prod": 25000}, by="Environment"),
    "execution_summary": lambda: execution_summary(REF),
    "data_quality_trend": lambda: data_quality_trend(REF),
    "latency_by_table": lambda: latency_by_table(REF),
    "dbu_by_pipeline": lambda: dbu_by_pipeline("prod"),
}

ALERT_COLUMNS = {
    "failed_updates": "failed_updates",
    "processing_lag_minutes": "lag_minutes",
    "expectation_pass_rate": "pass_rate",
    "drop_rate": "drop_rate",
    "availability": "availability",
    "cpu_utilization": "cpu_percent",
    "memory_utilization": "memory_percent",
}

# What the alerts run: the subject over its threshold, its measurement, the threshold.
VERDICT_COLUMNS = {
    "event_log_breaches": ["pipeline", "availability", "threshold"],
    "node_breaches_cpu": ["pipeline", "cpu_percent", "threshold"],
    "node_breaches_memory": ["pipeline", "memory_percent", "threshold"],
    "cost_breaches_day": ["pipeline", "list_cost_usd", "threshold"],
    "cost_breaches_month": ["pipeline", "list_cost_usd", "threshold"],
    "environment_cost": ["environment", "list_cost_usd", "threshold"],
}

DASHBOARD_COLUMNS = {
    "execution_summary": ["hour", "successful_runs", "failed_runs", "total_rows_processed", "avg_duration_seconds"],
    "data_quality_trend": ["day", "pass_rate", "total_dropped"],
    "latency_by_table": ["table_name", "avg_duration_sec", "max_duration_sec", "execution_count"],
    "dbu_by_pipeline": ["pipeline", "dbus", "list_cost_usd"],
}

EVENT_LOG_QUERIES = [
    "failed_updates",
    "processing_lag_minutes",
    "expectation_pass_rate",
    "drop_rate",
    "availability",
    "execution_summary",
    "data_quality_trend",
    "latency_by_table",
]
SOURCES = {
    **{name: {EVENT_LOG} for name in EVENT_LOG_QUERIES},
    "cpu_utilization": {"system.compute.clusters", "system.compute.node_timeline"},
    "memory_utilization": {"system.compute.clusters", "system.compute.node_timeline"},
    "event_log_breaches": {EVENT_LOG, OTHER_LOG},
    "node_breaches_cpu": {"system.compute.clusters", "system.compute.node_timeline"},
    "node_breaches_memory": {"system.compute.clusters", "system.compute.node_timeline"},
    "cost_breaches_day": {"system.billing.usage", "system.billing.list_prices"},
    "cost_breaches_month": {"system.billing.usage", "system.billing.list_prices"},
    "environment_cost": {"system.billing.usage", "system.billing.list_prices"},
    "dbu_by_pipeline": {"system.billing.usage", "system.billing.list_prices"},
}

# https://docs.databricks.com/aws/en/ldp/monitor-event-log-schema
EVENT_LOG_SCHEMA = {
    **dict.fromkeys(["id", "sequence", "message", "level", "maturity_level", "error"], "STRING"),
    "origin": "STRUCT<cloud STRING, region STRING, org_id BIGINT, pipeline_id STRING, "
    "pipeline_type STRING, pipeline_name STRING, cluster_id STRING, update_id STRING, "
    "maintenance_id STRING, table_id STRING, table_name STRING, dataset_name STRING, flow_id STRING, "
    "flow_name STRING, batch_id BIGINT, request_id STRING>",
    "timestamp": "TIMESTAMP",
    "details": "STRING",
    "event_type": "STRING",
}

# The documented schemas (the column lists of the pages cited in src/lakeflow/sql/queries.py). A query that names a
# column or struct field that is not here fails `test_columns_are_documented`.
DOCUMENTED_SCHEMA = {
    "prod": {"sales": {"sales_pipeline_event_log": EVENT_LOG_SCHEMA}, "web": {"clicks_event_log": EVENT_LOG_SCHEMA}},
    "system": {
        # https://docs.databricks.com/aws/en/admin/system-tables/compute
        "compute": {
            "clusters": {
                **dict.fromkeys(
                    ["account_id", "workspace_id", "cluster_id", "cluster_name", "owned_by", "driver_node_type"],
                    "STRING",
                ),
                **dict.fromkeys(["worker_node_type", "cluster_source", "dbr_version"], "STRING"),
                **dict.fromkeys(["driver_instance_pool_id", "worker_instance_pool_id"], "STRING"),
                **dict.fromkeys(["worker_count", "min_autoscale_workers", "max_autoscale_workers"], "BIGINT"),
                "auto_termination_minutes": "BIGINT",
                "enable_elastic_disk": "BOOLEAN",
                "tags": "MAP<STRING, STRING>",
                "init_scripts": "ARRAY<STRING>",
                **dict.fromkeys(["create_time", "delete_time", "change_time"], "TIMESTAMP"),
                "change_date": "DATE",
            },
            "node_timeline": {
                **dict.fromkeys(["account_id", "workspace_id", "cluster_id", "instance_id", "node_type"], "STRING"),
                **dict.fromkeys(["start_time", "end_time"], "TIMESTAMP"),
                "driver": "BOOLEAN",
                **dict.fromkeys(
                    ["cpu_user_percent", "cpu_system_percent", "cpu_wait_percent", "mem_used_percent"], "DOUBLE"
                ),
                "mem_swap_percent": "DOUBLE",
                **dict.fromkeys(["network_sent_bytes", "network_received_bytes"], "BIGINT"),
                "disk_free_bytes_per_mount_point": "MAP<STRING, BIGINT>",
            },
        },
        "billing": {
            # https://docs.databricks.com/aws/en/admin/system-tables/billing
            "usage": {
                **dict.fromkeys(["record_id", "account_id", "workspace_id", "sku_name", "cloud"], "STRING"),
                **dict.fromkeys(["usage_unit", "record_type", "billing_origin_product", "usage_type"], "STRING"),
                **dict.fromkeys(["usage_start_time", "usage_end_time"], "TIMESTAMP"),
                **dict.fromkeys(["usage_date", "ingestion_date"], "DATE"),
                "custom_tags": "MAP<STRING, STRING>",
                "usage_quantity": "DECIMAL(38, 18)",
                "usage_metadata": "STRUCT<cluster_id STRING, job_id STRING, warehouse_id STRING, "
                "instance_pool_id STRING, node_type STRING, job_run_id STRING, notebook_id STRING, "
                "dlt_pipeline_id STRING, dlt_update_id STRING, dlt_maintenance_id STRING>",
            },
            # https://docs.databricks.com/aws/en/admin/system-tables/pricing
            "list_prices": {
                **dict.fromkeys(["account_id", "sku_name", "cloud", "currency_code", "usage_unit"], "STRING"),
                **dict.fromkeys(["price_start_time", "price_end_time"], "TIMESTAMP"),
                "pricing": "STRUCT<default DECIMAL(38, 18), promotional STRUCT<default DECIMAL(38, 18)>, "
                "effective_list STRUCT<default DECIMAL(38, 18)>>",
            },
        },
    },
}

# Fields of the `details` JSON string the queries may read (event log schema page, "details object").
DOCUMENTED_DETAILS_PATHS = {
    "update_progress:state",
    "flow_progress:status",
    "flow_progress:metrics",
    "flow_progress:metrics:num_output_rows",
    "flow_progress:metrics:num_upserted_rows",
    "flow_progress:metrics:num_deleted_rows",
    "flow_progress:data_quality",
    "flow_progress:data_quality:dropped_records",
    "flow_progress:data_quality:expectations",
}

# The elements of details:flow_progress:data_quality:expectations.
DOCUMENTED_EXPECTATION_FIELDS = {"name", "dataset", "passed_records", "failed_records"}


def test_expectations_are_parsed_with_the_documented_fields() -> None:
    fields = re.findall(r"(\w+): \w+", queries._EXPECTATIONS_TYPE)
    assert set(fields) == DOCUMENTED_EXPECTATION_FIELDS


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="databricks")


def source_tables(tree: exp.Expression) -> set[str]:
    """Tables read, without the query's own CTEs."""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {
        ".".join(part for part in (table.catalog, table.db, table.name) if part)
        for table in tree.find_all(exp.Table)
        if table.name not in ctes or table.db
    }


def map_lookups(tree: exp.Expression, column: str) -> dict[str, str]:
    """{key: value} of every `<column>['key'] = 'value'` comparison."""
    found = {}
    for eq in tree.find_all(exp.EQ):
        lookup, value = eq.this, eq.expression
        if isinstance(lookup, exp.Bracket) and lookup.this.name == column and isinstance(value, exp.Literal):
            found[lookup.expressions[0].name] = value.name
    return found


def intervals(tree: exp.Expression) -> set[tuple[str, str]]:
    return {(interval.this.name, interval.unit.name) for interval in tree.find_all(exp.Interval)}


# --- syntax ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", QUERIES)
def test_every_query_parses_as_databricks_sql(name: str) -> None:
    sql = QUERIES[name]()
    assert isinstance(parse(sql), exp.Select)
    assert sql.endswith("\n") and not sql.startswith((" ", "\n"))


def test_the_parser_really_rejects_broken_sql() -> None:
    sql = failed_updates(REF)
    broken = sql.replace("count(*)", "count(*", 1)
    assert broken != sql
    parse(sql)
    with pytest.raises(ParseError):
        parse(broken)


# --- outputs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "column"), ALERT_COLUMNS.items())
def test_alert_queries_return_exactly_their_one_column(name: str, column: str) -> None:
    tree = parse(QUERIES[name]())
    assert tree.named_selects == [column]
    assert not tree.args.get("group"), "an alert query returns one row"


@pytest.mark.parametrize(("name", "columns"), DASHBOARD_COLUMNS.items())
def test_dashboard_datasets_return_their_columns(name: str, columns: list[str]) -> None:
    assert parse(QUERIES[name]()).named_selects == columns


# --- sources and columns ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", QUERIES)
def test_queries_read_their_sources(name: str) -> None:
    assert source_tables(parse(QUERIES[name]())) == SOURCES[name]


@pytest.mark.parametrize("name", QUERIES)
def test_columns_are_documented(name: str) -> None:
    tree = qualify(
        parse(QUERIES[name]()), schema=DOCUMENTED_SCHEMA, dialect="databricks", validate_qualify_columns=True
    )
    tree = annotate_types(tree, schema=DOCUMENTED_SCHEMA, dialect="databricks")
    # Struct fields resolve against the schema; `e` is an exploded expectation, typed by the JSON it was parsed from.
    unknown_fields = [
        dot.sql("databricks")
        for dot in tree.find_all(exp.Dot)
        if dot.type.is_type("unknown")
        and not (dot.this.name == "e" and dot.expression.name in DOCUMENTED_EXPECTATION_FIELDS)
    ]
    assert unknown_fields == []


def test_an_undocumented_column_is_caught() -> None:
    sql = cpu_utilization(REF).replace("cpu_user_percent", "cpu_usr_percent")
    with pytest.raises(sqlglot.errors.OptimizeError, match="cpu_usr_percent"):
        qualify(parse(sql), schema=DOCUMENTED_SCHEMA, dialect="databricks", validate_qualify_columns=True)


@pytest.mark.parametrize("name", EVENT_LOG_QUERIES)
def test_details_paths_are_documented(name: str) -> None:
    paths = {match.lstrip(":") for match in re.findall(r"\bdetails((?::\w+)+)", QUERIES[name]())}
    assert paths
    assert paths <= DOCUMENTED_DETAILS_PATHS


def test_update_counts_read_update_progress_states() -> None:
    assert {"update_progress", "FAILED"} <= {lit.name for lit in parse(failed_updates(REF)).find_all(exp.Literal)}
    assert "details:update_progress:state IN ('COMPLETED', 'FAILED')" in availability(REF)


# --- parameters ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("builder", "default"),
    [
        (failed_updates, ("60", "MINUTES")),
        (expectation_pass_rate, ("24", "HOURS")),
        (drop_rate, ("24", "HOURS")),
        (availability, ("7", "DAYS")),
        (cpu_utilization, ("30", "MINUTES")),
        (memory_utilization, ("30", "MINUTES")),
    ],
)
def test_windows_reach_the_sql(builder: Callable[..., str], default: tuple[str, str]) -> None:
    assert intervals(parse(builder(REF))) == {default}
    assert intervals(parse(builder(REF, 17))) == {("17", default[1])}
    assert f"current_timestamp() - INTERVAL 17 {default[1]}" in builder(REF, 17)


@pytest.mark.parametrize("window", [0, -5, True, 2.5, "60"])
@pytest.mark.parametrize("builder", [failed_updates, expectation_pass_rate, drop_rate, availability, cpu_utilization])
def test_windows_must_be_positive_integers(builder: Callable[..., str], window: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        builder(REF, window)


def test_dashboard_windows() -> None:
    assert intervals(parse(execution_summary(REF))) == {("24", "HOURS")}
    assert intervals(parse(data_quality_trend(REF))) == {("7", "DAYS")}
    assert intervals(parse(latency_by_table(REF))) == {("24", "HOURS")}
    assert "u.usage_date >= date_sub(current_date(), 30)" in dbu_by_pipeline("prod")


@pytest.mark.parametrize("builder", [cpu_utilization, memory_utilization])
def test_node_metrics_find_the_pipeline_clusters_by_tag(builder: Callable[..., str]) -> None:
    ref = PipelineRef(name="o'brien\\pipe", environment="pr'od", event_log=EVENT_LOG)
    tree = parse(builder(ref))
    assert map_lookups(tree, "tags") == {"Pipeline": "o'brien\\pipe", "Environment": "pr'od"}


def test_cost_is_grouped_by_the_pipeline_tag_within_the_environment() -> None:
    tree = parse(cost_breaches("day", "pr'od", {"sales_pipeline": 120}))
    assert map_lookups(tree, "custom_tags") == {"Environment": "pr'od"}
    measured = next(cte.this for cte in tree.find_all(exp.CTE) if cte.alias == "measured")
    assert [g.sql("databricks") for g in measured.args["group"].expressions] == ["u.custom_tags['Pipeline']"]
    environment = parse(cost_breaches("month", "prod", {"prod": 1}, by="Environment"))
    measured = next(cte.this for cte in environment.find_all(exp.CTE) if cte.alias == "measured")
    assert [g.sql("databricks") for g in measured.args["group"].expressions] == ["u.custom_tags['Environment']"]


@pytest.mark.parametrize(
    "value",
    [
        "O'Brien",
        "it''s",
        "back\\slash",
        "trailing\\",
        "\\' OR 1=1 --",
        "x' OR '1'='1",
        "two\nlines",
        "a\r\n    b",
        "back\\nslash",
    ],
)
def test_names_in_the_sql_are_escaped(value: str) -> None:
    sql = cost_breaches("month", value, {value: 10})
    tree = parse(sql)
    # The literals hold exactly the value (no injection, nothing lost) and the WHERE clause stayed a chain of ANDs.
    assert map_lookups(tree, "custom_tags") == {"Environment": value}
    assert watched_rows(tree) == [(value, "10.0")]
    assert not list(
        next(cte.this for cte in tree.find_all(exp.CTE) if cte.alias == "measured").find(exp.Where).find_all(exp.Or)
    )
    assert breach_conditions(sql) == [f"{value} list_cost_usd > 10.0"]
    # A literal never spans lines: the templates are dedented, so an indented line inside one would lose its indent.
    assert not set(queries._string(value)) & {"\n", "\r"}


def test_doubled_quotes_would_not_escape_in_databricks() -> None:
    # Why the module escapes with a backslash: Databricks concatenates adjacent literals, so 'O''Brien' is OBrien.
    literal = parse("SELECT 'O''Brien' AS x").selects[0].this
    assert not (isinstance(literal, exp.Literal) and literal.name == "O'Brien")
    escaped = queries._string("O'Brien")
    assert escaped == "'O\\'Brien'"
    assert parse(f"SELECT {escaped} AS x").selects[0].this.name == "O'Brien"


def test_cost_periods() -> None:
    day = parse(cost_breaches("day", "prod", {"p": 1}))
    month = parse(cost_breaches("month", "prod", {"p": 1}))
    assert any(isinstance(eq.expression, exp.CurrentDate) for eq in day.find_all(exp.EQ))
    assert not day.find(exp.TimestampTrunc)
    assert month.find(exp.TimestampTrunc).unit.name == "MONTH"
    assert "u.usage_date >= date_trunc('MONTH', current_date())" in cost_breaches("month", "prod", {"p": 1})


def test_cost_joins_prices_on_sku_cloud_unit_and_validity() -> None:
    sql = cost_breaches("day", "prod", {"p": 1})
    for condition in queries._PRICE_MATCH:
        assert condition in sql
    assert "lp.pricing.effective_list.default" in sql


@pytest.mark.parametrize(
    ("period", "limits", "by"),
    [("week", {"p": 1}, "Pipeline"), ("DAY", {"p": 1}, "Pipeline"), ("day", {}, "Pipeline"), ("day", {"p": 1}, "Team")],
)
def test_cost_rejects_bad_arguments(period: str, limits: dict[str, float], by: str) -> None:
    with pytest.raises(ValueError):
        cost_breaches(period, "prod", limits, by=by)  # type: ignore[arg-type]


# --- stack-wide verdicts: what the alerts run ----------------------------------------------------------------------


def watched_rows(tree: exp.Expression) -> list[tuple[str, ...]]:
    """The rows of the `watched` VALUES table, as the literals' text."""
    values = next(cte.this for cte in tree.find_all(exp.CTE) if cte.alias == "watched").find(exp.Values)
    return [tuple("NULL" if isinstance(v, exp.Cast) else v.name for v in row.expressions) for row in values.expressions]


@pytest.mark.parametrize(("name", "columns"), VERDICT_COLUMNS.items())
def test_verdicts_list_the_subject_its_measurement_and_threshold(name: str, columns: list[str]) -> None:
    tree = parse(QUERIES[name]())
    assert tree.named_selects == columns
    assert [o.this.sql() for o in tree.args["order"].expressions] == [f"w.{columns[0]}"]


def test_each_pipeline_keeps_its_own_threshold() -> None:
    assert watched_rows(parse(QUERIES["event_log_breaches"]())) == [("sales_pipeline", "0.995"), ("clicks", "0.99")]
    # blue/green: only the live slot's clusters count, by their Slot tag
    assert watched_rows(parse(QUERIES["node_breaches_cpu"]())) == [
        ("sales_pipeline", "NULL", "90.0"),
        ("clicks", "blue", "80.0"),
    ]
    assert breach_conditions(QUERIES["node_breaches_cpu"]()) == [
        "sales_pipeline cpu_percent > 90.0",
        "clicks cpu_percent > 80.0",
    ]
    assert breach_conditions(QUERIES["event_log_breaches"]()) == [
        "sales_pipeline availability < 0.995",
        "clicks availability < 0.99",
    ]
    assert breach_conditions(failed_updates(REF)) == []


def test_event_log_verdicts_measure_each_pipeline_with_its_own_query() -> None:
    sql = QUERIES["event_log_breaches"]()
    for ref in (REF, OTHER):
        assert queries.indent(availability(ref).rstrip(), "    ") in sql
    branches = parse(sql).find(exp.Union)
    assert branches is not None and source_tables(branches.this) == {EVENT_LOG}


@pytest.mark.parametrize(
    ("operator", "measured", "breaches"),
    [
        ("GREATER_THAN", {"a": 0.2, "b": 0.05, "c": None}, [("a", 0.2, 0.1)]),
        ("LESS_THAN", {"a": 0.2, "b": 0.05, "c": None}, [("b", 0.05, 0.5)]),
        ("GREATER_THAN", {}, []),
    ],
)
def test_the_verdict_returns_exactly_the_pipelines_over_their_threshold(
    operator: str, measured: dict[str, float | None], breaches: list[tuple[str, float, float]]
) -> None:
    """Run the verdict on SQLite (transpiled by sqlglot) over measurements: a threshold per pipeline, the
    operator's direction, no data (NULL, or no row) is no breach, and a pipeline equal to its threshold is fine."""
    import sqlite3

    thresholds = {"a": 0.1, "b": 0.5, "c": 0.3, "d": 0.2}
    measured_sql = (
        " UNION ALL ".join(f"SELECT '{k}' AS pipeline, {'NULL' if v is None else v} AS v" for k, v in measured.items())
        or "SELECT 'x' AS pipeline, 1.0 AS v WHERE 1 = 0"
    )
    sql = (
        queries._watched(["pipeline", "threshold"], list(thresholds.items()))
        + f",\nmeasured AS ({measured_sql})\n"
        + queries._verdict("pipeline", "v", operator)
    )
    parse(sql)
    (lite,) = sqlglot.transpile(sql, read="databricks", write="sqlite")
    assert sqlite3.connect(":memory:").execute(lite).fetchall() == breaches


def test_verdicts_refuse_nothing_to_watch_and_unknown_operators() -> None:
    with pytest.raises(ValueError, match="at least one"):
        event_log_breaches("availability", "LESS_THAN", [])
    with pytest.raises(ValueError, match="at least one"):
        node_breaches("cpu", "prod", [])
    with pytest.raises(ValueError, match="operator"):
        event_log_breaches("availability", "EQUAL", [(REF, availability(REF), 1)])
    with pytest.raises(ValueError, match="metric"):
        node_breaches("disk", "prod", [(REF, 1)])  # type: ignore[arg-type]


def test_dbu_by_pipeline_filters_the_environment() -> None:
    tree = parse(dbu_by_pipeline("pr'od"))
    assert map_lookups(tree, "custom_tags") == {"Environment": "pr'od"}
    assert "u.usage_unit = 'DBU'" in dbu_by_pipeline("prod")
    with pytest.raises(ValueError):
        dbu_by_pipeline("")


@pytest.mark.parametrize(
    "table",
    [
        "sales_pipeline_event_log",
        "prod.sales",
        "prod.sales.event_log.extra",
        "prod.sales.event_log; DROP TABLE x",
        "prod.sales.`event_log`",
        "prod.sal-es.event_log",
        "prod..event_log",
        " prod.sales.event_log",
        "prod.sales.event_log\n",
        "",
    ],
)
def test_invalid_event_log_names_are_rejected(table: str) -> None:
    with pytest.raises(ValueError, match="fully qualified"):
        PipelineRef(name="sales_pipeline", environment="prod", event_log=table)


def test_event_log_name_is_quoted_part_by_part() -> None:
    ref = PipelineRef(name="p", environment="prod", event_log="select.order.1_events")
    sql = failed_updates(ref)
    assert "FROM `select`.`order`.`1_events`" in sql
    assert source_tables(parse(sql)) == {"select.order.1_events"}


@pytest.mark.parametrize(("name", "environment"), [("", "prod"), ("p", ""), (None, "prod")])
def test_pipeline_ref_needs_name_and_environment(name: object, environment: object) -> None:
    with pytest.raises(ValueError):
        PipelineRef(name=name, environment=environment, event_log=EVENT_LOG)  # type: ignore[arg-type]


def test_pipeline_ref_is_frozen() -> None:
    with pytest.raises(AttributeError):
        REF.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "hostile",
    ["x`;DROP SCHEMA staging_dr CASCADE;--", "a` UNION SELECT 1 --", "select", "a.b", "``"],
)
def test_a_hostile_name_stays_one_identifier_in_every_statement_the_stack_writes(hostile):
    """Names are validated where they enter (settings); the SQL builders quote them anyway, with a
    backtick doubled, so a name that slipped past validation is still one identifier: sqlglot
    parses each statement as one statement naming exactly the parts it was given."""
    import sqlglot
    from sqlglot import exp

    from lakeflow.config.models import DisasterRecovery
    from lakeflow.sql.names import quoted
    from lakeflow.sql.snapshots import Snapshot, restore_sql, snapshot_sql

    name = quoted("cat", hostile, "tbl")
    statements = {
        "select": f"SELECT * FROM {name}",
        "drop": f"DROP SCHEMA IF EXISTS {quoted('cat', hostile)} CASCADE",
        "snapshot": snapshot_sql(
            Snapshot("tbl", source=name, snapshot=quoted("dr", hostile, "tbl_dr_snapshot"), rpo_minutes=60),
            DisasterRecovery(critical_tables=["tbl"]),
        ),
        "restore": restore_sql(Snapshot("tbl", source=name, snapshot=quoted("dr", hostile, "s"), rpo_minutes=60)),
    }
    for what, sql in statements.items():
        parsed = sqlglot.parse(sql, read="databricks")
        assert len(parsed) == 1, (what, sql)  # the tokenizer ends a statement at `;` outside quotes
        if isinstance(parsed[0], exp.Command):
            continue  # CREATE … DEEP CLONE is kept as one command by sqlglot: one statement is the check
        schemas = {t.db for t in parsed[0].find_all(exp.Table)} | {
            s.name for s in parsed[0].find_all(exp.Identifier) if s.name == hostile
        }
        assert hostile in schemas, (what, sql)


def test_a_continuous_pipeline_is_available_for_the_time_it_was_not_failed():
    """A continuous pipeline's update never completes: COMPLETED / (COMPLETED + FAILED) read 0 after
    one failed update and paged P1 for the whole 7-day window. Its availability is time-based."""
    continuous = PipelineRef("clicks", "prod", "prod.web.clicks_event_log", continuous=True)
    sql = availability(continuous)
    tree = sqlglot.parse_one(sql, read="databricks")
    windows = list(tree.find_all(exp.Window))
    assert [w.this.key for w in windows] == ["lead"]  # each state lasts until the next event
    assert "coalesce(lead(at) OVER (ORDER BY at), current_timestamp())" in sql  # the last one until now
    assert "WHEN state = 'FAILED' THEN seconds" in sql and "WHEN state = 'CANCELED' THEN 0" in sql
    assert "'COMPLETED'" not in sql
    # triggered pipelines keep counting finished updates
    assert "details:update_progress:state IN ('COMPLETED', 'FAILED')" in availability(REF)


def test_the_stack_measures_continuous_pipelines_by_time(plans):
    queries = {a["name"]: a["inputs"]["queryText"] for a in by_type(plans["prod"], "AlertV2")}
    assert "WHEN state = 'FAILED' THEN seconds" in queries["pipeline-alerts-clickstream_events-availability"]
    assert "WHEN state = 'FAILED' THEN seconds" not in queries["pipeline-alerts-sales_pipeline-availability"]
