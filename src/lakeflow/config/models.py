"""Typed, frozen settings: the contract of `pipelines/*.yaml` and of `Pulumi.<stack>.yaml`.

Pipeline files use the Databricks API's snake_case (the shape of the operations guide's
`pipeline-config.yaml`, section 4.1); stack config keys use Pulumi's camelCase. Both reject
unknown keys. Cross-field and cross-file rules (dependencies, modes, caps) live in
`lakeflow.config.cross_checks`, which `lakeflow.config.loader` runs with the whole picture.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from lakeflow.components.metrics import GUIDE_THRESHOLDS
from lakeflow.components.types import (
    PRINCIPAL_KINDS,
    DestinationKind,
    PauseStatus,
    Severity,
    principal_field,
)
from lakeflow.config.provider_models import Text
from lakeflow.config.provider_models import model as provider_model
from lakeflow.config.quartz import cron_period_minutes, quartz_error

IDENTIFIER = r"^[a-z][a-z0-9_]*$"

# Each pattern a field checks, in the words an error gives instead of the expression.
PATTERN_WORDS = {
    IDENTIFIER: "lower-case letters, digits and underscores, starting with a letter",
    r"^[A-Za-z0-9_]+$": "letters, digits and underscores",
    r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$": "<catalog>.<schema>: two names of letters, digits and underscores",
    r"^https://": "an https:// URL",
    r"^\d{4}-\d{2}-\d{2}$": "a date, YYYY-MM-DD",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "a column name: letters, digits and underscores, not starting with a digit",
    r"^[a-z][a-z0-9]*$": "lower-case letters and digits, starting with a letter",
    r"^[0-9a-fA-F-]{36}$": "a UUID, e.g. 0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",
    r"^(https://|http://127\.0\.0\.1:)": "an https:// URL",
    r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$": "<organization>/<project>/<stack>",
}


_UC_NAME = re.compile(r"[A-Za-z0-9_]{1,255}")
UC_NAME_WORDS = (
    "a Unity Catalog name of letters, digits and underscores (no quotes, spaces, dots or other signs: names reach SQL)"
)


def _uc_name(value: str) -> str:
    if not _UC_NAME.fullmatch(value):
        raise ValueError(f"must be {UC_NAME_WORDS}")
    return value


def _upper(value: Any) -> Any:
    """`edition: advanced`: the API takes these enums in any case (the provider compares them
    case-insensitively); the stack sends, and its rules read, upper case."""
    return value.upper() if isinstance(value, str) else value


def _logical_name(value: str) -> str:
    if not re.fullmatch(IDENTIFIER, value):
        raise ValueError(
            "must be the pipeline's logical name: lower-case letters, digits and underscores, starting with a "
            "letter (the stack makes the workspace name, <environment>_<name>)"
        )
    return value


UcName = Annotated[str, AfterValidator(_uc_name)]


class Mode(StrEnum):
    """What kind of environment a stack is; drives defaults and the production guard rails."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


PIPELINE_ALERTS = ("on-update-success", "on-update-failure", "on-update-fatal-failure", "on-flow-failure")
FAILURE_ALERTS = ("on-update-failure", "on-update-fatal-failure", "on-flow-failure")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError("is not a known IANA/Java time zone id (e.g. 'UTC', 'America/New_York')")
    return value


def _check_quartz(value: str) -> str:
    if problem := quartz_error(value):
        raise ValueError(problem)
    return value


# A service principal is named by its application id, a UUID (Databricks' `service_principal_name`
# in access-control lists and run-as settings); its display name is not accepted there.
_APPLICATION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _check_principal(value: str) -> str:
    kind, _, name = value.partition(":")
    if kind not in PRINCIPAL_KINDS or not name:
        raise ValueError("must be 'group:<name>', 'user:<email>' or 'sp:<application id>'")
    if kind == "sp" and not _APPLICATION_ID.fullmatch(name):
        raise ValueError(
            "a service principal is named by its application id, a UUID such as "
            "sp:9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04 (its display name is not accepted)"
        )
    return value


def _check_email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError("is not an email address")
    return value


def _check_workspace_folder(value: str) -> str:
    if not re.fullmatch(r"(/[A-Za-z0-9_.@+-]+)+", value):
        raise ValueError("must be an absolute workspace path of letters, digits and . _ @ + - (/Users/<id>/lakeflow)")
    top = value.removeprefix("/Workspace").split("/")[1]
    if top in ("Shared", "Repos"):
        raise ValueError(
            f"must not be under /{top}: every workspace user can manage what is there (folder permissions add up), "
            "so anyone could edit or delete the alerts; use a folder whose ACL is the stack's own, e.g. the "
            "deploying principal's home /Users/<id>/lakeflow"
        )
    return value


