"""`PipelineSchedule`: the Databricks Job that starts a triggered pipeline (guide 5.3).

Children:
  - `<name>-job`          databricks.Job: one pipeline task, or, for a dependent schedule, one task
                          per upstream pipeline followed by this pipeline's task (depends_on all).
                          Triggered by a Quartz cron schedule or by file arrival. One run at a time,
                          retries, failure emails and destinations, health rules (run duration
                          above the latency objective, streaming backlog).
  - `<name>-job-permissions`  databricks.Permissions on the job, when any are given.

Continuous pipelines have no schedule: they are always running.

Inputs: `PipelineScheduleArgs` (or the same keys as a mapping, `PipelineScheduleArgsDict`), its
trigger a `ScheduleArgs`. Outputs: `job_id`, `url`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Required, TypedDict

import pulumi
import pulumi_databricks as databricks

from lakeflow.components.access import access_controls, check_webhook_cap, run_as
from lakeflow.components.types import (
    TABLE_TRIGGER_CONDITION,
    TABLE_TRIGGER_SETTLE_SECONDS,
    PauseStatus,
    coerce_args,
)

DEFAULT_MAX_RETRIES = 2
DEFAULT_MIN_RETRY_INTERVAL_SECONDS = 300


@dataclass(frozen=True)
class FileArrivalArgs:
    """Start a run when files arrive at `url` (a Unity Catalog volume or external location)."""

    url: str
    min_time_between_triggers_seconds: int | None = None
    wait_after_last_change_seconds: int | None = None


@dataclass(frozen=True)
class ScheduleArgs:
    """How the job starts and retries the pipeline's update: a Quartz `cron`, `file_arrival`, or
    neither (then `PipelineScheduleArgs.upstream_tables` start it)."""

    cron: str | None = None
    timezone: str | None = None
    """Of the cron; None: `PipelineScheduleArgs.timezone`."""
    file_arrival: FileArrivalArgs | None = None
    pause_status: PauseStatus | None = None
    """None: `PipelineScheduleArgs.pause_status`."""
    full_refresh: bool | None = False
    max_retries: int | None = DEFAULT_MAX_RETRIES
    min_retry_interval_seconds: int | None = DEFAULT_MIN_RETRY_INTERVAL_SECONDS
    timeout_seconds: int | None = None

    def __post_init__(self) -> None:
        if self.cron is not None and self.file_arrival is not None:
            raise ValueError("ScheduleArgs: one trigger, cron or file_arrival, not both")
        if self.timezone and not self.cron:
            raise ValueError("ScheduleArgs: timezone only applies to a cron trigger")


@dataclass(frozen=True)
class UpstreamPipeline:
    task_key: str
    pipeline_id: pulumi.Input[str]


@dataclass(frozen=True)
class PipelineScheduleArgs:
    """The inputs of a `PipelineSchedule`."""

    job_name: str
    """Physical job name in the workspace."""
    task_key: str
    """Task key of the pipeline's own task (its logical name)."""
    pipeline_id: pulumi.Input[str]
    schedule: ScheduleArgs
    """Trigger (cron or file arrival), retries and timeout."""
    pause_status: PauseStatus
    timezone: str | None = "UTC"
    """Used when the schedule names none."""
    upstream: Sequence[UpstreamPipeline] | None = ()
    """Pipelines run first, in this job, for a dependent schedule (those without a job of their own)."""
    upstream_tables: Sequence[str] | None = ()
    """`catalog.schema.table`s of upstream pipelines that have jobs of their own: a schedule with
    neither cron nor file arrival starts when these have been updated."""
    failure_emails: Sequence[str] | None = ()
    run_as: str | None = None
    tags: Mapping[str, str] | None = field(default_factory=dict)
    viewers: Sequence[str] | None = ()
    runners: Sequence[str] | None = ()
    managers: Sequence[str] | None = ()
    failure_destinations: Sequence[pulumi.Input[str]] | None = ()
    """Notification destination ids told when a run fails (the P1 route), not email
    (`failure_emails`); at most 3, the Jobs API's limit."""
    max_run_minutes: int | None = None
    """Health rule: a run longer than this (the pipeline's latency objective) is unhealthy."""
    streaming_backlog_seconds: int | None = None
    """Health rule on streaming backlog."""
    budget_policy_id: pulumi.Input[str] | None = None
    """The serverless pipeline's budget policy, so the job's usage is attributed alike."""

    def __post_init__(self) -> None:
        if self.task_key in {u.task_key for u in self.upstream or ()}:
            raise ValueError(f"PipelineSchedule {self.job_name!r}: the pipeline cannot be its own upstream")
        triggered_by_tables = self.schedule.cron is None and self.schedule.file_arrival is None
        if triggered_by_tables != bool(self.upstream_tables):
            raise ValueError(
                f"PipelineSchedule {self.job_name!r}: upstream tables trigger a schedule without cron or file "
                "arrival, and only that"
            )
        check_webhook_cap(f"PipelineSchedule {self.job_name!r}", self.failure_destinations or ())


