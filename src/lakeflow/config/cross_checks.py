"""The rules that need several files at once: the stack's settings with every pipeline file.

Duplicate names, `schedule.after` targets and cycles, production guard rails, worker caps, tags the
stack sets, DR and blue/green releases, and tables, event logs and snapshots two pipelines (or two
environments) would share. Each rule returns its `ConfigError`s; `cross_checks` runs them in a
fixed order, so a report lists the same errors in the same order every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic.alias_generators import to_snake

from lakeflow.components.types import Tag
from lakeflow.config.errors import ConfigError, did_you_mean
from lakeflow.config.models import NAMESPACE, EventLog, Mode, PipelineSpec, StackConfig, needed_secrets
from lakeflow.config.yaml_source import YamlDoc, load_yaml


def known_environments(root: Path) -> set[str]:
    envs = set()
    for path in root.glob("Pulumi.*.yaml"):
        doc = load_yaml(path, path.name)
        if isinstance(doc, YamlDoc) and isinstance(doc.data, dict):
            env = (doc.data.get("config") or {}).get(f"{NAMESPACE}:environment")
            if isinstance(env, str):
                envs.add(env)
    return envs


def other_environments_catalogs(root: Path, cfg: StackConfig) -> dict[str, str]:
    """Catalog -> stack file, for the data and DR catalogs of other environments' stacks
    (`variables.CATALOG`, `drCatalog`): a stack must not write into another environment's data."""
    catalogs: dict[str, str] = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        doc = load_yaml(path, path.name)
        config = doc.data.get("config") if isinstance(doc, YamlDoc) and isinstance(doc.data, dict) else None
        if not isinstance(config, dict) or config.get(f"{NAMESPACE}:environment") in (None, cfg.environment):
            continue
        variables = config.get(f"{NAMESPACE}:variables")
        for value in (
            variables.get("CATALOG") if isinstance(variables, dict) else None,
            config.get(f"{NAMESPACE}:drCatalog"),
        ):
            if isinstance(value, str):
                catalogs.setdefault(value, path.name)
    return catalogs


def collisions(
    cfg: StackConfig, pipelines: list[tuple[PipelineSpec, YamlDoc]], stack_doc: YamlDoc, foreign: Mapping[str, str]
) -> list[ConfigError]:
    """Two pipelines writing the same table, event log or snapshot; a pipeline writing into another
    environment's catalog; DR copies in the catalog of the data they protect."""
    from lakeflow.sql.snapshots import snapshots  # the DR module's own naming of snapshot tables

    errors: list[ConfigError] = []
    owners: dict[str, tuple[str, str, str]] = {}  # location -> (pipeline, file, what)

    def claim(location: str, spec: PipelineSpec, doc: YamlDoc, key: str, what: str) -> None:
        owner = owners.setdefault(location, (spec.name, doc.file, what))
        if owner[0] != spec.name:
            errors.append(
                ConfigError(
                    doc.file,
                    key,
                    f"its {what} {location} is also the {owner[2]} of {owner[0]} ({owner[1]})",
                    line=doc.line(key),
                    hint="every table, event log and snapshot belongs to one pipeline",
                )
            )

    data_catalogs = {spec.catalog for spec, _ in pipelines}
    for spec, doc in pipelines:
        schemas = sorted({spec.slot_schema(s) for s in spec.release.slots}) if spec.release else [spec.schema_name]
        for schema in schemas:
            for table in spec.tables:
                claim(f"{spec.catalog}.{schema}.{table}", spec, doc, "tables", "table")
            claim(".".join(spec.event_log_of(schema)), spec, doc, "monitoring.event_log", "event log")
        if spec.catalog in foreign:
            errors.append(
                ConfigError(
                    doc.file,
                    "target",
                    f"publishes into {spec.catalog}, a catalog of another environment ({foreign[spec.catalog]})",
                    value=spec.uc_target,
                    line=doc.line("catalog") if "catalog" in doc.lines else doc.line("target"),
                    hint="each environment writes its own catalog (lakeflow:variables.CATALOG)",
                )
            )
        # (a dr.target equal to the pipeline's own target is reported by _dr_checks)
        if (
            spec.dr
            and spec.dr.target
            and spec.dr.target != spec.uc_target
            and spec.dr.target.split(".")[0] in data_catalogs
        ):
            errors.append(
                ConfigError(
                    doc.file,
                    "dr.target",
                    "is in a catalog pipelines publish into: DR copies must live apart from the data they protect",
                    value=spec.dr.target,
                    line=doc.line("dr.target"),
                )
            )
        if cfg.disaster_recovery and spec.dr and (spec.dr.target or cfg.dr_catalog):
            for snapshot in snapshots(spec, cfg):
                claim(snapshot.snapshot, spec, doc, "dr", "DR snapshot")
    if cfg.disaster_recovery and cfg.dr_catalog in data_catalogs:
        key = f"{NAMESPACE}:drCatalog"
        errors.append(
            ConfigError(
                stack_doc.file,
                key,
                "is a catalog pipelines publish into: DR copies must live apart from the data they protect",
                value=cfg.dr_catalog,
                line=stack_doc.line(f"config.{key}"),
            )
        )
    return errors


