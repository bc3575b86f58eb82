"""`make health`: each pipeline of a stack checked through the real Databricks SDK against a fake
workspace on 127.0.0.1 (tests/fake_databricks.py) answering with recorded API responses.

The fake routes by method and path only, so the metric queries (POST /api/2.0/sql/statements) are
answered in the order health sends them: processing lag, drop rate, expectation pass rate, CPU,
memory. Each answer carries its metric's column name, and health reads the value by that name, so
an answer taken by the wrong query shows up as "no 'drop_rate' column", never as a wrong number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lakeflow.ops.workspace
from lakeflow.config.quartz import cron_period_minutes
from lakeflow.ops import health
from lakeflow.sql import queries
from lakeflow.sql.queries import PipelineRef
from tests.conftest import DATABRICKS_SDK, ROOT
from tests.fake_databricks import Answer, recorded

pytestmark = DATABRICKS_SDK

SALES = "3f6b0d4e-5a1c-4b7e-9e52-0c1d2e3f4a5b"
CLICKSTREAM = "5e8a2c71-9d3b-4f60-a1e4-7b2c9d0e1f3a"
CUSTOMER = "9d0e1f2a-3b4c-4d5e-8f60-718293a4b5c6"
INVOICE = "b5c6d7e8-f901-4a2b-9c3d-4e5f60718293"
NOW = "2025-11-29T14:00:00Z"  # 2 h 59 min after the last COMPLETED update of pipeline_updates.json
STATEMENTS = r"/api/2.0/sql/statements/?"
PROD_WAREHOUSE = "1c2d3e4f5a6b7c8d"
HEALTHY_SQL = ("health_lag_ok", "health_drop_rate_ok", "health_pass_rate_ok", "health_cpu_ok", "health_memory_ok")
CHECKS = ["state", "freshness", "processing_lag", "drop_rate", "expectation_pass_rate", "cpu", "memory"]


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(lakeflow.ops.workspace, "_POLL_SECONDS", 0.001)


@pytest.fixture
def outputs(tmp_path) -> Path:
    path = tmp_path / "outputs.json"
    ids = {
        "sales_pipeline": SALES,
        "clickstream_events": CLICKSTREAM,
        "customer_360": CUSTOMER,
        "invoice_ingest": INVOICE,
    }
    path.write_text(json.dumps({"pipelines": {n: {"id": i, "name": f"prod_{n}"} for n, i in ids.items()}}))
    return path


def serve(
    workspace,
    pipeline: object = "pipeline_get",
    updates: object = "pipeline_updates",
    sql: tuple[str, ...] = HEALTHY_SQL,
    pipeline_id: str = SALES,
) -> None:
    """`pipeline` / `updates`: a fixture name, a body or Answer(s); `sql`: statement answers in order."""

    def answers(spec: object) -> list[Answer | dict]:
        items = spec if isinstance(spec, list) else [spec]
        return [recorded(a) if isinstance(a, str) else a for a in items]

    workspace.on("GET", rf"/api/2.0/pipelines/{pipeline_id}", *answers(pipeline))
    workspace.on("GET", rf"/api/2.0/pipelines/{pipeline_id}/updates", *answers(updates))
    workspace.on("POST", STATEMENTS, *(recorded(name) for name in sql))


def run(project, outputs, *extra: str, stack: str = "prod", pipeline: str | None = "sales_pipeline") -> int:
    argv = ["--stack", stack, "--outputs", str(outputs), "--root", str(project.root), "--now", NOW]
    return health.main([*argv, *(["--pipeline", pipeline] if pipeline else []), *extra])


def checked(project, outputs, capsys, *extra: str, **kwargs) -> tuple[int, dict]:
    """Exit code and the JSON report's checks of the first pipeline, by check name."""
    code = run(project, outputs, "--json", *extra, **kwargs)
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code
    return code, {c["check"]: c for c in report["pipelines"][0]["checks"]}


def statuses(checks: dict) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items()}


def sent(workspace) -> list[dict]:
    return [r.body for r in workspace.calls("POST", STATEMENTS)]