class FileArrivalArgsDict(TypedDict, total=False):
    url: Required[str]
    min_time_between_triggers_seconds: int
    wait_after_last_change_seconds: int


class ScheduleArgsDict(TypedDict, total=False):
    """`ScheduleArgs` as a plain mapping (same keys)."""

    cron: str
    timezone: str
    file_arrival: FileArrivalArgs | FileArrivalArgsDict
    pause_status: PauseStatus
    full_refresh: bool
    max_retries: int
    min_retry_interval_seconds: int
    timeout_seconds: int


class UpstreamPipelineDict(TypedDict):
    task_key: str
    pipeline_id: pulumi.Input[str]


class PipelineScheduleArgsDict(TypedDict, total=False):
    """`PipelineScheduleArgs` as a plain mapping (same keys)."""

    job_name: Required[str]
    task_key: Required[str]
    pipeline_id: Required[pulumi.Input[str]]
    schedule: Required[ScheduleArgs | ScheduleArgsDict]
    pause_status: Required[PauseStatus]
    timezone: str
    upstream: Sequence[UpstreamPipeline | UpstreamPipelineDict]
    upstream_tables: Sequence[str]
    failure_emails: Sequence[str]
    run_as: str
    tags: Mapping[str, str]
    viewers: Sequence[str]
    runners: Sequence[str]
    managers: Sequence[str]
    failure_destinations: Sequence[pulumi.Input[str]]
    max_run_minutes: int
    streaming_backlog_seconds: int
    budget_policy_id: pulumi.Input[str]


if TYPE_CHECKING:
    PipelineScheduleArgsInput = PipelineScheduleArgs | PipelineScheduleArgsDict
else:
    # Pulumi's schema analyzer reads this annotation at runtime and takes no Union.
    PipelineScheduleArgsInput = PipelineScheduleArgs


