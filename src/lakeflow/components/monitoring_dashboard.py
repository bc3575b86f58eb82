"""`MonitoringDashboard`: one Lakeview dashboard per stack over every pipeline's monitoring data.

Children:
  - `<name>-dashboard`    databricks.Dashboard (serialized JSON from `lakeflow.sql.dashboard`; its
                          `parent_path` forces replacement when changed, so it is fixed per stack)
  - `<name>-permissions`  databricks.Permissions: viewers CAN_READ, managers CAN_MANAGE

Inputs: `MonitoringDashboardArgs` (or the same keys as a mapping, `MonitoringDashboardArgsDict`).
Outputs: `dashboard_id`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Required, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls
from lakeflow.components.types import coerce_args
from lakeflow.sql.dashboard import serialized_dashboard
from lakeflow.sql.queries import PipelineRef


@dataclass(frozen=True)
class DashboardPipeline:
    """One deployed pipeline on the dashboard."""

    name: str
    """Logical pipeline name (the value of its Pipeline tag)."""
    event_log: str
    """Its event log table, `catalog.schema.table`."""
    slot: str | None = None
    """Blue/green: the live slot (its Slot tag), so a candidate's runs are not counted."""
    continuous: bool | None = False
    """Its update runs until it fails or is stopped: availability is measured in time."""


@dataclass(frozen=True)
class MonitoringDashboardArgs:
    """The inputs of a `MonitoringDashboard`."""

    display_name: str
    parent_path: pulumi.Input[str]
    """The folder it lives in (its ACL is the dashboard's too); a change replaces the dashboard."""
    warehouse_id: pulumi.Input[str]
    environment: str
    """The Environment tag the queries filter on."""
    pipelines: Sequence[DashboardPipeline]
    viewers: Sequence[str] | None = ()
    managers: Sequence[str] | None = ()


class DashboardPipelineDict(TypedDict, total=False):
    name: Required[str]
    event_log: Required[str]
    slot: str
    continuous: bool


class MonitoringDashboardArgsDict(TypedDict, total=False):
    """`MonitoringDashboardArgs` as a plain mapping (same keys)."""

    display_name: Required[str]
    parent_path: Required[pulumi.Input[str]]
    warehouse_id: Required[pulumi.Input[str]]
    environment: Required[str]
    pipelines: Required[Sequence[DashboardPipeline | DashboardPipelineDict]]
    viewers: Sequence[str]
    managers: Sequence[str]


if TYPE_CHECKING:
    MonitoringDashboardArgsInput = MonitoringDashboardArgs | MonitoringDashboardArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at runtime and takes no Union.
    MonitoringDashboardArgsInput = MonitoringDashboardArgs


class MonitoringDashboard(pulumi.ComponentResource):
    """One Lakeview dashboard over every pipeline's monitoring data."""

    dashboard_id: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringDashboardArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(MonitoringDashboardArgs, args, f"MonitoringDashboard {name!r}")
        super().__init__("lakeflow:index:MonitoringDashboard", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        refs = [
            PipelineRef(p.name, args.environment, p.event_log, slot=p.slot, continuous=bool(p.continuous))
            for p in args.pipelines
        ]
        self.dashboard: databricks.Dashboard = databricks.Dashboard(
            f"{name}-dashboard",
            display_name=args.display_name,
            parent_path=args.parent_path,
            warehouse_id=args.warehouse_id,
            serialized_dashboard=serialized_dashboard(args.environment, refs),
            opts=child,
        )
        self.dashboard_id = self.dashboard.id
        acl = access_controls([("CAN_READ", args.viewers or ()), ("CAN_MANAGE", args.managers or ())])
        if acl:
            databricks.Permissions(
                f"{name}-permissions", dashboard_id=self.dashboard.id, access_controls=acl, opts=child
            )
        self.register_outputs({"dashboard_id": self.dashboard_id})
