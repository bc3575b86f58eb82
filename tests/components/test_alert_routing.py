"""AlertRouting, from its Args alone."""

import pulumi
import pytest

from lakeflow.components.alert_routing import AlertRouting, AlertRoutingArgs
from lakeflow.components.types import DestinationKind, Severity, coerce_args
from lakeflow.offline.recorder import SECRET
from tests.components import plan_of, registrations
from tests.conftest import by_type, resource

pytestmark = pytest.mark.plan


def typed_args() -> AlertRoutingArgs:
    return AlertRoutingArgs(
        display_prefix="prod_lakeflow",
        emails=["oncall@example.com"],
        slack_webhook_url="https://hooks.slack.com/x",
        pagerduty_integration_key="pd-key",
        route_p1=[DestinationKind.PAGERDUTY, DestinationKind.SLACK, DestinationKind.EMAIL],
        route_p2=[DestinationKind.SLACK],
    )


PLAIN = {
    "display_prefix": "prod_lakeflow",
    "emails": ["oncall@example.com"],
    "slack_webhook_url": "https://hooks.slack.com/x",
    "pagerduty_integration_key": "pd-key",
    "route_p1": ["pagerduty", "slack", "email"],
    "route_p2": ["slack"],
}


def test_a_plain_dict_registers_what_the_args_do():
    assert registrations(plan_of(lambda: AlertRouting("routing", PLAIN))) == registrations(  # type: ignore[arg-type]
        plan_of(lambda: AlertRouting("routing", typed_args()))
    )
    assert coerce_args(AlertRoutingArgs, PLAIN).route_p2 == [DestinationKind.SLACK]


def test_child_names_derive_from_the_component_name_and_credentials_are_secret():
    plan = plan_of(lambda: AlertRouting("team-c", typed_args()))
    component = resource(plan, "AlertRouting", "team-c")
    destinations = by_type(plan, "NotificationDestination")
    assert {d["name"] for d in destinations} == {"team-c-email", "team-c-slack", "team-c-pagerduty"}
    assert {d["parent"] for d in destinations} == {component["urn"]}
    # The whole config holds a secret, so the provider gets it as one.
    assert resource(plan, "NotificationDestination", "team-c-slack")["inputs"]["config"] == SECRET
    assert resource(plan, "NotificationDestination", "team-c-email")["inputs"]["config"] != SECRET


def test_routes_pick_each_severitys_destinations():
    seen = {}

    def program():
        routing = AlertRouting("r", typed_args())
        seen["p1"] = len(routing.destination_ids(Severity.P1))
        seen["p1_jobs"] = len(routing.webhook_ids(Severity.P1))
        seen["p3"] = routing.destination_ids(Severity.P3)
        seen["emails"] = (routing.emails(Severity.P1), routing.emails(Severity.P2))
        assert isinstance(routing.channel_ids, pulumi.Output)

    plan_of(program)
    assert seen == {"p1": 3, "p1_jobs": 2, "p3": [], "emails": (["oncall@example.com"], [])}


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"route_p1": ["sms"]}, ValueError, ["route_p1[0]", "'sms'", "email, slack, pagerduty, webhook"]),
        ({"routes": {"P1": ["email"]}}, TypeError, ["unknown key 'routes'", "route_p1"]),
        ({"route_p3": ["webhook"]}, ValueError, ["P3 routes to unconfigured webhook"]),
    ],
)
def test_a_wrong_key_or_value_fails_naming_it(overrides, error, words):
    with pytest.raises(error) as raised:
        AlertRouting("routing", {**PLAIN, **overrides})  # type: ignore[arg-type]
    assert all(w in str(raised.value) for w in words), str(raised.value)
