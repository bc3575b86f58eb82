"""MonitoringDashboard given its Args directly: the dataclass and the plain mapping register the same."""

from __future__ import annotations

import json

import pulumi
import pytest

from lakeflow.components.monitoring_dashboard import DashboardPipeline, MonitoringDashboard, MonitoringDashboardArgs
from lakeflow.offline.recorder import placeholder_id
from tests.components import as_floats, children, component_urn, plan_of, schema_of

pytestmark = pytest.mark.plan

ARGS = {
    "display_name": "prod_pipelines monitoring",
    "parent_path": "/Workspace/Shared/lakeflow/prod",
    "warehouse_id": "wh-1",
    "environment": "prod",
    "pipelines": [
        {"name": "sales", "event_log": "prod.sales.sales_event_log"},
        {"name": "events", "event_log": "prod.ops.events_event_log", "slot": "blue", "continuous": True},
    ],
    "viewers": ["group:analysts"],
    "managers": ["group:platform"],
}
TYPED = MonitoringDashboardArgs(
    **{**ARGS, "pipelines": [DashboardPipeline(**p) for p in ARGS["pipelines"]]}  # type: ignore[arg-type, attr-defined]
)


def registered(args: object, name: str = "monitoring") -> list[dict]:
    return plan_of(lambda: MonitoringDashboard(name, args)).resources  # type: ignore[arg-type]


def test_a_plain_mapping_registers_what_the_dataclass_does():
    resources = registered(TYPED)
    assert registered(ARGS) == resources
    dashboard = next(r for r in resources if r["name"] == "monitoring-dashboard")["inputs"]
    text = dashboard["serializedDashboard"]
    assert "`prod`.`ops`.`events_event_log`" in text and "`prod`.`sales`.`sales_event_log`" in text
    assert json.loads(text)["pages"]
    assert dashboard["parentPath"] == "/Workspace/Shared/lakeflow/prod"


def test_numbers_given_as_floats_register_the_same():
    assert registered(as_floats(ARGS)) == registered(TYPED)


def test_the_parent_folder_may_come_from_another_resource():
    def program() -> None:
        MonitoringDashboard("monitoring", {**ARGS, "parent_path": pulumi.Output.from_input("/Workspace/x")})  # type: ignore[arg-type]

    dashboard = next(r for r in plan_of(program).resources if r["name"] == "monitoring-dashboard")
    assert dashboard["inputs"]["parentPath"] == "/Workspace/x"


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"folder": "/x"},
            TypeError,
            r"MonitoringDashboard 'monitoring': unknown key 'folder'; MonitoringDashboardArgs",
        ),
        ({"pipelines": [{"name": "sales"}]}, TypeError, r"missing required key 'pipelines\[0\]\.event_log'"),
        (
            {"pipelines": [{"name": "sales", "event_log": "t", "live": "blue"}]},
            TypeError,
            r"unknown key 'pipelines\[0\]\.live'; DashboardPipeline takes name, event_log, slot, continuous",
        ),
    ],
)
def test_a_wrong_key_or_value_is_named(change, error, message):
    with pytest.raises(error, match=message):
        registered({**ARGS, **change})


def test_children_are_named_after_the_component():
    plan = plan_of(lambda: MonitoringDashboard("ops", TYPED))
    assert sorted(children(plan, component_urn(plan, "ops"))) == [
        ("Dashboard", "ops-dashboard"),
        ("Permissions", "ops-permissions"),
    ]


def test_outputs_are_the_dashboards():
    def program() -> None:
        pulumi.export("dashboard_id", MonitoringDashboard("monitoring", TYPED).dashboard_id)

    plan = plan_of(program, deployed=True)
    assert plan.outputs["dashboard_id"] == placeholder_id(
        "databricks:index/dashboard:Dashboard", "monitoring-dashboard"
    )


def test_the_schema_pulumi_infers_from_the_args():
    schema = schema_of(MonitoringDashboard)
    assert {k for k, p in schema.inputs.items() if p.optional} == {"viewers", "managers"}
    assert schema.inputs["pipelines"].items.ref == "#/types/lakeflow:index:DashboardPipeline"
    assert set(schema.outputs) == {"dashboardId"}