def cross_checks(
    cfg: StackConfig, pipelines: list[tuple[PipelineSpec, YamlDoc]], declared: set[str], stack_doc: YamlDoc
) -> list[ConfigError]:
    """The rules across fields and files, in a fixed order: names, the stack's own settings, then
    each pipeline in turn, then who starts whom and the dependency cycles."""
    by_name, errors = _unique_names(pipelines)
    errors += _run_as_checks(cfg, stack_doc)
    errors += _account_checks(cfg, stack_doc)
    errors += _alert_route_checks(cfg, stack_doc)
    errors += _dr_catalog_checks(cfg, stack_doc)

    cycle_errors, in_cycle = _cycles(by_name)  # reported once; the rules below skip those pipelines
    for spec, doc in by_name.values():
        errors += _production_checks(spec, doc, cfg)
        errors += _conflicting_settings(spec, doc)
        errors += _worker_cap_checks(spec, doc, cfg)
        errors += _stack_tag_checks(spec, doc, cfg)
        errors += _dr_checks(spec, doc)
        errors += _release_checks(spec, doc, cfg)
        errors += _dependency_checks(spec, doc, by_name, declared, in_cycle)

    errors += _started_twice(by_name)
    errors += cycle_errors
    return errors


def _unique_names(
    pipelines: list[tuple[PipelineSpec, YamlDoc]],
) -> tuple[dict[str, tuple[PipelineSpec, YamlDoc]], list[ConfigError]]:
    """The pipelines by name (the first file of each name), and an error for every later file of a name."""
    errors: list[ConfigError] = []
    by_name: dict[str, tuple[PipelineSpec, YamlDoc]] = {}
    for spec, doc in pipelines:
        if spec.name in by_name:
            first = by_name[spec.name][1]
            errors.append(
                ConfigError(
                    doc.file,
                    "name",
                    f"is also the name of the pipeline in {first.file}",
                    value=spec.name,
                    line=doc.line("name"),
                    hint="pipeline names are their identity and must be unique",
                )
            )
        else:
            by_name[spec.name] = (spec, doc)
    return by_name, errors


def _run_as_checks(cfg: StackConfig, stack_doc: YamlDoc) -> list[ConfigError]:
    """Who a stack runs as, and the folder of its alerts and dashboard."""
    errors: list[ConfigError] = []
    if cfg.mode is Mode.PRODUCTION and not (cfg.run_as or "").startswith("sp:"):
        key = f"{NAMESPACE}:runAs"
        errors.append(
            ConfigError(
                stack_doc.file,
                key,
                "a production stack must run as a service principal",
                value=cfg.run_as,
                line=stack_doc.line(f"config.{key}"),
                hint="set it with: pulumi config set runAs sp:<application id>",
            )
        )

    # (production requires runAs, reported above, which gives the folder)
    if cfg.run_as is None and cfg.workspace_folder is None and cfg.mode is not Mode.PRODUCTION:
        key = f"{NAMESPACE}:workspaceFolder"
        errors.append(
            ConfigError(
                stack_doc.file,
                key,
                "is required without runAs: the alerts and the dashboard need a folder whose ACL is the stack's own "
                "(not /Shared, where every user can manage them)",
                line=stack_doc.line("config"),
                hint="the deploying user's home: pulumi config set workspaceFolder /Users/<you@example.com>/lakeflow",
            )
        )
    return errors


