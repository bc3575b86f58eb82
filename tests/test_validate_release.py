"""`make validate-release`: the real Databricks SDK against recorded answers on 127.0.0.1.

The shipped stacks: `customer_360` is blue/green (prod: blue active, green a 10 % canary; staging:
green active), `sales_pipeline` a plain triggered pipeline, `clickstream_events` continuous in prod.
Statements reach the fake in the order the command runs them (see src/lakeflow/ops/validate_release.py): per
published table the validated pipeline's COUNT(*) then, for a candidate, the active slot's; then the
expectation pass rate; for a candidate, production's pass rate, the candidate's drop rate and
production's drop rate. Each test queues its answers in that order and asserts what was sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import lakeflow.ops.workspace
from lakeflow.ops import validate_release
from lakeflow.sql.queries import PipelineRef, drop_rate, expectation_pass_rate
from tests.conftest import DATABRICKS_SDK, Project
from tests.fake_databricks import Answer, FakeWorkspace, recorded

pytestmark = DATABRICKS_SDK

BLUE = "5b1e7c3a-2d4f-4a6b-8c9d-0e1f2a3b4c5d"  # prod_customer_360, the adopted slot
GREEN = "7d2c9e10-4b3a-4f6e-8a1d-5e6f7a8b9c0d"  # prod_customer_360_green
SALES = "3f6b0d4e-5a1c-4b7e-9e52-0c1d2e3f4a5b"
UPDATE = "a1b2c3d4-0001-4000-8000-000000000007"  # recorded in start_update.json
WAREHOUSE = {"prod": "1c2d3e4f5a6b7c8d", "staging": "8a7b6c5d4e3f2a1b"}
STATEMENTS = "/api/2.0/sql/statements"
COMPLETED = ("validate_update_queued", "validate_update_running", "update_get")


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_release, "_POLL_SECONDS", 0.001)
    monkeypatch.setattr(lakeflow.ops.workspace, "_POLL_SECONDS", 0.001)


def stack_outputs(stack: str = "prod") -> dict[str, Any]:
    """Shaped like `pulumi stack output --json` (src/lakeflow/program.py); staging runs green, prod blue."""
    active = "green" if stack == "staging" else "blue"
    slots = {
        "blue": {"pipeline_id": BLUE, "ref": "tag:v2.3.0", "schema": "customer"},
        "green": {"pipeline_id": GREEN, "ref": "tag:v2.4.0", "schema": "customer_green"},
    }
    live = slots[active]["pipeline_id"]
    return {
        "pipelines": {
            "customer_360": {"id": live, "job_id": "881", "name": f"{stack}_customer_360", "snapshot_job_id": "882"},
            "sales_pipeline": {
                "id": SALES,
                "job_id": "771",
                "name": f"{stack}_sales_pipeline",
                "snapshot_job_id": None,
            },
            "invoice_ingest": {"id": "9e8d7c6b", "job_id": "661", "name": f"{stack}_invoice_ingest"},
            "clickstream_events": {"id": "1a2b3c4d", "job_id": None, "name": f"{stack}_clickstream_events"},
        },
        "releases": {"customer_360": {"active": active, "active_ref": slots[active]["ref"], "slots": slots}},
        "dashboard_id": "01ef0000aaaa",
    }


def run(
    capsys: pytest.CaptureFixture[str],
    project: Project,
    tmp_path: Path,
    *args: str,
    stack: str = "prod",
    outputs: dict[str, Any] | None = None,
) -> tuple[int, str, str]:
    file = tmp_path / "outputs.json"
    file.write_text(json.dumps(stack_outputs(stack) if outputs is None else outputs))
    argv = ["--stack", stack, *args, "--outputs", str(file), "--root", str(project.root)]
    code = validate_release.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def update(workspace: FakeWorkspace, pipeline_id: str, *states: str) -> None:
    """start_update answers update UPDATE; get_update answers these recorded states in turn."""
    workspace.on("POST", f"/api/2.0/pipelines/{pipeline_id}/updates", recorded("start_update"))
    workspace.on("GET", f"/api/2.0/pipelines/{pipeline_id}/updates/{UPDATE}", *(recorded(s) for s in states))


def answers(workspace: FakeWorkspace, *names: str) -> None:
    workspace.on("POST", STATEMENTS, *(recorded(n) for n in names))


def sent(workspace: FakeWorkspace) -> list[str]:
    return [r.body["statement"] for r in workspace.calls("POST", STATEMENTS)]


def start_body(workspace: FakeWorkspace, pipeline_id: str) -> dict[str, Any]:
    (call,) = workspace.calls("POST", f"/api/2.0/pipelines/{pipeline_id}/updates")
    return dict(call.body)


def check(out: str, name: str) -> list[str]:
    """The report row of one check: [check, result, value...]."""
    rows = [line.split("  ") for line in out.splitlines() if line.startswith(f"  {name}  ")]
    assert len(rows) == 1, out
    return [cell.strip() for cell in rows[0] if cell.strip()]


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("make validate-release:")]


def event_log(schema: str, stack: str = "prod") -> str:
    return f"{stack}.{schema}.customer_360_event_log"


# --- the whole way: a prod canary --------------------------------------------------------------------------


def canary_answers(workspace: FakeWorkspace, green_count: str = "validate_count_canary", **rates: str) -> None:
    answers(
        workspace,
        green_count,  # green customer_profile
        "validate_count_rows",  # blue customer_profile
        green_count,  # green customer_segments
        "validate_count_rows",  # blue customer_segments
        rates.get("pass_rate", "validate_pass_rate_ok"),
        rates.get("prod_pass_rate", "validate_pass_rate_ok"),
        rates.get("drop_rate", "validate_drop_rate_ok"),
        rates.get("prod_drop_rate", "validate_drop_rate_ok"),
    )


def test_a_prod_canary_passes_with_its_counts_scaled_to_its_percent(workspace, project, tmp_path, capsys):
    update(
        workspace, GREEN, "validate_update_queued", "validate_update_waiting", "validate_update_running", "update_get"
    )
    canary_answers(workspace)

    code, out, err = run(
        capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green", "--refresh", "full"
    )

    assert code == 0, err
    assert start_body(workspace, GREEN) == {"full_refresh": True}
    assert "QUEUED -> WAITING_FOR_RESOURCES" in err and "WAITING_FOR_RESOURCES -> RUNNING" in err
    assert "RUNNING -> COMPLETED" in err
    assert f"update {UPDATE} of customer_360 slot green (candidate, 10 % canary) ({GREEN}): full refresh" in err
    # Counts: green's, then blue's, per table; then the alerts' own queries, candidate then production.
    green = PipelineRef("customer_360", "prod", event_log("customer_green"), "green")
    blue = PipelineRef("customer_360", "prod", event_log("customer"), "blue")
    assert sent(workspace) == [
        "SELECT COUNT(*) AS n FROM `prod`.`customer_green`.`customer_profile`",
        "SELECT COUNT(*) AS n FROM `prod`.`customer`.`customer_profile`",
        "SELECT COUNT(*) AS n FROM `prod`.`customer_green`.`customer_segments`",
        "SELECT COUNT(*) AS n FROM `prod`.`customer`.`customer_segments`",
        expectation_pass_rate(green, 1),
        expectation_pass_rate(blue, 24),
        drop_rate(green, 1),
        drop_rate(blue, 24),
    ]
    assert {r.body["warehouse_id"] for r in workspace.calls("POST", STATEMENTS)} == {WAREHOUSE["prod"]}
    assert check(out, "update state") == ["update state", "pass", "COMPLETED", "COMPLETED"]
    assert check(out, "rows customer_profile")[:3] == ["rows customer_profile", "pass", "12,430"]
    # 10 % of blue's 120,000 is 12,000; 12,430 is 3.6 % above, within 10 %.
    assert check(out, "rows customer_profile vs blue") == [
        "rows customer_profile vs blue",
        "pass",
        "12,430 (+3.6%)",
        "10,800-13,200 (10 % of blue's 120,000 ± 10%)",
    ]
    assert check(out, "expectation pass rate")[:3] == ["expectation pass rate", "pass", "99.12% (last 1 h)"]
    assert check(out, "pass rate vs blue")[1:] == ["pass", "99.12%", ">= 98.12% (blue 99.12% - 1.00%)"]
    assert check(out, "drop rate vs blue")[1:] == ["pass", "1.21%", "<= 2.21% (blue 1.21% + 1.00%)"]
    assert out.rstrip().endswith("PASSED: the release may proceed")


def test_a_canary_with_the_full_volume_fails_its_count_comparison(workspace, project, tmp_path, capsys):
    update(workspace, GREEN, *COMPLETED)
    canary_answers(workspace, green_count="validate_count_rows")  # 120,000: the filter did not apply

    code, out, _ = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green")

    assert code == 1
    assert start_body(workspace, GREEN) == {"full_refresh": False}
    assert check(out, "rows customer_profile vs blue")[1:3] == ["FAIL", "120,000 (+900.0%)"]
    assert check(out, "rows customer_profile")[1] == "pass"
    assert "FAILED: 2 check(s) failed: the release must not proceed" in out


def test_a_canary_dropping_more_than_production_fails(workspace, project, tmp_path, capsys):
    update(workspace, GREEN, *COMPLETED)
    canary_answers(workspace, drop_rate="validate_drop_rate_high")

    code, out, _ = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green")

    assert code == 1
    assert check(out, "drop rate vs blue")[1:] == ["FAIL", "8.15%", "<= 2.21% (blue 1.21% + 1.00%)"]
    assert "FAILED: 1 check(s) failed" in out


def test_a_canary_passing_fewer_expectations_than_production_fails(workspace, project, tmp_path, capsys):
    update(workspace, GREEN, *COMPLETED)
    canary_answers(workspace, pass_rate="validate_pass_rate_low")

    code, out, _ = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green")

    assert code == 1
    assert check(out, "pass rate vs blue")[1:] == ["FAIL", "90.31%", ">= 98.12% (blue 99.12% - 1.00%)"]
    assert check(out, "expectation pass rate")[1] == "FAIL"


def test_without_production_figures_the_rate_comparisons_are_na(workspace, project, tmp_path, capsys):
    update(workspace, GREEN, *COMPLETED)
    canary_answers(workspace, prod_pass_rate="validate_pass_rate_null", prod_drop_rate="validate_result_empty")

    code, out, _ = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green")

    assert code == 0
    assert check(out, "pass rate vs blue")[1:3] == ["n/a", "no figure for blue"]
    assert check(out, "drop rate vs blue")[1:3] == ["n/a", "no figure for blue"]
    assert "PASSED: the release may proceed (2 check(s) n/a: nothing to measure)" in out


# --- an idle (non-canary) slot in staging, compared with the active green ----------------------------------


@pytest.mark.parametrize(
    ("blue_count", "result", "code"), [("validate_count_rows", "pass", 0), ("validate_count_short", "FAIL", 1)]
)
def test_an_idle_slot_is_compared_with_the_active_one_within_the_tolerance(
    workspace, project, tmp_path, capsys, blue_count, result, code
):
    update(workspace, BLUE, *COMPLETED)
    answers(workspace, blue_count, "validate_count_rows", blue_count, "validate_count_rows", "validate_pass_rate_ok")

    got, out, err = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "blue", stack="staging")

    assert got == code, err
    assert sent(workspace)[:2] == [
        "SELECT COUNT(*) AS n FROM `staging`.`customer`.`customer_profile`",
        "SELECT COUNT(*) AS n FROM `staging`.`customer_green`.`customer_profile`",
    ]
    row = check(out, "rows customer_profile vs green")
    assert row[1] == result
    assert row[-1] == "108,000-132,000 (green's 120,000 ± 10%)"


def test_a_wider_tolerance_accepts_the_short_count(workspace, project, tmp_path, capsys):
    update(workspace, BLUE, *COMPLETED)
    counts = ["validate_count_short", "validate_count_rows"] * 2
    answers(workspace, *counts, "validate_pass_rate_ok")

    code, out, err = run(
        capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "blue", "--tolerance", "0.3", stack="staging"
    )

    assert code == 0, out + err
    assert check(out, "rows customer_profile vs green")[1:3] == ["pass", "90,000 (-25.0%)"]


def test_the_active_slot_is_validated_without_comparison(workspace, project, tmp_path, capsys):
    update(workspace, GREEN, *COMPLETED)
    answers(workspace, "validate_count_rows", "validate_count_rows", "validate_pass_rate_ok")

    code, out, err = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green", stack="staging")

    assert code == 0, err
    assert len(sent(workspace)) == 3
    assert " vs " not in out


# --- the live pipeline ----------------------------------------------------------------------------------------


def sales_answers(workspace: FakeWorkspace, silver: str = "validate_count_rows", rate: str = "validate_pass_rate_ok"):
    answers(workspace, silver, "validate_count_rows", rate)


def test_without_slot_the_live_pipeline_is_validated(workspace, project, tmp_path, capsys):
    update(workspace, BLUE, *COMPLETED)
    answers(workspace, "validate_count_rows", "validate_count_rows", "validate_pass_rate_ok")

    code, _, err = run(capsys, project, tmp_path, "--pipeline", "customer_360")

    assert code == 0, err
    assert start_body(workspace, BLUE) == {"full_refresh": False}
    live = PipelineRef("customer_360", "prod", event_log("customer"), "blue")
    assert sent(workspace)[2] == expectation_pass_rate(live, 1)
    assert "customer_360 (active slot blue)" in err


def test_an_empty_table_fails(workspace, project, tmp_path, capsys):
    update(workspace, SALES, *COMPLETED)
    sales_answers(workspace, silver="validate_count_zero")

    code, out, _ = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 1
    assert sent(workspace)[:2] == [
        "SELECT COUNT(*) AS n FROM `prod`.`sales`.`silver_orders`",
        "SELECT COUNT(*) AS n FROM `prod`.`sales`.`gold_daily_sales`",
    ]
    assert check(out, "rows silver_orders") == ["rows silver_orders", "FAIL", "0", "> 0"]
    assert check(out, "rows gold_daily_sales") == ["rows gold_daily_sales", "pass", "120,000", "> 0"]


@pytest.mark.parametrize(("rate", "result", "value", "code"), [
    ("validate_pass_rate_ok", "pass", "99.12% (last 1 h)", 0),
    ("validate_pass_rate_low", "FAIL", "90.31% (last 1 h)", 1),
])  # fmt: skip
def test_the_expectation_pass_rate_meets_the_pipelines_threshold(
    workspace, project, tmp_path, capsys, rate, result, value, code
):
    update(workspace, SALES, *COMPLETED)
    sales_answers(workspace, rate=rate)

    got, out, _ = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert got == code
    # sales_pipeline's own threshold (98 %), through the alert's query.
    assert check(out, "expectation pass rate") == ["expectation pass rate", result, value, ">= 98.00%"]
    ref = PipelineRef("sales_pipeline", "prod", "prod.sales.sales_pipeline_event_log")
    assert sent(workspace)[2] == expectation_pass_rate(ref, 1)


@pytest.mark.parametrize("empty", ["validate_pass_rate_null", "validate_result_empty"])
def test_an_event_log_without_expectations_is_reported_not_failed(workspace, project, tmp_path, capsys, empty):
    update(workspace, SALES, *COMPLETED)
    sales_answers(workspace, rate=empty)

    code, out, _ = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 0
    assert check(out, "expectation pass rate")[1:3] == ["n/a", "no expectation evaluated (last 1 h)"]
    assert "PASSED: the release may proceed (1 check(s) n/a: nothing to measure)" in out


def test_a_statement_that_runs_long_is_waited_for(workspace, project, tmp_path, capsys):
    update(workspace, SALES, *COMPLETED)
    answers(workspace, "statement_running", "validate_count_rows", "validate_pass_rate_ok")
    statement_id = recorded("statement_running")["statement_id"]
    workspace.on("GET", f"{STATEMENTS}/{statement_id}", recorded("statement_running"), recorded("validate_count_zero"))

    code, out, _ = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 1
    assert len(workspace.calls("GET", f"{STATEMENTS}/{statement_id}")) == 2
    assert check(out, "rows silver_orders")[1:3] == ["FAIL", "0"]


def test_json_report(workspace, project, tmp_path, capsys):
    update(workspace, SALES, *COMPLETED)
    sales_answers(workspace)

    code, out, _ = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline", "--json")

    assert code == 0
    report = json.loads(out)
    assert report["passed"] is True
    assert (report["pipeline_id"], report["update_id"], report["state"]) == (SALES, UPDATE, "COMPLETED")
    assert [c["check"] for c in report["checks"]] == [
        "update state",
        "rows silver_orders",
        "rows gold_daily_sales",
        "expectation pass rate",
    ]


# --- update types (guide 2.3) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "body"), [
    ([], {"full_refresh": False}),
    (["--refresh", "full"], {"full_refresh": True}),
    (["--refresh", "full", "--tables", "gold_daily_sales"], {"full_refresh_selection": ["gold_daily_sales"]}),
    (["--refresh", "selected", "--tables", "silver_orders, gold_daily_sales"],
     {"refresh_selection": ["silver_orders", "gold_daily_sales"]}),
])  # fmt: skip
def test_the_update_type_reaches_start_update(workspace, project, tmp_path, capsys, args, body):
    update(workspace, SALES, *COMPLETED)
    sales_answers(workspace)

    code, _, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline", *args)

    assert code == 0, err
    assert start_body(workspace, SALES) == body


@pytest.mark.parametrize(("args", "message"), [
    (["--refresh", "selected"], "REFRESH=selected needs TABLES=a,b: the tables to update "
     "(tables of sales_pipeline: silver_orders, gold_daily_sales)"),
    (["--refresh", "selected", "--tables", "gold_daily_sale"], "TABLES=gold_daily_sale: not published by "
     "sales_pipeline (its tables: silver_orders, gold_daily_sales); did you mean 'gold_daily_sales'?"),
    (["--refresh", "full", "--tables", "orders"], "TABLES=orders: not published by sales_pipeline"),
    (["--tables", "silver_orders"], "TABLES=silver_orders: goes with REFRESH=selected"),
])  # fmt: skip
def test_bad_table_selections_are_refused_before_anything_starts(workspace, project, tmp_path, capsys, args, message):
    code, out, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline", *args)

    assert code == 2
    assert errors(err) == [line for line in err.splitlines() if line]
    assert len(errors(err)) == 1 and message in errors(err)[0]
    assert out == ""
    assert workspace.requests == []


# --- the update does not complete ------------------------------------------------------------------------------


def test_a_failed_update_fails_validation_with_its_error(workspace, project, tmp_path, capsys):
    update(workspace, GREEN, "validate_update_running", "validate_update_failed")
    workspace.on("GET", f"/api/2.0/pipelines/{GREEN}/events", recorded("validate_events_failed"))

    code, out, err = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green")

    assert code == 1
    assert "RUNNING -> FAILED" in err
    assert check(out, "update state") == ["update state", "FAIL", "FAILED", "COMPLETED"]
    assert f"update {UPDATE} FAILED: Update a1b2c3 is FAILED. [UNRESOLVED_COLUMN]" in out
    assert "FAILED: 1 check(s) failed: the release must not proceed" in out
    assert sent(workspace) == []  # a failed update's tables are not counted
    (events,) = workspace.calls("GET", f"/api/2.0/pipelines/{GREEN}/events")
    assert "level%3D%27ERROR%27" in events.query


def test_a_failed_update_without_readable_events_still_fails(workspace, project, tmp_path, capsys):
    update(workspace, GREEN, "validate_update_failed")
    workspace.on("GET", f"/api/2.0/pipelines/{GREEN}/events", Answer(403, recorded("error_403")))

    code, out, err = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green")

    assert code == 1
    assert errors(err) == []
    assert "the other checks did not run" in out


def test_a_timeout_says_the_update_keeps_running_and_how_to_stop_it(workspace, project, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(validate_release, "_HEARTBEAT_SECONDS", 0.1)
    update(workspace, GREEN, "validate_update_waiting", "validate_update_running")

    code, out, err = run(
        capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green", "--timeout-minutes", "0.005"
    )

    assert code == 2
    assert out == ""
    assert "WAITING_FOR_RESOURCES -> RUNNING" in err and "still RUNNING" in err
    (line,) = errors(err)
    assert line == (
        f"make validate-release: update {UPDATE} of customer_360 slot green (candidate, 10 % canary) is still "
        f"RUNNING after 0s (TIMEOUT); it keeps running: stop it with `databricks pipelines stop {GREEN}`, "
        "or wait for it in the workspace and run validate-release again"
    )
    assert sent(workspace) == []


def test_a_canceled_update_validates_nothing(workspace, project, tmp_path, capsys):
    update(workspace, SALES, "validate_update_running", "validate_update_canceled")

    code, _, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 2
    (line,) = errors(err)
    assert f"update {UPDATE} of sales_pipeline was CANCELED after" in line
    assert "nothing was validated" in line


# --- API failures ---------------------------------------------------------------------------------------------------


def test_a_rate_limited_start_is_retried(workspace, project, tmp_path, capsys):
    update(workspace, SALES, *COMPLETED)
    workspace.on(
        "POST",
        f"/api/2.0/pipelines/{SALES}/updates",
        Answer(429, recorded("error_429"), headers={"Retry-After": "1"}),
        recorded("start_update"),
    )
    sales_answers(workspace)

    code, _, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline", "--refresh", "full")

    assert code == 0, err
    starts = workspace.calls("POST", f"/api/2.0/pipelines/{SALES}/updates")
    assert [c.body for c in starts] == [{"full_refresh": True}] * 2


def test_permission_denied_on_start_is_one_line(workspace, project, tmp_path, capsys):
    workspace.on("POST", f"/api/2.0/pipelines/{GREEN}/updates", Answer(403, recorded("error_403")))

    code, out, err = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green")

    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"make validate-release: starting an update of customer_360 slot green (candidate, 10 % canary) ({GREEN}): "
        "permission denied (403): the identity needs CAN_VIEW (checks) or CAN_RUN (updates)"
    ]
    assert workspace.calls("GET", f"/api/2.0/pipelines/{GREEN}/updates/.*") == []


def test_a_deleted_pipeline_points_at_stale_outputs(workspace, project, tmp_path, capsys):
    workspace.on("POST", f"/api/2.0/pipelines/{SALES}/updates", Answer(404, recorded("error_404")))

    code, _, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 2
    (line,) = errors(err)
    assert line.endswith("not found (404): deleted, or the stack's outputs are stale")


def test_a_failing_statement_is_one_line_naming_the_update(workspace, project, tmp_path, capsys):
    update(workspace, SALES, *COMPLETED)
    answers(workspace, "validate_count_rows", "validate_count_rows", "statement_failed")

    code, out, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 2
    assert out == ""
    (line,) = errors(err)
    assert line.startswith(f"make validate-release: update {UPDATE} COMPLETED, but its output could not be checked: ")
    assert "TABLE_OR_VIEW_NOT_FOUND" in line


def test_reading_the_update_fails_after_it_started(workspace, project, tmp_path, capsys):
    update(workspace, SALES, "validate_update_running")
    workspace.on("GET", f"/api/2.0/pipelines/{SALES}/updates/{UPDATE}", Answer(403, recorded("error_403")))

    code, _, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 2
    (line,) = errors(err)
    assert "permission denied (403)" in line
    assert line.endswith(f"it keeps running: stop it with `databricks pipelines stop {SALES}`")


# --- could not validate (2), not validation failed (1): a failure of the workspace in every phase ----------------


def statement(*data: list[Any], **replace: Any) -> dict[str, Any]:
    """A SUCCEEDED statement answering these rows (`manifest=None`: without its manifest)."""
    return recorded("validate_count_rows", result={"data_array": list(data)}, **replace)


SILVER = "COUNT(*) of prod.sales.silver_orders"
WAREHOUSE_ID = f"SQL warehouse {WAREHOUSE['prod']} (the stack's lakeflow:warehouseId)"
NOT_CHECKED = f"make validate-release: update {UPDATE} COMPLETED, but its output could not be checked: "
ERROR_500 = {"error_code": "INTERNAL_ERROR", "message": "the service is unavailable\nat com.databricks.Service"}
SPARK_ERROR = (
    "[TABLE_OR_VIEW_NOT_FOUND] The table or view `prod`.`sales`.`silver_orders` cannot be found. SQLSTATE: 42P01"
    "\n== SQL (line 1, position 22) ==\nSELECT COUNT(*) AS n FROM `prod`.`sales`.`silver_orders`"
)


def could_not_validate(code: int, out: str, err: str) -> str:
    """Exit 2, no report, no traceback, and exactly one error line (the other lines are progress)."""
    assert code == 2, out + err
    assert out == ""
    assert "Traceback" not in err
    (line,) = errors(err)
    progress = [other for other in err.splitlines() if other != line]
    assert all(other.startswith(("validate-release: ", "  ")) for other in progress), err
    return line


@pytest.mark.parametrize(("answer", "message"), [
    pytest.param(Answer(500, ERROR_500), f"{SILVER} on {WAREHOUSE_ID}: InternalError: the service is unavailable",
                 id="server-error"),
    pytest.param(Answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Warehouse 1c2d3e4f5a6b7c8d does "
                              "not exist."}),
                 f"{SILVER}: not found (404) on {WAREHOUSE_ID}: Warehouse 1c2d3e4f5a6b7c8d does not exist.",
                 id="warehouse-not-found"),
    pytest.param(Answer(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid warehouse id"}),
                 f"{SILVER} on {WAREHOUSE_ID}: InvalidParameterValue: Invalid warehouse id", id="warehouse-invalid"),
    pytest.param(Answer(403, recorded("error_403")), f"{SILVER}: permission denied (403) on {WAREHOUSE_ID}",
                 id="permission-denied"),
    pytest.param(recorded("statement_failed", status={"state": "FAILED", "error": {"message": SPARK_ERROR}}),
                 f"{SILVER}: SQL statement failed (FAILED): {SPARK_ERROR.splitlines()[0]}", id="statement-failed"),
    pytest.param(recorded("statement_failed", status={"state": "CANCELED"}),
                 f"{SILVER}: SQL statement failed (CANCELED): no detail", id="statement-canceled"),
    pytest.param(statement(["lots"]), f"{SILVER}: answered 'lots', not a count", id="not-a-number"),
    pytest.param(statement([None]), f"{SILVER}: answered NULL, not a count", id="null"),
    pytest.param(statement(["-3"]), f"{SILVER}: answered '-3', not a count", id="negative"),
    pytest.param(recorded("validate_result_empty"), f"{SILVER}: the statement answered no row, not a count",
                 id="no-row"),
    pytest.param(statement(["120000"], manifest=None), f"{SILVER}: the statement answered a row without columns",
                 id="no-manifest"),
    pytest.param(statement([]), f"{SILVER}: the statement answered a row without columns", id="empty-row"),
    pytest.param({"statement_id": "01ef", "status": "SUCCEEDED"},
                 f"{SILVER}: an answer of the statement execution API that is not understood (AttributeError: ",
                 id="unreadable-answer"),
])  # fmt: skip
def test_a_count_that_cannot_be_taken_validates_nothing(workspace, project, tmp_path, capsys, answer, message):
    update(workspace, SALES, *COMPLETED)
    workspace.on("POST", STATEMENTS, answer, recorded("validate_count_rows"))

    line = could_not_validate(*run(capsys, project, tmp_path, "--pipeline", "sales_pipeline"))

    assert line.startswith(NOT_CHECKED + message), line
    assert "== SQL" not in line and "com.databricks.Service" not in line  # the first line of a long error
    assert len(sent(workspace)) == 1  # the first failure ends the checks


def test_a_count_that_outlives_the_sql_timeout_is_cancelled(workspace, project, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(validate_release, "_SQL_TIMEOUT_SECONDS", 0)
    update(workspace, SALES, *COMPLETED)
    answers(workspace, "statement_running")
    statement_id = recorded("statement_running")["statement_id"]
    workspace.on("GET", f"{STATEMENTS}/{statement_id}", recorded("statement_running"))
    workspace.on("POST", f"{STATEMENTS}/{statement_id}/cancel", {})

    line = could_not_validate(*run(capsys, project, tmp_path, "--pipeline", "sales_pipeline"))

    assert line == NOT_CHECKED + f"{SILVER}: SQL statement {statement_id} still running after 0 s; cancelled"
    assert len(workspace.calls("POST", f"{STATEMENTS}/{statement_id}/cancel")) == 1


@pytest.mark.parametrize(("answer", "message"), [
    pytest.param(Answer(500, ERROR_500), "InternalError: the service is unavailable", id="server-error"),
    pytest.param(recorded("statement_failed"), "SQL statement failed (FAILED): [TABLE_OR_VIEW_NOT_FOUND]",
                 id="statement-failed"),
    pytest.param(statement(["about 99 %"]), "answered 'about 99 %', not a rate", id="not-a-number"),
    pytest.param(statement(["1.7"]), "answered '1.7', not a share between 0 and 1", id="above-one"),
    pytest.param(statement(["NaN"]), "answered 'NaN', not a share between 0 and 1", id="nan"),
    pytest.param(statement(["0.99"], manifest=None), "the statement answered a row without columns",
                 id="no-manifest"),
])  # fmt: skip
def test_an_event_log_that_cannot_be_read_validates_nothing(workspace, project, tmp_path, capsys, answer, message):
    update(workspace, SALES, *COMPLETED)
    workspace.on("POST", STATEMENTS, recorded("validate_count_rows"), recorded("validate_count_rows"), answer)

    line = could_not_validate(*run(capsys, project, tmp_path, "--pipeline", "sales_pipeline"))

    assert line.startswith(NOT_CHECKED + "expectation pass rate of prod.sales.sales_pipeline_event_log"), line
    assert message in line


def test_production_figures_that_cannot_be_read_validate_nothing(workspace, project, tmp_path, capsys):
    update(workspace, GREEN, *COMPLETED)
    canary_answers(workspace, prod_drop_rate="statement_failed")

    line = could_not_validate(*run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green"))

    assert line.startswith(NOT_CHECKED + f"drop rate of {event_log('customer')}: SQL statement failed (FAILED)")


@pytest.mark.parametrize("phase", ["start", "wait"])
def test_a_server_error_starting_or_following_the_update_validates_nothing(workspace, project, tmp_path, capsys, phase):
    update(workspace, SALES, "validate_update_running")
    path = f"/api/2.0/pipelines/{SALES}/updates" + (f"/{UPDATE}" if phase == "wait" else "")
    workspace.on("POST" if phase == "start" else "GET", path, Answer(500, ERROR_500))

    line = could_not_validate(*run(capsys, project, tmp_path, "--pipeline", "sales_pipeline"))

    what = "starting an update of sales_pipeline" if phase == "start" else f"reading update {UPDATE} of sales_pipeline"
    assert line.startswith(f"make validate-release: {what}"), line
    assert "InternalError: the service is unavailable" in line
    assert sent(workspace) == []


@pytest.mark.parametrize("events", [Answer(500, ERROR_500), {"events": "not a list"}, {"events": [{"origin": 7}]}])
def test_a_failed_update_fails_whether_or_not_its_events_can_be_read(workspace, project, tmp_path, capsys, events):
    # The update FAILED: that is a check that failed (1), its reason a courtesy the event list may not give.
    update(workspace, SALES, "validate_update_running", "validate_update_failed")
    workspace.on("GET", f"/api/2.0/pipelines/{SALES}/events", events)

    code, out, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 1
    assert "Traceback" not in err and errors(err) == []
    assert check(out, "update state")[1:3] == ["FAIL", "FAILED"]
    assert workspace.calls("GET", f"/api/2.0/pipelines/{SALES}/events")


# --- errors a person can act on, before anything runs --------------------------------------------------------------


@pytest.mark.parametrize(("args", "stack", "message"), [
    (["--pipeline", "customer_36"], "prod", "PIPELINE=customer_36: not a pipeline of stack 'prod' (pipelines: "
     "clickstream_events, customer_360, invoice_ingest, sales_pipeline); did you mean 'customer_360'?"),
    (["--pipeline", ""], "prod", "PIPELINE= is required: one of clickstream_events, customer_360"),
    (["--pipeline", "sales_pipeline", "--slot", "green"], "prod", "SLOT=green: sales_pipeline has no release: "
     "section (it is not blue/green); omit SLOT to validate it"),
    (["--pipeline", "customer_360", "--slot", "red"], "prod",
     "SLOT=red: not a slot of customer_360 (slots: blue, green)"),
    (["--pipeline", "clickstream_events"], "prod", "PIPELINE=clickstream_events: is continuous in stack 'prod'"),
    (["--pipeline", "sales_pipeline", "--timeout-minutes", "0"], "prod", "TIMEOUT=0: minutes"),
    (["--pipeline", "sales_pipeline", "--tolerance", "1.5"], "prod", "--tolerance 1.5: a share such as 0.1"),
])  # fmt: skip
def test_bad_arguments_are_one_line(workspace, project, tmp_path, capsys, args, stack, message):
    code, out, err = run(capsys, project, tmp_path, *args, stack=stack)

    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("make validate-release: ") and message in line
    assert workspace.requests == []


def test_an_unknown_stack_is_reported_by_the_settings_loader(workspace, project, tmp_path, capsys):
    code, _, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline", stack="qa")

    assert code == 2
    assert "Pulumi.qa.yaml: does not exist" in err


def test_missing_credentials(project, tmp_path, capsys, monkeypatch):
    for var in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CLIENT_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-databrickscfg"))

    code, _, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline")

    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith("make validate-release: no Databricks credentials: set DATABRICKS_HOST and DATABRICKS_TOKEN")


@pytest.mark.parametrize(("outputs", "message"), [
    ({"pipelines": {}}, "stack 'prod' has no pipelines in its outputs: is it deployed? (`pulumi up --stack prod`)"),
    ({"dashboard_id": "x"}, "stack 'prod' has no pipelines in its outputs"),
    ({"pipelines": {"invoice_ingest": {"id": "9e8d7c6b"}}},
     "PIPELINE=sales_pipeline: not a pipeline of stack 'prod' (pipelines: invoice_ingest)"),
    ({"pipelines": {"sales_pipeline": {"id": None}}}, "stack 'prod': no pipeline id in its outputs for sales_pipeline"),
])  # fmt: skip
def test_outputs_without_the_pipeline(workspace, project, tmp_path, capsys, outputs, message):
    code, _, err = run(capsys, project, tmp_path, "--pipeline", "sales_pipeline", outputs=outputs)

    assert code == 2
    (line,) = err.splitlines()
    assert message in line
    assert workspace.requests == []


def test_outputs_without_releases_for_a_slot(workspace, project, tmp_path, capsys):
    outputs = stack_outputs("prod")
    del outputs["releases"]

    code, _, err = run(capsys, project, tmp_path, "--pipeline", "customer_360", "--slot", "green", outputs=outputs)

    assert code == 2
    assert err.splitlines() == [
        "make validate-release: stack 'prod' has no releases.customer_360.slots.green.pipeline_id in its outputs: "
        "deploy the release first (`pulumi up --stack prod`), or pass this stack's OUTPUTS="
    ]


def test_an_unreadable_outputs_file(workspace, project, tmp_path, capsys):
    missing = str(tmp_path / "missing.json")
    argv = ["--stack", "prod", "--pipeline", "sales_pipeline", "--outputs", missing, "--root", str(project.root)]
    code = validate_release.main(argv)

    assert code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"make validate-release: OUTPUTS={tmp_path / 'missing.json'}: no such file")
