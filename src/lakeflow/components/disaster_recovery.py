"""Disaster recovery (guide 10): where snapshots and the configuration backup live, and the job
that takes each pipeline's snapshots.

`SnapshotStore` (one per stack, `disaster-recovery`). Children:
  - `schema-<catalog>-<schema>`   databricks.Schema per snapshot target. Protected in protected
                                  stacks and retained by `pulumi destroy` either way: snapshots
                                  outlive the stack that takes them.
  - `schema-<catalog>-<schema>-grants`  databricks.Grants: the job's identity writes, managers read.
  - `backup-schema`, `backup-volume`  databricks.Schema + Volume holding the configuration backup,
                                  protected and retained like the snapshots.
  - `backup-schema-grants`        databricks.Grants: managers read the backup.
  - `config-backup`               databricks.File: the stack's resolved settings as JSON, rewritten
                                  by every deploy that changes them (guide 10.2 step 1).

`PipelineSnapshots` (one per pipeline with critical tables). Children:
  - `<name>-snapshot-<table>`     databricks.Query: the table's `CREATE OR REPLACE TABLE … AS SELECT`
                                  statement (docs/adr/0006; a Job's sql_task runs saved queries only).
  - `<name>-snapshot-<table>-permissions`  databricks.Permissions: the job's identity may run it.
  - `<name>-snapshot-job`         databricks.Job: one sql_task per table, on the RPO's schedule,
                                  retried, failures and overruns to the P2 route.
  - `<name>-snapshot-job-permissions`  databricks.Permissions on the job.

The snapshot tables themselves are made by the SQL, not declared: nothing Pulumi does can drop them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls, check_webhook_cap, run_as
from lakeflow.components.types import PauseStatus, principal_field


@dataclass(frozen=True)
class SnapshotStoreArgs:
    schemas: Sequence[tuple[str, str]]
    """(catalog, schema) of every snapshot target of the stack."""
    backup_catalog: str
    backup_schema: str
    backup_document: Mapping[str, Any]
    """What the configuration backup file holds (no secrets)."""
    backup_file_name: str
    writer: str | None = None
    """The snapshot jobs' identity (`sp:` / `user:`): may create and replace snapshot tables."""
    readers: Sequence[str] = ()
    """Principals who may read snapshots and the backup (restores run as them)."""
    protect: bool = False


class SnapshotStore(pulumi.ComponentResource):
    schemas: dict[tuple[str, str], databricks.Schema]
    backup_path: str

    def __init__(self, name: str, args: SnapshotStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakeflow:index:SnapshotStore", name, None, opts)
        # Data outlives the stack: retained on delete always, protected where the stack protects.
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)
        self.schemas = {}
        for catalog, schema in sorted(set(args.schemas)):
            key = f"schema-{catalog}-{schema}"
            self.schemas[(catalog, schema)] = databricks.Schema(
                key,
                catalog_name=catalog,
                name=schema,
                comment="DR snapshots of pipeline tables (docs/adr/0006): docs/runbooks/disaster-recovery.md",
                opts=keep,
            )
            # Readers (the stack's managers) run restores: they create, check and drop the
            # `<table>_dr_restore` tables here (docs/adr/0006); only the writer replaces snapshots.
            grants = self._grants(
                args.readers,
                ["CREATE_TABLE", "SELECT", "USE_SCHEMA"],
                args.writer,
                ["CREATE_TABLE", "MODIFY", "SELECT", "USE_SCHEMA"],
            )
            if grants:
                databricks.Grants(
                    f"{key}-grants",
                    schema=self.schemas[(catalog, schema)].id,
                    grants=grants,
                    opts=child,
                )

        backup_schema = databricks.Schema(
            "backup-schema",
            catalog_name=args.backup_catalog,
            name=args.backup_schema,
            comment="Configuration backups of the lakeflow stacks (guide 10.2)",
            opts=keep,
        )
        volume = databricks.Volume(
            "backup-volume",
            catalog_name=args.backup_catalog,
            schema_name=backup_schema.name,
            name="config",
            volume_type="MANAGED",
            comment="Resolved pipeline settings of each deploy, as JSON",
            opts=keep,
        )
        grants = self._grants(args.readers, ["READ_VOLUME", "USE_SCHEMA"])
        if grants:
            databricks.Grants("backup-schema-grants", schema=backup_schema.id, grants=grants, opts=child)
        self.backup_path = f"/Volumes/{args.backup_catalog}/{args.backup_schema}/config/{args.backup_file_name}"
        document = json.dumps(args.backup_document, indent=2, sort_keys=True) + "\n"
        databricks.File(
            "config-backup",
            path=self.backup_path,
            content_base64=base64.b64encode(document.encode()).decode(),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[volume]),
        )
        self.register_outputs({"backup_path": self.backup_path})

    @staticmethod
    def _grants(
        readers: Sequence[str],
        reader_privileges: list[str],
        writer: str | None = None,
        writer_privileges: Sequence[str] = (),
    ) -> list[databricks.GrantsGrantArgs]:
        privileges = {principal_field(r)[1]: reader_privileges for r in readers}
        if writer:
            privileges[principal_field(writer)[1]] = sorted(
                {*privileges.get(principal_field(writer)[1], []), *writer_privileges}
            )
        return [databricks.GrantsGrantArgs(principal=p, privileges=v) for p, v in sorted(privileges.items())]


