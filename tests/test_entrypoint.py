"""`__main__.py`, the file `pulumi up` runs, fed config the way the engine feeds it."""

from __future__ import annotations

import json
import runpy

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from lakeflow.offline.recorder import record
from lakeflow.offline.stack_file import read_stack_config
from tests.conftest import ROOT, by_type

pytestmark = pytest.mark.plan


def engine_config(stack: str) -> tuple[dict[str, str], set[str]]:
    return read_stack_config(ROOT, "lakeflow", stack)


def test_main_registers_the_same_resources_as_the_offline_plan(plans):
    config, secret = engine_config("prod")
    # prod reads staging's outputs through a StackReference (the promotion gate)
    staging = {"example-org/lakeflow/staging": plans["staging"].outputs}
    plan = record(
        "lakeflow", "prod", config, secret, lambda: runpy.run_path(str(ROOT / "__main__.py")), references=staging
    )
    assert plan.schema_errors == []
    assert json.dumps(plan.to_json(), sort_keys=True) == json.dumps(plans["prod"].to_json(), sort_keys=True)


def test_main_reads_config_from_the_environment_as_the_language_host_passes_it(monkeypatch):
    config, secret = engine_config("staging")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(sorted(secret)))
    plan = record("lakeflow", "staging", {}, set(), lambda: runpy.run_path(str(ROOT / "__main__.py")))
    assert {r["inputs"]["name"] for r in by_type(plan, "Pipeline")} >= {"staging_sales_pipeline"}


def test_bad_config_ends_the_run_with_a_report_and_no_traceback():
    config, secret = engine_config("prod")
    config["lakeflow:mode"] = "prod"
    with pytest.raises(pulumi.RunError) as info:
        record("lakeflow", "prod", config, secret, lambda: runpy.run_path(str(ROOT / "__main__.py")))
    assert "Pulumi.prod.yaml" in str(info.value) and "lakeflow:mode: 'prod': Input should be" in str(info.value)
    assert info.value.__cause__ is None  # RunError: Pulumi prints the message only


def test_a_secret_lakeflow_key_is_refused(monkeypatch):
    config, _ = engine_config("dev")
    with pytest.raises(pulumi.RunError, match="lakeflow:team: must not be a secret"):
        record("lakeflow", "dev", config, {"lakeflow:team"}, lambda: runpy.run_path(str(ROOT / "__main__.py")))
    assert runtime_config.is_config_secret("lakeflow:team")
