"""The one resolve step: validated settings -> the deployment, every per-pipeline fact worked out once.

`resolve(settings)` gives a frozen `Deployment`: for each pipeline its physical name, tags, who runs
and may use it, its event-log table and live slot, the monitoring reference the SQL reads, the
thresholds its alerts and `make health` judge by (the processing-lag allowance included), and its
DR snapshots and where they go. The Pulumi program (`lakeflow.program`), the dashboard, `make health`,
`make capacity`, `make preflight`, `make validate-release`, `make rehearse-upgrade` and `make dr-restore`
read these facts from here, so no rule is written twice and no command can disagree with what the stack
deployed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from lakeflow.components.types import EventLogTable
from lakeflow.config.loader import StackSettings
from lakeflow.config.models import PipelineSpec, StackConfig, Thresholds, alert_thresholds
from lakeflow.model.naming import physical_name, pipeline_tags
from lakeflow.sql.queries import PipelineRef
from lakeflow.sql.snapshots import Snapshot, snapshot_schema, snapshots


@dataclass(frozen=True)
class PipelineFacts:
    """What one pipeline of the stack becomes."""

    spec: PipelineSpec
    """The pipeline file, validated (the source of every fact below)."""
    physical_name: str
    """Its name in the workspace (`prod_sales_pipeline`); the live slot's, for a blue/green one."""
    schedule_job_name: str
    tags: Mapping[str, str]
    """Stack tags, the file's tags, then Environment and Pipeline (lakeflow.model.naming)."""
    run_as: str | None
    viewers: tuple[str, ...]
    runners: tuple[str, ...]
    managers: tuple[str, ...]
    event_log: EventLogTable
    """The live pipeline's event log (the active slot's, for a blue/green one)."""
    live_slot: str | None
    """The active slot of a blue/green pipeline; None for a plain one."""
    ref: PipelineRef
    """What the monitoring SQL reads for it (alerts, dashboard, health, capacity)."""
    thresholds: Thresholds
    """What its alerts and `make health` judge by: the file's thresholds, with processing lag
    allowed one schedule period on top (config.models.alert_thresholds)."""
    snapshots: tuple[Snapshot, ...]
    """Its DR snapshots in this stack (none without disasterRecovery)."""
    dr_schema: tuple[str, str] | None
    """(catalog, schema) its snapshots are written to: its `dr.target`, else the stack's DR catalog and
    its own schema name; None where the stack takes no snapshots of it."""

    @property
    def name(self) -> str:
        return self.spec.name

    def ref_of(self, schema: str, slot: str | None = None) -> PipelineRef:
        """What the monitoring SQL reads for the copy of this pipeline whose tables are in `schema`: a slot
        other than the live one (`make validate-release` of a candidate), or the live one (`ref`)."""
        return dataclasses.replace(
            self.ref, event_log=EventLogTable(*self.spec.event_log_of(schema)).full_name, slot=slot
        )

    @property
    def event_log_table(self) -> str:
        """`catalog.schema.table` of the live event log."""
        return self.event_log.full_name


@dataclass(frozen=True)
class Deployment:
    """A stack, resolved. Built by `resolve`; nothing in it changes after."""

    settings: StackSettings
    pipelines: Mapping[str, PipelineFacts]
    """By logical name, in the order of the pipeline files."""

    @property
    def stack(self) -> str:
        return self.settings.stack

    @property
    def config(self) -> StackConfig:
        return self.settings.config

    @cached_property
    def refs(self) -> tuple[PipelineRef, ...]:
        return tuple(p.ref for p in self.pipelines.values())

    def pipeline(self, name: str) -> PipelineFacts:
        return self.pipelines[name]


def resolve(settings: StackSettings) -> Deployment:
    cfg = settings.config
    by_name = {spec.name: spec for spec in settings.pipelines}
    facts = {}
    for spec in settings.pipelines:
        live_slot = spec.release.active if spec.release else None
        event_log = EventLogTable(*spec.event_log_table)
        facts[spec.name] = PipelineFacts(
            spec=spec,
            physical_name=physical_name(cfg, spec.name),
            schedule_job_name=physical_name(cfg, spec.name, "schedule"),
            tags=MappingProxyType(pipeline_tags(cfg, spec)),
            run_as=spec.run_as_principal or cfg.run_as,
            viewers=(*cfg.viewers, *spec.granted("viewers")),
            runners=(*cfg.runners, *spec.granted("runners")),
            managers=(*cfg.managers, *spec.granted("managers")),
            event_log=event_log,
            live_slot=live_slot,
            ref=PipelineRef(
                spec.name, cfg.environment, event_log.full_name, slot=live_slot, continuous=spec.continuous
            ),
            thresholds=alert_thresholds(spec, by_name),
            snapshots=tuple(snapshots(spec, cfg)),
            dr_schema=snapshot_schema(spec, cfg) if cfg.disaster_recovery and spec.dr is not None else None,
        )
    return Deployment(settings=settings, pipelines=MappingProxyType(facts))
