"""`AlertRouting`: where alerts go, by severity (guide 7.1), as Databricks notification destinations.

Children (one per configured channel, names fixed by channel):
  - `<name>-email`      databricks.NotificationDestination (email addresses)
  - `<name>-slack`      databricks.NotificationDestination (Slack webhook URL, a secret)
  - `<name>-pagerduty`  databricks.NotificationDestination (PagerDuty integration key, a secret)
  - `<name>-webhook`    databricks.NotificationDestination (generic webhook URL, a secret)

`routes[severity]` lists the channels for P1..P4; an empty route is muted. Outputs: the
destination id of each channel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.types import DestinationKind, Severity


@dataclass(frozen=True)
class AlertRoutingArgs:
    display_prefix: str
    """Prefix of destination display names (the stack's physical name prefix)."""
    emails: Sequence[str] = ()
    slack_webhook_url: pulumi.Input[str] | None = None
    pagerduty_integration_key: pulumi.Input[str] | None = None
    webhook_url: pulumi.Input[str] | None = None
    routes: Mapping[Severity, Sequence[DestinationKind]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        configured = self.configured()
        for severity, kinds in self.routes.items():
            missing = [k for k in kinds if k not in configured]
            if missing:
                raise ValueError(f"AlertRouting: {severity} routes to unconfigured {', '.join(missing)}")

    def configured(self) -> set[str]:
        given = {
            "email": bool(self.emails),
            "slack": self.slack_webhook_url is not None,
            "pagerduty": self.pagerduty_integration_key is not None,
            "webhook": self.webhook_url is not None,
        }
        return {k for k, v in given.items() if v}


class AlertRouting(pulumi.ComponentResource):
    destinations: dict[str, databricks.NotificationDestination]

    def __init__(self, name: str, args: AlertRoutingArgs, opts: pulumi.ResourceOptions | None = None):
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
        self.destinations = {
            kind: databricks.NotificationDestination(
                f"{name}-{kind}", display_name=f"{args.display_prefix} {kind} alerts", config=config, opts=child
            )
            for kind, config in configs.items()
        }
        self.register_outputs({kind: d.id for kind, d in self.destinations.items()})

    def destination_ids(self, severity: Severity) -> list[pulumi.Output[str]]:
        """Destination ids a `severity` alert notifies (empty: muted)."""
        return [self.destinations[kind].id for kind in self._args.routes.get(severity, ())]

    def webhook_ids(self, severity: Severity) -> list[pulumi.Output[str]]:
        """The route's destinations other than email, for jobs: a job's webhook notifications take
        at most 3 destinations per event (Jobs API), and its emails go in its email notifications.
        Slack, PagerDuty and webhook: at most 3 by construction."""
        return [self.destinations[kind].id for kind in self._args.routes.get(severity, ()) if kind != "email"]

    def emails(self, severity: Severity) -> list[str]:
        """Addresses for notifications that only take emails (pipeline notifications)."""
        return list(self._args.emails) if "email" in self._args.routes.get(severity, ()) else []
