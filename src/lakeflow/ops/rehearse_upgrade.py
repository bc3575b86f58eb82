"""`make rehearse-upgrade STACK=<non-prod stack> PIPELINE=<name> [CHANNEL=PREVIEW] [TIMEOUT=<minutes>]`

Guide 8.2, step 1-3, as one command: copy the deployed pipeline as a temporary development-mode
pipeline on the PREVIEW channel (or CHANNEL=), publishing into a schema of its own, run a full
refresh, report, and delete the copy and its schema, whatever happened (also on Ctrl-C). When
the teardown itself fails, the exact commands to finish it are printed.

Two corrections to the guide's script:
- it copies the spec as is, so the copy would publish into the live pipeline's schema and fight
  it for its tables; here the copy publishes into a schema of this run only,
  `<schema>_rehearsal_<UTC time>_<6 random hex digits>` (e.g. `sales_rehearsal_20261129110004_3fa9c1`),
  and is named `<pipeline>_upgrade_rehearsal_<the same run id>`: two rehearsals at the same time,
  of the same pipeline or of two pipelines sharing a schema, never share (or drop) each other's.
  The teardown drops that one schema by its exact name, never a pattern;
- it sets `clusters[0].spark_version`, which Lakeflow pipelines do not accept: their runtime is
  chosen by the channel (CURRENT or PREVIEW), so the channel is what is rehearsed.

Never in production: stacks whose environment is `prod` or that protect their resources are refused.
Exit status: 0 the copy completed on the new channel, 1 it failed (the upgrade would break the
pipeline: read the errors printed), 2 the rehearsal could not run (credentials, ids, timeout, an
unreachable workspace).

The workspace: `--http-timeout SECONDS` (or LAKEFLOW_HTTP_TIMEOUT; default 30) bounds each call and
connecting (at most 5 s), `--retry-timeout` the SDK's retries (default: the same); see
src/lakeflow/ops/workspace.py. An unreachable host (DNS, connection refused, TLS, no answer in time), refused
credentials or a host without the Databricks API is one line within seconds, before anything is
created. `--verbose` prints the whole text of errors.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakeflow.config.errors import ConfigErrors
from lakeflow.config.loader import StackSettings
from lakeflow.config.project import command_parser
from lakeflow.model.deployment import resolve
from lakeflow.ops import workspace
from lakeflow.ops.validate_release import Target, UpdateNotValidated, wait_for_update
from lakeflow.ops.workspace import OpsError, client, guarded, load_outputs, pipeline_ids, run_sql
from lakeflow.sql.names import quoted

MAX_NAME = 255
"""The longest Unity Catalog name."""
_NOT_A_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9_]")


@dataclass
class Rehearsal:
    pipeline: str
    source_id: str
    channel: str
    copy_name: str
    catalog: str
    schema: str
    """This run's own schema (`rehearsal_schema`): the only one the teardown drops."""
    run_id: str
    """`new_run_id`: in the schema's and the copy's names."""
    copy_id: str | None = None
    update_id: str | None = None
    state: str | None = None
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    """Commands that finish a teardown that failed; empty when nothing was left behind."""

    @property
    def target(self) -> str:
        """`catalog.schema`, for people to read (never split again: the names are the fields)."""
        return f"{self.catalog}.{self.schema}"


def new_run_id(now: datetime) -> str:
    """Unique to one rehearsal: the UTC second it started and 24 random bits (`20261129110004_3fa9c1`)."""
    return f"{now.astimezone(UTC):%Y%m%d%H%M%S}_{secrets.token_hex(3)}"


def rehearsal_schema(schema: str, run_id: str) -> str:
    """`<schema>_rehearsal_<run id>`: letters, digits and underscores, at most 255 characters (a long
    schema name is shortened, the run's suffix never is)."""
    suffix = f"_rehearsal_{run_id}"
    base = _NOT_A_NAME_CHARACTER.sub("_", schema)[: MAX_NAME - len(suffix)]
    return base + suffix


