"""Typed, frozen settings: the contract of `pipelines/*.yaml` and of `Pulumi.<stack>.yaml`.

Pipeline files use the Databricks API's snake_case (the shape of the operations guide's
`pipeline-config.yaml`, section 4.1); stack config keys use Pulumi's camelCase. Both reject
unknown keys. Cross-field and cross-file rules (dependencies, modes, caps) live in
`settings.loader`, which has the whole picture.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from settings.quartz import cron_period_minutes, quartz_error

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
UC_TARGET = re.compile(r"[A-Za-z0-9_]{1,255}\.[A-Za-z0-9_]{1,255}")


def quoted(*parts: str) -> str:
    """`a`.`b`.`c`: each part a quoted SQL identifier, a backtick inside doubled. Names are
    validated to letters, digits and underscores where they enter; quoting keeps reserved words
    working, and the doubling keeps a name that slipped past validation one identifier."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


def _uc_target(value: str) -> str:
    if not UC_TARGET.fullmatch(value):
        raise ValueError(
            "must be <catalog>.<schema>: two Unity Catalog names of letters, digits and underscores"
            " (no quotes, spaces, dots or other signs; these names reach SQL)"
        )
    return value


class Mode(StrEnum):
    """What kind of environment a stack is; drives defaults and the production guard rails."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class PauseStatus(StrEnum):
    PAUSED = "PAUSED"
    UNPAUSED = "UNPAUSED"


PIPELINE_ALERTS = ("on-update-success", "on-update-failure", "on-update-fatal-failure", "on-flow-failure")
FAILURE_ALERTS = ("on-update-failure", "on-update-fatal-failure", "on-flow-failure")
PRINCIPAL_KINDS = {"group": "group_name", "user": "user_name", "sp": "service_principal_name"}


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
DestinationKind = Literal["email", "slack", "pagerduty", "webhook"]

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


def principal_field(principal: str) -> tuple[str, str]:
    """'group:analysts' -> ('group_name', 'analysts'): the Databricks access-control field."""
    kind, _, name = principal.partition(":")
    return PRINCIPAL_KINDS[kind], name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- pipelines/*.yaml -------------------------------------------------------------------------


class Autoscale(_Strict):
    min_workers: int = Field(ge=0)
    max_workers: int = Field(ge=1)
    mode: Literal["ENHANCED", "LEGACY"] = "ENHANCED"

    @model_validator(mode="after")
    def _bounds(self) -> Autoscale:
        if self.min_workers > self.max_workers:
            raise ValueError(f"min_workers ({self.min_workers}) is greater than max_workers ({self.max_workers})")
        return self


class Cluster(_Strict):
    label: Literal["default", "maintenance"] = "default"
    autoscale: Autoscale | None = None
    num_workers: int | None = Field(default=None, ge=0)
    node_type_id: str | None = None
    driver_node_type_id: str | None = None
    policy_id: str | None = None
    spark_conf: dict[str, str] = {}
    custom_tags: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_size(self) -> Cluster:
        if self.autoscale and self.num_workers is not None:
            raise ValueError("set either autoscale or num_workers, not both")
        return self


class PathRef(_Strict):
    path: str = Field(min_length=1)


class GlobRef(_Strict):
    include: str = Field(min_length=1)


class Library(_Strict):
    notebook: PathRef | None = None
    file: PathRef | None = None
    glob: GlobRef | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Library:
        if sum(x is not None for x in (self.notebook, self.file, self.glob)) != 1:
            raise ValueError("a library is exactly one of notebook, file or glob")
        return self


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


class Severity(StrEnum):
    """Guide 7.1: who is told, and how fast they must respond."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def response_time(self) -> str:
        return {"P1": "15 minutes", "P2": "1 hour", "P3": "4 hours", "P4": "24 hours"}[self.value]


class Thresholds(_Strict):
    """Guide 6.1's alert thresholds; override per pipeline or per environment."""

    failed_updates: int = Field(default=0, ge=0)
    processing_lag_minutes: int = Field(default=60, ge=1)
    expectation_pass_rate: float = Field(default=0.95, gt=0, le=1)
    drop_rate: float = Field(default=0.05, ge=0, lt=1)
    availability: float = Field(default=0.995, gt=0, le=1)
    cpu_percent: float = Field(default=90, gt=0, le=100)
    memory_percent: float = Field(default=85, gt=0, le=100)


class EventLog(_Strict):
    catalog: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")
    schema_: str | None = Field(default=None, alias="schema", pattern=r"^[A-Za-z0-9_]+$")
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")


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


