"""`CostAlerts`: the environment's daily and month-to-date spend against its limits (guide 11.3),
as SQL alerts over `system.billing.usage` priced with `system.billing.list_prices`, so the
threshold is money. Per-pipeline cost alerts are part of `PipelineAlerts`.

Children: `<name>-daily-cost`, `<name>-monthly-cost` (AlertV2, in the stack's alert folder).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from lakeflow.components.alerting import AlertSettings, register_alert
from lakeflow.components.pipeline_alerts import DAILY_COST, MONTHLY_COST
from lakeflow.sql import queries


@dataclass(frozen=True)
class CostAlertsArgs:
    display_name: str
    environment: str
    settings: AlertSettings
    daily_limit_usd: int | None = None
    monthly_limit_usd: int | None = None


class CostAlerts(pulumi.ComponentResource):
    def __init__(self, name: str, args: CostAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakeflow:index:CostAlerts", name, None, opts)
        alerts = {}
        for metric, limit, period in (
            (DAILY_COST, args.daily_limit_usd, "day"),
            (MONTHLY_COST, args.monthly_limit_usd, "month"),
        ):
            if limit is not None:
                sql = queries.cost_breaches(period, args.environment, {args.environment: limit}, by="Environment")  # type: ignore[arg-type]
                alerts[metric.id] = register_alert(
                    f"{name}-{metric.id}", args.display_name, metric, sql, args.settings, self, subject="environment"
                )
        self.register_outputs({k: a.id for k, a in alerts.items()})
