"""The real engine's harness without the engine: the stub workspace, the sandbox's isolation, and
the deployment the agreement tests import (engine/sandbox.py, engine/agreement.py)."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from engine.agreement import PROVIDER_ID, UNKNOWN, changes, deployment_from_preview
from engine.build import Engine
from engine.sandbox import Sandbox, StubWorkspace
from lakeflow.offline.recorder import placeholder_id
from tests.conftest import ROOT


def _get(stub: StubWorkspace, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(stub.url.removeprefix("http://"))
    conn.request("GET", path)
    return conn.getresponse()


def test_the_stub_answers_configure_and_refuses_and_records_everything_else():
    with StubWorkspace() as stub:
        assert _get(stub, "/.well-known/databricks-config").status == 404
        assert _get(stub, "/api/2.0/pipelines").status == 501
        assert _get(stub, "/api/2.0/preview/scim/v2/Me").status == 501  # not allowed by default
    assert stub.violations == ["GET /api/2.0/pipelines", "GET /api/2.0/preview/scim/v2/Me"]


def test_the_stub_tells_who_and_which_workspace_when_allowed():
    with StubWorkspace(allow=[StubWorkspace.ME]) as stub:
        response = _get(stub, "/api/2.0/preview/scim/v2/Me?excludedAttributes=entitlements")
        assert response.status == 200
        assert response.getheader("X-Databricks-Org-Id") == StubWorkspace.WORKSPACE_ID
        assert json.loads(response.read())["userName"]
    assert stub.violations == []


def test_the_sandbox_uses_copies_of_the_stack_files_and_none_of_the_callers_pulumi_or_databricks_settings(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-real")
    monkeypatch.setenv("DATABRICKS_HOST", "https://real.cloud.databricks.com")
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://real-state")
    engine = Engine(tmp_path / "engine", "v3.274.0", "1.104.0")
    (engine.dir / "plugins").mkdir(parents=True)
    with StubWorkspace() as stub, Sandbox(engine, stub) as sandbox:
        stack_file = sandbox.project / "Pulumi.dev.yaml"
        assert not stack_file.is_symlink() and stack_file.read_text() == (ROOT / "Pulumi.dev.yaml").read_text()
        assert (sandbox.project / "pipelines").resolve() == ROOT / "pipelines"
        assert "PULUMI_ACCESS_TOKEN" not in sandbox.env and "DATABRICKS_HOST" not in sandbox.env
        assert sandbox.env["PULUMI_BACKEND_URL"] == f"file://{sandbox.dir / 'state'}"
        assert sandbox.env["HTTPS_PROXY"] == stub.url  # any other host goes to the stub, which refuses it
        assert sandbox.env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
        assert (Path(sandbox.env["PULUMI_HOME"]) / "plugins").resolve() == engine.plugins
        folder = sandbox.dir
    assert not folder.exists()


def _step(urn, type_, inputs, parent=None, provider=None, custom=True):
    return {
        "op": "create",
        "urn": urn,
        "newState": {
            "urn": urn,
            "type": type_,
            "custom": custom,
            "inputs": inputs,
            "parent": parent,
            "provider": provider,
        },
    }


def test_the_deployment_holds_known_values_placeholder_ids_and_what_the_provider_computes():
    stack_urn = "urn:pulumi:dev::lakeflow::pulumi:pulumi:Stack::lakeflow-dev"
    provider = "urn:pulumi:dev::lakeflow::pulumi:providers:databricks::default_1_104_0"
    dash = "urn:pulumi:dev::lakeflow::databricks:index/dashboard:Dashboard::d"
    perm = "urn:pulumi:dev::lakeflow::databricks:index/permissions:Permissions::d-permissions"
    alert = "urn:pulumi:dev::lakeflow::databricks:index/alertV2:AlertV2::a"
    preview = {
        "steps": [
            _step(stack_urn, "pulumi:pulumi:Stack", {}, custom=False),
            _step(
                dash,
                "databricks:index/dashboard:Dashboard",
                {"__defaults": [], "parentPath": "/x"},
                stack_urn,
                f"{provider}::{UNKNOWN}",
            ),
            _step(
                perm,
                "databricks:index/permissions:Permissions",
                {"dashboardId": UNKNOWN},
                stack_urn,
                f"{provider}::{UNKNOWN}",
            ),
            _step(alert, "databricks:index/alertV2:AlertV2", {"displayName": "a"}, stack_urn, f"{provider}::{UNKNOWN}"),
        ]
    }
    deployed = {
        "resources": [
            {"urn": perm, "inputs": {"dashboardId": placeholder_id("databricks:index/dashboard:Dashboard", "d")}}
        ]
    }
    facts = {
        "databricks:index/dashboard:Dashboard": {"framework": False, "computed": {"md5": "string", "etags": "list"}},
        "databricks:index/alertV2:AlertV2": {"framework": True, "computed": {"providerConfig": "object"}},
    }
    resources = deployment_from_preview(preview, deployed, {"host": "http://stub", "version": "1.104.0"}, facts)[
        "deployment"
    ]["resources"]
    by_urn = {r["urn"]: r for r in resources}
    assert [r["urn"] for r in resources] == [stack_urn, provider, dash, perm, alert]  # providers before their users
    assert by_urn[provider]["inputs"] == {"host": "http://stub", "version": "1.104.0"}
    assert by_urn[dash]["id"] == "placeholder:Dashboard:d" and by_urn[dash]["provider"] == f"{provider}::{PROVIDER_ID}"
    assert by_urn[dash]["outputs"] == {"parentPath": "/x", "etags": []}  # no __defaults; computed list empty
    assert by_urn[perm]["inputs"]["dashboardId"] == by_urn[dash]["id"]  # unknown in the preview, known here
    assert by_urn[alert]["outputs"]["providerConfig"] == {"workspaceId": StubWorkspace.WORKSPACE_ID}


def test_changes_group_replacement_steps_by_urn_and_leave_out_same():
    steps = [
        {"op": "same", "urn": "a"},
        {"op": "create-replacement", "urn": "b"},
        {"op": "replace", "urn": "b"},
        {"op": "delete-replaced", "urn": "b"},
        {"op": "update", "urn": "c"},
        {"op": "delete", "urn": "d"},
        {"op": "read", "urn": "e"},
    ]
    assert changes({"steps": steps}) == {"create": set(), "update": {"c"}, "replace": {"b"}, "delete": {"d"}}
