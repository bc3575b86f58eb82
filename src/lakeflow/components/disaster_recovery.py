"""Disaster recovery (guide 10): where snapshots and the configuration backup live, and the job
that takes each pipeline's snapshots.

`SnapshotStore` (one per stack, `disaster-recovery`). Children:
  - `<name>-schema-<catalog>-<schema>`  databricks.Schema per snapshot target. Protected in
                                  protected stacks and retained by `pulumi destroy` either way:
                                  snapshots outlive the stack that takes them.
  - `<name>-schema-<catalog>-<schema>-grants`  databricks.Grants: the job's identity writes,
                                  managers read.
  - `<name>-backup-schema`, `<name>-backup-volume`  databricks.Schema + Volume holding the
                                  configuration backup, protected and retained like the snapshots.
  - `<name>-backup-schema-grants` databricks.Grants: managers read the backup.
  - `<name>-config-backup`        databricks.File: the stack's resolved settings as JSON, rewritten
                                  by every deploy that changes them (guide 10.2 step 1).
  Each carries an alias to its name before it was derived from the component's (`schema-…`,
  `backup-…`, `config-backup`): the engine moves its state instead of replacing it.

`PipelineSnapshots` (one per pipeline with critical tables). Children:
  - `<name>-snapshot-<table>`     databricks.Query: the table's `CREATE OR REPLACE TABLE … AS SELECT`
                                  statement (docs/adr/0006; a Job's sql_task runs saved queries only).
  - `<name>-snapshot-<table>-permissions`  databricks.Permissions: the job's identity may run it.
  - `<name>-snapshot-job`         databricks.Job: one sql_task per table, on the RPO's schedule,
                                  retried, failures and overruns to the P2 route.
  - `<name>-snapshot-job-permissions`  databricks.Permissions on the job.

The snapshot tables themselves are made by the SQL, not declared: nothing Pulumi does can drop them.
"""

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls, check_webhook_cap, run_as
from lakeflow.components.types import PauseStatus, coerce_args, principal_field, waits_for


@dataclass(frozen=True)
class SnapshotSchema:
    """A Unity Catalog schema snapshots are written to."""

    catalog: str
    schema: str


class SnapshotSchemaDict(TypedDict):
    catalog: str
    schema: str


@dataclass(frozen=True)
class SnapshotStoreArgs:
    schemas: Sequence[SnapshotSchema]
    """Every snapshot target of the stack."""
    backup_catalog: str
    """Catalog of the configuration backup's schema."""
    backup_schema: str
    """Schema holding the configuration backup's volume."""
    backup_document: Mapping[str, Any]
    """What the configuration backup file holds (no secrets)."""
    backup_file_name: str
    """File name of the backup in the volume, e.g. `lakeflow.prod.json`."""
    writer: str | None = None
    """The snapshot jobs' identity (`sp:` / `user:`): may create and replace snapshot tables."""
    readers: Sequence[str] | None = ()
    """Principals who may read snapshots and the backup (restores run as them)."""
    protect: bool | None = False
    """Protect the schemas and the volume (they are retained on delete either way)."""


class SnapshotStoreArgsDict(TypedDict):
    schemas: Sequence[SnapshotSchema | SnapshotSchemaDict]
    backup_catalog: str
    backup_schema: str
    backup_document: Mapping[str, Any]
    backup_file_name: str
    writer: NotRequired[str | None]
    readers: NotRequired[Sequence[str] | None]
    protect: NotRequired[bool | None]


if TYPE_CHECKING:
    SnapshotStoreArgsInput = SnapshotStoreArgs | SnapshotStoreArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at run time and supports no Union.
    SnapshotStoreArgsInput = SnapshotStoreArgs


def _was(old: str) -> pulumi.ResourceOptions:
    """Its name before child names derived from the component's: the engine moves the state."""
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(name=old)])