def _account_checks(cfg: StackConfig, stack_doc: YamlDoc) -> list[ConfigError]:
    """The account-level settings (budgets) and the secrets the stack's settings need."""
    errors: list[ConfigError] = []
    if cfg.account_id and cfg.workspace_id is None:
        key = f"{NAMESPACE}:workspaceId"
        errors.append(
            ConfigError(
                stack_doc.file,
                key,
                "is required with accountId: budgets are filtered to this workspace",
                line=stack_doc.line(f"config.{NAMESPACE}:accountId"),
                hint="the numeric id in the workspace URL (?o=<id>) or the account console",
            )
        )
    if cfg.account_client_id is None and cfg.account_client_secret is not None:
        errors.append(
            ConfigError(
                stack_doc.file,
                f"{NAMESPACE}:accountClientSecret",
                "is set without accountClientId (OAuth of an account-level service principal needs both)",
                line=stack_doc.line(f"config.{NAMESPACE}:accountClientSecret"),
            )
        )

    stack = stack_doc.file.removeprefix("Pulumi.").removesuffix(".yaml")
    for key, needed_by in needed_secrets(cfg.model_dump(by_alias=True)).items():
        if getattr(cfg, to_snake(key)) is None:
            errors.append(
                ConfigError(
                    stack_doc.file,
                    f"{NAMESPACE}:{key}",
                    f"is a secret this stack needs ({'; '.join(needed_by)}) and has no value",
                    line=stack_doc.line(f"config.{NAMESPACE}:{key}"),
                    hint=f"pulumi config set --secret {NAMESPACE}:{key} <value> --stack {stack}",
                )
            )
    return errors


def _alert_route_checks(cfg: StackConfig, stack_doc: YamlDoc) -> list[ConfigError]:
    """An alert route to email in a stack without alertEmails."""
    errors: list[ConfigError] = []
    if not cfg.alert_emails:
        routed = [f"route{s}" for s in ("P1", "P2", "P3", "P4") if "email" in getattr(cfg, f"route_{s.lower()}")]
        if routed:
            errors.append(
                ConfigError(
                    stack_doc.file,
                    f"{NAMESPACE}:{routed[0]}",
                    f"routes to email ({', '.join(routed)}), which this stack does not configure",
                    value="email",
                    line=stack_doc.line(f"config.{NAMESPACE}:{routed[0]}"),
                    hint=f"set {NAMESPACE}:alertEmails, or remove email from the route",
                )
            )
    return errors


def _dr_catalog_checks(cfg: StackConfig, stack_doc: YamlDoc) -> list[ConfigError]:
    """Disaster recovery needs a catalog of its own."""
    errors: list[ConfigError] = []
    if cfg.disaster_recovery and cfg.dr_catalog is None:
        key = f"{NAMESPACE}:drCatalog"
        errors.append(
            ConfigError(
                stack_doc.file,
                key,
                "is required with disasterRecovery: true (it holds the snapshots and the config backup)",
                line=stack_doc.line(f"config.{NAMESPACE}:disasterRecovery"),
                hint="a catalog apart from the pipelines' own, e.g. prod_dr",
            )
        )
    return errors


def _production_checks(spec: PipelineSpec, doc: YamlDoc, cfg: StackConfig) -> list[ConfigError]:
    """The guard rails of a pipeline in a production stack."""
    errors: list[ConfigError] = []

    def err(key: str, message: str, value: Any, hint: str | None = None) -> None:
        errors.append(ConfigError(doc.file, key, message, value=value, line=doc.line(key), hint=hint))

    if cfg.mode is Mode.PRODUCTION and spec.development:
        err(
            "development",
            f"must not be true in a production stack (environment {cfg.environment!r})",
            True,
            "development mode skips retries and keeps clusters up; it is for dev stacks",
        )
    if cfg.mode is Mode.PRODUCTION and spec.run_as is not None and spec.run_as.user_name:
        err(
            "run_as",
            "a production pipeline must run as a service principal",
            spec.run_as.user_name,
            "run_as: {service_principal_name: <application id>}, or leave it out for lakeflow:runAs",
        )
    return errors


