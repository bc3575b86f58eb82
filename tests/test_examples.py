"""examples/: standalone Pulumi programs that use the installed lakeflow components as a library
(no pipeline files, no lakeflow.config), planned offline like the stack: under Pulumi's mock
runtime, every databricks input checked against the provider SDK's types."""

from __future__ import annotations

import runpy
from typing import Any

import pytest

from lakeflow.offline.recorder import Plan, record
from tests.conftest import ROOT, by_type, read_yaml, resource

pytestmark = pytest.mark.plan

EXAMPLES = ROOT / "examples"


def plan_example(name: str) -> Plan:
    folder = EXAMPLES / name
    project = read_yaml(folder / "Pulumi.yaml")
    assert project["runtime"]["name"] == "python"
    return record(
        project["name"], "test", {}, set(), lambda: runpy.run_path(str(folder / "__main__.py"), run_name="__main__")
    )


def test_pipeline_with_alerts() -> None:
    plan = plan_example("pipeline_with_alerts")
    assert plan.schema_errors == []
    assert plan.warnings == []

    component = resource(plan, "DltPipeline", "orders")
    (pipeline,) = by_type(plan, "Pipeline")
    assert pipeline["parent"] == component["urn"]
    assert pipeline["inputs"]["name"] == "orders_pipeline"
    assert (pipeline["inputs"]["catalog"], pipeline["inputs"]["schema"]) == ("main", "orders")
    assert pipeline["inputs"]["eventLog"] == {"catalog": "main", "schema": "orders", "name": "orders_event_log"}

    schedule = resource(plan, "PipelineSchedule", "orders-schedule")
    (job,) = by_type(plan, "Job")
    assert job["parent"] == schedule["urn"]
    assert job["inputs"]["schedule"]["quartzCronExpression"] == "0 0 6 * * ?"
    assert job["inputs"]["schedule"]["pauseStatus"] == "UNPAUSED"
    (task,) = job["inputs"]["tasks"]
    assert "pipelineTask" in task
    assert pipeline["urn"] in job["dependencies"], "the job's task runs the example's pipeline"

    watcher = resource(plan, "PipelineAlerts", "orders-alerts")
    alerts: list[dict[str, Any]] = by_type(plan, "AlertV2")
    assert alerts, "no alert watches the pipeline"
    for alert in alerts:
        assert alert["parent"] == watcher["urn"]
        # Each reads the pipeline's event log (the table DltPipeline publishes it to).
        assert "FROM `main`.`orders`.`orders_event_log`" in alert["inputs"]["queryText"], alert["name"]
        assert alert["inputs"]["warehouseId"] == "1234567890abcdef"
    assert {a["name"] for a in alerts} >= {"orders-alerts-failed-updates", "orders-alerts-availability"}
    assert {r["type"].rsplit(":", 1)[-1] for r in plan.resources} == {
        "DltPipeline",
        "Pipeline",
        "PipelineSchedule",
        "Job",
        "PipelineAlerts",
        "AlertV2",
    }

    assert plan.outputs.keys() == {"pipeline_id", "job_id"}


def test_the_readme_snippet_plans_as_written() -> None:
    """README.md's "The components in your own program" snippet, run as a program: it registers a
    pipeline and its schedule job, with no schema error (string enums and plain dicts accepted)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### The components in your own program", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    plan = record("readme", "test", {}, set(), lambda: exec(compile(code, "README.md", "exec"), {}))
    assert plan.schema_errors == [] and plan.warnings == []
    (pipeline,) = by_type(plan, "Pipeline")
    (job,) = by_type(plan, "Job")
    assert pipeline["inputs"]["name"] == "orders_pipeline"
    assert job["inputs"]["schedule"]["quartzCronExpression"] == "0 0 6 * * ?"
