"""The program: turn one stack's settings into components. `__main__.py` (through `pulumi.run`)
and the offline plan both await `build`, so what the tests see is what `pulumi up` deploys.

Order: alert routing; (with an account) the account provider and cost guardrails, whose budget
policies serverless pipelines point at; pipelines; their schedules; alerts per pipeline; the
environment's cost alerts; the dashboard; (with disasterRecovery) snapshots and the config backup.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Mapping
from datetime import date
from typing import Any

import pulumi
import pulumi_databricks as databricks
from pydantic import BaseModel

from lakeflow.components import (
    AlertRouting,
    AlertRoutingArgs,
    DltPipeline,
    DltPipelineArgs,
    MonitoringDashboard,
    MonitoringDashboardArgs,
    PipelineAlerts,
    PipelineAlertsArgs,
    PipelineSchedule,
    PipelineScheduleArgs,
    UpstreamPipeline,
    WatchedPipeline,
)
from lakeflow.components.alerting import AlertFolder, AlertFolderArgs, AlertSettings
from lakeflow.components.blue_green import BlueGreenPipeline, BlueGreenPipelineArgs, SlotArgs
from lakeflow.components.cost_alerts import CostAlerts, CostAlertsArgs
from lakeflow.components.cost_guardrails import CostGuardrails, CostGuardrailsArgs, PipelineCost
from lakeflow.components.disaster_recovery import (
    PipelineSnapshots,
    PipelineSnapshotsArgs,
    SnapshotSchema,
    SnapshotStore,
    SnapshotStoreArgs,
    SnapshotTask,
)
from lakeflow.components.monitoring_dashboard import DashboardPipeline
from lakeflow.components.pipeline_alerts import AlertScope, AlertThresholds
from lakeflow.components.pipeline_schedule import FileArrivalArgs, ScheduleArgs
from lakeflow.components.types import Channel, Cloud, Edition, EventLogTable, Severity, Tag
from lakeflow.config.loader import StackSettings
from lakeflow.config.models import (
    FAILURE_ALERTS,
    NAMESPACE,
    SECRET_KEYS,
    Library,
    Mode,
    Notification,
    PipelineSpec,
    Release,
    StackConfig,
    monitoring_folder,
    upstream_tables,
)
from lakeflow.model.deployment import Deployment, PipelineFacts, resolve
from lakeflow.model.naming import physical_name
from lakeflow.sql.snapshots import RESTORE_CONFIG, snapshot_schedule, snapshot_sql


async def _let_registrations_run() -> None:
    """Hand the event loop one turn after each component.

    Declaring a resource only queues its registration; the SDK runs the queue when the program
    yields. A program that never yields holds every resource of the stack, with an `Output` and
    futures per declared property, until it ends. One turn per component moves every queued
    registration one step on, so only a bounded number of them are pending at any time: the
    offline plan of 500 pipelines peaks at less than half the memory (docs/performance.md). Nothing waits
    for an answer, so a real `pulumi up` keeps creating resources concurrently."""
    await asyncio.sleep(0)


async def build(settings: StackSettings) -> dict[str, DltPipeline | BlueGreenPipeline]:
    """The stack's components, from its resolved deployment (lakeflow.model.deployment): every
    per-pipeline fact (names, tags, access, event log, thresholds, snapshots) is read from there."""
    deployment = resolve(settings)
    routing, folder, alert_settings = _alerting(deployment)
    policy_ids = _cost_guardrails(deployment)
    failure_emails = _failure_emails(deployment.config, routing)
    pipelines = await _pipelines(deployment, failure_emails, policy_ids)
    schedules = await _schedules(deployment, pipelines, routing, failure_emails, policy_ids)
    await _alerts(deployment, alert_settings)
    dashboard = _dashboard(deployment, folder)
    snapshot_jobs = _disaster_recovery(deployment, routing)
    _exports(deployment, pipelines, schedules, snapshot_jobs, dashboard)
    return pipelines


def _alerting(deployment: Deployment) -> tuple[AlertRouting, AlertFolder, AlertSettings]:
    """Where alerts go (the routing), the folder they and the dashboard live in, and the settings
    every alert of the stack shares."""
    cfg = deployment.config
    routing = AlertRouting(
        "alert-routing",
        AlertRoutingArgs(
            display_prefix=physical_name(cfg, "lakeflow"),
            emails=cfg.alert_emails,
            slack_webhook_url=cfg.slack_webhook_url,
            pagerduty_integration_key=cfg.pagerduty_integration_key,
            webhook_url=cfg.webhook_url,
            route_p1=cfg.route(Severity.P1),
            route_p2=cfg.route(Severity.P2),
            route_p3=cfg.route(Severity.P3),
            route_p4=cfg.route(Severity.P4),
        ),
    )
    # The alerts and the dashboard live in a folder whose ACL is the stack's own: not under /Shared,
    # where every workspace user has CAN MANAGE and folder permissions add up.
    path = monitoring_folder(cfg)
    assert path is not None  # the loader requires workspaceFolder without runAs
    folder = AlertFolder("alerts", AlertFolderArgs(path=path, viewers=cfg.viewers, managers=cfg.managers))
    alert_settings = AlertSettings(
        warehouse_id=cfg.warehouse_id,
        cron=cfg.alert_cron,
        timezone=cfg.timezone,
        pause_status=cfg.schedule_pause_status,
        subscriptions={s.value: routing.destination_ids(s) for s in Severity},
        runbook_base_url=cfg.runbook_base_url,
        run_as=cfg.run_as,
        viewers=cfg.viewers,
        managers=cfg.managers,
        # One folder per stack; its ACL covers every alert (one Permissions, not one per alert).
        folder_path=path,
        folder_id=folder.folder_id,
    )
    return routing, folder, alert_settings


def _failure_emails(cfg: StackConfig, routing: AlertRouting) -> list[str]:
    """Who hears of a failed pipeline update or scheduled run. Pipeline notifications only take email
    addresses: the stack's failure list plus the P1 route's."""
    return list(dict.fromkeys([*cfg.failure_emails, *routing.emails(Severity.P1)]))


async def _pipelines(
    deployment: Deployment, failure_emails: list[str], policy_ids: Mapping[str, pulumi.Output[str]]
) -> dict[str, DltPipeline | BlueGreenPipeline]:
    """Each pipeline, in the order of the pipeline files: a blue/green one where it declares a
    release, its slots' versions from the promotion source unless pinned."""
    settings, cfg = deployment.settings, deployment.config
    failure_notifications = (
        [Notification(email_recipients=failure_emails, alerts=list(FAILURE_ALERTS))] if failure_emails else []
    )
    releases = _promotion_source(settings)
    pipelines: dict[str, DltPipeline | BlueGreenPipeline] = {}
    for facts in deployment.pipelines.values():
        spec = facts.spec
        args = _pipeline_args(cfg, facts, failure_notifications, policy_ids)
        if spec.release is None:
            # Pipelines own their tables: a protected pipeline cannot be deleted or replaced.
            pipelines[spec.name] = DltPipeline(spec.name, args, opts=pulumi.ResourceOptions(protect=cfg.protect))
        else:
            pipelines[spec.name] = BlueGreenPipeline(spec.name, _blue_green_args(settings, spec, args, releases))
        await _let_registrations_run()
    return pipelines


