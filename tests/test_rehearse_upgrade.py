"""`make rehearse-upgrade`: a temporary development copy on the PREVIEW channel, full refresh,
report, teardown, against a fake workspace on 127.0.0.1 through the real Databricks SDK."""

from __future__ import annotations

import json
import re

import pytest

import lakeflow.ops.rehearse_upgrade as rehearse
import lakeflow.ops.validate_release
import lakeflow.ops.workspace
from lakeflow.offline.stack_file import load_stack
from lakeflow.sql.names import quoted
from tests.conftest import DATABRICKS_SDK
from tests.fake_databricks import Answer, recorded

pytestmark = DATABRICKS_SDK

SOURCE = "3f6b0d4e-5a1c-4b7e-9e52-0c1d2e3f4a5b"
COPY = "c0c0c0c0-1111-4222-8333-444444444444"
OTHER_COPY = "c1c1c1c1-5555-4666-8777-888888888888"
PIPELINES = r"/api/2.0/pipelines"
RUN_ID = r"\d{14}_[0-9a-f]{6}"


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(lakeflow.ops.validate_release, "_POLL_SECONDS", 0.001)
    monkeypatch.setattr(lakeflow.ops.workspace, "_POLL_SECONDS", 0.001)


@pytest.fixture
def outputs(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"pipelines": {"sales_pipeline": {"id": SOURCE}, "customer_360": {"id": "x"}}}))
    return path


def serve(workspace, *update_states: str, start: Answer | None = None, delete: Answer | None = None, **spec_changes):
    """The live pipeline SOURCE (its spec with `spec_changes`), and the copy COPY that rehearsals create."""
    spec = {**recorded("pipeline_get")["spec"], "catalog": "staging", "name": "staging_sales_pipeline", **spec_changes}
    workspace.on("GET", rf"{PIPELINES}/{SOURCE}", recorded("pipeline_get", name="staging_sales_pipeline", spec=spec))
    workspace.on("POST", PIPELINES, {"pipeline_id": COPY})
    serve_copy(workspace, COPY, *update_states, start=start, delete=delete)
    workspace.on("POST", r"/api/2.0/sql/statements/?", recorded("statement_succeeded"))


def serve_copy(workspace, copy: str, *update_states: str, start: Answer | None = None, delete: Answer | None = None):
    workspace.on("POST", rf"{PIPELINES}/{copy}/updates", start or recorded("start_update"))
    workspace.on(
        "GET",
        rf"{PIPELINES}/{copy}/updates/[^/]+",
        *(recorded("update_get", update={**recorded("update_get")["update"], "state": s}) for s in update_states),
    )
    workspace.on("GET", rf"{PIPELINES}/{copy}/events", recorded("rehearsal_events"))
    workspace.on("POST", rf"{PIPELINES}/{copy}/stop", {})
    workspace.on("DELETE", rf"{PIPELINES}/{copy}", delete or {})


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
    # its own schema, this run's only: never the live pipeline's tables, nor another rehearsal's
    assert body["catalog"] == "staging"
    assert re.fullmatch(rf"sales_rehearsal_{RUN_ID}", body["schema"])
    assert body["name"] == f"staging_sales_pipeline_upgrade_rehearsal_{body['schema'].removeprefix('sales_rehearsal_')}"
    assert body["libraries"] and body["clusters"][0]["autoscale"]["max_workers"] == 20
    assert body["tags"]["Purpose"] == "upgrade-rehearsal"
    (start,) = workspace.calls("POST", rf"{PIPELINES}/{COPY}/updates")
    assert start.body["full_refresh"] is True
    assert len(workspace.calls("DELETE", rf"{PIPELINES}/{COPY}")) == 1
    assert dropped(workspace) == [f"DROP SCHEMA IF EXISTS `staging`.`{body['schema']}` CASCADE"]
    captured = capsys.readouterr()
    assert "ready: the pipeline completes a full refresh on this channel" in captured.out
    assert "nothing left behind" in captured.out
    assert "RUNNING" in captured.err and "COMPLETED" in captured.err  # progress


def test_where_the_workspace_does_not_say_the_copy_is_named_as_the_stack_deploys_it(workspace, project, outputs):
    """A live pipeline read without a name: the copy takes the stack's physical name of it
    (lakeflow.model.deployment), never the bare logical name another stack's copy could share."""
    serve(workspace, "COMPLETED")
    live = recorded("pipeline_get", spec={**recorded("pipeline_get")["spec"], "catalog": "staging"})
    live.pop("name", None)
    workspace.on("GET", rf"{PIPELINES}/{SOURCE}", live)
    assert run(project, outputs) == 0
    (create,) = workspace.calls("POST", PIPELINES)
    assert create.body["name"].startswith("staging_sales_pipeline_upgrade_rehearsal_")


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


