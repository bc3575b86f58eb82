"""One Databricks SQL alert (AlertV2), in the stack's alert folder whose ACL it inherits: shared
by the alert components.

Every alert runs a query that lists what is over its threshold (one row per pipeline, or for the
environment) on the stack's warehouse and schedule, triggers when that list is not empty, notifies
the destinations of its severity (none: muted), re-alerts every 5 minutes while triggered (guide
6.3's rearm: a pipeline that crosses while another already has is in the next notification), and
says its severity, response time and runbook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls, run_as
from lakeflow.components.types import PauseStatus, Severity

RETRIGGER_SECONDS = 300


@dataclass(frozen=True)
class Metric:
    id: str
    title: str
    column: str
    """The measurement's column."""
    operator: str
    """How the measurement compares with its threshold to be a breach (GREATER_THAN, LESS_THAN)."""
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
    directory: databricks.Directory


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
    name: str,
    title: str,
    metric: Metric,
    sql: str,
    s: AlertSettings,
    parent: pulumi.Resource,
    subject: str = "pipeline",
) -> databricks.AlertV2:
    """`<name>` (AlertV2), in the stack's alert folder, or with its own `<name>-permissions` when
    there is no folder and anyone is granted access.

    `sql` lists the breaches, one row per `subject` (a pipeline, or the environment) over its own
    threshold (monitoring.queries' stack-wide verdicts): the alert counts the rows and triggers on
    any. No row (nothing crossed, or no data yet) is OK."""
    child = pulumi.ResourceOptions(parent=parent)
    in_folder = pulumi.ResourceOptions(parent=parent, depends_on=[s.folder.directory]) if s.folder else child
    alert = databricks.AlertV2(
        name,
        display_name=f"[{metric.severity}] {title}: {metric.title}",
        custom_description=(
            f"Severity {metric.severity} (respond within {metric.severity.response_time}). "
            f"Triggered while any {subject} is over its threshold; the query result lists each one "
            f"with its {metric.column} and threshold. Runbook: {s.runbook_base_url}{metric.runbook}"
        ),
        query_text=sql,
        warehouse_id=s.warehouse_id,
        schedule=databricks.AlertV2ScheduleArgs(
            quartz_cron_schedule=s.cron, timezone_id=s.timezone, pause_status=s.pause_status.value
        ),
        evaluation=databricks.AlertV2EvaluationArgs(
            source=databricks.AlertV2EvaluationSourceArgs(name=subject, aggregation="COUNT"),
            comparison_operator="GREATER_THAN",
            threshold=databricks.AlertV2EvaluationThresholdArgs(
                value=databricks.AlertV2EvaluationThresholdValueArgs(double_value=0.0)
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
