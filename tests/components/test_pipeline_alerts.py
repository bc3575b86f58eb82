"""PipelineAlerts (and the AlertFolder its alerts live in), from its Args alone."""

import pytest

from lakeflow.components.alerting import AlertFolder, AlertFolderArgs, AlertSettings
from lakeflow.components.pipeline_alerts import (
    AlertScope,
    AlertThresholds,
    PipelineAlerts,
    PipelineAlertsArgs,
    WatchedPipeline,
)
from lakeflow.components.types import PauseStatus, coerce_args
from tests.components import plan_of, registrations
from tests.conftest import by_type, resource

pytestmark = pytest.mark.plan

THRESHOLDS = dict(
    failed_updates=1,
    processing_lag_minutes=90,
    expectation_pass_rate=0.9,
    drop_rate=0.1,
    availability=0.99,
    cpu_percent=80.5,
    memory_percent=70.5,
)
SETTINGS = dict(warehouse_id="wh-1", cron="0 */5 * * * ?", timezone="UTC", pause_status="UNPAUSED")


def typed_args(scope: AlertScope = AlertScope.STACK) -> PipelineAlertsArgs:
    return PipelineAlertsArgs(
        display_name="prod_pipelines",
        environment="prod",
        pipelines=[
            WatchedPipeline(
                "sales",
                "prod.sales.sales_event_log",
                thresholds=AlertThresholds(**THRESHOLDS),
                daily_limit_usd=100,
                monthly_budget_usd=2000,
            )
        ],
        settings=AlertSettings(
            warehouse_id="wh-1", cron="0 */5 * * * ?", timezone="UTC", pause_status=PauseStatus.UNPAUSED
        ),
        scope=scope,
    )


def dict_args(scope: str = "stack", **overrides) -> dict:
    # As Pulumi's component provider passes them: snake_case keys, nested types as mappings,
    # every number a float.
    args = {
        "display_name": "prod_pipelines",
        "environment": "prod",
        "pipelines": [
            {
                "name": "sales",
                "event_log": "prod.sales.sales_event_log",
                "thresholds": {k: float(v) for k, v in THRESHOLDS.items()},
                "daily_limit_usd": 100.0,
                "monthly_budget_usd": 2000.0,
            }
        ],
        "settings": dict(SETTINGS),
        "scope": scope,
    }
    return {**args, **overrides}


@pytest.mark.parametrize("scope", ["stack", "pipeline"])
def test_a_plain_dict_with_floats_registers_what_the_args_do(scope):
    typed = plan_of(lambda: PipelineAlerts("alerts", typed_args(AlertScope(scope))))
    plain = plan_of(lambda: PipelineAlerts("alerts", dict_args(scope)))  # type: ignore[arg-type]
    assert registrations(plain) == registrations(typed)
    assert len(by_type(typed, "AlertV2")) == (4 if scope == "stack" else 5)
    # Whole floats became the ints the fields are (the cost queries write them as given).
    coerced = coerce_args(PipelineAlertsArgs, dict_args(scope))
    watched = coerced.pipelines[0]
    assert isinstance(watched, WatchedPipeline) and watched.thresholds == AlertThresholds(**THRESHOLDS)
    assert (type(watched.thresholds.failed_updates), type(watched.daily_limit_usd)) == (int, int)
    assert coerced.scope is AlertScope(scope)


def test_child_names_derive_from_the_component_name():
    plan = plan_of(lambda: PipelineAlerts("team-a", typed_args()))
    component = resource(plan, "PipelineAlerts", "team-a")
    alerts = by_type(plan, "AlertV2")
    assert {a["name"] for a in alerts} == {
        "team-a-cpu-utilization",
        "team-a-memory-utilization",
        "team-a-daily-cost",
        "team-a-monthly-cost",
    }
    assert {a["parent"] for a in alerts} == {component["urn"]}


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"scope": "everything"}, ValueError, ["'alerts'", "scope", "'everything'", "stack, pipeline"]),
        (
            {"settings": {**SETTINGS, "pause_status": "SOMETIMES"}},
            ValueError,
            ["settings.pause_status", "PAUSED, UNPAUSED"],
        ),
        ({"colour": "red"}, TypeError, ["unknown key 'colour'", "display_name"]),
        (
            {"pipelines": [{"name": "x", "event_log": "a.b.c", "thresholdz": {}}]},
            TypeError,
            ["'pipelines[0].thresholdz'"],
        ),
        ({"settings": {**SETTINGS, "subscriptions": {"P5": ["d"]}}}, ValueError, ["'P5'", "P1, P2, P3, P4"]),
    ],
)
def test_a_wrong_key_or_value_fails_naming_it(overrides, error, words):
    with pytest.raises(error) as raised:
        PipelineAlerts("alerts", dict_args(**overrides))  # type: ignore[arg-type]
    assert all(w in str(raised.value) for w in words), str(raised.value)


def test_alerts_in_the_folder_wait_for_it_and_inherit_its_acl():
    def program():
        folder = AlertFolder("alerts", AlertFolderArgs(path="/Users/sp/mon", viewers=["group:analysts"]))
        settings = AlertSettings(
            warehouse_id="wh",
            cron="0 0 * * * ?",
            timezone="UTC",
            pause_status=PauseStatus.PAUSED,
            viewers=["group:analysts"],
            folder_path="/Users/sp/mon",
            folder_id=folder.folder_id,
        )
        PipelineAlerts("pa", PipelineAlertsArgs("t", "prod", [WatchedPipeline("s", "c.s.log")], settings))

    plan = plan_of(program)
    directory = resource(plan, "Directory", "alerts-folder")
    alert = resource(plan, "AlertV2", "pa-cpu-utilization")
    assert alert["inputs"]["parentPath"] == "/Users/sp/mon"
    assert alert["dependencies"] == [directory["urn"]]
    assert alert["propertyDependencies"] == {}  # a dependency, as with depends_on, not a property's
    assert [p["name"] for p in by_type(plan, "Permissions")] == ["alerts-folder-permissions"]


def test_without_a_folder_each_alert_has_its_own_permissions():
    args = typed_args()
    settings = AlertSettings(**{**SETTINGS, "pause_status": PauseStatus.PAUSED, "managers": ["group:ops"]})
    plan = plan_of(lambda: PipelineAlerts("pa", PipelineAlertsArgs("t", "prod", args.pipelines, settings)))
    assert {p["name"] for p in by_type(plan, "Permissions")} == {
        f"{a['name']}-permissions" for a in by_type(plan, "AlertV2")
    }


def test_the_alert_folder_derives_its_names_and_moves_from_the_stack_root():
    plan = plan_of(lambda: AlertFolder("ops", {"path": "/Users/sp/mon", "managers": ["group:ops"]}))  # type: ignore[arg-type]
    component = resource(plan, "AlertFolder", "ops")
    directory = resource(plan, "Directory", "ops-folder")
    permissions = resource(plan, "Permissions", "ops-folder-permissions")
    assert directory["parent"] == component["urn"] and permissions["parent"] == directory["urn"]
    # Before it had a component, the folder was `alerts-folder` at the stack's root.
    assert directory["aliases"] == [
        {"name": "alerts-folder", "type": "", "project": "", "stack": "", "parentUrn": "", "noParent": True}
    ]


def test_an_alert_folder_nobody_is_granted_has_no_permissions():
    plan = plan_of(lambda: AlertFolder("ops", AlertFolderArgs(path="/p")))
    assert by_type(plan, "Permissions") == []
