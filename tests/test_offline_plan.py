"""The offline plan itself: its JSON contract, the provider-schema check, secrets, determinism."""

from __future__ import annotations

import json

import pulumi
import pulumi_databricks as databricks
import pytest

import lakeflow.program
from lakeflow.config.models import SECRET_KEYS, StackConfig
from lakeflow.offline.plan import main
from lakeflow.offline.recorder import SECRET, record
from tests.conftest import ROOT, STACKS, parse_yaml, read_yaml, resource

pytestmark = pytest.mark.plan

RESOURCE_KEYS = {
    "urn": str,
    "type": str,
    "name": str,
    "parent": (str, type(None)),
    "custom": bool,
    "provider": (str, type(None)),
    "inputs": dict,
    "protect": bool,
    "retainOnDelete": bool,
    "deleteBeforeReplace": bool,
    "aliases": list,
    "dependencies": list,
    "propertyDependencies": dict,
    "ignoreChanges": list,
    "replaceOnChanges": list,
    "importId": (str, type(None)),
}


def test_json_plan_has_exactly_the_documented_shape(tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["--stack", "prod", "--json", str(out)]) == 0
    plan = json.loads(out.read_text())
    assert set(plan) == {"project", "stack", "workspace", "resources", "outputs"}
    assert plan["workspace"] == "https://dbc-prod.cloud.databricks.com"
    assert (plan["project"], plan["stack"]) == ("lakeflow", "prod")
    seen: set[str] = set()
    for r in plan["resources"]:
        assert set(r) == set(RESOURCE_KEYS), r["urn"]
        for key, kind in RESOURCE_KEYS.items():
            assert isinstance(r[key], kind), (r["urn"], key)
        assert r["type"] != "pulumi:pulumi:Stack"
        # Registration order: a parent and every dependency come first.
        assert r["parent"] is None or r["parent"] in seen
        assert set(r["dependencies"]) <= seen
        seen.add(r["urn"])
    assert plan["outputs"]["pipelines"]["sales_pipeline"]["name"] == "prod_sales_pipeline"
    assert plan["outputs"]["pipelines"]["sales_pipeline"]["id"] == "(known after apply)"
    printed = capsys.readouterr().out
    assert "DltPipeline sales_pipeline  [protected]" in printed
    assert "Schema disaster-recovery-schema-prod_dr-sales  [protected, retained on delete]" in printed
    assert "cluster default: autoscale 2-20 ENHANCED" in printed
    # each stack alert with the condition it holds every pipeline to
    assert "COUNT(pipeline) GREATER_THAN 0; '0 */5 * * * ?' UNPAUSED; 2 destination(s)" in printed
    assert "breach when: customer_360 pass_rate < 0.95" in printed  # its own alert (docs/adr/0007)
    assert (
        "Resources: 1 AccessControlRuleSet, 1 AlertFolder, 1 AlertRouting, 24 AlertV2, 1 BlueGreenPipeline, 2 Budget,"
        " 1 BudgetPolicy, 1 CostAlerts,"
        " 1 CostGuardrails, 1 Dashboard, 1 Directory, 5 DltPipeline, 1 File, 7 Grants, 6 Job, 1 MonitoringDashboard,"
        " 3 NotificationDestination, 17 Permissions, 5 Pipeline, 5 PipelineAlerts, 3 PipelineSchedule,"
        " 3 PipelineSnapshots, 4 Query, 2 Repo, 5 Schema, 1 SnapshotStore, 2 SqlTable, 1 StackReference, 1 Volume,"
        " 1 databricks (108 in all)"
    ) in printed