def test_the_sdk_s_own_warnings_stay_off_stderr(workspace, project, outputs):
    """Run as `make` does, in a process of its own: the SDK's warning about a workspace without host metadata
    (the fake has none) is not printed; the one line of the error is. (First of the tests that share a worker
    for the SDK, tests.conftest.DATABRICKS_SDK: the longest of them does not end the run.)"""
    workspace.on("GET", rf"/api/2.0/pipelines/{SALES}", Answer(401, recorded("health_error_401")))
    argv = ["--stack", "prod", "--pipeline", "sales_pipeline", "--outputs", str(outputs), "--root", str(project.root)]
    done = subprocess.run(
        [sys.executable, "-m", "lakeflow.ops.health", *argv, "--http-timeout", "5"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"make health: pipeline sales_pipeline ({SALES}): the credentials were refused (401): "
        "renew DATABRICKS_TOKEN or the OAuth secret\n"
    )


# --- healthy --------------------------------------------------------------------------------------------------


def test_a_healthy_pipeline_exits_0_with_a_readable_table(workspace, project, outputs, capsys):
    serve(workspace)
    assert run(project, outputs) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Health of stack 'prod' at 2025-11-29T14:00:00Z: OK"
    header = next(line for line in lines if line.startswith("PIPELINE"))
    assert header.split() == ["PIPELINE", "CHECK", "STATUS", "VALUE", "LIMIT", "DETAIL"]
    rows = {line.split()[1] if line.startswith("sales") else line.split()[0]: line for line in lines[3:] if line}
    for check in CHECKS:
        assert check in rows and " OK " in rows[check], rows
    # aligned columns: every row's status starts where the header's STATUS does
    column = header.index("STATUS")
    assert all(rows[c][column : column + 2] == "OK" for c in CHECKS)
    assert "3h 00m" in rows["freshness"] and "max 7h 30m" in rows["freshness"]  # 6 h schedule + 90 min objective
    assert "1.25%" in rows["drop_rate"] and "max 5.00%" in rows["drop_rate"]
    assert "99.50%" in rows["expectation_pass_rate"] and "min 98.00%" in rows["expectation_pass_rate"]
    assert "45.5%" in rows["cpu"] and "max 90.0%" in rows["cpu"]
    assert lines[-1] == "1 pipeline(s): 1 OK; exit 0"


def test_the_metrics_are_the_alerts_queries_on_the_stacks_warehouse(workspace, project, outputs, capsys):
    serve(workspace)
    assert run(project, outputs) == 0
    ref = PipelineRef("sales_pipeline", "prod", "prod.sales.sales_pipeline_event_log")
    expected = [
        queries.processing_lag_minutes(ref),
        queries.drop_rate(ref),
        queries.expectation_pass_rate(ref),
        queries.cpu_utilization(ref),
        queries.memory_utilization(ref),
    ]
    assert [b["statement"] for b in sent(workspace)] == expected
    assert {b["warehouse_id"] for b in sent(workspace)} == {PROD_WAREHOUSE}
    assert [r.path for r in workspace.requests if r.method == "GET" and "pipelines" in r.path] == [
        f"/api/2.0/pipelines/{SALES}",
        f"/api/2.0/pipelines/{SALES}/updates",
    ]


def test_health_uses_the_same_query_column_and_threshold_as_each_alert():
    from lakeflow.components.pipeline_alerts import PIPELINE_METRICS, AlertThresholds
    from lakeflow.config.models import Thresholds

    t = Thresholds(
        processing_lag_minutes=17, expectation_pass_rate=0.91, drop_rate=0.07, cpu_percent=77, memory_percent=66
    )
    ref = PipelineRef("sales_pipeline", "prod", "prod.sales.sales_pipeline_event_log", slot="blue")
    alerts = {metric.column: (query, threshold, metric) for metric, query, threshold in PIPELINE_METRICS}
    for m in (health.PROCESSING_LAG, *health.QUALITY_METRICS, *health.RESOURCE_METRICS):
        query, threshold, metric = alerts[m.column]  # health reads its rule from the alerts' catalog
        assert m.query(ref) == query(ref) and m.threshold(t) == threshold(AlertThresholds(**t.model_dump())), m.check
        assert metric.operator == {"above": "GREATER_THAN", "below": "LESS_THAN"}[m.bad_when], m.check
        assert m.advice.endswith(f"docs/runbooks/{metric.runbook}"), m.check


def test_json_report_for_machines(workspace, project, outputs, capsys):
    serve(workspace)
    assert run(project, outputs, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["stack"], report["status"], report["exit_code"]) == ("prod", "OK", 0)
    assert report["checked_at"] == "2025-11-29T14:00:00Z"
    (p,) = report["pipelines"]
    assert (p["pipeline"], p["pipeline_id"], p["name"], p["status"]) == (
        "sales_pipeline",
        SALES,
        "prod_sales_pipeline",
        "OK",
    )
    checks = {c["check"]: c for c in p["checks"]}
    assert list(checks) == CHECKS
    assert set(checks["drop_rate"]) == {"check", "status", "value", "unit", "threshold", "bad_when", "detail"}
    assert checks["state"]["value"] == "IDLE / COMPLETED"
    assert checks["freshness"]["value"] == pytest.approx(179.92, abs=0.01)
    assert (checks["freshness"]["threshold"], checks["freshness"]["unit"]) == (450, "minutes")
    assert (checks["drop_rate"]["value"], checks["drop_rate"]["threshold"]) == (0.0125, 0.05)
    assert (checks["expectation_pass_rate"]["threshold"], checks["expectation_pass_rate"]["bad_when"]) == (
        0.98,
        "below",
    )
    # a 6-hourly pipeline is one period behind between runs: objective 60 min + 360 min
    assert (checks["processing_lag"]["value"], checks["processing_lag"]["threshold"]) == (4.75, 420)
    assert (checks["memory"]["value"], checks["memory"]["threshold"]) == (61.0, 85)


# --- each check: a passing fixture above, a failing one here ---------------------------------------------------


@pytest.mark.parametrize(
    ("check", "sql", "value"),
    [
        ("processing_lag", ("health_lag_high", *HEALTHY_SQL[1:]), 912.25),
        ("drop_rate", (HEALTHY_SQL[0], "health_drop_rate_high", *HEALTHY_SQL[2:]), 0.2),
        ("expectation_pass_rate", (*HEALTHY_SQL[:2], "health_pass_rate_low", *HEALTHY_SQL[3:]), 0.9),
        ("cpu", (*HEALTHY_SQL[:3], "health_cpu_high", HEALTHY_SQL[4]), 97.2),
        ("memory", (*HEALTHY_SQL[:4], "health_memory_high"), 92.3),
    ],
)
def test_a_metric_beyond_its_threshold_is_a_warning(workspace, project, outputs, capsys, check, sql, value):
    serve(workspace, sql=sql)
    code, checks = checked(project, outputs, capsys)
    assert code == 1
    assert checks[check]["status"] == "WARNING" and checks[check]["value"] == value
    assert "docs/runbooks/" in checks[check]["detail"]  # what to do about it
    assert {n: s for n, s in statuses(checks).items() if n != check} == {n: "OK" for n in CHECKS if n != check}


def test_a_threshold_can_be_overridden_for_one_run(workspace, project, outputs, capsys):
    serve(workspace, sql=(HEALTHY_SQL[0], "health_drop_rate_high", *HEALTHY_SQL[2:]))
    code, checks = checked(project, outputs, capsys, "--threshold", "drop_rate=0.25")
    assert code == 0
    assert (checks["drop_rate"]["status"], checks["drop_rate"]["threshold"]) == ("OK", 0.25)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("drop_rate=2", "make health: --threshold drop_rate=2.0: Input should be less than 1"),
        ("latency=5", "make health: --threshold latency=5: use NAME=VALUE with NAME one of failed_updates,"),
        ("drop_rate=high", "make health: --threshold drop_rate=high: 'high' is not a number"),
    ],
)
def test_a_bad_threshold_override_is_one_line(workspace, project, outputs, capsys, override, message):
    assert run(project, outputs, "--threshold", override) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert workspace.requests == []