def _pipeline_args(
    cfg: StackConfig,
    facts: PipelineFacts,
    failure_notifications: list[Notification],
    policy_ids: Mapping[str, pulumi.Output[str]],
) -> DltPipelineArgs:
    """The pipeline as its file and the stack declare it (a blue/green pipeline's slots start from it)."""
    spec = facts.spec
    return DltPipelineArgs(
        name=facts.physical_name,
        catalog=spec.catalog,
        schema=spec.schema_name,
        libraries=[_provider_shape(lib) for lib in spec.libraries],
        development=spec.development if spec.development is not None else cfg.mode is Mode.DEVELOPMENT,
        continuous=spec.continuous,
        photon=spec.photon,
        serverless=spec.serverless,
        channel=Channel(spec.channel),
        edition=Edition(spec.edition),
        clusters=[_provider_shape(c) for c in spec.clusters],
        configuration={**spec.configuration, **restore_configuration(facts)},
        notifications=[_provider_shape(n) for n in [*failure_notifications, *spec.notifications]],
        run_as=facts.run_as,
        tags=dict(facts.tags),
        viewers=list(facts.viewers),
        runners=list(facts.runners),
        managers=list(facts.managers),
        event_log=facts.event_log,
        budget_policy_id=spec.budget_policy_id or policy_ids.get(spec.name),
        spot=Cloud(cfg.cloud) if cfg.spot_instances else None,
        settings=spec.provider_settings(),
        import_id=spec.import_id,
    )