def rehearse(
    w: Any,
    settings: StackSettings,
    pipeline: str,
    source_id: str,
    channel: str = "PREVIEW",
    timeout_minutes: int = 120,
    say: Callable[[str], None] = print,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Rehearsal:
    # The deployed pipeline is copied as the workspace holds it; where it does not say, as the stack deploys it.
    facts = resolve(settings).pipeline(pipeline)
    live = guarded(f"pipeline {pipeline} ({source_id})", lambda: w.pipelines.get(source_id))
    if live.spec is None:
        raise OpsError(f"pipeline {pipeline} ({source_id}) returned no spec")
    catalog = str(live.spec.catalog or facts.spec.catalog)
    run_id = new_run_id(now())
    r = Rehearsal(
        pipeline=pipeline,
        source_id=source_id,
        channel=channel,
        copy_name=f"{live.name or facts.physical_name}_upgrade_rehearsal_{run_id}",
        catalog=catalog,
        schema=rehearsal_schema(str(live.spec.schema or facts.spec.data_schema), run_id),
        run_id=run_id,
    )
    try:
        _run(w, r, live.spec, timeout_minutes, say)
    finally:
        _teardown(w, r, settings.config.warehouse_id, say)
    return r


def _run(w: Any, r: Rehearsal, spec: Any, timeout_minutes: int, say: Callable[[str], None]) -> None:
    created = guarded(
        "create the rehearsal copy",
        lambda: w.pipelines.create(
            name=r.copy_name,
            catalog=r.catalog,
            schema=r.schema,
            channel=r.channel,
            development=True,
            continuous=False,
            photon=spec.photon,
            edition=spec.edition,
            serverless=spec.serverless,
            clusters=spec.clusters,
            libraries=spec.libraries,
            configuration=spec.configuration,
            budget_policy_id=spec.budget_policy_id,
            tags={**(spec.tags or {}), "Purpose": "upgrade-rehearsal"},
            allow_duplicate_names=False,
        ),
    )
    r.copy_id = created.pipeline_id
    say(f"created {r.copy_name} ({r.copy_id}) on {r.channel}, publishing into {r.target}")
    started = guarded("start the full refresh", lambda: w.pipelines.start_update(r.copy_id, full_refresh=True))
    r.update_id = started.update_id
    copy = Target(pipeline=r.pipeline, label=r.copy_name, pipeline_id=r.copy_id, schema=r.schema)
    try:
        state, seconds = wait_for_update(w, copy, r.update_id, timeout_minutes * 60, say)
    except UpdateNotValidated as exc:  # timeout or interruption: the teardown stops and deletes the copy
        raise OpsError(f"the rehearsal's full refresh did not end ({exc}); the copy is stopped and deleted") from None
    r.state, r.seconds = state, seconds
    if state != "COMPLETED":
        events = guarded(
            "read the errors",
            lambda: list(w.pipelines.list_pipeline_events(r.copy_id, filter="level='ERROR'", max_results=5)),
        )
        r.errors = [str(e.message) for e in events[:5] if getattr(e, "message", None)]


def _teardown(w: Any, r: Rehearsal, warehouse_id: str, say: Callable[[str], None]) -> None:
    """Delete the copy (which drops its tables) and this run's schema, by its exact name (catalog and
    schema as they are, each quoted: never split from a string, never a pattern). Never raises: what
    it could not delete is listed, with the command that deletes it."""
    if r.copy_id is None:
        return
    with contextlib.suppress(Exception):  # stopping is best effort; the delete below is what matters
        w.pipelines.stop(r.copy_id)
    try:
        w.pipelines.delete(r.copy_id)
        say(f"deleted {r.copy_name}")
    except Exception as exc:  # reported, with the command that finishes the job
        r.leftovers.append(f"databricks pipelines delete {r.copy_id}   # {type(exc).__name__}")
    if not (r.run_id and r.schema.endswith(f"_rehearsal_{r.run_id}")):  # not this run's own schema: keep it
        r.leftovers.append(f"-- schema {r.target} is not this rehearsal's own (run {r.run_id}): not dropped")
        return
    drop = f"DROP SCHEMA IF EXISTS {quoted(r.catalog, r.schema)} CASCADE"
    try:
        run_sql(w, warehouse_id, drop)
        say(f"dropped schema {r.target}")
    except Exception as exc:  # reported, with the statement that finishes the job
        r.leftovers.append(f"{drop};   -- {type(exc).__name__}")


def render(r: Rehearsal) -> str:
    verdict = {
        "COMPLETED": "ready: the pipeline completes a full refresh on this channel",
        None: "not run",
    }.get(r.state, "NOT ready: the full refresh did not complete on this channel")
    lines = [
        f"Upgrade rehearsal of {r.pipeline} ({r.source_id}) on channel {r.channel}: {verdict}",
        f"  copy {r.copy_name} -> {r.target}; update {r.update_id}: {r.state} after {r.seconds:.0f}s",
        *(f"  error: {e}" for e in r.errors),
    ]
    if r.leftovers:
        lines.append("  LEFT BEHIND (teardown failed); finish it with:")
        lines += [f"    {c}" for c in r.leftovers]
    else:
        lines.append("  nothing left behind: the copy and its schema are deleted")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from lakeflow.offline.stack_file import load_stack

    parser = command_parser("rehearse-upgrade", __doc__.splitlines()[0], stack="staging")
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--channel", default="PREVIEW", choices=["PREVIEW", "CURRENT"])
    parser.add_argument("--timeout-minutes", type=int, default=120)
    parser.add_argument("--outputs", type=Path)
    workspace.add_connection_options(parser)
    args = parser.parse_args(argv)
    rehearsal = None
    try:
        bounds = workspace.connection_timeouts(args)
        settings = load_stack(args.root, args.stack)
        cfg = settings.config
        if cfg.environment == "prod" or cfg.protect:
            raise OpsError(f"STACK={args.stack}: rehearsals run in a non-production stack (dev or staging), never here")
        ids = pipeline_ids(load_outputs(args.stack, args.outputs), args.stack, args.pipeline)
        w = client(bounds, verbose=args.verbose)
        rehearsal = rehearse(
            w,
            settings,
            args.pipeline,
            ids[args.pipeline],
            args.channel,
            args.timeout_minutes,
            lambda m: print(m, file=sys.stderr),
        )
    except ConfigErrors as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except OpsError as exc:
        workspace.report_error("make rehearse-upgrade", exc, args.verbose)
        return 2
    print(render(rehearsal))
    if rehearsal.leftovers:
        return 2
    return 0 if rehearsal.state == "COMPLETED" else 1


if __name__ == "__main__":
    sys.exit(main())
