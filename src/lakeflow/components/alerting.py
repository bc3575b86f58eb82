"""What the alert components share: one Databricks SQL alert (AlertV2) in the stack's alert folder,
the settings every alert of a stack has in common, and `AlertFolder`, the folder whose ACL the
alerts inherit.

Every alert runs a query that lists what is over its threshold (one row per pipeline, or for the
environment) on the stack's warehouse and schedule, triggers when that list is not empty, notifies
the destinations of its severity (none: muted), re-alerts every 5 minutes while triggered (guide
6.3's rearm: a pipeline that crosses while another already has is in the next notification), and
says its severity, response time and runbook.

`AlertFolder` (one per stack, `alerts`). Children:
  - `<name>-folder`               databricks.Directory, the workspace folder of the alerts (and the
                                  dashboard)
  - `<name>-folder-permissions`   databricks.Permissions on it: one ACL covers every alert in it
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls, run_as
from lakeflow.components.metrics import Metric
from lakeflow.components.types import PauseStatus, Severity, coerce_args, waits_for

RETRIGGER_SECONDS = 300


@dataclass(frozen=True)
class AlertSettings:
    """What every alert of a stack shares."""

    warehouse_id: pulumi.Input[str]
    """The SQL warehouse the alert queries run on."""
    cron: str
    """Quartz cron of the alert evaluations."""
    timezone: str
    pause_status: PauseStatus
    subscriptions: Mapping[str, Sequence[pulumi.Input[str]]] | None = None
    """Notification destination ids per severity (`P1`..`P4`); a severity without any is muted."""
    runbook_base_url: str | None = "docs/runbooks/"
    run_as: str | None = None
    """The alerts' identity (`sp:` / `user:`)."""
    viewers: Sequence[str] | None = ()
    managers: Sequence[str] | None = ()
    folder_path: str | None = None
    """The workspace folder the alerts live in: its ACL covers them all (one Permissions for the
    stack, not one per alert). Without it, each alert gets its own `<name>-permissions`."""
    folder_id: pulumi.Input[str] | None = None
    """The folder's id (`AlertFolder.folder_id`) when the stack creates it: the alerts wait for it."""

    def __post_init__(self) -> None:
        allowed = {s.value for s in Severity}
        unknown = [k for k in self.subscriptions or {} if k not in allowed]
        if unknown:
            raise ValueError(
                f"AlertSettings.subscriptions: unknown severity {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )


class AlertSettingsDict(TypedDict):
    warehouse_id: pulumi.Input[str]
    cron: str
    timezone: str
    pause_status: PauseStatus | str
    subscriptions: NotRequired[Mapping[str, Sequence[pulumi.Input[str]]] | None]
    runbook_base_url: NotRequired[str | None]
    run_as: NotRequired[str | None]
    viewers: NotRequired[Sequence[str] | None]
    managers: NotRequired[Sequence[str] | None]
    folder_path: NotRequired[str | None]
    folder_id: NotRequired[pulumi.Input[str] | None]


@dataclass(frozen=True)
class AlertFolderArgs:
    path: str
    """Workspace path of the folder, e.g. `/Users/<run-as>/lakeflow/prod_monitoring`."""
    viewers: Sequence[str] | None = ()
    """Principals (`group:` / `user:` / `sp:`) who may read the alerts."""
    managers: Sequence[str] | None = ()
    """Principals who may manage them."""


class AlertFolderArgsDict(TypedDict):
    path: str
    viewers: NotRequired[Sequence[str] | None]
    managers: NotRequired[Sequence[str] | None]


if TYPE_CHECKING:
    AlertFolderArgsInput = AlertFolderArgs | AlertFolderArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at run time and supports no Union.
    AlertFolderArgsInput = AlertFolderArgs


class AlertFolder(pulumi.ComponentResource):
    """The stack's alert folder: alerts in a folder inherit its permissions, so one ACL covers
    every alert of the stack."""

    path: pulumi.Output[str]
    folder_id: pulumi.Output[str]

    def __init__(self, name: str, args: AlertFolderArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(AlertFolderArgs, args, f"AlertFolder {name!r}")
        super().__init__("lakeflow:index:AlertFolder", name, None, opts)
        # The folder was registered at the stack's root before it had a component: the alias moves
        # its state here (its Permissions, a child of it, follows).
        directory = databricks.Directory(
            f"{name}-folder",
            path=args.path,
            opts=pulumi.ResourceOptions(
                parent=self, aliases=[pulumi.Alias(name="alerts-folder", parent=pulumi.ROOT_STACK_RESOURCE)]
            ),
        )
        acl = access_controls([("CAN_READ", args.viewers or ()), ("CAN_MANAGE", args.managers or ())])
        if acl:
            databricks.Permissions(
                f"{name}-folder-permissions",
                directory_path=directory.path,
                access_controls=acl,
                opts=pulumi.ResourceOptions(parent=directory),
            )
        self.path = directory.path
        self.folder_id = directory.id
        self.register_outputs({"path": self.path, "folder_id": self.folder_id})


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
    in_folder = pulumi.ResourceOptions(parent=parent, depends_on=waits_for(s.folder_id)) if s.folder_path else child
    subscriptions = (s.subscriptions or {}).get(metric.severity, ())
    alert = databricks.AlertV2(
        name,
        display_name=f"[{metric.severity}] {title}: {metric.title}",
        custom_description=(
            f"Severity {metric.severity} (respond within {metric.severity.response_time}). "
            f"Triggered while any {subject} is over its threshold; the query result lists each one "
            f"with its {metric.column} and threshold. Runbook: {s.runbook_base_url or ''}{metric.runbook}"
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
                    databricks.AlertV2EvaluationNotificationSubscriptionArgs(destination_id=d) for d in subscriptions
                ]
                or None,
                retrigger_seconds=RETRIGGER_SECONDS,
                notify_on_ok=True,
            ),
        ),
        run_as=run_as(s.run_as, databricks.AlertV2RunAsArgs),
        parent_path=s.folder_path,
        opts=in_folder,
    )
    acl = access_controls([("CAN_READ", s.viewers or ()), ("CAN_MANAGE", s.managers or ())])
    if acl and s.folder_path is None:
        databricks.Permissions(f"{name}-permissions", alert_v2_id=alert.id, access_controls=acl, opts=child)
    return alert