class PipelineSchedule(pulumi.ComponentResource):
    """The Databricks Job that starts a triggered pipeline."""

    job_id: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: PipelineScheduleArgsInput, opts: pulumi.ResourceOptions | None = None):
        args = coerce_args(PipelineScheduleArgs, args, f"PipelineSchedule {name!r}")
        super().__init__("lakeflow:index:PipelineSchedule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.schedule
        pause = (s.pause_status or args.pause_status).value
        upstream = args.upstream or ()
        failure_emails = list(args.failure_emails or ())
        failure_destinations = list(args.failure_destinations or ())

        health = [
            databricks.JobHealthRuleArgs(metric=metric, op="GREATER_THAN", value=value)
            for metric, value in (
                ("RUN_DURATION_SECONDS", args.max_run_minutes * 60 if args.max_run_minutes else None),
                ("STREAMING_BACKLOG_SECONDS", args.streaming_backlog_seconds),
            )
            if value is not None
        ]
        upstream_tasks = [self._task(u.task_key, u.pipeline_id, s) for u in upstream]
        own_task = self._task(args.task_key, args.pipeline_id, s, after=[u.task_key for u in upstream])

        self.job: databricks.Job = databricks.Job(
            f"{name}-job",
            name=args.job_name,
            tasks=[*upstream_tasks, own_task],
            # A pipeline allows one update at a time; a second run would only fail.
            max_concurrent_runs=1,
            schedule=databricks.JobScheduleArgs(
                quartz_cron_expression=s.cron, timezone_id=s.timezone or args.timezone or "UTC", pause_status=pause
            )
            if s.cron
            else None,
            trigger=_trigger(s, pause, args.upstream_tables or ()),
            email_notifications=databricks.JobEmailNotificationsArgs(on_failures=failure_emails)
            if failure_emails
            else None,
            webhook_notifications=databricks.JobWebhookNotificationsArgs(
                on_failures=[databricks.JobWebhookNotificationsOnFailureArgs(id=d) for d in failure_destinations],
                on_duration_warning_threshold_exceededs=[
                    databricks.JobWebhookNotificationsOnDurationWarningThresholdExceededArgs(id=d)
                    for d in failure_destinations
                ]
                if health
                else None,
            )
            if failure_destinations
            else None,
            health=databricks.JobHealthArgs(rules=health) if health else None,
            run_as=run_as(args.run_as, databricks.JobRunAsArgs),
            tags=dict(args.tags or {}) or None,
            budget_policy_id=args.budget_policy_id,
            opts=child,
        )
        self.job_id = self.job.id
        self.url = self.job.url

        acl = access_controls(
            [
                ("CAN_VIEW", args.viewers or ()),
                ("CAN_MANAGE_RUN", args.runners or ()),
                ("CAN_MANAGE", args.managers or ()),
            ]
        )
        self.permissions: databricks.Permissions | None = (
            databricks.Permissions(f"{name}-job-permissions", job_id=self.job.id, access_controls=acl, opts=child)
            if acl
            else None
        )

        self.register_outputs({"job_id": self.job_id, "url": self.url})

    @staticmethod
    def _task(
        key: str, pipeline_id: pulumi.Input[str], s: ScheduleArgs, after: Sequence[str] = ()
    ) -> databricks.JobTaskArgs:
        max_retries = DEFAULT_MAX_RETRIES if s.max_retries is None else s.max_retries
        interval = (
            DEFAULT_MIN_RETRY_INTERVAL_SECONDS if s.min_retry_interval_seconds is None else s.min_retry_interval_seconds
        )
        return databricks.JobTaskArgs(
            task_key=key,
            pipeline_task=databricks.JobTaskPipelineTaskArgs(
                pipeline_id=pipeline_id, full_refresh=bool(s.full_refresh)
            ),
            depends_ons=[databricks.JobTaskDependsOnArgs(task_key=k) for k in after] or None,
            max_retries=max_retries,
            min_retry_interval_millis=interval * 1000,
            retry_on_timeout=max_retries > 0,
            timeout_seconds=s.timeout_seconds,
        )


def _trigger(s: ScheduleArgs, pause: str, upstream_tables: Sequence[str]) -> databricks.JobTriggerArgs | None:
    if s.file_arrival:
        return databricks.JobTriggerArgs(
            pause_status=pause,
            file_arrival=databricks.JobTriggerFileArrivalArgs(
                url=s.file_arrival.url,
                min_time_between_triggers_seconds=s.file_arrival.min_time_between_triggers_seconds,
                wait_after_last_change_seconds=s.file_arrival.wait_after_last_change_seconds,
            ),
        )
    if upstream_tables:
        return databricks.JobTriggerArgs(
            pause_status=pause,
            table_update=databricks.JobTriggerTableUpdateArgs(
                table_names=list(upstream_tables),
                condition=TABLE_TRIGGER_CONDITION,
                wait_after_last_change_seconds=TABLE_TRIGGER_SETTLE_SECONDS,
            ),
        )
    return None
