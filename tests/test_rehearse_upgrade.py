"""`make rehearse-upgrade`: a temporary development copy on the PREVIEW channel, full refresh,
report, teardown, against a fake workspace on 127.0.0.1 through the real Databricks SDK."""

from __future__ import annotations

import json

import pytest

import ops.rehearse_upgrade as rehearse
import ops.validate_release
import ops.workspace
from tests.fake_databricks import Answer, recorded

SOURCE = "3f6b0d4e-5a1c-4b7e-9e52-0c1d2e3f4a5b"
COPY = "c0c0c0c0-1111-4222-8333-444444444444"
PIPELINES = r"/api/2.0/pipelines"


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(ops.validate_release, "_POLL_SECONDS", 0.01)
    monkeypatch.setattr(ops.workspace, "_POLL_SECONDS", 0.01)


@pytest.fixture
def outputs(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"pipelines": {"sales_pipeline": {"id": SOURCE}, "customer_360": {"id": "x"}}}))
    return path


def serve(workspace, *update_states: str, start: Answer | None = None, delete: Answer | None = None):
    spec = {**recorded("pipeline_get")["spec"], "catalog": "staging", "name": "staging_sales_pipeline"}
    workspace.on("GET", rf"{PIPELINES}/{SOURCE}", recorded("pipeline_get", name="staging_sales_pipeline", spec=spec))
    workspace.on("POST", PIPELINES, {"pipeline_id": COPY})
    workspace.on("POST", rf"{PIPELINES}/{COPY}/updates", start or recorded("start_update"))
    workspace.on(
        "GET",
        rf"{PIPELINES}/{COPY}/updates/[^/]+",
        *(recorded("update_get", update={**recorded("update_get")["update"], "state": s}) for s in update_states),
    )
    workspace.on("GET", rf"{PIPELINES}/{COPY}/events", recorded("rehearsal_events"))
    workspace.on("POST", rf"{PIPELINES}/{COPY}/stop", {})
    workspace.on("DELETE", rf"{PIPELINES}/{COPY}", delete or {})
    workspace.on("POST", r"/api/2.0/sql/statements/?", recorded("statement_succeeded"))


def run(project, outputs, *extra: str, stack: str = "staging") -> int:
    argv = ["--stack", stack, "--pipeline", "sales_pipeline", "--outputs", str(outputs), "--root", str(project.root)]
    return rehearse.main([*argv, *extra])


def dropped(workspace) -> list[str]:
    return [r.body["statement"] for r in workspace.calls("POST", r"/api/2.0/sql/statements/?")]


def test_a_completed_rehearsal_reports_ready_and_leaves_nothing(workspace, project, outputs, capsys):
    serve(workspace, "WAITING_FOR_RESOURCES", "RUNNING", "COMPLETED")
    assert run(project, outputs) == 0
    (create,) = workspace.calls("POST", PIPELINES)
    body = create.body
    assert body["development"] is True and body["continuous"] is False and body["channel"] == "PREVIEW"
    # its own schema: never the live pipeline's tables
    assert (body["catalog"], body["schema"]) == ("staging", "sales_upgrade_rehearsal")
    assert body["name"].startswith("staging_sales_pipeline_upgrade_rehearsal_")
    assert body["libraries"] and body["clusters"][0]["autoscale"]["max_workers"] == 20
    assert body["tags"]["Purpose"] == "upgrade-rehearsal"
    (start,) = workspace.calls("POST", rf"{PIPELINES}/{COPY}/updates")
    assert start.body["full_refresh"] is True
    assert len(workspace.calls("DELETE", rf"{PIPELINES}/{COPY}")) == 1
    assert dropped(workspace) == ["DROP SCHEMA IF EXISTS `staging`.`sales_upgrade_rehearsal` CASCADE"]
    captured = capsys.readouterr()
    assert "ready: the pipeline completes a full refresh on this channel" in captured.out
    assert "nothing left behind" in captured.out
    assert "RUNNING" in captured.err and "COMPLETED" in captured.err  # progress


def test_a_failed_rehearsal_says_why_and_still_cleans_up(workspace, project, outputs, capsys):
    serve(workspace, "RUNNING", "FAILED")
    assert run(project, outputs, "--channel", "PREVIEW") == 1
    out = capsys.readouterr().out
    assert "NOT ready" in out and "UNRESOLVED_COLUMN" in out
    assert len(workspace.calls("DELETE", rf"{PIPELINES}/{COPY}")) == 1 and dropped(workspace)


def test_an_error_midway_still_tears_down(workspace, project, outputs, capsys):
    serve(workspace, "RUNNING", start=Answer(403, recorded("error_403")))
    assert run(project, outputs) == 2
    err = capsys.readouterr().err
    assert "start the full refresh: permission denied (403)" in err and "Traceback" not in err
    assert len(workspace.calls("DELETE", rf"{PIPELINES}/{COPY}")) == 1 and dropped(workspace)


def test_a_timeout_stops_and_deletes_the_copy(workspace, project, outputs, capsys):
    serve(workspace, "RUNNING")
    assert run(project, outputs, "--timeout-minutes", "0") == 2
    err = capsys.readouterr().err
    assert "full refresh did not end" in err and "(TIMEOUT)" in err and "the copy is stopped and deleted" in err
    assert workspace.calls("POST", rf"{PIPELINES}/{COPY}/stop") and workspace.calls("DELETE", rf"{PIPELINES}/{COPY}")


def test_a_failed_teardown_prints_what_is_left_and_how_to_remove_it(workspace, project, outputs, capsys):
    serve(workspace, "COMPLETED", delete=Answer(500, {"error_code": "INTERNAL_ERROR", "message": "try later"}))
    assert run(project, outputs) == 2
    out = capsys.readouterr().out
    assert "LEFT BEHIND" in out and f"databricks pipelines delete {COPY}" in out


def test_never_in_production(workspace, project, outputs, capsys):
    assert run(project, outputs, stack="prod") == 2
    assert "never here" in capsys.readouterr().err
    assert workspace.requests == []


def test_errors_are_one_line(workspace, project, outputs, tmp_path, monkeypatch, capsys):
    assert (
        rehearse.main(
            ["--stack", "staging", "--pipeline", "nope", "--outputs", str(outputs), "--root", str(project.root)]
        )
        == 2
    )
    assert "PIPELINE=nope: not a pipeline of stack 'staging'" in capsys.readouterr().err
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    assert run(project, empty) == 2
    assert "has no pipelines in its outputs" in capsys.readouterr().err
    monkeypatch.delenv("DATABRICKS_HOST")
    monkeypatch.delenv("DATABRICKS_TOKEN")
    assert run(project, outputs) == 2
    assert "no Databricks credentials" in capsys.readouterr().err