def _conflicting_settings(spec: PipelineSpec, doc: YamlDoc) -> list[ConfigError]:
    """Settings of one pipeline that contradict each other."""
    errors: list[ConfigError] = []

    def err(key: str, message: str, value: Any, hint: str | None = None) -> None:
        errors.append(ConfigError(doc.file, key, message, value=value, line=doc.line(key), hint=hint))

    if spec.event_log is not None and spec.monitoring.event_log != EventLog():
        err(
            "event_log",
            "is also given as monitoring.event_log: one place says where the event log goes",
            spec.event_log.model_dump(by_alias=True, exclude_none=True),
            "keep event_log: (the API's key) and drop monitoring.event_log",
        )
    if spec.trigger is not None and (spec.schedule is not None or spec.continuous):
        err(
            "trigger",
            "starts the pipeline on its own (the API's deprecated trigger); with "
            + ("schedule:, two starters would collide" if spec.schedule else "continuous: true it never stops"),
            "trigger",
            "keep schedule: (a Databricks job with retries and health rules) and drop trigger:",
        )
    if spec.continuous and spec.schedule:
        err(
            "schedule",
            "a continuous pipeline runs all the time and takes no schedule",
            spec.schedule.kind,
            "remove schedule:, or set continuous: false",
        )
    if spec.serverless and spec.clusters:
        err(
            "clusters",
            "a serverless pipeline takes no clusters",
            len(spec.clusters),
            "remove clusters:, or set serverless: false",
        )
    return errors


def _worker_cap_checks(spec: PipelineSpec, doc: YamlDoc, cfg: StackConfig) -> list[ConfigError]:
    """Clusters larger than the stack's `maxWorkersCap`."""
    errors: list[ConfigError] = []
    if cfg.max_workers_cap is not None:
        for i, cluster in enumerate(spec.clusters):
            size = cluster.autoscale.max_workers if cluster.autoscale else cluster.num_workers
            key = f"clusters[{i}].autoscale.max_workers" if cluster.autoscale else f"clusters[{i}].num_workers"
            if size is not None and size > cfg.max_workers_cap:
                errors.append(
                    ConfigError(
                        doc.file,
                        key,
                        f"exceeds this stack's cap of {cfg.max_workers_cap} workers",
                        value=size,
                        line=doc.line(key),
                        hint=f"lower it or raise {NAMESPACE}:maxWorkersCap",
                    )
                )
    return errors


def _stack_tag_checks(spec: PipelineSpec, doc: YamlDoc, cfg: StackConfig) -> list[ConfigError]:
    """Tags the stack sets itself (environment, pipeline), given another value in the file."""
    errors: list[ConfigError] = []
    for tag in (Tag.ENVIRONMENT, Tag.PIPELINE):
        sources = [("tags", spec.tags)] + [
            (f"clusters[{i}].custom_tags", c.custom_tags) for i, c in enumerate(spec.clusters)
        ]
        expected = cfg.environment if tag is Tag.ENVIRONMENT else spec.name
        for where, tags in sources:
            if tag in tags and tags[tag] != expected:
                key = f"{where}.{tag}"
                errors.append(
                    ConfigError(
                        doc.file,
                        key,
                        f"conflicts with the stack's {tag} tag {expected!r}",
                        value=tags[tag],
                        line=doc.line(key),
                        hint="the stack sets this tag; remove it",
                    )
                )
    return errors