async def _schedules(
    deployment: Deployment,
    pipelines: Mapping[str, DltPipeline | BlueGreenPipeline],
    routing: AlertRouting,
    failure_emails: list[str],
    policy_ids: Mapping[str, pulumi.Output[str]],
) -> dict[str, PipelineSchedule]:
    """A job per pipeline with a schedule, starting its update and those of its unscheduled upstreams."""
    settings, cfg = deployment.settings, deployment.config
    schedules: dict[str, PipelineSchedule] = {}
    by_name = {spec.name: spec for spec in settings.pipelines}
    for facts in deployment.pipelines.values():
        spec = facts.spec
        if spec.schedule is None:
            continue
        # One job per pipeline update: an upstream with a job of its own is not started here too;
        # its tables' updates start this job instead (settings.models.upstream_tables).
        run_here = [u for u in spec.schedule.after if by_name[u].schedule is None]
        watched_tables = upstream_tables(spec, by_name)
        schedules[spec.name] = PipelineSchedule(
            spec.name,
            PipelineScheduleArgs(
                job_name=facts.schedule_job_name,
                task_key=spec.name,
                pipeline_id=pipelines[spec.name].pipeline_id,
                schedule=_schedule_args(spec),
                pause_status=cfg.schedule_pause_status,
                timezone=cfg.timezone,
                upstream=[UpstreamPipeline(u, pipelines[u].pipeline_id) for u in run_here],
                upstream_tables=watched_tables,
                failure_emails=failure_emails,
                run_as=facts.run_as,
                tags=dict(facts.tags),
                viewers=list(facts.viewers),
                runners=list(facts.runners),
                managers=list(facts.managers),
                failure_destinations=routing.webhook_ids(Severity.P1),
                max_run_minutes=spec.monitoring.latency_objective_minutes,
                streaming_backlog_seconds=spec.monitoring.streaming_backlog_seconds,
                budget_policy_id=spec.budget_policy_id or policy_ids.get(spec.name),
            ),
        )
        await _let_registrations_run()
    return schedules


async def _alerts(deployment: Deployment, alert_settings: AlertSettings) -> None:
    """Each pipeline's own alerts, the stack's alerts over every pipeline, and (with a limit) the
    environment's cost alerts."""
    cfg = deployment.config
    monitored = {name: _watched(facts) for name, facts in deployment.pipelines.items()}
    # Event-log metrics: each pipeline's own alerts, reading its own log (docs/adr/0007), so a new
    # pipeline whose log does not exist yet blinds nobody else's. One turn of the loop after each
    # pipeline's, as after every component (_let_registrations_run).
    for name, watched in monitored.items():
        PipelineAlerts(
            f"pipeline-alerts-{name}",
            PipelineAlertsArgs(
                display_name=f"{physical_name(cfg, 'pipelines')} {name}",
                environment=cfg.environment,
                pipelines=[watched],
                settings=alert_settings,
                scope=AlertScope.PIPELINE,
            ),
        )
        await _let_registrations_run()
    # System-table metrics: one alert per metric over every pipeline (docs/adr/0004).
    PipelineAlerts(
        "pipeline-alerts",
        PipelineAlertsArgs(
            display_name=physical_name(cfg, "pipelines"),
            environment=cfg.environment,
            pipelines=list(monitored.values()),
            settings=alert_settings,
        ),
    )
    if cfg.daily_cost_limit_usd or cfg.monthly_cost_limit_usd:
        CostAlerts(
            "environment-cost",
            CostAlertsArgs(
                display_name=physical_name(cfg, "environment"),
                environment=cfg.environment,
                settings=alert_settings,
                daily_limit_usd=cfg.daily_cost_limit_usd,
                monthly_limit_usd=cfg.monthly_cost_limit_usd,
            ),
        )


