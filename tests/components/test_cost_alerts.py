"""CostAlerts, from its Args alone."""

import pytest

from lakeflow.components.alerting import AlertSettings
from lakeflow.components.cost_alerts import CostAlerts, CostAlertsArgs
from lakeflow.components.types import PauseStatus, coerce_args
from tests.components import plan_of, registrations
from tests.conftest import by_type, resource

pytestmark = pytest.mark.plan

SETTINGS = dict(warehouse_id="wh-1", cron="0 0 * * * ?", timezone="UTC", pause_status="PAUSED")


def typed_args(**overrides) -> CostAlertsArgs:
    settings = AlertSettings(
        warehouse_id="wh-1",
        cron="0 0 * * * ?",
        timezone="UTC",
        pause_status=PauseStatus.PAUSED,
        subscriptions={"P3": ["dest-1"]},
    )
    base = dict(display_name="prod_env", environment="prod", settings=settings, daily_limit_usd=1200)
    return CostAlertsArgs(**{**base, **overrides})  # type: ignore[arg-type]


def test_a_plain_dict_with_floats_registers_what_the_args_do():
    plain = {
        "display_name": "prod_env",
        "environment": "prod",
        "settings": {**SETTINGS, "subscriptions": {"P3": ["dest-1"]}},
        "daily_limit_usd": 1200.0,
        "monthly_limit_usd": 20000.0,
    }
    typed = plan_of(lambda: CostAlerts("env-cost", typed_args(monthly_limit_usd=20000)))
    assert registrations(plan_of(lambda: CostAlerts("env-cost", plain))) == registrations(typed)  # type: ignore[arg-type]
    assert coerce_args(CostAlertsArgs, plain).daily_limit_usd.__class__ is int  # type: ignore[union-attr]
    monthly = resource(typed, "AlertV2", "env-cost-monthly-cost")["inputs"]
    assert monthly["evaluation"]["notification"]["subscriptions"] == [{"destinationId": "dest-1"}]
    assert "20000" in monthly["queryText"]


def test_child_names_derive_from_the_component_name_and_only_set_limits_alert():
    plan = plan_of(lambda: CostAlerts("team-b", typed_args()))
    component = resource(plan, "CostAlerts", "team-b")
    (daily,) = by_type(plan, "AlertV2")
    assert (daily["name"], daily["parent"]) == ("team-b-daily-cost", component["urn"])
    assert daily["inputs"]["displayName"] == "[P4] prod_env: spend over the daily limit"
    assert "subscriptions" not in daily["inputs"]["evaluation"]["notification"]  # no P4 destination: muted


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"settings": {**SETTINGS, "pause_status": "OFF"}}, ValueError, ["settings.pause_status", "'OFF'"]),
        ({"daily_limit": 5.0}, TypeError, ["unknown key 'daily_limit'", "daily_limit_usd"]),
        ({"daily_limit_usd": 12.5}, ValueError, ["daily_limit_usd", "whole number"]),
        ({"settings": {"cron": "x"}}, TypeError, ["missing required key", "'settings.warehouse_id'"]),
    ],
)
def test_a_wrong_key_or_value_fails_naming_it(overrides, error, words):
    args = {"display_name": "d", "environment": "prod", "settings": SETTINGS, **overrides}
    with pytest.raises(error) as raised:
        CostAlerts("env-cost", args)  # type: ignore[arg-type]
    assert "CostAlerts 'env-cost'" in str(raised.value)
    assert all(w in str(raised.value) for w in words), str(raised.value)
