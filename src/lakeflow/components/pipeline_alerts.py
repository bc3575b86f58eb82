"""`PipelineAlerts`: the metrics of guide 6.1 watched as Databricks SQL alerts (docs/adr/0004, 0007).

Two scopes (`PipelineAlertsArgs.scope`):
  - `stack`: the system-table metrics (CPU, memory, cost), one alert per metric whose query measures
    every watched pipeline at once: those tables always exist.
  - `pipeline`: the metrics read from one pipeline's event log (failed updates, availability,
    processing lag, expectation pass rate, drop rate), one alert per metric reading that log only:
    an event log does not exist before the pipeline's first update, and a query naming a missing
    table fails whole, so a stack-wide query per metric let one new pipeline blind it for all.

Children, one per metric (names fixed by metric id), see `lakeflow.components.alerting`:
  - `<name>-<metric>`  databricks.AlertV2, in the stack's alert folder, whose ACL it inherits
    (without a folder: its own `<name>-<metric>-permissions`)

Each alert's query lists the watched pipelines over their own threshold (monitoring.queries:
`event_log_breaches`, `node_breaches`, `cost_breaches`); the alert triggers while that list is not
empty.

Metrics: failed-updates (P1), availability (P1), processing-lag (P2), expectation-pass-rate,
drop-rate, cpu-utilization, memory-utilization (P3; only pipelines on classic compute: serverless
compute has no node records, so they could never cross); and, over the pipelines with cost limits
(guide 11.3), daily-cost (P4) and monthly-cost (P3). Cost is no outage, so the guide's "critical"
monthly overrun is P3 here, not a page.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.alerting import AlertSettings, AlertSettingsDict, register_alert
from lakeflow.components.metrics import (
    CLUSTER_METRICS,
    DAILY_COST,
    EXPECTATION_METRICS,
    GUIDE_THRESHOLDS,
    MONTHLY_COST,
    PIPELINE_METRICS,
    AlertThresholds,
    AlertThresholdsDict,
    Metric,
)
from lakeflow.components.types import coerce_args
from lakeflow.sql import queries
from lakeflow.sql.queries import PipelineRef


class AlertScope(StrEnum):
    """What a `PipelineAlerts` watches."""

    STACK = "stack"
    """The system-table metrics (CPU, memory, cost) over every watched pipeline."""
    PIPELINE = "pipeline"
    """The event-log metrics of its one pipeline."""


@dataclass(frozen=True)
class WatchedPipeline:
    name: str
    """Logical pipeline name (value of its Pipeline tag)."""
    event_log: str
    """Its event log table, `catalog.schema.table`."""
    slot: str | None = None
    """Blue/green: the live slot (value of the Slot tag), so a candidate's runs are not counted."""
    continuous: bool | None = False
    """Its update runs until it fails or is stopped: availability is measured in time."""
    thresholds: AlertThresholds | None = None
    """Its thresholds; none: guide 6.1's (`GUIDE_THRESHOLDS`)."""
    serverless: bool | None = False
    """Not in the CPU and memory alerts: serverless compute reports no node metrics."""
    expectations: bool | None = True
    """Its edition has expectations (ADVANCED, or serverless); else not in the data-quality alerts."""
    daily_limit_usd: int | None = None
    monthly_budget_usd: int | None = None

    @property
    def limits(self) -> AlertThresholds:
        return self.thresholds or GUIDE_THRESHOLDS

    @classmethod
    def from_ref(cls, ref: PipelineRef, **fields: Any) -> "WatchedPipeline":
        """The pipeline a `PipelineRef` names, with the other fields given."""
        return cls(ref.name, ref.event_log, slot=ref.slot, continuous=ref.continuous, **fields)

    def ref(self, environment: str) -> PipelineRef:
        """The pipeline as the alert queries see it."""
        return PipelineRef(self.name, environment, self.event_log, slot=self.slot, continuous=bool(self.continuous))