def test_a_failed_pipeline_is_critical(workspace, project, outputs, capsys):
    serve(workspace, pipeline="health_pipeline_failed", updates="health_updates_failed")
    code, checks = checked(project, outputs, capsys)
    assert code == 2
    assert checks["state"]["status"] == "CRITICAL"
    assert checks["state"]["value"] == "FAILED / FAILED"
    assert checks["state"]["detail"].startswith(
        "pipeline is FAILED (Update a1b2c3d4-0001-4000-8000-000000000007 failed"
    )


def test_a_failed_latest_update_is_critical(workspace, project, outputs, capsys):
    serve(workspace, updates="health_updates_failed")  # the pipeline itself is IDLE again
    code, checks = checked(project, outputs, capsys)
    assert code == 2
    assert checks["state"] == {
        "check": "state",
        "status": "CRITICAL",
        "value": "IDLE / FAILED",
        "unit": "state",
        "threshold": None,
        "bad_when": None,
        "detail": "latest update a1b2c3d4-0001-4000-8000-000000000007 FAILED started 2025-11-29T11:00:03Z: "
        "see docs/runbooks/pipeline-failure.md",
    }
    # the 11:00 run failed, so the data is from 05:00: 9 h old, beyond 6 h + 90 min as well
    assert checks["freshness"]["status"] == "WARNING"