def _dependency_checks(
    spec: PipelineSpec,
    doc: YamlDoc,
    by_name: Mapping[str, tuple[PipelineSpec, YamlDoc]],
    declared: set[str],
    in_cycle: set[str],
) -> list[ConfigError]:
    """`schedule.after`: each target exists and can start this pipeline, and a schedule without
    cron or file_arrival has an upstream job whose table updates start it."""
    errors: list[ConfigError] = []

    def err(key: str, message: str, value: Any, hint: str | None = None) -> None:
        errors.append(ConfigError(doc.file, key, message, value=value, line=doc.line(key), hint=hint))

    for i, upstream in enumerate(spec.schedule.after if spec.schedule else []):
        key = f"schedule.after[{i}]"
        if upstream == spec.name:
            err(key, "a pipeline cannot depend on itself", upstream)
        elif upstream not in declared:
            err(
                key,
                "is not a pipeline of this project",
                upstream,
                did_you_mean(upstream, declared) or f"known: {', '.join(sorted(declared))}",
            )
        elif upstream in by_name and by_name[upstream][0].continuous:
            err(
                key,
                "is continuous: it never completes, so nothing can run after it",
                upstream,
                "read its tables directly instead, or make it triggered",
            )
        elif upstream in by_name and by_name[upstream][0].schedule is not None and spec.name not in in_cycle:
            assert spec.schedule is not None
            if spec.schedule.cron or spec.schedule.file_arrival:
                err(
                    key,
                    "has a job of its own, so this job must not start it too (two updates of one pipeline collide)",
                    upstream,
                    f"drop this schedule's cron/file_arrival: the job then starts when {upstream}'s tables "
                    f"are updated; or drop {upstream} from `after`",
                )
            elif not by_name[upstream][0].tables:
                err(
                    key,
                    "has a job of its own and lists no `tables`: no table update could start this job",
                    upstream,
                    f"list the tables {upstream} publishes under `tables:` in its file",
                )
    table_triggered = spec.schedule is not None and not (spec.schedule.cron or spec.schedule.file_arrival)
    usable = all(u in by_name and not by_name[u][0].continuous for u in spec.schedule.after) if spec.schedule else False
    if (
        table_triggered
        and usable
        and not any(
            u in by_name and by_name[u][0].schedule is not None
            for u in spec.schedule.after  # type: ignore[union-attr]
        )
    ):
        err(
            "schedule",
            "has no cron or file_arrival, and none of its `after` pipelines has a job of its own whose "
            "table updates could start it",
            spec.schedule.after,  # type: ignore[union-attr]
            "add cron or file_arrival",
        )
    return errors


def _started_twice(by_name: dict[str, tuple[PipelineSpec, YamlDoc]]) -> list[ConfigError]:
    """A pipeline without a job of its own runs in the job of each pipeline that lists it in
    `after`: two such jobs would start two updates of it, which collide."""
    starters: dict[str, list[str]] = {}
    for name, (spec, _) in sorted(by_name.items()):
        for upstream in spec.schedule.after if spec.schedule else []:
            if upstream in by_name and by_name[upstream][0].schedule is None and not by_name[upstream][0].continuous:
                starters.setdefault(upstream, []).append(name)
    errors = []
    for upstream, names in starters.items():
        for name in names[1:]:
            spec, doc = by_name[name]
            errors.append(
                ConfigError(
                    doc.file,
                    "schedule.after",
                    f"{upstream} is already started by {names[0]}'s job (two updates of one pipeline collide)",
                    value=upstream,
                    line=doc.line("schedule.after"),
                    hint=f"give {upstream} a schedule of its own: both jobs then start when its tables are updated",
                )
            )
    return errors


def _dr_checks(spec: PipelineSpec, doc: YamlDoc) -> list[ConfigError]:
    if spec.dr is None:
        return []
    errors: list[ConfigError] = []
    seen: set[str] = set()
    for i, table in enumerate(spec.dr.critical_tables):
        key = f"dr.critical_tables[{i}]"
        if table.name in seen:
            errors.append(ConfigError(doc.file, key, "is listed twice", value=table.name, line=doc.line(key)))
        elif table.name not in spec.tables:
            errors.append(
                ConfigError(
                    doc.file,
                    key,
                    "is not one of the pipeline's tables",
                    value=table.name,
                    line=doc.line(key),
                    hint=did_you_mean(table.name, set(spec.tables))
                    or "list every published table under tables: (restores refresh the others)",
                )
            )
        seen.add(table.name)
    if spec.dr.target is not None and spec.dr.target == spec.uc_target:
        errors.append(
            ConfigError(
                doc.file,
                "dr.target",
                "is the pipeline's own target: a snapshot beside its source is lost with it",
                value=spec.dr.target,
                line=doc.line("dr.target"),
                hint="snapshot into another schema, ideally another catalog (a DR catalog)",
            )
        )
    return errors