def _watched(facts: PipelineFacts) -> WatchedPipeline:
    """The pipeline as its alerts see it: its live event log, its thresholds and its cost limits."""
    return WatchedPipeline(
        facts.name,
        facts.event_log_table,
        slot=facts.live_slot,
        continuous=facts.spec.continuous,
        thresholds=AlertThresholds(**facts.thresholds.model_dump()),
        serverless=facts.spec.serverless,
        expectations=facts.spec.serverless or facts.spec.edition == "ADVANCED",
        daily_limit_usd=facts.spec.cost.daily_limit_usd,
        monthly_budget_usd=facts.spec.cost.monthly_budget_usd,
    )


def _dashboard(deployment: Deployment, folder: AlertFolder) -> MonitoringDashboard:
    """The monitoring dashboard over every pipeline's live event log."""
    cfg = deployment.config
    return MonitoringDashboard(
        "monitoring",
        MonitoringDashboardArgs(
            display_name=f"{physical_name(cfg, 'pipelines')} monitoring",
            parent_path=folder.path,  # in the alerts' folder, under its ACL, once it exists
            warehouse_id=cfg.warehouse_id,
            environment=cfg.environment,
            pipelines=[DashboardPipeline(r.name, r.event_log, r.slot, r.continuous) for r in deployment.refs],
            viewers=cfg.viewers,
            managers=cfg.managers,
        ),
    )


def _exports(
    deployment: Deployment,
    pipelines: Mapping[str, DltPipeline | BlueGreenPipeline],
    schedules: Mapping[str, PipelineSchedule],
    snapshot_jobs: Mapping[str, PipelineSnapshots],
    dashboard: MonitoringDashboard,
) -> None:
    """The stack's outputs: each pipeline's ids, name and url, the dashboard and the releases."""
    pulumi.export(
        "pipelines",
        {
            name: {
                "id": pipeline.pipeline_id,
                "name": deployment.pipelines[name].physical_name,
                "url": pipeline.url,
                "job_id": schedules[name].job_id if name in schedules else None,
                "snapshot_job_id": snapshot_jobs[name].job.id if name in snapshot_jobs else None,
            }
            for name, pipeline in pipelines.items()
        },
    )
    pulumi.export("dashboard_id", dashboard.dashboard.id)
    pulumi.export("releases", _releases_output(deployment.settings, pipelines))


def _schedule_args(spec: PipelineSpec) -> ScheduleArgs:
    """The pipeline file's schedule as the component takes it (`after` is the program's: it
    decides the upstream tasks and tables)."""
    s = spec.schedule
    assert s is not None
    return ScheduleArgs(
        cron=s.cron,
        timezone=s.timezone,
        file_arrival=FileArrivalArgs(**s.file_arrival.model_dump()) if s.file_arrival else None,
        pause_status=s.pause_status,
        full_refresh=s.full_refresh,
        max_retries=s.max_retries,
        min_retry_interval_seconds=s.min_retry_interval_seconds,
        timeout_seconds=s.timeout_seconds,
    )


