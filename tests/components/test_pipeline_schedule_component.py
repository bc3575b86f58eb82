"""PipelineSchedule given its Args directly: the dataclass and the plain mapping register the same."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from lakeflow.components.pipeline_schedule import (
    FileArrivalArgs,
    PipelineSchedule,
    PipelineScheduleArgs,
    ScheduleArgs,
    UpstreamPipeline,
)
from lakeflow.components.types import PauseStatus, coerce_args
from lakeflow.offline.recorder import placeholder_id
from tests.components import as_floats, children, component_urn, plan_of, schema_of

pytestmark = pytest.mark.plan

ARGS = {
    "job_name": "prod_sales_schedule",
    "task_key": "sales",
    "pipeline_id": "pipeline-sales",
    "schedule": {"cron": "0 0 6 * * ?", "timezone": "Europe/Paris", "max_retries": 3, "timeout_seconds": 3600},
    "pause_status": "UNPAUSED",
    "upstream": [{"task_key": "raw", "pipeline_id": "pipeline-raw"}],
    "failure_emails": ["oncall@example.com"],
    "failure_destinations": ["dest-1"],
    "max_run_minutes": 45,
    "streaming_backlog_seconds": 600,
    "runners": ["group:operators"],
    "tags": {"Pipeline": "sales"},
}
TYPED = PipelineScheduleArgs(
    **{
        **ARGS,
        "schedule": ScheduleArgs(cron="0 0 6 * * ?", timezone="Europe/Paris", max_retries=3, timeout_seconds=3600),
        "pause_status": PauseStatus.UNPAUSED,
        "upstream": [UpstreamPipeline("raw", "pipeline-raw")],
    }
)


def registered(args: object, name: str = "sales") -> list[dict]:
    return plan_of(lambda: PipelineSchedule(name, args)).resources  # type: ignore[arg-type]


def job(resources: list[dict]) -> dict:
    return next(r for r in resources if r["type"].endswith(":Job"))["inputs"]


def test_a_plain_mapping_registers_what_the_dataclass_does():
    resources = registered(TYPED)
    assert registered(ARGS) == resources
    inputs = job(resources)
    assert inputs["schedule"] == {
        "quartzCronExpression": "0 0 6 * * ?",
        "timezoneId": "Europe/Paris",
        "pauseStatus": "UNPAUSED",
    }
    assert [(t["taskKey"], t["maxRetries"]) for t in inputs["tasks"]] == [("raw", 3), ("sales", 3)]
    assert inputs["health"]["rules"][0] == {"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 2700}


def test_numbers_given_as_floats_are_taken_as_ints():
    floats = as_floats(ARGS)
    assert floats["max_run_minutes"] == 45.0 and floats["schedule"]["max_retries"] == 3.0
    args = coerce_args(PipelineScheduleArgs, floats)
    assert type(args.max_run_minutes) is int and type(args.schedule.max_retries) is int
    assert type(args.schedule.timeout_seconds) is int and type(args.streaming_backlog_seconds) is int
    assert args == TYPED
    assert registered(floats) == registered(TYPED)


def test_a_file_arrival_trigger_from_a_mapping():
    trigger = {"url": "/Volumes/prod/raw/landing/", "wait_after_last_change_seconds": 120.0}
    args = {**ARGS, "schedule": {"file_arrival": trigger}}
    typed = coerce_args(PipelineScheduleArgs, args)
    assert typed.schedule.file_arrival == FileArrivalArgs("/Volumes/prod/raw/landing/", None, 120)
    inputs = job(registered(args))
    assert "schedule" not in inputs
    assert inputs["trigger"]["fileArrival"] == {"url": "/Volumes/prod/raw/landing/", "waitAfterLastChangeSeconds": 120}


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"pause_status": "STOPPED"},
            ValueError,
            r"PipelineSchedule 'sales': pause_status: 'STOPPED' is not one of PAUSED, UNPAUSED",
        ),
        (
            {"schedule": {"cron": "0 0 6 * * ?", "pause_status": "off"}},
            ValueError,
            r"schedule\.pause_status: 'off' is not one of",
        ),
        (
            {"schedule": {"cron": "0 0 6 * * ?", "retries": 2}},
            TypeError,
            r"unknown key 'schedule\.retries'; ScheduleArgs takes cron, ",
        ),
        ({"upstream": [{"task_key": "raw"}]}, TypeError, r"missing required key 'upstream\[0\]\.pipeline_id'"),
        ({"max_run_minutes": 2.5}, ValueError, r"max_run_minutes: 2\.5 is not a whole number"),
        ({"job": "x"}, TypeError, r"PipelineSchedule 'sales': unknown key 'job'"),
        (
            {"schedule": {"cron": "0 0 6 * * ?", "file_arrival": {"url": "/x"}}},
            ValueError,
            "cron or file_arrival, not both",
        ),
    ],
)
def test_a_wrong_key_or_value_is_named(change, error, message):
    with pytest.raises(error, match=message):
        registered({**ARGS, **change})


def test_children_are_named_after_the_component():
    plan = plan_of(lambda: PipelineSchedule("orders", TYPED))
    assert sorted(children(plan, component_urn(plan, "orders"))) == [
        ("Job", "orders-job"),
        ("Permissions", "orders-job-permissions"),
    ]


def test_outputs_are_the_jobs():
    def program() -> None:
        schedule = PipelineSchedule("sales", ARGS)  # type: ignore[arg-type]
        pulumi.export("job_id", schedule.job_id)
        assert isinstance(schedule.url, pulumi.Output)

    assert plan_of(program, deployed=True).outputs["job_id"] == placeholder_id("databricks:index/job:Job", "sales-job")


def test_the_schema_pulumi_infers_from_the_args():
    schema = schema_of(PipelineSchedule)
    required = {k for k, p in schema.inputs.items() if not p.optional}
    assert required == {"jobName", "taskKey", "pipelineId", "schedule", "pauseStatus"}
    assert schema.inputs["schedule"].ref == "#/types/lakeflow:index:ScheduleArgs"
    assert schema.inputs["pauseStatus"].ref == "#/types/lakeflow:index:PauseStatus"
    assert set(schema.outputs) == {"jobId", "url"}


@pytest.mark.parametrize(
    "module", ["dlt_pipeline", "blue_green", "pipeline_schedule", "cost_guardrails", "monitoring_dashboard"]
)
def test_the_component_depends_on_pulumi_the_provider_and_lakeflow_components_only(module):
    """No settings models (a component works without this repository's YAML), and annotations
    that are real types at runtime (Pulumi's schema analyzer reads them)."""
    import ast
    import sys
    from importlib import import_module

    source = import_module(f"lakeflow.components.{module}").__file__
    assert source is not None
    tree = ast.parse(Path(source).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    allowed = ("pulumi", "pulumi_databricks", "lakeflow.components", "lakeflow.sql")
    outside = {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names and not m.startswith(allowed)}
    assert outside == set()
    assert "__future__" not in imported