def _release_checks(spec: PipelineSpec, doc: YamlDoc, cfg: StackConfig) -> list[ConfigError]:
    r = spec.release
    if r is None:
        return []
    errors: list[ConfigError] = []

    def err(key: str, message: str, value: Any = None, hint: str | None = None) -> None:
        errors.append(ConfigError(doc.file, key, message, value=value, line=doc.line(key), hint=hint))

    if r.active not in r.slots:
        err("release.active", "names a slot that is not declared", r.active, f"declared: {', '.join(r.slots)}")
    if not spec.tables:
        err("release", "needs tables: (one stable view per published table)", hint="list the pipeline's tables")
    if spec.import_id:
        err(
            "import_id",
            "goes on the slot that is the existing pipeline",
            spec.import_id,
            "release.slots.<slot>.import_id",
        )
    if sum(slot.adopted for slot in r.slots.values()) > 1:
        err("release.slots", "only one slot can be the pipeline declared before blue/green (adopted: true)")
    schemas = {name: spec.slot_schema(name) for name in r.slots}
    if len(set(schemas.values())) < len(schemas):
        err("release.slots", "slots must publish into different schemas", schemas)
    for name, schema in schemas.items():
        if schema == spec.view_schema:
            err(
                f"release.slots.{name}.schema",
                f"is also the schema of the stable views ({spec.view_schema})",
                schema,
                "set release.view_schema to another schema (consumers read there), see docs/runbooks/release.md",
            )
    for name, slot in r.slots.items():
        key = f"release.slots.{name}"
        if slot.ref is None and (name == r.active or cfg.promote_from is None):
            err(
                key,
                "needs a tag or branch"
                + (" (the active slot runs a pinned version)" if name == r.active else " (no lakeflow:promoteFrom)"),
                hint="the version validated in staging, e.g. tag: v1.5.0",
            )
        if name == r.active and slot.canary_percent is not None:
            err(
                f"{key}.canary_percent", "the active slot serves all data: finish the canary first", slot.canary_percent
            )
        if name == r.active and slot.retired:
            err(f"{key}.retired", "the active slot cannot be retired: cut over first", True)
        elif slot.retired and r.cutover_date is None:
            err(
                f"{key}.retired",
                "needs release.cutover_date, the day of the cutover, so that the rollback window can be kept",
                True,
            )
        elif slot.retired and (end := r.rollback_window_end) is not None and date.today() < end:
            err(
                f"{key}.retired",
                f"is inside the rollback window until {end.isoformat()} "
                f"(cutover {r.cutover_date} + {r.rollback_window_days} days)",
                True,
                "keep the old slot until then: rolling back is flipping active",
            )
    root = cfg.variables.get("REPO_ROOT")
    for i, lib in enumerate(spec.libraries):
        path = lib.path or ""
        if root is None or not path.startswith(root + "/"):
            err(
                f"libraries[{i}]",
                "a blue/green pipeline's code comes from its slots' repos: the path must start with ${REPO_ROOT}/",
                path,
            )
    return errors


def _cycles(by_name: Mapping[str, tuple[PipelineSpec, YamlDoc]]) -> tuple[list[ConfigError], set[str]]:
    """The dependency cycles among `schedule.after`, one error each, and the pipelines in them."""
    graph = {
        n: [u for u in (s.schedule.after if s.schedule else []) if u in by_name and u != n]
        for n, (s, _) in by_name.items()
    }
    errors, done, reported = [], set(), set()
    members: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            cycle = [*trail[trail.index(node) :], node]
            members.update(cycle)
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                doc = by_name[cycle[0]][1]
                errors.append(
                    ConfigError(
                        doc.file,
                        "schedule.after",
                        "dependency cycle: " + " -> ".join(cycle),
                        line=doc.line("schedule.after"),
                        hint="a pipeline must not (indirectly) wait for itself",
                    )
                )
            return
        if node in done:
            return
        for upstream in graph[node]:
            visit(upstream, [*trail, node])
        done.add(node)

    for name in sorted(graph):
        visit(name, [])
    return errors, members