class DisasterRecovery(_Strict):
    """Guide 10: snapshots (docs/adr/0006) of the critical tables (its `get_critical_tables`)."""

    critical_tables: list[CriticalTable] = Field(min_length=1)
    target: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
    """`<catalog>.<schema>` of the snapshots; default `<stack drCatalog>.<the pipeline's schema>`."""
    rpo_minutes: RpoMinutes = 60
    retention_days: int = Field(default=30, ge=1, le=3650)
    """How far back a restore may go: the snapshots keep this much Delta history."""

    @model_validator(mode="before")
    @classmethod
    def _table_shorthand(cls, data: object) -> object:
        # `critical_tables: [gold_daily_sales]` is the common case; a mapping adds an RPO.
        if isinstance(data, dict) and isinstance(data.get("critical_tables"), list):
            data = {
                **data,
                "critical_tables": [{"name": t} if isinstance(t, str) else t for t in data["critical_tables"]],
            }
        return data

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


class PipelineSpec(_Strict):
    name: str = Field(pattern=IDENTIFIER, max_length=64)
    target: Annotated[str, AfterValidator(_uc_target)]
    """`<catalog>.<schema>`, each a Unity Catalog name of letters, digits and underscores: the
    names reach SQL (alerts, DR snapshots, views, restores), so nothing that could end a quoted
    identifier or a statement is accepted."""
    continuous: bool = False
    development: bool | None = None
    photon: bool = False
    serverless: bool = False
    channel: Literal["CURRENT", "PREVIEW"] = "CURRENT"
    edition: Literal["CORE", "PRO", "ADVANCED"] = "ADVANCED"
    clusters: list[Cluster] = []
    libraries: list[Library] = []
    configuration: dict[str, str] = {}
    tags: dict[str, str] = {}
    notifications: list[Notification] = []
    schedule: Schedule | None = None
    viewers: list[Principal] = []
    runners: list[Principal] = []
    managers: list[Principal] = []
    monitoring: Monitoring = Monitoring()
    cost: Cost = Cost()
    capacity: Capacity | None = None
    tables: list[Identifier] = []
    """Tables the pipeline publishes into its target schema (restores refresh the non-critical ones)."""
    dr: DisasterRecovery | None = None
    release: Release | None = None
    import_id: str | None = Field(default=None, min_length=1)
    """Adopt a pipeline created outside the stack (by hand, or by an old deploy script) by its id."""

    @property
    def catalog(self) -> str:
        return self.target.split(".")[0]

    @property
    def schema_name(self) -> str:
        return self.target.split(".")[1]

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

    def event_log_of(self, schema: str) -> tuple[str, str, str]:
        e = self.monitoring.event_log
        return (e.catalog or self.catalog, e.schema_ or schema, e.name or f"{self.name}_event_log")

    @property
    def event_log_table(self) -> tuple[str, str, str]:
        """(catalog, schema, table) of the live pipeline's event log (the active slot's)."""
        return self.event_log_of(self.data_schema)


# Keys people bring from other tools, each with the reason it is not accepted here.
REJECTED_PIPELINE_KEYS = {
    "storage": "never set storage: a change forces the pipeline's replacement and it conflicts "
    "with Unity Catalog; use target: <catalog>.<schema>",
    "catalog": "use target: <catalog>.<schema>",
    "schema": "use target: <catalog>.<schema>",
    "trigger": "the pipeline trigger is deprecated; use schedule: (a Databricks Job)",
    "id": "pipeline ids are assigned by Databricks; adopt an existing pipeline with its import id",
}


# --- Pulumi.<stack>.yaml (namespace `lakeflow:`) --------------------------------------------


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


# How those tables start the job: on any of them, once the upstream has written nothing for 5
# minutes (it writes its tables one after another; the run should see the whole update).
TABLE_TRIGGER_CONDITION = "ANY_UPDATED"
TABLE_TRIGGER_SETTLE_SECONDS = 300


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


def personal(spec: PipelineSpec, developer: str) -> PipelineSpec:
    """The pipeline as a personal dev stack (`lakeflow:developer`) deploys it: every Unity Catalog
    schema it writes (its target, an explicit event-log schema, its blue/green slot and view
    schemas, its DR target) carries the developer's suffix, so two developers, and dev itself,
    never publish into, snapshot into or read the same tables. Catalogs stay the environment's."""

    def own(schema: str) -> str:
        return f"{schema}_{developer}"

    update: dict[str, Any] = {"target": f"{spec.catalog}.{own(spec.schema_name)}"}
    log = spec.monitoring.event_log
    if log.schema_:
        update["monitoring"] = spec.monitoring.model_copy(
            update={"event_log": log.model_copy(update={"schema_": own(log.schema_)})}
        )
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