def test_no_successful_update_within_the_schedule_is_a_warning(workspace, project, outputs, capsys):
    serve(workspace, updates="health_updates_stale")
    code, checks = checked(project, outputs, capsys)
    assert code == 1
    freshness = checks["freshness"]
    assert (freshness["status"], freshness["threshold"]) == ("WARNING", 450)
    assert freshness["value"] == pytest.approx(899.95, abs=0.01)  # 2025-11-28T23:00:03Z -> 14:00
    assert freshness["detail"] == (
        "last success 2025-11-28T23:00:03Z; cron 0 0 */6 * * ?: every 6h 00m + objective 90 min; "
        "runs missed? docs/runbooks/processing-lag.md"
    )
    assert checks["state"]["status"] == "OK"  # the newest update was CANCELED, not FAILED


def test_an_update_running_past_its_latency_objective_is_a_warning(workspace, project, outputs, capsys):
    serve(workspace, updates="health_updates_running_long")
    code, checks = checked(project, outputs, capsys)
    assert code == 1
    assert checks["state"]["status"] == "WARNING"
    assert "RUNNING for 3h 00m (latency objective 90 min)" in checks["state"]["detail"]


def test_the_last_success_is_searched_on_the_next_page(workspace, project, outputs, capsys):
    serve(workspace, updates=["health_updates_page1", "pipeline_updates"])
    code, checks = checked(project, outputs, capsys)
    assert code == 0 and checks["freshness"]["status"] == "OK"
    pages = workspace.calls("GET", rf"/api/2.0/pipelines/{SALES}/updates")
    assert len(pages) == 2 and "page_token=eyJ1" in pages[1].query


def test_a_continuous_pipeline_must_be_running(workspace, project, outputs, capsys):
    serve(
        workspace,
        pipeline_id=CLICKSTREAM,
        pipeline="health_pipeline_continuous_running",
        updates="health_updates_continuous",
    )
    code, checks = checked(project, outputs, capsys, pipeline="clickstream_events")
    assert code == 0
    assert (checks["freshness"]["status"], checks["freshness"]["detail"]) == ("OK", "continuous: running")
    assert checks["state"]["status"] == "OK"  # its update runs for days: that is no overrun
    assert checks["processing_lag"]["threshold"] == 15  # clickstream_events.yaml: near real-time
    assert "clickstream_events_event_log" in sent(workspace)[0]["statement"]


def test_a_stopped_continuous_pipeline_is_critical(workspace, project, outputs, capsys):
    serve(workspace, pipeline_id=CLICKSTREAM, pipeline="health_pipeline_continuous_idle", updates={"updates": []})
    code, checks = checked(project, outputs, capsys, pipeline="clickstream_events")
    assert code == 2
    assert checks["freshness"]["status"] == "CRITICAL"
    assert checks["freshness"]["detail"] == "continuous pipeline is IDLE, not RUNNING: no data is processed"


