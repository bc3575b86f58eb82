"""Snapshots of a pipeline's critical tables: names, SQL, and the schedule derived from the RPO.

A snapshot is `<dr catalog>.<dr schema>.<table>_dr_snapshot`, a plain Delta table refreshed by
`CREATE OR REPLACE TABLE … AS SELECT * FROM <source>` (docs/adr/0006). The tables a pipeline
publishes are streaming tables and materialized views, which Databricks does not deep-clone
without `WITH HISTORY`, nor at a point in time (DELTA_DEEP_CLONE_MV_ST_ERROR,
DELTA_DEEP_CLONE_STREAMING_TABLE_ERROR); any reader may SELECT them. Each refresh is a new Delta
version of the snapshot table, so its history is the restore window: its table properties keep
log and deleted files for `retention_days`, and a restore picks `VERSION AS OF` / `TIMESTAMP AS
OF` inside it (time travel on a plain Delta table, which is allowed).

A restore never writes a pipeline's table (Databricks refuses `CREATE OR REPLACE` on them:
STREAMING_TABLE_OPERATION_NOT_ALLOWED.CREATE_OR_REPLACE,
MATERIALIZED_VIEW_OPERATION_NOT_ALLOWED.REPLACE_DELTA_LIVE_TABLE): it clones the chosen snapshot
version into `<table>_dr_restore` beside it, and the pipeline refills its streaming table from
there on a full refresh (`RESTORE_CONFIG`, src/lakeflow/ops/dr_restore.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakeflow.config.models import DisasterRecovery, PipelineSpec, StackConfig
from lakeflow.sql.names import quoted

SUFFIX = "_dr_snapshot"
RESTORE_SUFFIX = "_dr_restore"
RESTORE_CONFIG = "lakeflow.dr.restore."
"""Pipeline configuration `lakeflow.dr.restore.<table>` = the table a full refresh refills that
streaming table from, when it exists (the pipeline code's side of the contract: docs/adr/0006)."""


@dataclass(frozen=True)
class Snapshot:
    table: str
    """The table's name in the pipeline's target schema."""
    source: str
    """`catalog.schema.table` the pipeline publishes."""
    snapshot: str
    """`catalog.schema.table_dr_snapshot` in the DR schema."""
    rpo_minutes: int
    kind: str = "streaming_table"
    """`streaming_table` or `materialized_view` (settings.models.CriticalTable.kind)."""
    restore: str = ""
    """`catalog.schema.table_dr_restore`: where a restore puts the chosen snapshot version."""
    restore_name: str = ""
    """The same, unquoted (`catalog.schema.table_dr_restore`), as the pipeline configuration holds it."""


def snapshot_schema(spec: PipelineSpec, cfg: StackConfig) -> tuple[str, str]:
    """(catalog, schema) of the pipeline's snapshots: its `dr.target`, else the stack's DR
    catalog and the pipeline's own schema name."""
    assert spec.dr is not None
    if spec.dr.target:
        catalog, schema = spec.dr.target.split(".")
        return catalog, schema
    if cfg.dr_catalog is None:
        raise ValueError(f"pipeline {spec.name!r}: no dr.target and no stack drCatalog")
    return cfg.dr_catalog, spec.schema_name


def snapshots(spec: PipelineSpec, cfg: StackConfig) -> list[Snapshot]:
    """The pipeline's snapshots in this stack; none unless the stack takes snapshots."""
    if not cfg.disaster_recovery or spec.dr is None:
        return []
    catalog, schema = snapshot_schema(spec, cfg)
    return [
        Snapshot(
            table=t.name,
            source=qualified(spec.catalog, spec.data_schema, t.name),
            snapshot=qualified(catalog, schema, t.name + SUFFIX),
            rpo_minutes=spec.dr.rpo_of(t),
            kind=t.kind,
            restore=qualified(catalog, schema, t.name + RESTORE_SUFFIX),
            restore_name=f"{catalog}.{schema}.{t.name}{RESTORE_SUFFIX}",
        )
        for t in spec.dr.critical_tables
    ]


qualified = quoted  # `catalog`.`schema`.`table` (settings.models.quoted)


def retention_properties(retention_days: int) -> dict[str, str]:
    """Delta history a point-in-time restore needs: the log (time travel) and the data files
    VACUUM would otherwise delete after 7 days."""
    interval = f"interval {retention_days} days"
    return {"delta.logRetentionDuration": interval, "delta.deletedFileRetentionDuration": interval}


def snapshot_sql(s: Snapshot, dr: DisasterRecovery) -> str:
    """A new version of the snapshot table holding the source's rows now (a streaming table or a
    materialized view: read, never cloned)."""
    props = ",\n  ".join(f"'{k}' = '{v}'" for k, v in retention_properties(dr.retention_days).items())
    return f"CREATE OR REPLACE TABLE {s.snapshot}\nTBLPROPERTIES (\n  {props}\n)\nAS SELECT * FROM {s.source}"


TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$")


def restore_sql(s: Snapshot, version: int | None = None, timestamp: str | None = None) -> str:
    """The chosen snapshot version (guide 10.3) as the restore table beside the snapshot: a deep
    clone of one plain Delta table into another, at a point of the snapshot's history."""
    if version is not None and timestamp is not None:
        raise ValueError("give a version or a timestamp, not both")
    if timestamp is not None and not TIMESTAMP.fullmatch(timestamp):
        raise ValueError(f"{timestamp!r} is not a timestamp such as 2026-11-28T06:00:00Z")
    return f"CREATE OR REPLACE TABLE {s.restore}\nDEEP CLONE {s.snapshot}{as_of(version, timestamp)}"


def as_of(version: int | None, timestamp: str | None) -> str:
    """The temporal specification of a read of the snapshot: its latest version when neither is given."""
    if version is not None:
        return f" VERSION AS OF {version}"
    return f" TIMESTAMP AS OF '{timestamp}'" if timestamp else ""


# --- schedule ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotSchedule:
    cron: str
    timezone: str
    why: str


def snapshot_schedule(spec: PipelineSpec, cfg: StackConfig) -> SnapshotSchedule:
    """Every `rpo` minutes; for a pipeline started by a fixed-minute cron, shifted to fire one
    latency objective after the pipeline's start, so that a snapshot follows each update."""
    assert spec.dr is not None
    rpo = spec.dr.schedule_rpo_minutes
    timezone = (spec.schedule.timezone if spec.schedule else None) or cfg.timezone
    start = _fixed_start_minute(spec.schedule.cron if spec.schedule else None)
    latency = spec.monitoring.latency_objective_minutes
    offset = (start + latency) % rpo if start is not None else 0
    minute, hour = offset % 60, offset // 60
    if rpo < 60:
        cron = f"0 {minute}/{rpo} * * * ?"
    elif rpo == 60:
        cron = f"0 {minute} * * * ?"
    elif rpo < 1440:
        cron = f"0 {minute} {hour}/{rpo // 60} * * ?"
    else:
        cron = f"0 {minute} {hour} * * ?"
    why = f"every {_duration(rpo)} (the tightest RPO of its tables)"
    if start is not None:
        why += f", {latency} min (the latency objective) after the pipeline's scheduled start"
    return SnapshotSchedule(cron=cron, timezone=timezone, why=why)


def _fixed_start_minute(cron: str | None) -> int | None:
    """Minute of the day of the cron's first start when its minute and first hour are fixed
    (`0 30 */6 * * ?` -> 30, `0 15 2 * * ?` -> 135); None when it fires at no fixed minute."""
    if cron is None:
        return None
    fields = cron.split()
    minute, hour = fields[1], fields[2]
    if not minute.isdigit():
        return None
    first_hour = re.match(r"^(\*|\d+)(?:/\d+)?$", hour)
    if first_hour is None:  # lists and ranges: several starts, none to align on
        return None
    return (0 if first_hour.group(1) == "*" else int(first_hour.group(1))) * 60 + int(minute)


def _duration(minutes: int) -> str:
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"
