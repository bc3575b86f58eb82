"""`AlertRouting`: where alerts go, by severity (guide 7.1), as Databricks notification destinations.

Children (one per configured channel, names fixed by channel):
  - `<name>-email`      databricks.NotificationDestination (email addresses)
  - `<name>-slack`      databricks.NotificationDestination (Slack webhook URL, a secret)
  - `<name>-pagerduty`  databricks.NotificationDestination (PagerDuty integration key, a secret)
  - `<name>-webhook`    databricks.NotificationDestination (generic webhook URL, a secret)

`route_p1` .. `route_p4` list the channels for each severity; an empty route is muted. Outputs:
the destination id of each channel.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.types import DestinationKind, Severity, coerce_args


@dataclass(frozen=True)
class AlertRoutingArgs:
    display_prefix: str
    """Prefix of destination display names (the stack's physical name prefix)."""
    emails: Sequence[str] | None = ()
    """Addresses of the email channel; none: no email channel."""
    slack_webhook_url: pulumi.Input[str] | None = None
    """Slack incoming-webhook URL (sent to the provider as a secret)."""
    pagerduty_integration_key: pulumi.Input[str] | None = None
    """PagerDuty integration key (sent to the provider as a secret)."""
    webhook_url: pulumi.Input[str] | None = None
    """Generic webhook URL (sent to the provider as a secret)."""
    # One field per severity, not a mapping: a component's schema takes string keys only.
    route_p1: Sequence[DestinationKind] | None = ()
    """Channels of P1 alerts (respond within 15 minutes)."""
    route_p2: Sequence[DestinationKind] | None = ()
    """Channels of P2 alerts (respond within 1 hour)."""
    route_p3: Sequence[DestinationKind] | None = ()
    """Channels of P3 alerts (respond within 4 hours)."""
    route_p4: Sequence[DestinationKind] | None = ()
    """Channels of P4 alerts (respond within 24 hours)."""

    def __post_init__(self) -> None:
        configured = self.configured()
        for severity in Severity:
            kinds = self.route(severity)
            allowed = {k.value for k in DestinationKind}
            wrong = [k for k in kinds if k not in allowed]
            if wrong:
                raise ValueError(
                    f"AlertRouting: route_{severity.lower()}: {', '.join(map(repr, wrong))} is not one of "
                    f"{', '.join(sorted(allowed))}"
                )
            missing = [k for k in kinds if k not in configured]
            if missing:
                raise ValueError(f"AlertRouting: {severity} routes to unconfigured {', '.join(missing)}")

    def route(self, severity: Severity) -> Sequence[DestinationKind]:
        """The channels of `severity`'s alerts (empty: muted)."""
        routes = {
            Severity.P1: self.route_p1,
            Severity.P2: self.route_p2,
            Severity.P3: self.route_p3,
            Severity.P4: self.route_p4,
        }
        return routes[severity] or ()

    def configured(self) -> set[str]:
        given = {
            "email": bool(self.emails),
            "slack": self.slack_webhook_url is not None,
            "pagerduty": self.pagerduty_integration_key is not None,
            "webhook": self.webhook_url is not None,
        }
        return {k for k, v in given.items() if v}


class AlertRoutingArgsDict(TypedDict):
    display_prefix: str
    emails: NotRequired[Sequence[str] | None]
    slack_webhook_url: NotRequired[pulumi.Input[str] | None]
    pagerduty_integration_key: NotRequired[pulumi.Input[str] | None]
    webhook_url: NotRequired[pulumi.Input[str] | None]
    route_p1: NotRequired[Sequence[DestinationKind | str] | None]
    route_p2: NotRequired[Sequence[DestinationKind | str] | None]
    route_p3: NotRequired[Sequence[DestinationKind | str] | None]
    route_p4: NotRequired[Sequence[DestinationKind | str] | None]


if TYPE_CHECKING:
    AlertRoutingArgsInput = AlertRoutingArgs | AlertRoutingArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at run time and supports no Union.
    AlertRoutingArgsInput = AlertRoutingArgs


class AlertRouting(pulumi.ComponentResource):
    channel_ids: pulumi.Output[dict[str, str]]
    """The destination id of each configured channel (`email`, `slack`, `pagerduty`, `webhook`)."""

    def __init__(self, name: str, args: AlertRoutingArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(AlertRoutingArgs, args, f"AlertRouting {name!r}")
        super().__init__("lakeflow:index:AlertRouting", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        configs: dict[str, databricks.NotificationDestinationConfigArgs] = {}
        if args.emails:
            configs["email"] = databricks.NotificationDestinationConfigArgs(
                email=databricks.NotificationDestinationConfigEmailArgs(addresses=list(args.emails))
            )
        # Credentials reach the provider only as secrets, whatever the caller passed.
        if args.slack_webhook_url is not None:
            configs["slack"] = databricks.NotificationDestinationConfigArgs(
                slack=databricks.NotificationDestinationConfigSlackArgs(
                    url=pulumi.Output.secret(args.slack_webhook_url)
                )
            )
        if args.pagerduty_integration_key is not None:
            configs["pagerduty"] = databricks.NotificationDestinationConfigArgs(
                pagerduty=databricks.NotificationDestinationConfigPagerdutyArgs(
                    integration_key=pulumi.Output.secret(args.pagerduty_integration_key)
                )
            )
        if args.webhook_url is not None:
            configs["webhook"] = databricks.NotificationDestinationConfigArgs(
                generic_webhook=databricks.NotificationDestinationConfigGenericWebhookArgs(
                    url=pulumi.Output.secret(args.webhook_url)
                )
            )
        self.destinations: dict[str, databricks.NotificationDestination] = {
            kind: databricks.NotificationDestination(
                f"{name}-{kind}", display_name=f"{args.display_prefix} {kind} alerts", config=config, opts=child
            )
            for kind, config in configs.items()
        }
        keys = list(self.destinations)
        self.channel_ids = pulumi.Output.all(*(self.destinations[k].id for k in keys)).apply(
            lambda ids: dict(zip(keys, ids, strict=True))
        )
        self.register_outputs({"channel_ids": self.channel_ids})

    def destination_ids(self, severity: Severity) -> list[pulumi.Output[str]]:
        """Destination ids a `severity` alert notifies (empty: muted)."""
        return [self.destinations[kind].id for kind in self._args.route(severity)]

    def webhook_ids(self, severity: Severity) -> list[pulumi.Output[str]]:
        """The route's destinations other than email, for jobs: a job's webhook notifications take
        at most 3 destinations per event (Jobs API), and its emails go in its email notifications.
        Slack, PagerDuty and webhook: at most 3 by construction."""
        return [self.destinations[kind].id for kind in self._args.route(severity) if kind != "email"]

    def emails(self, severity: Severity) -> list[str]:
        """Addresses for notifications that only take emails (pipeline notifications)."""
        return list(self._args.emails or ()) if "email" in self._args.route(severity) else []