def test_an_empty_event_log_is_no_incident_but_says_so(workspace, project, outputs, capsys):
    serve(
        workspace,
        sql=(
            "health_lag_null",
            "health_drop_rate_null",
            "health_pass_rate_null",
            "health_cpu_null",
            "health_memory_null",
        ),
    )
    assert run(project, outputs) == 0
    out = capsys.readouterr().out
    assert "event log empty: no successful progress recorded" in out
    assert "no data in window: no records processed in the last 24 h (event log empty for the window)" in out
    assert "no data in window: no expectation evaluated in the last 24 h" in out
    assert "no data in window: no node records in the last 30 min" in out


def test_a_failed_query_is_a_warning_with_its_message(workspace, project, outputs, capsys):
    serve(workspace, sql=("statement_failed", *HEALTHY_SQL[1:]))
    code, checks = checked(project, outputs, capsys)
    assert code == 1
    assert checks["processing_lag"]["status"] == "WARNING"
    assert checks["processing_lag"]["detail"] == (
        "not measured: SQL statement failed (FAILED): [TABLE_OR_VIEW_NOT_FOUND] "
        "The table or view `prod`.`sales`.`sales_pipeline_event_log` cannot be found."
    )
    assert checks["drop_rate"]["status"] == "OK"  # the other queries still ran
    assert len(sent(workspace)) == 5


def test_a_statement_still_running_is_polled(workspace, project, outputs, capsys):
    serve(workspace, sql=("statement_running", *HEALTHY_SQL[1:]))
    workspace.on("GET", r"/api/2.0/sql/statements/[^/]+", recorded("statement_running"), recorded("health_lag_ok"))
    code, checks = checked(project, outputs, capsys)
    assert code == 0 and checks["processing_lag"]["value"] == 4.75
    assert len(workspace.calls("GET", r"/api/2.0/sql/statements/[^/]+")) == 2


# --- failures of the API ----------------------------------------------------------------------------------------


def test_429_is_retried(workspace, project, outputs, capsys):
    throttled = Answer(429, recorded("error_429"), headers={"Retry-After": "1"})
    serve(workspace, pipeline=[throttled, recorded("pipeline_get")])
    code, checks = checked(project, outputs, capsys)
    assert code == 0 and checks["state"]["status"] == "OK"
    assert len(workspace.calls("GET", rf"/api/2.0/pipelines/{SALES}")) == 2


def test_403_on_the_pipeline_is_critical_in_one_line(workspace, project, outputs, capsys):
    serve(workspace, pipeline=Answer(403, recorded("error_403")))
    assert run(project, outputs) == 2
    captured = capsys.readouterr()
    (row,) = [line for line in captured.out.splitlines() if line.startswith("sales_pipeline")]
    assert row.split()[1:3] == ["pipeline", "CRITICAL"]
    assert row.endswith(
        f"pipeline sales_pipeline ({SALES}): permission denied (403): the identity needs CAN_VIEW (checks) "
        "or CAN_RUN (updates): health unknown"
    )
    assert "Traceback" not in captured.out + captured.err
    assert sent(workspace) == []


def test_403_on_the_warehouse_is_a_warning_and_not_repeated(workspace, project, outputs, capsys):
    serve(workspace)
    workspace.on("POST", STATEMENTS, Answer(403, {"error_code": "PERMISSION_DENIED", "message": "no CAN_USE"}))
    code, checks = checked(project, outputs, capsys)
    assert code == 1
    warehouse = f"SQL warehouse {PROD_WAREHOUSE}: permission denied (403)"
    assert checks["processing_lag"]["detail"].startswith(f"not measured: {warehouse}")
    assert checks["memory"]["detail"].endswith("(not retried)")
    assert {statuses(checks)[n] for n in CHECKS[2:]} == {"WARNING"}
    assert len(sent(workspace)) == 1