# --- each run its own schema: concurrent rehearsals never drop each other's ----------------------------------


def test_two_rehearsals_at_once_publish_into_their_own_schemas_and_drop_only_their_own(workspace, project):
    serve(workspace, "RUNNING", "COMPLETED")
    workspace.on("POST", PIPELINES, {"pipeline_id": COPY}, {"pipeline_id": OTHER_COPY})
    serve_copy(workspace, OTHER_COPY, "RUNNING", "COMPLETED")
    w, settings = lakeflow.ops.workspace.client(), load_stack(project.root, "staging")
    during_first: dict[str, object] = {}

    def first_says(message: str) -> None:
        # While the first rehearsal's copy runs (its schema exists), a second one runs from start to teardown.
        if message.startswith("created ") and not during_first:
            during_first["second"] = rehearse.rehearse(w, settings, "sales_pipeline", SOURCE, say=lambda _: None)
            during_first["dropped"] = dropped(workspace)

    first = rehearse.rehearse(w, settings, "sales_pipeline", SOURCE, say=first_says)

    creates = [c.body for c in workspace.calls("POST", PIPELINES)]
    assert [b["catalog"] for b in creates] == ["staging", "staging"]
    first_schema, second_schema = (b["schema"] for b in creates)
    assert first_schema != second_schema
    assert creates[0]["name"] != creates[1]["name"]
    drop = "DROP SCHEMA IF EXISTS `staging`.`{}` CASCADE".format
    # The second teardown dropped its own schema only: the first's was still in place ...
    assert during_first["dropped"] == [drop(second_schema)]
    # ... until the first one's teardown dropped it, by its exact name.
    assert dropped(workspace) == [drop(second_schema), drop(first_schema)]
    assert [c.path for c in workspace.calls("DELETE", rf"{PIPELINES}/.+")] == [
        f"/api/2.0/pipelines/{OTHER_COPY}",
        f"/api/2.0/pipelines/{COPY}",
    ]
    second = during_first["second"]
    assert isinstance(second, rehearse.Rehearsal)
    for r, schema in ((first, first_schema), (second, second_schema)):
        assert r.schema == schema and re.fullmatch(rf"sales_rehearsal_{RUN_ID}", schema)
        assert r.state == "COMPLETED" and r.leftovers == []


@pytest.mark.parametrize("schema", ["sales", "sales.v2", "Sales-EU `x`", "s" * 255])
def test_a_rehearsal_schema_is_one_unity_catalog_name_unique_to_the_run(schema):
    run_id = rehearse.new_run_id(rehearse.datetime(2026, 11, 29, 11, 0, 4, tzinfo=rehearse.UTC))
    name = rehearse.rehearsal_schema(schema, run_id)

    assert re.fullmatch(r"20261129110004_[0-9a-f]{6}", run_id)
    assert re.fullmatch(r"[A-Za-z0-9_]{1,255}", name)
    assert name.endswith(f"_rehearsal_{run_id}")
    assert name.startswith(re.sub(r"[^A-Za-z0-9_]", "_", schema)[:20])
    assert len({rehearse.new_run_id(rehearse.datetime.now(rehearse.UTC)) for _ in range(50)}) == 50


# --- names that are not one identifier each: kept apart, quoted, never split -----------------------------------


@pytest.mark.parametrize(
    ("catalog", "schema"),
    [("stag.ing", "sales"), ("staging", "sales.v2"), ("a.b.c", "d.e"), ("odd`cat", "sales")],
)
@pytest.mark.parametrize("drop_fails", [False, True])
def test_a_name_with_a_dot_is_torn_down_by_the_runs_own_schema_only(
    workspace, project, outputs, capsys, catalog, schema, drop_fails
):
    serve(workspace, "COMPLETED", catalog=catalog, schema=schema)
    if drop_fails:
        workspace.on("POST", r"/api/2.0/sql/statements/?", recorded("statement_failed"))

    code = run(project, outputs)

    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    (create,) = workspace.calls("POST", PIPELINES)
    own = create.body["schema"]
    assert create.body["catalog"] == catalog
    assert re.fullmatch(rf"{re.sub(r'[^A-Za-z0-9_]', '_', schema)}_rehearsal_{RUN_ID}", own)
    statement = f"DROP SCHEMA IF EXISTS {quoted(catalog, own)} CASCADE"
    assert dropped(workspace) == [statement]  # this run's schema, and nothing else
    assert len(workspace.calls("DELETE", rf"{PIPELINES}/{COPY}")) == 1
    if drop_fails:
        assert code == 2
        assert "LEFT BEHIND" in captured.out and f"{statement};" in captured.out
    else:
        assert code == 0, captured.err
        assert "nothing left behind" in captured.out