class WatchedPipelineDict(TypedDict):
    name: str
    event_log: str
    slot: NotRequired[str | None]
    continuous: NotRequired[bool | None]
    thresholds: NotRequired[AlertThresholds | AlertThresholdsDict | None]
    serverless: NotRequired[bool | None]
    expectations: NotRequired[bool | None]
    daily_limit_usd: NotRequired[int | None]
    monthly_budget_usd: NotRequired[int | None]


@dataclass(frozen=True)
class PipelineAlertsArgs:
    display_name: str
    """Shown in every alert's title, e.g. `prod_pipelines`."""
    environment: str
    """Value of the Environment tag: the clusters and usage the system-table metrics look at."""
    pipelines: Sequence[WatchedPipeline]
    settings: AlertSettings
    scope: AlertScope | None = AlertScope.STACK
    """`stack`: the system-table metrics over every pipeline; `pipeline`: the event-log metrics of
    its one pipeline."""

    def __post_init__(self) -> None:
        names = [p.name for p in self.pipelines]
        if len(set(names)) != len(names):
            raise ValueError(f"PipelineAlerts {self.display_name!r}: a pipeline is watched twice: {names}")
        if self.scope == AlertScope.PIPELINE and len(names) != 1:
            raise ValueError(f"PipelineAlerts {self.display_name!r}: scope 'pipeline' watches one pipeline: {names}")


class PipelineAlertsArgsDict(TypedDict):
    display_name: str
    environment: str
    pipelines: Sequence[WatchedPipeline | WatchedPipelineDict]
    settings: AlertSettings | AlertSettingsDict
    scope: NotRequired[AlertScope | str | None]


if TYPE_CHECKING:
    PipelineAlertsArgsInput = PipelineAlertsArgs | PipelineAlertsArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at run time and supports no Union.
    PipelineAlertsArgsInput = PipelineAlertsArgs


class PipelineAlerts(pulumi.ComponentResource):
    alert_ids: pulumi.Output[dict[str, str]]
    """The id of each metric's alert, by metric id."""

    def __init__(self, name: str, args: PipelineAlertsArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(PipelineAlertsArgs, args, f"PipelineAlerts {name!r}")
        super().__init__("lakeflow:index:PipelineAlerts", name, None, opts)
        self.alerts: dict[str, databricks.AlertV2] = {
            metric.id: register_alert(f"{name}-{metric.id}", args.display_name, metric, sql, args.settings, self)
            for metric, sql in _breach_queries(args)
        }
        keys = list(self.alerts)
        self.alert_ids = pulumi.Output.all(*(self.alerts[k].id for k in keys)).apply(
            lambda ids: dict(zip(keys, ids, strict=True))
        )
        self.register_outputs({"alert_ids": self.alert_ids})


def _breach_queries(args: PipelineAlertsArgs) -> list[tuple[Metric, str]]:
    """(metric, the query listing the pipelines over their threshold), for each metric that watches any."""
    env, pipelines = args.environment, args.pipelines
    if not pipelines:
        return []
    out = []
    for metric, query, threshold in PIPELINE_METRICS:
        if (metric.id in CLUSTER_METRICS) != (args.scope != AlertScope.PIPELINE):
            continue
        if metric.id in CLUSTER_METRICS:
            classic = [(p.ref(env), threshold(p.limits)) for p in pipelines if not p.serverless]
            if classic:
                out.append((metric, queries.node_breaches(CLUSTER_METRICS[metric.id], env, classic)))
        else:
            watched = [p for p in pipelines if p.expectations or metric.id not in EXPECTATION_METRICS]
            measured = [(p.ref(env), query(p.ref(env)), threshold(p.limits)) for p in watched]
            if measured:
                out.append((metric, queries.event_log_breaches(metric.column, metric.operator, measured)))
    if args.scope == AlertScope.PIPELINE:
        return out
    for metric, period, limits in (
        (DAILY_COST, "day", {p.name: p.daily_limit_usd for p in pipelines if p.daily_limit_usd is not None}),
        (
            MONTHLY_COST,
            "month",
            {p.name: p.monthly_budget_usd for p in pipelines if p.monthly_budget_usd is not None},
        ),
    ):
        if limits:
            out.append((metric, queries.cost_breaches(period, env, limits)))  # type: ignore[arg-type]
    return out
