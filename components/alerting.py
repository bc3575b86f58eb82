"""One Databricks SQL alert (AlertV2), in the stack's alert folder whose ACL it inherits: shared
by the alert components.

Every alert evaluates a query whose single column is compared to a threshold, on the stack's
warehouse and schedule, notifies the destinations of its severity (none: muted), re-alerts every
5 minutes while triggered (guide 6.3's rearm), and says its severity, response time and runbook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from components.access import access_controls, run_as
from settings.models import PauseStatus, Severity

RETRIGGER_SECONDS = 300


@dataclass(frozen=True)
class Metric:
    id: str
    title: str
    column: str
    """The query's single output column the alert evaluates."""
    operator: str
    severity: Severity
    runbook: str


@dataclass(frozen=True)
class AlertSettings:
    """What every alert of a stack shares."""

    warehouse_id: str
    cron: str
    timezone: str
    pause_status: PauseStatus
    subscriptions: Mapping[Severity, Sequence[pulumi.Input[str]]] = field(default_factory=dict)
    """Notification destination ids per severity; a severity without any is muted."""
    runbook_base_url: str = "docs/runbooks/"
    run_as: str | None = None
    viewers: Sequence[str] = ()
    managers: Sequence[str] = ()
    folder: AlertFolder | None = None
    """Where the alerts live: its ACL covers them all (one Permissions for the stack, not one per
    alert). Without it, each alert gets its own `<name>-permissions`."""


@dataclass(frozen=True)
class AlertFolder:
    path: str
    directory: pulumi.Resource


def alert_folder(path: str, viewers: Sequence[str], managers: Sequence[str]) -> AlertFolder:
    """`alerts-folder` (databricks.Directory) and `alerts-folder-permissions`: alerts in a folder
    inherit its permissions, so one ACL covers every alert of the stack."""
    directory = databricks.Directory("alerts-folder", path=path)
    acl = access_controls([("CAN_READ", viewers), ("CAN_MANAGE", managers)])
    if acl:
        databricks.Permissions(
            "alerts-folder-permissions",
            directory_path=directory.path,
            access_controls=acl,
            opts=pulumi.ResourceOptions(parent=directory),
        )
    return AlertFolder(path, directory)


def register_alert(
    name: str, title: str, metric: Metric, sql: str, threshold: float, s: AlertSettings, parent: pulumi.Resource
) -> databricks.AlertV2:
    """`<name>` (AlertV2), in the stack's alert folder, or with its own `<name>-permissions` when
    there is no folder and anyone is granted access."""
    child = pulumi.ResourceOptions(parent=parent)
    in_folder = pulumi.ResourceOptions(parent=parent, depends_on=[s.folder.directory]) if s.folder else child
    alert = databricks.AlertV2(
        name,
        display_name=f"[{metric.severity}] {title}: {metric.title}",
        custom_description=(
            f"Severity {metric.severity} (respond within {metric.severity.response_time}). "
            f"Runbook: {s.runbook_base_url}{metric.runbook}"
        ),
        # No data yet (NULL: no expectations, no finished update) is no incident: it becomes an
        # empty result, which `empty_result_state` maps to OK.
        query_text=f"SELECT * FROM (\n{sql}\n) AS measured\nWHERE {metric.column} IS NOT NULL",
        warehouse_id=s.warehouse_id,
        schedule=databricks.AlertV2ScheduleArgs(
            quartz_cron_schedule=s.cron, timezone_id=s.timezone, pause_status=s.pause_status.value
        ),
        evaluation=databricks.AlertV2EvaluationArgs(
            source=databricks.AlertV2EvaluationSourceArgs(name=metric.column),
            comparison_operator=metric.operator,
            threshold=databricks.AlertV2EvaluationThresholdArgs(
                value=databricks.AlertV2EvaluationThresholdValueArgs(double_value=float(threshold))
            ),
            empty_result_state="OK",
            notification=databricks.AlertV2EvaluationNotificationArgs(
                subscriptions=[
                    databricks.AlertV2EvaluationNotificationSubscriptionArgs(destination_id=d)
                    for d in s.subscriptions.get(metric.severity, ())
                ]
                or None,
                retrigger_seconds=RETRIGGER_SECONDS,
                notify_on_ok=True,
            ),
        ),
        run_as=run_as(s.run_as, databricks.AlertV2RunAsArgs),
        parent_path=s.folder.path if s.folder else None,
        opts=in_folder,
    )
    acl = access_controls([("CAN_READ", s.viewers), ("CAN_MANAGE", s.managers)])
    if acl and s.folder is None:
        databricks.Permissions(f"{name}-permissions", alert_v2_id=alert.id, access_controls=acl, opts=child)
    return alert
