"""`MonitoringDashboard`: one Lakeview dashboard per stack over every pipeline's monitoring data.

Children:
  - `<name>-dashboard`    databricks.Dashboard (serialized JSON from monitoring.dashboard; its
                          `parent_path` forces replacement when changed, so it is fixed per stack)
  - `<name>-permissions`  databricks.Permissions: viewers CAN_READ, managers CAN_MANAGE
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls
from lakeflow.sql.dashboard import serialized_dashboard
from lakeflow.sql.queries import PipelineRef


@dataclass(frozen=True)
class MonitoringDashboardArgs:
    display_name: str
    parent_path: pulumi.Input[str]
    """The folder it lives in (its ACL is the dashboard's too); a change replaces the dashboard."""
    warehouse_id: str
    environment: str
    pipelines: Sequence[PipelineRef]
    viewers: Sequence[str] = ()
    managers: Sequence[str] = ()


class MonitoringDashboard(pulumi.ComponentResource):
    dashboard: databricks.Dashboard

    def __init__(self, name: str, args: MonitoringDashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakeflow:index:MonitoringDashboard", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dashboard = databricks.Dashboard(
            f"{name}-dashboard",
            display_name=args.display_name,
            parent_path=args.parent_path,
            warehouse_id=args.warehouse_id,
            serialized_dashboard=serialized_dashboard(args.environment, args.pipelines),
            opts=child,
        )
        acl = access_controls([("CAN_READ", args.viewers), ("CAN_MANAGE", args.managers)])
        if acl:
            databricks.Permissions(
                f"{name}-permissions", dashboard_id=self.dashboard.id, access_controls=acl, opts=child
            )
        self.register_outputs({"dashboard_id": self.dashboard.id})