def test_a_timeout_stops_the_run_in_one_line(workspace, project, outputs, capsys):
    serve(workspace, pipeline=Answer(body=recorded("pipeline_get"), delay=1.0))
    started = time.monotonic()
    code = run(project, outputs, "--json", "--http-timeout", "0.25", "--retry-timeout", "0.25", pipeline=None)
    assert time.monotonic() - started < 20
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"make health: pipeline sales_pipeline ({SALES}): {workspace.host} did not answer within 0.25 s "
        "(slow or down? https://status.databricks.com; --http-timeout SECONDS or LAKEFLOW_HTTP_TIMEOUT waits "
        "longer)\n"
    )
    # The first pipeline's read waited once (not retried past the budget); the other three were not tried.
    assert len([r for r in workspace.requests if r.path.startswith("/api/2.0/pipelines/")]) == 1


def test_refused_credentials_stop_the_run_in_one_line(workspace, project, outputs, capsys):
    serve(workspace, pipeline=Answer(401, recorded("health_error_401")))
    assert run(project, outputs) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"make health: pipeline sales_pipeline ({SALES}): the credentials were refused (401): "
        "renew DATABRICKS_TOKEN or the OAuth secret\n"
    )


def test_missing_credentials_are_one_line(workspace, project, outputs, capsys, monkeypatch):
    monkeypatch.delenv("DATABRICKS_HOST")
    monkeypatch.delenv("DATABRICKS_TOKEN")
    assert run(project, outputs) == 2
    err = capsys.readouterr().err
    assert err.startswith("make health: no Databricks credentials: set DATABRICKS_HOST and DATABRICKS_TOKEN")
    assert err.count("\n") == 1
    assert workspace.requests == []


def test_an_unknown_pipeline_is_one_line(workspace, project, outputs, capsys):
    assert run(project, outputs, pipeline="orders") == 2
    assert capsys.readouterr().err == (
        "make health: PIPELINE=orders: not a pipeline of stack 'prod' "
        "(pipelines: clickstream_events, customer_360, invoice_ingest, sales_pipeline)\n"
    )
    assert workspace.requests == []


def test_a_pipeline_missing_from_the_outputs_is_one_line(workspace, project, tmp_path, capsys):
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"pipelines": {"sales_pipeline": {"id": SALES}}}))
    assert run(project, path, pipeline="customer_360") == 2
    assert capsys.readouterr().err == (
        "make health: PIPELINE=customer_360: not in stack 'prod''s outputs: not deployed yet? (pulumi up)\n"
    )


@pytest.mark.parametrize("body", [{}, {"pipelines": {}}, {"dashboard_id": "x"}])
def test_a_stack_without_outputs_is_one_line(workspace, project, tmp_path, capsys, body):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(body))
    assert run(project, path, pipeline=None) == 2
    assert capsys.readouterr().err == (
        "make health: stack 'prod' has no pipelines in its outputs: is it deployed? (`pulumi up --stack prod`)\n"
    )
    assert workspace.requests == []


def test_an_unreadable_outputs_file_is_one_line(workspace, project, tmp_path, capsys):
    assert run(project, tmp_path / "missing.json", pipeline=None) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"make health: OUTPUTS={tmp_path / 'missing.json'}: no such file") and err.count("\n") == 1


# --- the whole stack ----------------------------------------------------------------------------------------------


def test_the_whole_stack_exits_with_the_worst_status(workspace, project, outputs, capsys):
    serve(workspace)  # sales_pipeline: healthy
    serve(
        workspace,
        pipeline_id=CLICKSTREAM,
        pipeline="health_pipeline_continuous_running",
        updates="health_updates_continuous",
    )
    serve(workspace, pipeline_id=CUSTOMER, updates="health_updates_failed")
    serve(workspace, pipeline_id=INVOICE)
    # statements in the order the pipelines are checked; invoice_ingest is serverless: no CPU/memory queries
    workspace.on("POST", STATEMENTS, *(recorded(n) for n in [*HEALTHY_SQL * 3, *HEALTHY_SQL[:3]]))
    code = run(project, outputs, "--json", pipeline=None)
    report = json.loads(capsys.readouterr().out)
    assert code == 2 and report["status"] == "CRITICAL"
    assert {p["pipeline"]: p["status"] for p in report["pipelines"]} == {
        "sales_pipeline": "OK",
        "clickstream_events": "OK",
        "customer_360": "CRITICAL",
        "invoice_ingest": "OK",
    }
    invoice = {c["check"]: c for c in report["pipelines"][3]["checks"]}
    assert invoice["freshness"]["detail"].endswith("file-arrival: no fixed period: age not judged")
    assert invoice["cpu"]["detail"] == "serverless: no cluster metrics"
    assert len(sent(workspace)) == 18
    customer = sent(workspace)[10]["statement"]
    assert "`prod`.`customer`.`customer_360_event_log`" in customer  # the live (blue) slot's event log
    assert "tags['Slot'] = 'blue'" in sent(workspace)[13]["statement"]