Timezone = Annotated[str, AfterValidator(_check_timezone)]
QuartzCron = Annotated[str, AfterValidator(_check_quartz)]
Principal = Annotated[str, AfterValidator(_check_principal)]
Email = Annotated[str, AfterValidator(_check_email)]
WorkspaceFolder = Annotated[str, AfterValidator(_check_workspace_folder)]


def _check_identity(value: str) -> str:
    if value.startswith("group:"):
        raise ValueError("must be a user ('user:<email>') or a service principal ('sp:<application id>')")
    return value


RunAs = Annotated[Principal, AfterValidator(_check_identity)]


# Stack keys that hold credentials: the only `lakeflow:` keys that may (and should) be secrets.
SECRET_KEYS = frozenset({"slackWebhookUrl", "pagerdutyIntegrationKey", "webhookUrl", "accountClientSecret"})
DESTINATION_KEYS = {"slack": "slack_webhook_url", "pagerduty": "pagerduty_integration_key", "webhook": "webhook_url"}


def needed_secrets(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """The secret keys a stack's config needs, each with the settings that need it.

    `values` are the stack's `lakeflow:` settings by camelCase key, structured values decoded
    (routes as lists). A route to slack, pagerduty or webhook needs that destination's secret;
    accountClientId needs accountClientSecret. Used by the loader (which reports a needed secret
    that is not set) and by the offline tools (which stand in for it).
    """
    needed: dict[str, list[str]] = {}
    for severity in ("P1", "P2", "P3", "P4"):
        route = values.get(f"route{severity}")
        for kind in route if isinstance(route, list) else []:
            if kind in DESTINATION_KEYS:
                needed.setdefault(to_camel(DESTINATION_KEYS[kind]), []).append(f"route{severity}: {kind}")
    if values.get("accountClientId"):
        needed.setdefault("accountClientSecret", []).append("accountClientId")
    return needed


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- pipelines/*.yaml -------------------------------------------------------------------------


class Autoscale(_Strict):
    min_workers: int = Field(ge=0)
    max_workers: int = Field(ge=1)
    mode: Annotated[
        Literal["ENHANCED", "LEGACY"],
        BeforeValidator(_upper, json_schema_input_type=Literal["ENHANCED", "LEGACY", "enhanced", "legacy"]),
    ] = "ENHANCED"

    @model_validator(mode="after")
    def _bounds(self) -> Autoscale:
        if self.min_workers > self.max_workers:
            raise ValueError(f"min_workers ({self.min_workers}) is greater than max_workers ({self.max_workers})")
        return self


_ClusterFields = provider_model("PipelineCluster", frozenset({"autoscale", "label", "num_workers", "custom_tags"}))


class Cluster(_Strict, _ClusterFields):  # type: ignore[misc,valid-type]
    """A pipeline cluster: every field of the provider's (aws_attributes, init_scripts, instance
    pools, …); the sizes and tags are typed here because the stack's rules read them."""

    label: str = "default"
    autoscale: Autoscale | None = None
    num_workers: int | None = Field(default=None, ge=0)
    custom_tags: dict[str, Text] = {}

    @model_validator(mode="after")
    def _one_size(self) -> Cluster:
        if self.autoscale and self.num_workers is not None:
            raise ValueError("set either autoscale or num_workers, not both")
        return self


LIBRARY_KINDS = ("notebook", "file", "glob", "jar", "maven", "whl")
_ABSOLUTE = re.compile(r"^(/|[a-z][a-z0-9+.-]*:/)", re.IGNORECASE)  # /Workspace/…, dbfs:/, s3://, …


class Library(provider_model("PipelineLibrary")):  # type: ignore[misc]
    """One source of a pipeline: a notebook, a file, a glob of files, a jar, a wheel or a maven
    package, as the provider takes it."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Library:
        if sum(getattr(self, k) is not None for k in LIBRARY_KINDS) != 1:
            raise ValueError(f"a library is exactly one of {', '.join(LIBRARY_KINDS)}")
        path = self.path
        if path is not None and not _ABSOLUTE.match(path):
            raise ValueError(
                f"{path!r} is a relative path: Asset Bundles resolve it against the bundle's synced files, which "
                "this stack does not deploy; write the workspace path, e.g. ${REPO_ROOT}/<path from the repository "
                "root> (make import-bundle translates a bundle's relative paths)"
            )
        return self

    @property
    def path(self) -> str | None:
        """The workspace or storage path of the code (None for a maven package)."""
        if self.notebook is not None:
            return str(self.notebook.path)
        if self.file is not None:
            return str(self.file.path)
        if self.glob is not None:
            return str(self.glob.include)
        return self.jar or self.whl


class Notification(_Strict):
    email_recipients: list[Email] = Field(min_length=1)
    alerts: list[Literal[PIPELINE_ALERTS]] = Field(min_length=1)  # type: ignore[valid-type]


class FileArrival(_Strict):
    url: str = Field(min_length=1)
    min_time_between_triggers_seconds: int | None = Field(default=None, ge=60)
    wait_after_last_change_seconds: int | None = Field(default=None, ge=60)


class Schedule(_Strict):
    """How a triggered pipeline is started (guide 5.3). Continuous pipelines have none.

    One trigger: `cron` (batch ETL) or `file_arrival` (on-demand). `after` makes it a dependent
    schedule: an upstream without a schedule of its own runs first in this pipeline's job; an
    upstream with one is never started here too (two updates of one pipeline collide), so the
    job then has no cron or file trigger of its own and starts when that upstream's published
    tables have been updated (a table-update trigger).
    """

    cron: QuartzCron | None = None
    timezone: Timezone | None = None
    file_arrival: FileArrival | None = None
    after: list[str] = []
    pause_status: PauseStatus | None = None
    full_refresh: bool = False
    max_retries: int = Field(default=2, ge=0, le=10)
    min_retry_interval_seconds: int = Field(default=300, ge=0)
    timeout_seconds: int | None = Field(default=None, ge=60)

    @model_validator(mode="after")
    def _one_trigger(self) -> Schedule:
        if self.cron is not None and self.file_arrival is not None:
            raise ValueError("a schedule takes one trigger: cron or file_arrival, not both")
        if self.cron is None and self.file_arrival is None and not self.after:
            raise ValueError(
                "a schedule needs a trigger: cron, file_arrival, or `after` (it then starts when its "
                "upstream pipelines' tables are updated)"
            )
        if self.timezone and not self.cron:
            raise ValueError("timezone only applies to a cron trigger")
        return self

    @property
    def kind(self) -> str:
        if self.after:
            return "dependent"
        return "cron" if self.cron else "file_arrival"


class Thresholds(_Strict):
    """Guide 6.1's alert thresholds; override per pipeline or per environment."""

    # The defaults are guide 6.1's, written once: the alerts' own (lakeflow.components.metrics).
    failed_updates: int = Field(default=GUIDE_THRESHOLDS.failed_updates, ge=0)
    processing_lag_minutes: int = Field(default=GUIDE_THRESHOLDS.processing_lag_minutes, ge=1)
    expectation_pass_rate: float = Field(default=GUIDE_THRESHOLDS.expectation_pass_rate, gt=0, le=1)
    drop_rate: float = Field(default=GUIDE_THRESHOLDS.drop_rate, ge=0, lt=1)
    availability: float = Field(default=GUIDE_THRESHOLDS.availability, gt=0, le=1)
    cpu_percent: float = Field(default=GUIDE_THRESHOLDS.cpu_percent, gt=0, le=100)
    memory_percent: float = Field(default=GUIDE_THRESHOLDS.memory_percent, gt=0, le=100)


class EventLog(_Strict):
    """Where the event log is published (the API's `event_log`): a Unity Catalog table monitoring
    SQL reads. Defaults: the pipeline's catalog and (live) schema, table `<name>_event_log`."""

    catalog: UcName | None = None
    schema_: UcName | None = Field(default=None, alias="schema")
    name: UcName | None = None


class Monitoring(_Strict):
    """What watches a pipeline (guide 6): its event log table, alert thresholds, job health."""

    thresholds: Thresholds = Thresholds()
    event_log: EventLog = EventLog()
    latency_objective_minutes: int = Field(default=60, ge=1)
    """A scheduled run longer than this breaches the job's run-duration health rule."""
    streaming_backlog_seconds: int | None = Field(default=None, ge=1)
    """Job health rule on streaming backlog (triggered pipelines reading streams)."""


class Cost(_Strict):
    """Guide 11: what a pipeline may spend."""

    daily_limit_usd: int | None = Field(default=None, gt=0)
    """List-price dollars a day above which the daily-cost alert fires (guide 11.3)."""
    monthly_budget_usd: int | None = Field(default=None, gt=0)
    """Month-to-date dollars for the monthly-cost alert, and an account budget filtered to this
    pipeline's tags (the budget needs lakeflow:accountId)."""


class Capacity(_Strict):
    """Guide 9.2's inputs for `make capacity` (a CSV of history can replace them)."""

    current_rows_per_hour: float = Field(gt=0)
    current_workers: float = Field(gt=0)
    run_hours_per_month: float = Field(gt=0, le=744)
    dbu_per_node_hour: float = Field(gt=0)
    usd_per_dbu: float = Field(gt=0)


# Recovery point objectives a Quartz schedule can keep exactly: divisors of an hour, or whole
# hours that divide a day (guide 10.1: table data RPO "minutes").
RPO_MINUTES = (5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)
RpoMinutes = Literal[5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440]
Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=255)]


TableKind = Literal["streaming_table", "materialized_view"]


class CriticalTable(_Strict):
    name: Identifier
    rpo_minutes: RpoMinutes | None = None
    """Tighter than the pipeline's `dr.rpo_minutes` for this table."""
    kind: TableKind = "streaming_table"
    """What the pipeline publishes it as, which decides how it is restored (docs/adr/0006): a
    streaming table holds data its sources may no longer have (the usual reason a table is
    critical) and is refilled from the snapshot by the pipeline; a materialized view is
    recomputed from its sources by a full refresh."""


def _table_shorthand(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


class DisasterRecovery(_Strict):
    """Guide 10: snapshots (docs/adr/0006) of the critical tables (its `get_critical_tables`)."""

    critical_tables: list[
        Annotated[CriticalTable, BeforeValidator(_table_shorthand, json_schema_input_type=Identifier | CriticalTable)]
    ] = Field(min_length=1)
    """`[gold_daily_sales]` is the common case; a mapping adds an RPO or a kind."""
    target: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
    """`<catalog>.<schema>` of the snapshots; default `<stack drCatalog>.<the pipeline's schema>`."""
    rpo_minutes: RpoMinutes = 60
    retention_days: int = Field(default=30, ge=1, le=3650)
    """How far back a restore may go: the snapshots keep this much Delta history."""

    def rpo_of(self, table: CriticalTable) -> int:
        return table.rpo_minutes or self.rpo_minutes

    @property
    def schedule_rpo_minutes(self) -> int:
        """The snapshot job runs at the tightest RPO of its tables."""
        return min(self.rpo_of(t) for t in self.critical_tables)


SLOTS = ("blue", "green")
Slot = Literal["blue", "green"]


class ReleaseSlot(_Strict):
    """One long-lived copy of the pipeline (guide 3.2), publishing into its own schema."""

    tag: str | None = Field(default=None, min_length=1)
    branch: str | None = Field(default=None, min_length=1)
    """The code version: the slot's repo is checked out at this tag or branch (guide 7.4). Neither:
    the version staging runs (lakeflow:promoteFrom), for the idle slot of a promoted stack."""
    schema_: str | None = Field(default=None, alias="schema", pattern=r"^[A-Za-z0-9_]+$")
    """Default `<target schema>_<slot>`."""
    canary_percent: int | None = Field(default=None, ge=1, le=100)
    """Guide 3.3: the candidate processes this share of the data (configuration filter)."""
    adopted: bool = False
    """This slot *is* the pipeline declared before blue/green: aliases keep its URNs."""
    retired: bool = False
    """First step of retiring the slot: unprotected, scheduled for removal by the next change."""
    import_id: str | None = Field(default=None, min_length=1)
    """Adopt a pipeline created outside the stack, by its id (Pulumi import)."""

    @model_validator(mode="after")
    def _one_ref(self) -> ReleaseSlot:
        if self.tag and self.branch:
            raise ValueError("give the slot a tag or a branch, not both")
        return self

    @property
    def ref(self) -> str | None:
        """`tag:<tag>` / `branch:<branch>`, or None when promoted from staging."""
        return f"tag:{self.tag}" if self.tag else f"branch:{self.branch}" if self.branch else None


class Release(_Strict):
    """Blue/green slots, canary and promotion (guide 3.2-3.3, 7.4). Opt-in per pipeline."""

    active: Slot
    """The slot consumers read (through the views) and the schedule runs."""
    repo_url: str = Field(pattern=r"^https://")
    """Git repository of the pipeline code; each slot checks it out at its own version."""
    slots: dict[Slot, ReleaseSlot] = Field(min_length=1)
    view_schema: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")
    """Schema of the stable views consumers read; default the target's schema."""
    consumers: list[Principal] = []
    """Read (SELECT) on the stable views only, never on a slot's tables."""
    rollback_window_days: int = Field(default=7, ge=0, le=90)
    cutover_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    """Day of the last cutover: the old slot may be retired `rollback_window_days` after it."""
    canary_column: str = Field(default="id", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    canary_filter_key: str = Field(default="data_filter", min_length=1)
    """Pipeline configuration key the code reads its canary filter from (guide 3.3: data_filter)."""

    @model_validator(mode="before")
    @classmethod
    def _removed_slots(cls, data: object) -> object:
        # `environments.<env>.release.slots.blue: null` retires a slot in one environment only.
        if isinstance(data, dict) and isinstance(data.get("slots"), dict):
            data = {**data, "slots": {k: v for k, v in data["slots"].items() if v is not None}}
        return data

    @property
    def rollback_window_end(self) -> date | None:
        """The day the slot active before `cutover_date` may be retired; None without a cutover date."""
        if self.cutover_date is None:
            return None
        return date.fromisoformat(self.cutover_date) + timedelta(days=self.rollback_window_days)

    @property
    def idle(self) -> Slot | None:
        return next((s for s in self.slots if s != self.active), None)


# Fields of the provider's Pipeline that Databricks reports and a file never writes, and fields
# refused for a reason; each with what to write instead.
REJECTED_PIPELINE_KEYS = {
    "storage": "never set storage: it publishes to the Hive metastore, a change forces the pipeline's "
    "replacement (its tables are dropped), and it conflicts with Unity Catalog; write catalog: and schema:",
    "id": "pipeline ids are assigned by Databricks; adopt an existing pipeline with import_id: <id>",
    "pipeline_id": "pipeline ids are assigned by Databricks; adopt an existing pipeline with import_id: <id>",
    "provider_config": "the stack's Databricks provider decides the workspace (Pulumi.<stack>.yaml)",
    **{
        key: "reported by Databricks about a deployed pipeline, not part of its definition"
        for key in (
            "cause",
            "cluster_id",
            "creator_user_name",
            "expected_last_modified",
            "health",
            "last_modified",
            "latest_updates",
            "run_as_user_name",
            "serverless_compute_id",
            "state",
            "url",
        )
    },
}

# Keys people bring from jobs, bundles and other tools that are not pipeline fields, each with
# this stack's equivalent.
POINTERS = {
    "email_notifications": "a pipeline notifies through notifications: [{email_recipients: [...], alerts: [...]}]; "
    "the stack's alerts go to lakeflow:alertEmails and the routes",
    "schedule_cron": "schedule: {cron: '<quartz>'}",
    "parameters": "a pipeline takes configuration: {key: value} (read with spark.conf.get)",
    "owner": "the run-as principal owns the pipeline: run_as: {service_principal_name: <application id>}",
    "access_control_list": "permissions: [{level: CAN_VIEW, group_name: ...}], or viewers:/runners:/managers:",
    "cluster": "clusters: [...] (a list)",
    "library": "libraries: [...] (a list)",
    "presets": "environment differences go under environments.<env>: in this file",
    "targets": "environment differences go under environments.<env>: in this file",
    "variables": "variables are the stack's: lakeflow:variables in Pulumi.<stack>.yaml, written ${NAME}",
    "resources": "paste the pipeline itself (what is under resources.pipelines.<key>), or run make import-bundle",
}

# What a bundle's permission level grants here.
PERMISSION_LEVELS = {"CAN_VIEW": "viewers", "CAN_RUN": "runners", "CAN_MANAGE": "managers"}


class Permission(_Strict):
    """A Databricks Asset Bundle permission (`permissions:` of a pipeline resource): one level for
    one user, group or service principal; the same as listing it under viewers/runners/managers."""

    level: Literal["CAN_VIEW", "CAN_RUN", "CAN_MANAGE", "IS_OWNER"]
    user_name: Email | None = None
    group_name: str | None = Field(default=None, min_length=1)
    service_principal_name: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_principal(self) -> Permission:
        if sum(x is not None for x in (self.user_name, self.group_name, self.service_principal_name)) != 1:
            raise ValueError("a permission names exactly one of user_name, group_name or service_principal_name")
        if self.level == "IS_OWNER":
            raise ValueError(
                "IS_OWNER is not granted here: the pipeline's run-as principal owns it (run_as:, or lakeflow:runAs)"
            )
        _check_principal(self.principal)
        return self

    @property
    def principal(self) -> str:
        if self.user_name:
            return f"user:{self.user_name}"
        if self.group_name:
            return f"group:{self.group_name}"
        return f"sp:{self.service_principal_name}"


class PipelineRunAs(_Strict):
    """Who the pipeline and its schedule run as (the API's `run_as`); default lakeflow:runAs."""

    service_principal_name: str | None = Field(default=None, min_length=1)
    user_name: Email | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> PipelineRunAs:
        if (self.service_principal_name is None) == (self.user_name is None):
            raise ValueError("run_as names exactly one of service_principal_name or user_name")
        _check_principal(self.principal)
        return self

    @property
    def principal(self) -> str:
        return f"sp:{self.service_principal_name}" if self.service_principal_name else f"user:{self.user_name}"


# Provider fields the spec declares itself (typed, because the stack's rules read them); every
# other field of the provider's Pipeline is taken as the provider describes it and sent as written.
DECLARED_PIPELINE_FIELDS = frozenset(
    {
        "name",
        "target",
        "catalog",
        "schema",
        "continuous",
        "development",
        "photon",
        "serverless",
        "channel",
        "edition",
        "clusters",
        "libraries",
        "configuration",
        "tags",
        "notifications",
        "run_as",
        "event_log",
        "budget_policy_id",
    }
)
_PipelineFields = provider_model("Pipeline", DECLARED_PIPELINE_FIELDS | frozenset(REJECTED_PIPELINE_KEYS))
PASSTHROUGH_FIELDS = frozenset(_PipelineFields.model_fields)


class PipelineSpec(_Strict, _PipelineFields):  # type: ignore[misc,valid-type]
    """One pipeline file: the provider's Pipeline fields (API snake_case) plus the stack's own keys
    (schedule, access, monitoring, cost, capacity, tables, dr, release)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: Annotated[str, AfterValidator(_logical_name), Field(max_length=64)]
    # Where the tables go, as the API writes it: `catalog` + `schema` (or the legacy `target` for
    # the schema), or this project's shorthand `target: <catalog>.<schema>`. The validators below
    # (in field order: target, catalog, schema) leave `catalog` and `schema_` always set.
    target: str = Field(default="", validate_default=True)
    """`<catalog>.<schema>`; with `catalog:`, the schema (the API's legacy spelling of `schema`)."""
    catalog: str = Field(default="", validate_default=True)
    """Unity Catalog catalog the pipeline publishes to."""
    schema_: str = Field(default="", alias="schema", validate_default=True)
    """Default schema of the published tables (and of the event log)."""
    continuous: bool = False
    development: bool | None = None
    photon: bool = False
    serverless: bool = False
    channel: Annotated[
        Literal["CURRENT", "PREVIEW"],
        BeforeValidator(_upper, json_schema_input_type=Literal["CURRENT", "PREVIEW", "current", "preview"]),
    ] = "CURRENT"
    edition: Annotated[
        Literal["CORE", "PRO", "ADVANCED"],
        BeforeValidator(_upper, json_schema_input_type=Literal["CORE", "PRO", "ADVANCED", "core", "pro", "advanced"]),
    ] = "ADVANCED"
    clusters: list[Cluster] = []
    libraries: list[Library] = []
    configuration: dict[str, Text] = {}
    tags: dict[str, Text] = {}
    notifications: list[Notification] = []
    run_as: PipelineRunAs | None = None
    event_log: EventLog | None = None
    budget_policy_id: str | None = Field(default=None, min_length=1)
    """A budget policy of your own; else the stack's cost guardrails make one for a serverless pipeline."""
    schedule: Schedule | None = None
    viewers: list[Principal] = []
    runners: list[Principal] = []
    managers: list[Principal] = []
    permissions: list[Permission] = []
    """Asset Bundle permissions: CAN_VIEW, CAN_RUN, CAN_MANAGE add to viewers, runners, managers."""
    monitoring: Monitoring = Monitoring()
    cost: Cost = Cost()
    capacity: Capacity | None = None
    tables: list[Identifier] = []
    """Tables the pipeline publishes into its target schema (restores refresh the non-critical ones)."""
    dr: DisasterRecovery | None = None
    release: Release | None = None
    import_id: str | None = Field(default=None, min_length=1)
    """Adopt a pipeline created outside the stack (by hand, or by an old deploy script) by its id."""

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if (value and not all(_UC_NAME.fullmatch(part) for part in value.split("."))) or value.count(".") > 1:
            raise ValueError(f"must be <catalog>.<schema>, each {UC_NAME_WORDS}")
        return value

    @field_validator("catalog")
    @classmethod
    def _catalog(cls, value: str, info: ValidationInfo) -> str:
        if "target" not in info.data:
            return value  # the target is wrong: reported there
        target = info.data["target"]
        if value:
            if "." in target:
                raise ValueError("give catalog and schema, or target: <catalog>.<schema>, not both")
            return _uc_name(value)
        if "." in target:
            return str(target.split(".")[0])
        if target:
            raise ValueError(
                f"is required: target: {target} without a catalog publishes to the Hive metastore, which this "
                "stack does not deploy to (its event log, alerts, DR snapshots, grants and serverless compute "
                f"need Unity Catalog); write catalog: <catalog> and schema: {target}"
            )
        raise ValueError("is required: the Unity Catalog catalog the pipeline publishes to, with schema:")

    @field_validator("schema_")
    @classmethod
    def _schema(cls, value: str, info: ValidationInfo) -> str:
        if "target" not in info.data or "catalog" not in info.data:
            return value  # reported there
        target = info.data["target"]
        if value:
            if target and "." not in target:
                raise ValueError("give schema or target (its legacy name), not both")
            return _uc_name(value)
        if target:
            return str(target.split(".")[-1])
        raise ValueError(
            "is required: the default schema of the pipeline's tables, where its event log, alerts and DR "
            "snapshots look (a pipeline that names every table in full still needs one here)"
        )

    @property
    def schema_name(self) -> str:
        return self.schema_

    @property
    def uc_target(self) -> str:
        """`<catalog>.<schema>`."""
        return f"{self.catalog}.{self.schema_}"

    @property
    def run_as_principal(self) -> str | None:
        """`sp:<id>` / `user:<email>` from the file's run_as (the stack's runAs applies otherwise)."""
        return self.run_as.principal if self.run_as else None

    def granted(self, level: str) -> list[str]:
        """Principals at `level` (viewers | runners | managers): the list, plus bundle permissions."""
        listed: list[str] = getattr(self, level)
        extra = [p.principal for p in self.permissions if PERMISSION_LEVELS.get(p.level) == level]
        return list(dict.fromkeys([*listed, *extra]))

    @property
    def ingestion(self) -> bool:
        """A Lakeflow Connect pipeline (ingestion or gateway definition): no libraries of its own."""
        return self.ingestion_definition is not None or self.gateway_definition is not None

    def provider_settings(self) -> dict[str, Any]:
        """Every other field of the provider's Pipeline the file sets, snake_case, as written."""
        return self.model_dump(include=set(PASSTHROUGH_FIELDS), exclude_none=True, by_alias=True)

    def slot_schema(self, slot: str) -> str:
        assert self.release is not None
        configured = self.release.slots[slot].schema_ if slot in self.release.slots else None
        return configured or f"{self.schema_name}_{slot}"

    @property
    def data_schema(self) -> str:
        """Where the live tables are: the active slot's schema, or the target's."""
        return self.slot_schema(self.release.active) if self.release else self.schema_name

    @property
    def view_schema(self) -> str:
        assert self.release is not None
        return self.release.view_schema or self.schema_name

    @property
    def event_log_settings(self) -> EventLog:
        """The file's event_log (the API's key), else monitoring.event_log."""
        return self.event_log or self.monitoring.event_log

    def event_log_of(self, schema: str) -> tuple[str, str, str]:
        e = self.event_log_settings
        return (e.catalog or self.catalog, e.schema_ or schema, e.name or f"{self.name}_event_log")

    @property
    def event_log_table(self) -> tuple[str, str, str]:
        """(catalog, schema, table) of the live pipeline's event log (the active slot's)."""
        return self.event_log_of(self.data_schema)


# --- Pulumi.<stack>.yaml (namespace `lakeflow:`) --------------------------------------------

NAMESPACE = "lakeflow"  # the stack file's config namespace: `lakeflow:<key>`


class StackConfig(_Strict):
    """Everything that differs between environments. Keys are camelCase in the stack file."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)

    environment: str = Field(pattern=r"^[a-z][a-z0-9]*$", max_length=16)
    mode: Mode
    developer: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9]*$", max_length=32)
    team: str = Field(min_length=1)
    cost_center: str = Field(min_length=1)
    variables: dict[str, str] = {}
    schedule_pause_status: PauseStatus
    timezone: Timezone = "UTC"
    run_as: RunAs | None = None
    workspace_folder: WorkspaceFolder | None = None
    """Where the alerts and the dashboard live (`<folder>/<env>_monitoring`); default: the run-as
    principal's home, `/Users/<application id or email>/lakeflow`. Never under `/Shared`."""
    viewers: list[Principal] = []
    runners: list[Principal] = []
    managers: list[Principal] = []
    failure_emails: list[Email] = []
    protect: bool = False
    max_workers_cap: int | None = Field(default=None, ge=1)
    # Monitoring (guide 6-7): where alert queries run, where alerts go, by severity.
    warehouse_id: str = Field(min_length=1)
    alert_cron: QuartzCron = "0 */5 * * * ?"
    alert_emails: list[Email] = []
    slack_webhook_url: str | None = None
    pagerduty_integration_key: str | None = None
    webhook_url: str | None = None
    route_p1: list[DestinationKind] = []
    route_p2: list[DestinationKind] = []
    route_p3: list[DestinationKind] = []
    route_p4: list[DestinationKind] = []
    runbook_base_url: str = "docs/runbooks/"
    # Cost guardrails (guide 11). Budgets and budget policies live in the account, so they need
    # an account-level provider: without accountId they are skipped, with a warning.
    account_id: str | None = Field(default=None, pattern=r"^[0-9a-fA-F-]{36}$")
    account_host: str = Field(
        default="https://accounts.cloud.databricks.com", pattern=r"^(https://|http://127\.0\.0\.1:)"
    )
    """The accounts console; plain http only on 127.0.0.1 (the stub `make preview` points it at)."""
    account_client_id: str | None = None
    account_client_secret: str | None = None
    workspace_id: int | None = Field(default=None, gt=0)
    monthly_budget_usd: int | None = Field(default=None, gt=0)
    budget_alert_percents: list[Annotated[int, Field(gt=0, le=1000)]] = [50, 80, 100]
    budget_emails: list[Email] = []
    daily_cost_limit_usd: int | None = Field(default=None, gt=0)
    monthly_cost_limit_usd: int | None = Field(default=None, gt=0)
    cloud: Literal["aws", "azure", "gcp"] = "aws"
    spot_instances: bool = False
    """Workers on spot capacity with on-demand fallback, the driver on demand (guide 11.2)."""
    # Disaster recovery (guide 10): snapshots of each pipeline's `dr.critical_tables`.
    disaster_recovery: bool = False
    dr_catalog: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")
    """Catalog of the snapshots (unless a pipeline names its own `dr.target`) and of the config backup."""
    dr_warehouse_id: str | None = None
    """SQL warehouse the snapshot queries run on; default warehouseId."""
    # Promotion (guide 3.1): the stack whose validated versions this one deploys.
    promote_from: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    """`<organization>/<project>/<stack>`, e.g. acme/lakeflow/staging."""

    def route(self, severity: Severity) -> list[DestinationKind]:
        return {"P1": self.route_p1, "P2": self.route_p2, "P3": self.route_p3, "P4": self.route_p4}[severity.value]


def upstream_tables(spec: PipelineSpec, pipelines: Mapping[str, PipelineSpec]) -> list[str]:
    """`catalog.schema.table`s whose update starts `spec`'s job: the live tables of each `after`
    pipeline that has a job of its own (which this job must not start a second time). Empty
    unless the schedule has neither cron nor file arrival (the loader refuses the mix)."""
    if spec.schedule is None or spec.schedule.cron or spec.schedule.file_arrival:
        return []
    return [
        f"{pipelines[u].catalog}.{pipelines[u].data_schema}.{table}"
        for u in spec.schedule.after
        if u in pipelines and pipelines[u].schedule is not None
        for table in pipelines[u].tables
    ]


def schedule_period_minutes(spec: PipelineSpec, pipelines: Mapping[str, PipelineSpec]) -> int | None:
    """Minutes between two scheduled runs: the cron's period, or for a pipeline started by its
    upstream pipelines' table updates, the longest of theirs (it runs after each of their runs).
    None when no fixed period is known (file arrival, a cron without one, no schedule)."""
    if spec.schedule is None:
        return None
    if spec.schedule.cron:
        return cron_period_minutes(spec.schedule.cron)
    if spec.schedule.file_arrival:
        return None
    periods = [
        schedule_period_minutes(pipelines[u], pipelines)
        for u in spec.schedule.after
        if u in pipelines and pipelines[u].schedule is not None
    ]
    known = [p for p in periods if p is not None]
    return max(known) if known and len(known) == len(periods) else None


def alert_thresholds(spec: PipelineSpec, pipelines: Mapping[str, PipelineSpec]) -> Thresholds:
    """The thresholds the alerts and `make health` judge a pipeline by: its own, with the
    processing-lag allowance of a scheduled pipeline, which makes no progress between runs: one
    schedule period (`schedule_period_minutes`) before the lag objective starts counting (else the
    alert fires between runs). One rule for both (docs/adr/0009)."""
    t = spec.monitoring.thresholds
    period = schedule_period_minutes(spec, pipelines)
    return t.model_copy(update={"processing_lag_minutes": t.processing_lag_minutes + period}) if period else t


def personal(spec: PipelineSpec, developer: str) -> PipelineSpec:
    """The pipeline as a personal dev stack (`lakeflow:developer`) deploys it: every Unity Catalog
    schema it writes (its target, an explicit event-log schema, its blue/green slot and view
    schemas, its DR target) carries the developer's suffix, so two developers, and dev itself,
    never publish into, snapshot into or read the same tables. Catalogs stay the environment's."""

    def own(schema: str) -> str:
        return f"{schema}_{developer}"

    update: dict[str, Any] = {"schema_": own(spec.schema_name)}
    for holder, key in ((spec, "event_log"), (spec.monitoring, "event_log")):
        log = getattr(holder, key)
        if log is not None and log.schema_:
            moved = log.model_copy(update={"schema_": own(log.schema_)})
            if holder is spec:
                update["event_log"] = moved
            else:
                update["monitoring"] = spec.monitoring.model_copy(update={"event_log": moved})
    if spec.release is not None:
        slots = {
            name: slot.model_copy(update={"schema_": own(slot.schema_)}) if slot.schema_ else slot
            for name, slot in spec.release.slots.items()
        }
        view = own(spec.release.view_schema) if spec.release.view_schema else None
        update["release"] = spec.release.model_copy(update={"slots": slots, "view_schema": view})
    if spec.dr is not None and spec.dr.target:
        catalog, schema = spec.dr.target.split(".")
        update["dr"] = spec.dr.model_copy(update={"target": f"{catalog}.{own(schema)}"})
    return spec.model_copy(update=update)


def monitoring_folder(cfg: StackConfig) -> str | None:
    """The stack's alerts and dashboard folder: `<workspace folder>/<env>[_<developer>]_monitoring`,
    the workspace folder defaulting to the run-as principal's home. None: neither is set (the
    loader reports it)."""
    base = cfg.workspace_folder
    if base is None and cfg.run_as:
        base = f"/Users/{principal_field(cfg.run_as)[1]}/lakeflow"
    if base is None:
        return None
    return f"{base}/{'_'.join(p for p in (cfg.environment, cfg.developer, 'monitoring') if p)}"