@dataclass(frozen=True)
class SnapshotTask:
    table: str
    sql: str


@dataclass(frozen=True)
class PipelineSnapshotsArgs:
    job_name: str
    warehouse_id: str
    tasks: Sequence[SnapshotTask]
    cron: str
    timezone: str
    pause_status: PauseStatus
    description: str
    rpo_minutes: int
    """A run longer than the RPO misses it: a health warning, routed like a failure."""
    schema: pulumi.Resource | None = None
    """The snapshot schema, which must exist before a snapshot can be written."""
    failure_emails: Sequence[str] = ()
    failure_destinations: Sequence[pulumi.Input[str]] = ()
    """Notification destinations (not email: `failure_emails`); at most 3, the Jobs API's limit."""
    """Notification destination ids of the P2 route."""
    run_as: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    viewers: Sequence[str] = ()
    runners: Sequence[str] = ()
    managers: Sequence[str] = ()
    max_retries: int = 2

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError(f"PipelineSnapshots {self.job_name!r}: no critical tables to snapshot")
        check_webhook_cap(f"PipelineSnapshots {self.job_name!r}", self.failure_destinations)


class PipelineSnapshots(pulumi.ComponentResource):
    job: databricks.Job
    queries: dict[str, databricks.Query]

    def __init__(self, name: str, args: PipelineSnapshotsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakeflow:index:PipelineSnapshots", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.queries = {}
        query_acl = access_controls(
            [
                ("CAN_VIEW", args.viewers),
                ("CAN_RUN", [*args.runners, *([args.run_as] if args.run_as else [])]),
                ("CAN_MANAGE", args.managers),
            ]
        )
        for task in args.tasks:
            query = databricks.Query(
                f"{name}-snapshot-{task.table}",
                display_name=f"{args.job_name}: {task.table}",
                description=f"Disaster-recovery snapshot of {task.table} (guide 10.2). Managed by the lakeflow stack.",
                warehouse_id=args.warehouse_id,
                query_text=task.sql,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[args.schema] if args.schema else None),
            )
            self.queries[task.table] = query
            if query_acl:
                databricks.Permissions(
                    f"{name}-snapshot-{task.table}-permissions",
                    sql_query_id=query.id,
                    access_controls=query_acl,
                    opts=child,
                )

        # Retry before the next snapshot is due: a third of the RPO, at most 5 minutes.
        retry_ms = min(300, args.rpo_minutes * 20) * 1000
        destinations = [databricks.JobWebhookNotificationsOnFailureArgs(id=d) for d in args.failure_destinations]
        self.job = databricks.Job(
            f"{name}-snapshot-job",
            name=args.job_name,
            description=args.description,
            tasks=[
                databricks.JobTaskArgs(
                    task_key=f"snapshot_{task.table}",
                    sql_task=databricks.JobTaskSqlTaskArgs(
                        warehouse_id=args.warehouse_id,
                        query=databricks.JobTaskSqlTaskQueryArgs(query_id=self.queries[task.table].id),
                    ),
                    max_retries=args.max_retries,
                    min_retry_interval_millis=retry_ms,
                    retry_on_timeout=args.max_retries > 0,
                )
                for task in args.tasks
            ],
            # A snapshot running into the next one would only contend for the same table.
            max_concurrent_runs=1,
            schedule=databricks.JobScheduleArgs(
                quartz_cron_expression=args.cron, timezone_id=args.timezone, pause_status=args.pause_status.value
            ),
            health=databricks.JobHealthArgs(
                rules=[
                    databricks.JobHealthRuleArgs(
                        metric="RUN_DURATION_SECONDS", op="GREATER_THAN", value=args.rpo_minutes * 60
                    )
                ]
            ),
            email_notifications=databricks.JobEmailNotificationsArgs(
                on_failures=list(args.failure_emails),
                on_duration_warning_threshold_exceededs=list(args.failure_emails),
            )
            if args.failure_emails
            else None,
            webhook_notifications=databricks.JobWebhookNotificationsArgs(
                on_failures=destinations,
                on_duration_warning_threshold_exceededs=[
                    databricks.JobWebhookNotificationsOnDurationWarningThresholdExceededArgs(id=d)
                    for d in args.failure_destinations
                ],
            )
            if destinations
            else None,
            run_as=run_as(args.run_as, databricks.JobRunAsArgs),
            tags=dict(args.tags) or None,
            opts=child,
        )
        acl = access_controls(
            [("CAN_VIEW", args.viewers), ("CAN_MANAGE_RUN", args.runners), ("CAN_MANAGE", args.managers)]
        )
        if acl:
            databricks.Permissions(
                f"{name}-snapshot-job-permissions", job_id=self.job.id, access_controls=acl, opts=child
            )
        self.register_outputs({"job_id": self.job.id})