class SnapshotStore(pulumi.ComponentResource):
    backup_path: pulumi.Output[str]
    """Workspace path of the configuration backup file (`/Volumes/…`)."""

    def __init__(self, name: str, args: SnapshotStoreArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(SnapshotStoreArgs, args, f"SnapshotStore {name!r}")
        super().__init__("lakeflow:index:SnapshotStore", name, None, opts)
        # Data outlives the stack: retained on delete always, protected where the stack protects.
        keep = pulumi.ResourceOptions(parent=self, protect=bool(args.protect), retain_on_delete=True)
        child = pulumi.ResourceOptions(parent=self)
        readers = args.readers or ()
        self.schemas: dict[tuple[str, str], databricks.Schema] = {}
        for catalog, schema in sorted({(s.catalog, s.schema) for s in args.schemas}):
            key = f"schema-{catalog}-{schema}"
            self.schemas[(catalog, schema)] = databricks.Schema(
                f"{name}-{key}",
                catalog_name=catalog,
                name=schema,
                comment="DR snapshots of pipeline tables (docs/adr/0006): docs/runbooks/disaster-recovery.md",
                opts=pulumi.ResourceOptions.merge(keep, _was(key)),
            )
            # Readers (the stack's managers) run restores: they create, check and drop the
            # `<table>_dr_restore` tables here (docs/adr/0006); only the writer replaces snapshots.
            grants = self._grants(
                readers,
                ["CREATE_TABLE", "SELECT", "USE_SCHEMA"],
                args.writer,
                ["CREATE_TABLE", "MODIFY", "SELECT", "USE_SCHEMA"],
            )
            if grants:
                databricks.Grants(
                    f"{name}-{key}-grants",
                    schema=self.schemas[(catalog, schema)].id,
                    grants=grants,
                    opts=pulumi.ResourceOptions.merge(child, _was(f"{key}-grants")),
                )

        backup_schema = databricks.Schema(
            f"{name}-backup-schema",
            catalog_name=args.backup_catalog,
            name=args.backup_schema,
            comment="Configuration backups of the lakeflow stacks (guide 10.2)",
            opts=pulumi.ResourceOptions.merge(keep, _was("backup-schema")),
        )
        volume = databricks.Volume(
            f"{name}-backup-volume",
            catalog_name=args.backup_catalog,
            schema_name=backup_schema.name,
            name="config",
            volume_type="MANAGED",
            comment="Resolved pipeline settings of each deploy, as JSON",
            opts=pulumi.ResourceOptions.merge(keep, _was("backup-volume")),
        )
        grants = self._grants(readers, ["READ_VOLUME", "USE_SCHEMA"])
        if grants:
            databricks.Grants(
                f"{name}-backup-schema-grants",
                schema=backup_schema.id,
                grants=grants,
                opts=pulumi.ResourceOptions.merge(child, _was("backup-schema-grants")),
            )
        path = f"/Volumes/{args.backup_catalog}/{args.backup_schema}/config/{args.backup_file_name}"
        document = json.dumps(args.backup_document, indent=2, sort_keys=True) + "\n"
        databricks.File(
            f"{name}-config-backup",
            path=path,
            content_base64=base64.b64encode(document.encode()).decode(),
            opts=pulumi.ResourceOptions(
                parent=self, retain_on_delete=True, depends_on=[volume], aliases=[pulumi.Alias(name="config-backup")]
            ),
        )
        self.backup_path = pulumi.Output.from_input(path)
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
    """The table snapshotted (its task is `snapshot_<table>`)."""
    sql: str
    """The statement that takes the snapshot (`CREATE OR REPLACE TABLE … AS SELECT`)."""


class SnapshotTaskDict(TypedDict):
    table: str
    sql: str


@dataclass(frozen=True)
class PipelineSnapshotsArgs:
    job_name: str
    """The snapshot job's name."""
    warehouse_id: pulumi.Input[str]
    """The SQL warehouse the snapshot queries run on."""
    tasks: Sequence[SnapshotTask]
    cron: str
    """Quartz cron of the snapshot job."""
    timezone: str
    pause_status: PauseStatus
    description: str
    rpo_minutes: int
    """A run longer than the RPO misses it: a health warning, routed like a failure."""
    schema_id: pulumi.Input[str] | None = None
    """Id of the snapshot schema (`SnapshotStore`), which must exist before a snapshot can be
    written: the queries wait for it."""
    failure_emails: Sequence[str] | None = ()
    failure_destinations: Sequence[pulumi.Input[str]] | None = ()
    """Notification destination ids of the P2 route (not email: `failure_emails`); at most 3, the
    Jobs API's limit."""
    run_as: str | None = None
    tags: Mapping[str, str] | None = field(default_factory=dict)
    viewers: Sequence[str] | None = ()
    runners: Sequence[str] | None = ()
    managers: Sequence[str] | None = ()
    max_retries: int | None = 2

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError(f"PipelineSnapshots {self.job_name!r}: no critical tables to snapshot")
        check_webhook_cap(f"PipelineSnapshots {self.job_name!r}", self.failure_destinations or ())


class PipelineSnapshotsArgsDict(TypedDict):
    job_name: str
    warehouse_id: pulumi.Input[str]
    tasks: Sequence[SnapshotTask | SnapshotTaskDict]
    cron: str
    timezone: str
    pause_status: PauseStatus | str
    description: str
    rpo_minutes: int
    schema_id: NotRequired[pulumi.Input[str] | None]
    failure_emails: NotRequired[Sequence[str] | None]
    failure_destinations: NotRequired[Sequence[pulumi.Input[str]] | None]
    run_as: NotRequired[str | None]
    tags: NotRequired[Mapping[str, str] | None]
    viewers: NotRequired[Sequence[str] | None]
    runners: NotRequired[Sequence[str] | None]
    managers: NotRequired[Sequence[str] | None]
    max_retries: NotRequired[int | None]


if TYPE_CHECKING:
    PipelineSnapshotsArgsInput = PipelineSnapshotsArgs | PipelineSnapshotsArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at run time and supports no Union.
    PipelineSnapshotsArgsInput = PipelineSnapshotsArgs


class PipelineSnapshots(pulumi.ComponentResource):
    job_id: pulumi.Output[str]
    """The snapshot job's id."""

    def __init__(self, name: str, args: PipelineSnapshotsArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(PipelineSnapshotsArgs, args, f"PipelineSnapshots {name!r}")
        super().__init__("lakeflow:index:PipelineSnapshots", name, None, opts)
        viewers, runners, managers = args.viewers or (), args.runners or (), args.managers or ()
        failure_emails, failure_destinations = args.failure_emails or (), args.failure_destinations or ()
        max_retries = 2 if args.max_retries is None else args.max_retries
        child = pulumi.ResourceOptions(parent=self)
        self.queries: dict[str, databricks.Query] = {}
        query_acl = access_controls(
            [
                ("CAN_VIEW", viewers),
                ("CAN_RUN", [*runners, *([args.run_as] if args.run_as else [])]),
                ("CAN_MANAGE", managers),
            ]
        )
        for task in args.tasks:
            query = databricks.Query(
                f"{name}-snapshot-{task.table}",
                display_name=f"{args.job_name}: {task.table}",
                description=f"Disaster-recovery snapshot of {task.table} (guide 10.2). Managed by the lakeflow stack.",
                warehouse_id=args.warehouse_id,
                query_text=task.sql,
                opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for(args.schema_id) or None),
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
        destinations = [databricks.JobWebhookNotificationsOnFailureArgs(id=d) for d in failure_destinations]
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
                    max_retries=max_retries,
                    min_retry_interval_millis=retry_ms,
                    retry_on_timeout=max_retries > 0,
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
                on_failures=list(failure_emails),
                on_duration_warning_threshold_exceededs=list(failure_emails),
            )
            if failure_emails
            else None,
            webhook_notifications=databricks.JobWebhookNotificationsArgs(
                on_failures=destinations,
                on_duration_warning_threshold_exceededs=[
                    databricks.JobWebhookNotificationsOnDurationWarningThresholdExceededArgs(id=d)
                    for d in failure_destinations
                ],
            )
            if destinations
            else None,
            run_as=run_as(args.run_as, databricks.JobRunAsArgs),
            tags=dict(args.tags or {}) or None,
            opts=child,
        )
        acl = access_controls([("CAN_VIEW", viewers), ("CAN_MANAGE_RUN", runners), ("CAN_MANAGE", managers)])
        if acl:
            databricks.Permissions(
                f"{name}-snapshot-job-permissions", job_id=self.job.id, access_controls=acl, opts=child
            )
        self.job_id = self.job.id
        self.register_outputs({"job_id": self.job_id})