def _blue_green_args(
    settings: StackSettings, spec: PipelineSpec, base: DltPipelineArgs, releases: pulumi.Output[Any] | None
) -> BlueGreenPipelineArgs:
    """Each slot: the pipeline as declared, in the slot's schema, named after the slot (the adopted
    one keeps its name), its code from the slot's repo, the canary filter on a canary slot."""
    cfg, release = settings.config, spec.release
    assert release is not None
    root = cfg.variables["REPO_ROOT"]  # the loader requires libraries under it
    slots = []
    for slot, s in release.slots.items():
        repo_path = f"/Repos/{physical_name(cfg, 'lakeflow')}/{spec.name}_{slot}"
        schema = spec.slot_schema(slot)
        configuration = dict(base.configuration or {})
        if s.canary_percent is not None:
            configuration[release.canary_filter_key] = canary_filter(release.canary_column, s.canary_percent)
        slots.append(
            SlotArgs(
                slot=slot,
                pipeline=dataclasses.replace(
                    base,
                    name=base.name if s.adopted else physical_name(cfg, spec.name, slot),
                    schema=schema,
                    libraries=[_reroot(lib, root, repo_path) for lib in spec.libraries],
                    configuration=configuration,
                    event_log=EventLogTable(*spec.event_log_of(schema)),
                    # Retired: the policy that protects production data lets this one go.
                    tags={**(base.tags or {}), Tag.SLOT: slot, **({Tag.RETIRED: "true"} if s.retired else {})},
                    import_id=s.import_id,
                ),
                repo_path=repo_path,
                ref=s.ref or _promoted_ref(releases, spec.name, slot),
                adopted=s.adopted,
                protect=cfg.protect and not s.retired,
            )
        )
    return BlueGreenPipelineArgs(
        repo_url=release.repo_url,
        slots=slots,
        active=release.active,
        catalog=spec.catalog,
        view_schema=spec.view_schema,
        tables=spec.tables,
        warehouse_id=cfg.warehouse_id,
        consumers=release.consumers,
        view_comment=f"Published by {spec.name}; see docs/runbooks/release.md",
    )


def restore_configuration(facts: PipelineFacts) -> dict[str, str]:
    """`lakeflow.dr.restore.<table>` = its restore table, for each critical streaming table of a
    stack that takes snapshots: on a full refresh the pipeline's code refills the table from there
    when it exists (docs/adr/0006). Constant, so a restore changes nothing Pulumi manages."""
    return {f"{RESTORE_CONFIG}{s.table}": s.restore_name for s in facts.snapshots if s.kind == "streaming_table"}


def canary_filter(column: str, percent: int) -> str:
    """Guide 3.3: the share of the data the candidate processes, by a stable hash of a key
    (PMOD: never negative, and no ABS overflow on the smallest hash)."""
    return f"PMOD(HASH({column}), 100) < {percent}"


def _reroot(lib: Library, root: str, repo_path: str) -> Any:
    """The library, its path moved from REPO_ROOT into the slot's own checkout (the loader requires
    every path of a blue/green pipeline under REPO_ROOT)."""
    out = _provider_shape(lib)
    (kind, value), *_ = out.items()
    key = {"notebook": "path", "file": "path", "glob": "include"}.get(kind)
    if key is None:
        out[kind] = repo_path + value[len(root) :]
    else:
        out[kind] = {**value, key: repo_path + value[key][len(root) :]}
    return out


def _promotion_source(settings: StackSettings) -> pulumi.Output[Any] | None:
    """Guide 3.1: the `releases` output of the stack this one is promoted from (staging for prod)."""
    cfg = settings.config
    if cfg.promote_from is None or not any(s.release for s in settings.pipelines):
        return None
    source = pulumi.StackReference(cfg.promote_from)
    releases = source.get_output("releases")
    for spec in settings.pipelines:
        if spec.release is None:
            continue
        idle = spec.release.idle
        pinned = spec.release.slots[idle].ref if idle else None
        if idle and pinned and not _kept_for_rollback(spec.release, idle):
            # The candidate slot deploys what the source validated, unless pinned: say so loudly.
            releases.apply(
                functools.partial(_warn_pin, source=cfg.promote_from, pipeline=spec.name, slot=idle, pinned=pinned)
            )
    return releases


