"""`make capacity`: implausible inputs are said (warnings) or refused (errors, exit 2), every pipeline that is
not projected is named, and the query that exports HISTORY is valid Databricks SQL with the CSV's columns."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

from lakeflow.ops import capacity
from lakeflow.ops.capacity import HISTORY_COLUMNS, history_query, read_history
from lakeflow.ops.capacity import main as capacity_main
from lakeflow.sql.queries import PipelineRef
from tests.test_queries import DOCUMENTED_DETAILS_PATHS, DOCUMENTED_SCHEMA

HEADER = ",".join(HISTORY_COLUMNS)
SALES_REF = PipelineRef("sales_pipeline", "prod", "prod.sales.sales_pipeline_event_log")


def run(capsys, *args: str, root: Path | None = None) -> tuple[int, str, list[str]]:
    """(exit code, stdout, stderr lines) of `make capacity STACK=prod ...`."""
    extra = ["--root", str(root)] if root else []
    code = capacity_main(["--stack", "prod", *args, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


def history(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "history.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def warnings(err: list[str]) -> list[str]:
    return [line.removeprefix("make capacity: warning: ") for line in err if line.startswith("make capacity: warning")]


# --- GROWTH and MONTHS ------------------------------------------------------------------------------------------


def test_growth_written_as_a_percentage_is_warned_about(capsys):
    code, out, err = run(capsys, "--growth", "10", "--months", "2")
    assert code == 0
    assert warnings(err) == ["GROWTH=10 means +1000 %/month; for 10 % write 0.1"]
    assert "sales_pipeline  (from pipeline file, growth 1000.0%/month" in out  # still projected, as asked


@pytest.mark.parametrize(
    ("growth", "warning"),
    [
        ("1.5", "GROWTH=1.5 means +150 %/month; for 1.5 % write 0.015"),
        ("-0.6", "GROWTH=-0.6 means -60 %/month: shrinking by more than half every month"),
    ],
)
def test_other_implausible_growth_is_warned_about(capsys, growth, warning):
    code, _, err = run(capsys, "--growth", growth, "--months", "2")
    assert code == 0 and warnings(err) == [warning]


@pytest.mark.parametrize("growth", ["0.1", "1.0", "-0.5", "0"])
def test_plausible_growth_is_not(capsys, growth):
    code, _, err = run(capsys, "--growth", growth, "--months", "2")
    assert code == 0 and warnings(err) == []


def test_a_long_horizon_is_warned_about(capsys):
    code, out, err = run(capsys, "--growth", "0.05", "--months", "72")
    assert code == 0
    assert warnings(err) == ["MONTHS=72: 6 years of compound growth is guesswork; 6-24 months is usual"]
    assert "     72  " in out


def test_errors_come_before_anything_is_printed(capsys):
    code, out, err = run(capsys, "--growth", "12", "--months", "2")
    assert (code, out) == (2, "")
    assert err == [
        "make capacity: GROWTH=12: must be a rate such as 0.1 (10 % a month), more than -0.9 and at most 10; "
        "for 12 % write 0.12"
    ]


# --- pipelines that are not projected ------------------------------------------------------------------------


def test_every_pipeline_not_projected_is_named(capsys):
    code, out, err = run(capsys, "--growth", "0.1", "--months", "2")
    assert code == 0 and err == []
    assert out.splitlines()[-3:] == [
        "not projected: clickstream_events: no capacity: section in its pipeline file, and no HISTORY given",
        "not projected: customer_360: no capacity: section in its pipeline file, and no HISTORY given",
        "not projected: invoice_ingest: no capacity: section in its pipeline file, and no HISTORY given "
        "(serverless: HISTORY from system tables has no rows for it)",
    ]
    code, out, err = run(capsys, "--growth", "0.1", "--months", "2", "--json")
    assert code == 0
    assert [p["pipeline"] for p in json.loads(out)] == ["sales_pipeline"]  # the JSON stays a list of projections
    assert [line.split(":")[2].strip() for line in err] == ["clickstream_events", "customer_360", "invoice_ingest"]
    assert all(line.startswith("make capacity: not projected: ") for line in err)


def test_with_history_the_reason_says_it_has_no_rows(tmp_path, capsys):
    path = history(tmp_path, "customer_360,2026-09,100,4,100,750,225", "customer_360,2026-10,110,4,100,750,225")
    code, out, _ = run(capsys, "--growth", "0.1", "--months", "2", "--history", str(path))
    assert code == 0
    assert "not projected: clickstream_events: no capacity: section in its pipeline file, and no rows in HISTORY" in out
    assert "customer_360  (from history (2 months)" in out


def test_history_rows_of_another_stack_s_pipeline_are_named_and_ignored(tmp_path, capsys):
    path = history(tmp_path, "orders,2026-09,100,4,100,750,225", "orders,2026-10,110,4,100,750,225")
    code, _, err = run(capsys, "--growth", "0.1", "--months", "2", "--history", str(path))
    assert code == 0
    assert warnings(err) == [
        "HISTORY has 2 row(s) of orders, not a pipeline of stack 'prod' (pipelines: clickstream_events, "
        "customer_360, invoice_ingest, sales_pipeline): ignored"
    ]


# --- history values ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("customer_360,2026-10,100,-4,100,750,225", ":3: avg_workers: '-4' must be a finite number, 0 or more"),
        ("customer_360,2026-10,-1,4,100,750,225", ":3: rows_processed: '-1' must be a finite number, 0 or more"),
        ("customer_360,October,100,4,100,750,225", ":3: month: 'October' is not a month such as 2026-08 (YYYY-MM)"),
        ("customer_360,2026-9,100,4,100,750,225", ":3: month: '2026-9' is not a month such as 2026-08 (YYYY-MM)"),
        ("customer_360,2026-09,100,4,100,750,225", ":3: customer_360 2026-09 appears twice (also line 2)"),
        ("customer_360,2026-10,100,0,100,750,225", ":3: customer_360 2026-10 (its latest month): avg_workers is 0"),
        ("customer_360,2026-10,0,4,0,750,225", ":3: customer_360 2026-10 (its latest month): rows_processed, "
         "run_hours is 0: nothing to project from"),
    ],
)  # fmt: skip
def test_unusable_history_is_an_error_naming_the_line(tmp_path, capsys, row, message):
    path = history(tmp_path, "customer_360,2026-09,100,4,100,750,225", row)
    code, out, err = run(capsys, "--growth", "0.1", "--history", str(path))
    assert (code, out) == (2, "")
    (line,) = err
    assert line.startswith(f"make capacity: {path}{message}"), line


def test_an_earlier_month_without_workers_is_a_warning_and_not_in_the_trend(tmp_path, capsys, project):
    project.edit_pipeline("sales_pipeline", capacity=None)
    path = history(
        tmp_path,
        "customer_360,2026-07,50,0,0,0,0",
        "customer_360,2026-08,100000000,4,100,750,225",
        "customer_360,2026-09,121000000,4,100,750,225",
        "customer_360,2026-10,146410000,5,110,990,297",
    )
    code, out, err = run(capsys, "--months", "2", "--history", str(path), "--json", root=project.root)
    assert code == 0
    assert warnings(err) == [
        "HISTORY customer_360 2026-07: avg_workers, run_hours is 0 (did it run?): not counted for the trend"
    ]
    (c360,) = [p for p in json.loads(out) if p["pipeline"] == "customer_360"]
    assert c360["growth"] == pytest.approx(0.21)  # from 2026-08, not from the 50 rows of 2026-07


def test_a_jump_and_a_gap_are_warned_about_and_the_trend_spans_the_calendar(tmp_path, capsys, project):
    project.edit_pipeline("sales_pipeline", capacity=None)
    path = history(
        tmp_path,
        "customer_360,2026-06,1000000,4,100,750,225",
        "customer_360,2026-07,50000000,4,100,750,225",
        "customer_360,2026-10,66550000,5,110,990,297",
    )
    code, out, err = run(capsys, "--months", "2", "--history", str(path), "--json", root=project.root)
    assert code == 0
    assert warnings(err) == [
        "HISTORY customer_360: rows_processed grows 50x from 2026-06 to 2026-07 (1,000,000 -> 50,000,000): a "
        "backfill, a full refresh, a unit change? the trend runs through it",
        "HISTORY customer_360: 2 month(s) missing between 2026-07 and 2026-10 (the growth is fitted over the "
        "calendar months)",
        "the growth fitted from HISTORY for customer_360 is +186 %/month: check the export (or give GROWTH=)",
    ]
    (c360,) = json.loads(out)
    assert c360["growth"] == pytest.approx(66.55 ** (1 / 4) - 1, abs=1e-4)  # four calendar months, not two rows


def test_a_latest_month_without_usage_projects_no_cost_and_says_so(tmp_path, capsys):
    path = history(tmp_path, "customer_360,2026-09,100,4,100,750,225", "customer_360,2026-10,110,4,100,0,0")
    code, out, err = run(capsys, "--growth", "0.1", "--months", "1", "--history", str(path), "--json")
    assert code == 0
    assert warnings(err) == [
        "HISTORY customer_360 2026-10: dbus, list_cost_usd is 0: its costs are projected as $0 (export the "
        "pipeline's usage with the query in src/lakeflow/ops/capacity.py)"
    ]
    (c360,) = [p for p in json.loads(out) if p["pipeline"] == "customer_360"]
    assert c360["months"][0]["monthly_cost_usd"] == 0


# --- the export query ------------------------------------------------------------------------------------------


def parse(sql: str) -> exp.Expression:
    tree = sqlglot.parse_one(sql, read="databricks", error_level=sqlglot.ErrorLevel.RAISE)
    assert not isinstance(tree, exp.Command), "sqlglot fell back to an opaque command"
    return tree


def docstring_query() -> str:
    doc = capacity.__doc__ or ""
    block = doc[doc.index("    WITH watched") : doc.index("\n\nFor another pipeline")]
    return textwrap.dedent(block) + "\n"


def test_the_documented_query_is_the_one_history_query_writes():
    assert docstring_query() == history_query([SALES_REF], "prod")


def test_the_query_is_databricks_sql_with_the_csv_s_columns_in_order():
    tree = parse(docstring_query())
    assert isinstance(tree, exp.Select)
    assert tree.named_selects == list(HISTORY_COLUMNS)


def test_the_query_reads_documented_tables_and_columns():
    tree = parse(docstring_query())
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = {
        ".".join(p for p in (t.catalog, t.db, t.name) if p)
        for t in tree.find_all(exp.Table)
        if t.name not in ctes or t.db
    }
    assert tables == {
        "prod.sales.sales_pipeline_event_log",
        "system.compute.clusters",
        "system.compute.node_timeline",
        "system.billing.usage",
        "system.billing.list_prices",
    }
    qualify(tree, schema=DOCUMENTED_SCHEMA, dialect="databricks", validate_qualify_columns=True)
    paths = {m.lstrip(":") for m in re.findall(r"\bdetails((?::\w+)+)", docstring_query())}
    assert paths == {"flow_progress:metrics:num_output_rows"} <= DOCUMENTED_DETAILS_PATHS


def test_the_stack_s_query_covers_its_classic_pipelines_and_live_slots(capsys):
    code, out, _ = run(capsys, "--history-sql")
    assert code == 0
    tree = parse(out)
    assert tree.named_selects == list(HISTORY_COLUMNS)
    assert "('customer_360', 'blue')" in out and "('sales_pipeline', CAST(NULL AS STRING))" in out
    assert "invoice_ingest" not in out  # serverless: no node records to export
    assert out.count("UNION ALL") == 2


def test_names_are_escaped_in_the_query():
    sql = history_query([PipelineRef("it's", "pr'od", "prod.sales.t")], "pr'od", months=6)
    parse(sql)
    assert "'it\\'s'" in sql and "'pr\\'od'" in sql and "-6)" in sql
    with pytest.raises(ValueError):
        history_query([PipelineRef("x", "prod", "not a table")], "prod")


def test_what_the_query_exports_reads_back(tmp_path):
    """The export's header is HISTORY's, in the query's order; a row of it is read as is."""
    path = history(tmp_path, "sales_pipeline,2026-10,216000000,7.93,120.5,1530.25,459.08")
    assert read_history(path) == {
        "sales_pipeline": [
            {
                "month": "2026-10",
                "line": 2,
                "rows_processed": 216000000.0,
                "avg_workers": 7.93,
                "run_hours": 120.5,
                "dbus": 1530.25,
                "list_cost_usd": 459.08,
            }
        ]
    }