def test_outputs_and_pipeline_files_that_disagree_are_warnings(workspace, project, tmp_path, capsys):
    serve(workspace)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"pipelines": {"sales_pipeline": {"id": SALES}, "orders_v1": {"id": "0ld"}}}))
    code = run(project, path, "--json", pipeline=None)
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    found = {p["pipeline"]: (p["status"], [c["check"] for c in p["checks"]]) for p in report["pipelines"]}
    assert found == {
        "sales_pipeline": ("OK", CHECKS),
        "orders_v1": ("WARNING", ["declared"]),
        "clickstream_events": ("WARNING", ["deployed"]),
        "customer_360": ("WARNING", ["deployed"]),
        "invoice_ingest": ("WARNING", ["deployed"]),
    }
    assert report["pipelines"][2]["checks"][0]["detail"] == (
        "not in the stack's outputs: not deployed yet? (pulumi up --stack prod)"
    )
    assert workspace.calls("GET", r"/api/2.0/pipelines/0ld.*") == []


def test_a_paused_schedule_has_no_age_to_judge(workspace, project, outputs, capsys):
    serve(workspace, updates="health_updates_stale")
    code, checks = checked(project, outputs, capsys, stack="dev")
    assert code == 0
    assert checks["freshness"]["status"] == "OK" and checks["freshness"]["threshold"] is None
    assert checks["freshness"]["detail"] == "last success 2025-11-28T23:00:03Z; schedule paused: age not judged"
    assert checks["processing_lag"]["detail"] == "since the last successful progress; schedule paused: lag not judged"


# --- the schedule's period ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "minutes"),
    [
        ("0 0 */6 * * ?", 360),
        ("0 30 2 * * ?", 1440),
        ("0 */5 * * * ?", 5),
        ("0 0 9 ? * MON-FRI", 3 * 1440),
        ("0 0 12 ? * FRI-MON", 4 * 1440),
        ("0 15,45 8-17 ? * 2-6", 2 * 1440 + 14 * 60 + 30),
        ("0 0 3 ? * SUN *", 7 * 1440),
        ("0 0 0 1 * ?", 31 * 1440),
        ("0 0 0 L * ?", None),
        ("0 0 0 ? * 1#2", None),
        ("0 0 0 29 2 ?", None),
        ("0 0 0 * * ? 2030", None),
    ],
)
def test_cron_period(cron, minutes):
    assert cron_period_minutes(cron) == minutes


def test_health_and_the_alerts_judge_the_lag_by_one_rule(plans):
    """settings.models.alert_thresholds is the one place the schedule allowance is worked out: the
    threshold each pipeline's processing-lag alert watches is the one health judges by."""
    from lakeflow.config.loader import load_settings
    from lakeflow.config.models import alert_thresholds
    from lakeflow.offline.stack_file import project_name, read_stack_config
    from tests.conftest import ROOT, by_type

    config, secret = read_stack_config(ROOT, project_name(ROOT), "prod")
    settings = load_settings(project_name(ROOT), "prod", config, secret, ROOT)
    by_name = {p.name: p for p in settings.pipelines}
    alerts = {a["name"]: a["inputs"]["queryText"] for a in by_type(plans["prod"], "AlertV2")}
    for name, spec in by_name.items():
        limit = alert_thresholds(spec, by_name).processing_lag_minutes
        assert f"('{name}', {float(limit)})" in alerts[f"pipeline-alerts-{name}-processing-lag"], name
