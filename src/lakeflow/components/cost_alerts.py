"""`CostAlerts`: the environment's daily and month-to-date spend against its limits (guide 11.3),
as SQL alerts over `system.billing.usage` priced with `system.billing.list_prices`, so the
threshold is money. Per-pipeline cost alerts are part of `PipelineAlerts`.

Children: `<name>-daily-cost`, `<name>-monthly-cost` (AlertV2, in the stack's alert folder).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.alerting import AlertSettings, AlertSettingsDict, register_alert
from lakeflow.components.pipeline_alerts import DAILY_COST, MONTHLY_COST
from lakeflow.components.types import coerce_args
from lakeflow.sql import queries


@dataclass(frozen=True)
class CostAlertsArgs:
    display_name: str
    """Shown in every alert's title, e.g. `prod_environment`."""
    environment: str
    """Value of the Environment tag whose usage is priced."""
    settings: AlertSettings
    daily_limit_usd: int | None = None
    """List-price spend per day above which the daily alert triggers (P4); none: no daily alert."""
    monthly_limit_usd: int | None = None
    """Month-to-date list-price spend above which the monthly alert triggers (P3); none: no monthly alert."""


class CostAlertsArgsDict(TypedDict):
    display_name: str
    environment: str
    settings: AlertSettings | AlertSettingsDict
    daily_limit_usd: NotRequired[int | None]
    monthly_limit_usd: NotRequired[int | None]


if TYPE_CHECKING:
    CostAlertsArgsInput = CostAlertsArgs | CostAlertsArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at run time and supports no Union.
    CostAlertsArgsInput = CostAlertsArgs


class CostAlerts(pulumi.ComponentResource):
    alert_ids: pulumi.Output[dict[str, str]]
    """The id of each alert, by metric id (`daily-cost`, `monthly-cost`)."""

    def __init__(self, name: str, args: CostAlertsArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(CostAlertsArgs, args, f"CostAlerts {name!r}")
        super().__init__("lakeflow:index:CostAlerts", name, None, opts)
        self.alerts: dict[str, databricks.AlertV2] = {}
        for metric, limit, period in (
            (DAILY_COST, args.daily_limit_usd, "day"),
            (MONTHLY_COST, args.monthly_limit_usd, "month"),
        ):
            if limit is not None:
                sql = queries.cost_breaches(period, args.environment, {args.environment: limit}, by="Environment")  # type: ignore[arg-type]
                self.alerts[metric.id] = register_alert(
                    f"{name}-{metric.id}", args.display_name, metric, sql, args.settings, self, subject="environment"
                )
        keys = list(self.alerts)
        self.alert_ids = pulumi.Output.all(*(self.alerts[k].id for k in keys)).apply(
            lambda ids: dict(zip(keys, ids, strict=True))
        )
        self.register_outputs({"alert_ids": self.alert_ids})