def _kept_for_rollback(release: Release, slot: str) -> bool:
    """The previous active slot, inside its rollback window (or retired): not a candidate."""
    end = release.rollback_window_end
    return release.slots[slot].retired or (end is not None and date.today() < end)  # type: ignore[index]


def _warn_pin(releases: Any, *, source: str | None, pipeline: str, slot: str, pinned: str) -> None:
    validated = ((releases or {}).get(pipeline) or {}).get("active_ref")
    if validated != pinned:
        pulumi.log.warn(
            f"PROMOTION GATE: {pipeline} slot {slot} is pinned to {pinned}, not to {validated}, "
            f"the version {source} runs. Deploying the pin."
        )


def _promoted_ref(releases: pulumi.Output[Any] | None, pipeline: str, slot: str) -> pulumi.Output[str]:
    assert releases is not None  # the loader requires promoteFrom for an unpinned slot

    def pick(r: Any) -> str:
        ref = ((r or {}).get(pipeline) or {}).get("active_ref")
        if not ref:
            raise pulumi.RunError(
                f"{pipeline} slot {slot}: the promotion source runs no version of {pipeline}; pin a tag"
            )
        return str(ref)

    return releases.apply(pick)


def _releases_output(settings: StackSettings, pipelines: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in settings.pipelines:
        if spec.release is None:
            continue
        bg = pipelines[spec.name]
        out[spec.name] = {
            "active": spec.release.active,
            "active_ref": spec.release.slots[spec.release.active].ref,
            "slots": {
                slot: {"ref": bg.refs[slot], "pipeline_id": bg.slot_ids[slot], "schema": spec.slot_schema(slot)}
                for slot in spec.release.slots
            },
        }
    return out


def _disaster_recovery(deployment: Deployment, routing: AlertRouting) -> dict[str, PipelineSnapshots]:
    """Guide 10: a snapshot job per pipeline with critical tables, the schemas they write to, and
    the configuration backup. Only in stacks with disasterRecovery (staging and prod)."""
    settings, cfg = deployment.settings, deployment.config
    if not cfg.disaster_recovery:
        return {}
    assert cfg.dr_catalog is not None  # the loader requires it with disasterRecovery
    with_dr = [f for f in deployment.pipelines.values() if f.dr_schema is not None]
    store = SnapshotStore(
        "disaster-recovery",
        SnapshotStoreArgs(
            schemas=[SnapshotSchema(*f.dr_schema) for f in with_dr if f.dr_schema is not None],
            backup_catalog=cfg.dr_catalog,
            backup_schema=physical_name(cfg, "lakeflow_backup"),
            backup_document=backup_document(deployment),
            backup_file_name=f"{settings.project}.{settings.stack}.json",
            writer=cfg.run_as,
            readers=cfg.managers,
            protect=cfg.protect,
        ),
    )
    jobs: dict[str, PipelineSnapshots] = {}
    for facts in with_dr:
        spec = facts.spec
        assert spec.dr is not None and facts.dr_schema is not None
        schedule = snapshot_schedule(spec, cfg)
        jobs[spec.name] = PipelineSnapshots(
            spec.name,
            PipelineSnapshotsArgs(
                job_name=physical_name(cfg, spec.name, "dr_snapshot"),
                warehouse_id=cfg.dr_warehouse_id or cfg.warehouse_id,
                tasks=[SnapshotTask(s.table, snapshot_sql(s, spec.dr)) for s in facts.snapshots],
                cron=schedule.cron,
                timezone=schedule.timezone,
                pause_status=cfg.schedule_pause_status,
                description=f"Disaster-recovery snapshots of {spec.name}: {schedule.why}. "
                f"Restore: make dr-restore STACK={settings.stack} PIPELINE={spec.name}",
                rpo_minutes=spec.dr.schedule_rpo_minutes,
                schema_id=store.schemas[facts.dr_schema].id,
                failure_emails=routing.emails(Severity.P2),
                failure_destinations=routing.webhook_ids(Severity.P2),
                run_as=cfg.run_as,
                tags=dict(facts.tags),
                viewers=list(facts.viewers),
                runners=list(facts.runners),
                managers=list(facts.managers),
            ),
        )
    pulumi.export("config_backup_path", store.backup_path)
    return jobs


def backup_document(deployment: Deployment) -> dict:
    """The resolved settings of the stack (guide 10.2 step 1), without credentials: enough to
    redeploy every pipeline as this stack declares it, should the repository be unavailable."""
    settings = deployment.settings
    config = settings.config.model_dump(mode="json", by_alias=True, exclude_none=True)
    secrets = sorted(k for k in SECRET_KEYS if config.pop(k, None) is not None)
    return {
        "project": settings.project,
        "stack": settings.stack,
        "config": config,
        "secrets_not_backed_up": secrets,
        "pipelines": {
            name: {
                "physical_name": facts.physical_name,
                "file": settings.sources[name],
                "spec": facts.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            }
            for name, facts in deployment.pipelines.items()
        },
    }


def _cost_guardrails(deployment: Deployment) -> dict[str, pulumi.Output[str]]:
    """Budgets and budget policies, through an account-level provider; budget policy id per
    serverless pipeline. Without account configuration they are skipped, and the run says so."""
    settings, cfg = deployment.settings, deployment.config
    if cfg.account_id is None or cfg.workspace_id is None:
        serverless = [s.name for s in settings.pipelines if s.serverless]
        pulumi.log.warn(
            f"Budgets and budget policies skipped: {NAMESPACE}:accountId is not set for stack {settings.stack!r}"
            + (
                f"; serverless usage of {', '.join(serverless)} is not attributed to a budget policy"
                if serverless
                else ""
            )
        )
        return {}
    account = _account_provider(cfg)
    guardrails = CostGuardrails(
        "cost-guardrails",
        CostGuardrailsArgs(
            account_id=cfg.account_id,
            workspace_id=cfg.workspace_id,
            display_prefix=physical_name(cfg, "lakeflow"),
            environment=cfg.environment,
            monthly_budget_usd=cfg.monthly_budget_usd,
            alert_percents=cfg.budget_alert_percents,
            emails=cfg.budget_emails or cfg.alert_emails,
            pipelines=[
                PipelineCost(
                    pipeline=name,
                    display_name=facts.physical_name,
                    tags=dict(facts.tags),
                    monthly_budget_usd=facts.spec.cost.monthly_budget_usd,
                    # A pipeline that names its own budget policy needs none made for it.
                    serverless=facts.spec.serverless and facts.spec.budget_policy_id is None,
                )
                for name, facts in deployment.pipelines.items()
            ],
            policy_users=list(
                dict.fromkeys(p for p in [cfg.run_as, *(s.run_as_principal for s in settings.pipelines)] if p)
            ),
            policy_managers=list(cfg.managers),
        ),
        opts=pulumi.ResourceOptions(providers=[account]),
    )
    return guardrails.policy_ids


def _account_provider(cfg: StackConfig) -> databricks.Provider:
    # The account console is a different API from the workspace: its own provider, and the only
    # one that carries account_id (never set on the workspace provider).
    return databricks.Provider(
        "account",
        host=cfg.account_host,
        account_id=cfg.account_id,
        client_id=cfg.account_client_id,
        client_secret=pulumi.Output.secret(cfg.account_client_secret) if cfg.account_client_secret else None,
    )


def _provider_shape(model: BaseModel) -> Any:
    """A settings model as the provider's input type takes it (its `…ArgsDict`): snake_case,
    unset fields left out."""
    return model.model_dump(by_alias=True, exclude_none=True)