def test_equal_programs_give_byte_identical_plans(tmp_path, capsys):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["--stack", "staging", "--json", str(first)]) == 0
    assert main(["--stack", "staging", "--json", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_schema_check_catches_what_mocks_let_through():
    def program() -> None:
        databricks.Pipeline(
            "bad",
            name="x",
            clusters=[{"lable": "default", "autoscale": {"minWorkers": 1}}],  # typo + missing maxWorkers
            photon="yes",  # type: ignore[arg-type]
            tags={"Team": 7},  # type: ignore[dict-item]
        )

    plan = record("lakeflow", "test", {}, set(), program)
    assert sorted(plan.schema_errors) == sorted(
        [
            "databricks:index/pipeline:Pipeline 'bad': clusters[0].lable: unknown property for PipelineClusterArgs"
            " (did you mean 'label'?)",
            "databricks:index/pipeline:Pipeline 'bad': clusters[0].autoscale.maxWorkers: required by"
            " PipelineClusterAutoscaleArgs but missing",
            "databricks:index/pipeline:Pipeline 'bad': photon: expected a boolean, got a string",
            "databricks:index/pipeline:Pipeline 'bad': tags.Team: expected a string, got a number",
        ]
    )


def test_schema_check_accepts_everything_the_shipped_stacks_register(plans):
    for plan in plans.values():
        assert plan.schema_errors == []


def test_cli_fails_the_plan_on_schema_errors(monkeypatch, capsys):

    def broken_build(settings):
        databricks.Job("j", tasks=[{"task_key": "t", "pipelineTask": {"pipelineId": "p", "fullRefresh": "no"}}])

    monkeypatch.setattr(lakeflow.program, "build", broken_build)
    assert main(["--stack", "dev"]) == 3
    err = capsys.readouterr().err
    assert "would reject" in err and "tasks[0].pipelineTask.fullRefresh: expected a boolean" in err


def test_secrets_are_masked_in_inputs_and_outputs():
    def program() -> None:
        databricks.Pipeline("p", name="x", configuration={"token": pulumi.Output.secret("s3cr3t-value")})
        pulumi.export("token", pulumi.Output.secret("s3cr3t-value"))

    plan = record("lakeflow", "test", {}, set(), program)
    # The SDK marks the whole map secret when any value in it is.
    assert resource(plan, "Pipeline", "p")["inputs"]["configuration"] == SECRET
    assert plan.outputs["token"] == SECRET
    assert "s3cr3t" not in json.dumps(plan.to_json())


def test_secure_stack_values_are_never_decrypted_nor_printed(project, capsys):
    path = project.root / "Pulumi.dev.yaml"
    path.write_text(path.read_text() + "  databricks:token:\n    secure: AAABAKSuperSecretCiphertext==\n")
    assert main(["--stack", "dev", "--root", str(project.root), "--json", str(project.root / "p.json")]) == 0
    assert "SuperSecret" not in capsys.readouterr().out + (project.root / "p.json").read_text()


def test_a_needed_secret_the_stack_does_not_commit_is_planned_with_a_stand_in_and_said_so(capsys):
    assert main(["--stack", "prod"]) == 0
    out = capsys.readouterr().out
    for key in ("lakeflow:pagerdutyIntegrationKey", "lakeflow:slackWebhookUrl"):
        assert (
            f"note: {key} is not set in Pulumi.prod.yaml: planned with a stand-in secret; "
            f"a deploy needs: pulumi config set --secret {key} <value> --stack prod"
        ) in out
    assert main(["--stack", "dev"]) == 0
    assert "stand-in" not in capsys.readouterr().out  # dev routes to email only


def test_unknown_stack_lists_the_stacks_there(capsys):
    assert main(["--stack", "qa"]) == 2
    captured = capsys.readouterr()
    assert "Pulumi.qa.yaml: does not exist (stacks here: dev, prod, staging)" in captured.err
    assert captured.out == ""


def test_pulumi_yaml_declares_what_the_cli_can_check_and_nothing_it_would_refuse():
    """Pulumi.yaml's config schema and the settings model must not drift apart, and the real CLI
    must accept every stack: it refuses a stack that lacks a declared key without a default.

    So a key is declared with its type when StackConfig requires it (no default) or has a
    default, which Pulumi.yaml repeats; optional keys without one (None), secrets and map values
    (`variables`) are left out and listed in Pulumi.yaml's comment instead."""
    text = (ROOT / "Pulumi.yaml").read_text()
    declared = parse_yaml(text)["config"]
    expected_types, expected_defaults = {}, {}
    for name, field in StackConfig.model_fields.items():
        key = field.alias or name
        annotation = str(field.annotation)
        if "dict[" in annotation or (not field.is_required() and field.default is None):
            assert key not in declared, f"{key} is optional without a default: the CLI would require it"
            assert f"#   {key} " in text or key in SECRET_KEYS, f"{key} is not listed in Pulumi.yaml's comment"
            continue
        expected_types[key] = (
            "array"
            if "list[" in annotation
            else "boolean"
            if "bool" in annotation
            else "integer"
            if "int" in annotation
            else "string"
        )
        if not field.is_required():
            expected_defaults[key] = field.default
    assert {k: v["type"] for k, v in declared.items()} == expected_types
    assert {k: v["default"] for k, v in declared.items() if "default" in v} == expected_defaults
    assert all(v.get("description") for v in declared.values())
    for stack in STACKS:
        config = read_yaml(ROOT / f"Pulumi.{stack}.yaml")["config"]
        assert not [k for k, v in config.items() if isinstance(v, dict) and "secure" in v], "no fake ciphertext"
        required = {k for k, v in declared.items() if "default" not in v}
        assert required <= {k.removeprefix("lakeflow:") for k in config}, stack


def test_a_provider_function_call_fails_the_plan_loudly():
    """The offline plan has no workspace to ask: a data source must not silently return nothing."""
    from lakeflow.offline.recorder import OfflineDataUnavailable

    def program() -> None:
        databricks.get_current_user()

    with pytest.raises(OfflineDataUnavailable, match="no data for function databricks:index/getCurrentUser"):
        record("lakeflow", "test", {}, set(), program)


def test_the_fast_runtime_changes_nothing_registered_and_is_undone(plans, monkeypatch):
    """`_fast_runtime` (inline monitor calls, rare garbage collection, no stack traces) only makes
    the plan faster: prod (every feature, a StackReference read included) plans the same without it.
    It also restores what it swapped, and the private SDK name it swaps still exists."""
    import contextlib
    import gc
    import threading

    from pulumi.runtime import resource as runtime_resource
    from pulumi.runtime.sync_await import _ensure_event_loop

    from lakeflow.offline import recorder
    from lakeflow.offline.plan import plan_stack

    swapped = runtime_resource._get_stack_trace
    type_functions = {name: getattr(pulumi._types, name) for name in recorder._PURE_TYPE_FUNCTIONS}
    thresholds = gc.get_threshold()
    threads = threading.active_count()
    fast = plan_stack("prod", ROOT)
    assert runtime_resource._get_stack_trace is swapped
    assert {name: getattr(pulumi._types, name) for name in recorder._PURE_TYPE_FUNCTIONS} == type_functions
    assert gc.get_threshold() == thresholds
    assert threading.active_count() == threads  # no executor thread was started for the monitor
    loop = _ensure_event_loop()
    on = loop.run_until_complete(loop.run_in_executor(None, threading.get_ident))
    assert on != threading.get_ident()  # afterwards the loop's executor is a thread pool again

    monkeypatch.setattr(recorder, "_fast_runtime", contextlib.nullcontext)
    slow = plan_stack("prod", ROOT)
    assert json.dumps(fast.to_json(), sort_keys=True) == json.dumps(slow.to_json(), sort_keys=True)
    assert fast.to_json()["resources"] == plans["prod"].to_json()["resources"]
    assert (fast.warnings, fast.schema_errors) == (slow.warnings, slow.schema_errors)


def test_the_plan_command_as_a_process_writes_everything_before_it_ends(plans, project, tmp_path):
    """`python -m lakeflow.offline.plan` ends its process with `os._exit` (src/lakeflow/offline/batch.py): its output,
    piped and so block-buffered, arrives whole, the JSON is the plan, and errors still exit
    non-zero with their report and no traceback. Under a profiler it exits normally."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe buffers the output

    def run(root, *args, python=(sys.executable,)):
        cmd = [*python, "-m", "lakeflow.offline.plan", "--root", str(root), *args]
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)

    out = tmp_path / "dev.json"
    done = run(ROOT, "--stack", "dev", "--json", str(out))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[-1] == f"JSON plan written to {out}"
    assert done.stdout.count("\n") > 40 and "Resources: " in done.stdout
    assert json.loads(out.read_text()) == json.loads(json.dumps(plans["dev"].to_json()))

    project.edit_stack("dev", maxWorkersCap="four")
    failed = run(project.root, "--stack", "dev")
    assert (failed.returncode, failed.stdout) == (2, "")
    assert "not planned, nothing registered" in failed.stderr and "Traceback" not in failed.stderr

    # under a profiler the process exits normally, so that the profile gets written
    profile = tmp_path / "plan.prof"
    profiled = run(project.root, "--stack", "dev", python=(sys.executable, "-m", "cProfile", "-o", str(profile)))
    assert profiled.stderr == failed.stderr  # (cProfile's runner exits 0 whatever the program's code)
    assert profile.stat().st_size > 0


def test_the_program_lets_registrations_run_while_it_declares(project, monkeypatch):
    """`build` yields after each component, so registrations are answered while the program is
    still declaring, instead of every resource of the stack waiting, alive, until it ends (the
    offline plan's peak memory; docs/performance.md). Without the yields nothing but the stack
    itself is answered before the last component is declared."""
    from lakeflow import program
    from lakeflow.offline import recorder

    sales = project.pipeline("sales_pipeline")
    for i in range(12):
        project.set_pipeline(
            f"sales_{i:02d}", {**sales, "name": f"sales_{i:02d}", "target": f"${{CATALOG}}.sales_{i:02d}"}
        )

    answered: list[str] = []
    register = recorder.RecordingMonitor.RegisterResource

    def counting(self, request):
        answered.append(request.type)
        return register(self, request)

    answered_when_declared: list[int] = []

    class Counted(program.PipelineAlerts):
        def __init__(self, *args, **kwargs):
            answered_when_declared.append(answered.count("databricks:index/pipeline:Pipeline"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(recorder.RecordingMonitor, "RegisterResource", counting)
    monkeypatch.setattr(program, "PipelineAlerts", Counted)
    plan = project.plan("dev")
    pipelines = sum(r["type"] == "databricks:index/pipeline:Pipeline" for r in plan.resources)
    assert pipelines >= 16
    # Pipelines come first, then schedules, then the stack's alerts: by then, every pipeline has
    # long been answered.
    assert answered_when_declared[-1] == pipelines


def test_a_plan_in_process_collects_its_warnings_and_leaves_no_logger_behind(plans):
    """Pulumi's `Log` RPCs (pulumi.log.warn) reach the plan's warnings through a logger of its own,
    which is not left in logging's registry: the suite and `make diff` plan many times in one process,
    and every logger left there is walked by each handler pytest attaches."""
    import logging

    from lakeflow.offline.plan import plan_stack

    before = set(logging.root.manager.loggerDict)
    dev = plan_stack("dev", ROOT)
    assert set(logging.root.manager.loggerDict) == before
    assert dev.warnings == plans["dev"].warnings and len(dev.warnings) == 1
