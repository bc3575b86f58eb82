"""`make import-bundle`: a Databricks Asset Bundle's pipelines as pipeline files of this project.

    python -m lakeflow.config.bundle_import --bundle PATH [--target NAME] [--out DIR] [--root DIR] [--force]
                                     [--bundle-root DIR]

The contract, in order:

1. Files. The bundle file (a `databricks.yml`, or a resources-only file without `bundle:`) is
   read with `lakeflow.config.yaml_source.load_yaml`. Relative paths start from the bundle root: the
   bundle file's folder; for a resources-only file, `--bundle-root`, else the nearest folder
   above it holding a `databricks.yml` (as the CLI reads it), else its own folder. Its
   `include:` globs (relative to the bundle root, never outside it: such a glob is reported and
   skipped) are read too, and everything is
   merged as the Databricks CLI merges it: maps key by key, lists concatenated, pipeline
   `clusters` then merged by `label` (default "default", case-insensitive). Legacy
   `environments:` counts as `targets:`; a pipeline defined only under
   `targets.<t>.resources.pipelines` counts too.
2. One target's pipeline: `resources.pipelines.<key>` merged with
   `targets.<t>.resources.pipelines.<key>` (as above; the Databricks CLI concatenates lists,
   it does not replace them). References:
   - `${var.x}`: the target's `variables.x`, else the variable's `default`; a value that is not
     text (a complex variable, a boolean) replaces a string that is exactly `${var.x}`;
     `${var.x.field}` reads into a complex one. A variable with no value (or a `lookup:`)
     stays `${var.x}`: the loader fills it from the stack variable `x`, reported under
     "define under lakeflow:variables". Variables expanding a pipeline beyond what a pipeline
     file may hold (`yaml_source.MAX_VALUES`) are bad input.
   - `${bundle.target}`, `${bundle.environment}` -> `${ENV}`; `${bundle.name}` -> the bundle's
     name; `${workspace.file_path}` -> `${REPO_ROOT}`.
   - Relative paths in `libraries` (notebook.path, file.path, glob.include, jar, whl) and
     `root_path`, relative to the YAML file that wrote them -> `${REPO_ROOT}/<path from the
     bundle root>`; notebook paths lose `.py/.ipynb/.sql/.scala/.r` as bundles deploy them. A
     path leaving the bundle root is reported and kept.
   - Any other reference (`${workspace.current_user.short_name}`, `${workspace.root_path}`,
     `${resources.schemas.s.name}`, …) cannot be carried over: reported, and written as a
     stack variable named after it in UPPER_SNAKE without a leading `workspace.`
     (`${CURRENT_USER_SHORT_NAME}`, `${ROOT_PATH}`, `${RESOURCES_SCHEMAS_S_NAME}`).
3. Targets. The base of each file is `--target` (unknown: exit 2), else the `default: true`
   target, else no target (a pipeline defined only under targets: its first target). A target
   named like an environment of this project's stacks (`lakeflow:environment` in `--root`'s
   `Pulumi.*.yaml`; also development -> dev, production -> prod, stage/stg -> staging) becomes
   `environments.<env>:` with only what differs from the base: changed or added keys, lists
   whole, `clusters` by label. A key the target lacks cannot be removed by an override:
   reported (except in `run_as`, where the override clears the base's identity with null).
   Other targets, environments without a target, and `mode`, `presets`, `workspace`,
   `artifacts`, `sync`, are reported, once each, with what takes their place here.
4. Fields. `name` is the resource key as a lower-case identifier (other characters -> `_`, a
   leading non-letter prefixed `p_`); the bundle's display name is dropped (the stack names
   the pipeline `<env>_<name>`). The provider's Pipeline fields and this project's keys are
   kept as written; keys in `lakeflow.config.models.REJECTED_PIPELINE_KEYS` and unknown keys are
   dropped, with the reason or `lakeflow.config.models.POINTERS`' advice. `permissions:` is the
   pipeline's plus the bundle's (or the target's) top-level ones, deduplicated, levels other
   than CAN_VIEW, CAN_RUN, CAN_MANAGE (IS_OWNER, …) dropped. `run_as:` is the pipeline's,
   else the target's, else the bundle's (service_principal_name or user_name).
5. Jobs become `schedule:`. A job with `schedule.quartz_cron_expression` (-> `cron`,
   `timezone` from `timezone_id`; `pause_status` is the stack's) or
   `trigger.file_arrival.url` (-> `file_arrival`) that runs pipelines through
   `pipeline_task: {pipeline_id: ${resources.pipelines.<key>.id}}` gives that trigger to each
   pipeline task no other pipeline task of the job depends on, with the pipeline tasks it
   depends on (through `depends_on`, transitively) as `after:`; the stack's job runs those
   first, as the bundle's did. Everything else about jobs is reported (the stack makes them).
6. Output: `<out>/<name>.yaml` per pipeline, a schema comment and a provenance comment, then
   the YAML, `environments:` last. Nothing is written when an output exists (unless
   `--force`), when two pipelines get one name, or when anything else is wrong.
7. Report on stdout: per file, what was not carried over and the `lakeflow:variables` it uses
   that a stack of `--root` does not define (where, and what each stands for). Exit 0 when
   files were written; 2 on bad input (the bundle file missing, unreadable or not YAML, no
   pipelines, unknown `--target`, outputs existing, bad arguments), with one message on
   stderr naming the file and what is wrong.
"""

from __future__ import annotations

import argparse
import copy
import posixpath
import re
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import shorten
from typing import Any

import yaml

from lakeflow.config.errors import ConfigError, _show, did_you_mean
from lakeflow.config.loader import PIPELINES_DIR
from lakeflow.config.models import (
    _ABSOLUTE,
    NAMESPACE,
    PERMISSION_LEVELS,
    POINTERS,
    REJECTED_PIPELINE_KEYS,
    PipelineSpec,
)
from lakeflow.config.placeholders import BUNDLE_HINTS, BUNDLE_REFERENCE, PLACEHOLDER
from lakeflow.config.project import project_root
from lakeflow.config.yaml_source import MAX_VALUES, YamlDoc, join, load_yaml

ROOT = project_root()
SCHEMA_COMMENT = "# yaml-language-server: $schema=pipeline.schema.json"
KNOWN_KEYS = frozenset(f.alias or n for n, f in PipelineSpec.model_fields.items())
ENVIRONMENT_ALIASES = {"development": "dev", "production": "prod", "stage": "staging", "stg": "staging"}
NOTEBOOK_EXTENSIONS = (".py", ".ipynb", ".sql", ".scala", ".r")
LIBRARY_PATHS = (("notebook", "path"), ("file", "path"), ("glob", "include"), ("jar", None), ("whl", None))
DECLARATION_KEYS = frozenset({"default", "description", "type", "lookup"})
FILE_ARRIVAL_KEYS = ("url", "min_time_between_triggers_seconds", "wait_after_last_change_seconds")
NOT_CARRIED = {
    "mode": "the stack's lakeflow:mode is it (development: pipelines in development mode; production: "
    "production rules), with lakeflow:schedulePauseStatus for schedules",
    "presets": "the stack names resources <env>_<name>, tags them (lakeflow:team, lakeflow:costCenter) and "
    "pauses schedules (lakeflow:schedulePauseStatus)",
    "workspace": "the workspace is the stack's Databricks provider (databricks:host in Pulumi.<stack>.yaml); "
    "code paths are ${REPO_ROOT}/...",
    "artifacts": "build wheels and jars in CI and list their uploaded paths under libraries:",
    "sync": "the stack uploads no files: keep the code in a Git folder at lakeflow:variables.REPO_ROOT",
}
_ANY_REFERENCE = re.compile(r"\$\{([^${}]*)\}")
_PIPELINE_ID = re.compile(r"\$\{resources\.pipelines\.([^.{}]+)\.id\}")
_MISSING = object()


class BundleError(Exception):
    """Bad input (exit 2); the message names the file and what is wrong."""


@dataclass
class Imported:
    key: str
    """The bundle's resource key."""
    name: str
    data: dict[str, Any]
    notes: list[str]
    variables: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    """Stack variable -> (where the file uses it, what it stands for in the bundle)."""


@dataclass
class BundleImport:
    pipelines: list[Imported]
    notes: list[str]
    """About the bundle as a whole."""
    base: str | None
    environments: dict[str, str]
    """Target -> the environment it became."""


def logical_name(key: str) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", key.lower())
    return name if name[:1].isalpha() else "p_" + name.lstrip("_")


def upper_snake(reference: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", reference.removeprefix("workspace."))
    return re.sub(r"[^A-Za-z0-9]+", "_", spaced).strip("_").upper()


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return kinds.get(type(value), type(value).__name__)


def _text(value: Any) -> str:
    """A scalar inside a string, as bundles write it (booleans in lower case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def merge(a: Any, b: Any) -> Any:
    """The Databricks CLI's merge (libs/dyn/merge): maps key by key, lists concatenated, null
    yields the other side, anything else the later value. Nothing is modified."""
    if b is None:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        return {**a, **{k: merge(a[k], v) if k in a else v for k, v in b.items()}}
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return b


def _by_label(clusters: list[Any]) -> list[Any]:
    """Pipeline clusters merged by label, as the CLI does after merging a target."""
    labelled: dict[str, Any] = {}
    for c in clusters:
        if isinstance(c, dict):
            label = "default" if c.get("label") is None else _text(c["label"]).lower()
            labelled[label] = merge(labelled.get(label), {**c, "label": label})
    return [labelled[k] for k in sorted(labelled)] + [c for c in clusters if not isinstance(c, dict)]


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, join(path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, join(path, i))
    elif isinstance(value, str):
        yield path, value


def _bundle_root(resources_file: Path) -> Path:
    """Where a resources-only file's relative paths start from: the nearest folder above it that
    holds the bundle's `databricks.yml` (as the CLI, which includes the file from there, reads
    it), else the file's own folder."""
    for folder in list(resources_file.resolve().parents)[:16]:
        if any((folder / name).is_file() for name in BUNDLE_FILES):
            return folder
    return resources_file.parent


BUNDLE_FILES = ("databricks.yml", "databricks.yaml", "bundle.yml", "bundle.yaml")


class _Bundle:
    """The merged bundle, and what one target makes of each pipeline."""

    def __init__(self, path: Path, display: str, root: Path | None = None):
        self.path, self.display = path, display
        self.notes: dict[str, dict[str, None]] = {}  # pipeline key ("": the bundle) -> notes, in order
        self.origins: dict[str, str] = {}  # stack variable -> what it stands for in the bundle
        self.pipeline_jobs: set[str] = set()
        self.steps = 0
        main = self._read(path, display)
        self.root = root or (path.parent if "bundle" in main else _bundle_root(path))
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise BundleError(f"{display}: is not inside the bundle root {self.root}")
        data = self._normalise(main, display, path.resolve().relative_to(self.root.resolve()).as_posix())
        for rel in self._includes(main.get("include")):
            shown = (Path(display).parent / rel).as_posix()
            data = merge(data, self._normalise(self._read(self.root / rel, shown), shown, rel))
        self.data = data
        self.resources: dict[str, Any] = data["resources"]
        self.variables: dict[str, Any] = data["variables"]
        self.targets: dict[str, dict[str, Any]] = data["targets"]
        bundle = data.get("bundle")
        self.name = bundle.get("name") if isinstance(bundle, dict) else None
        self._schedules: dict[str | None, dict[str, dict[str, Any]]] = {}

    def note(self, key: str, text: str) -> None:
        self.notes.setdefault(key, {})[text] = None

    # --- files -----------------------------------------------------------------------------------

    def _read(self, path: Path, display: str) -> dict[Any, Any]:
        doc = load_yaml(path, display)
        if isinstance(doc, ConfigError):
            raise BundleError(doc.render())
        if doc.data is not None and not isinstance(doc.data, dict):
            raise BundleError(f"{display}: is {_kind(doc.data)}; a bundle file is a mapping (bundle:, resources:, …)")
        return doc.data or {}

    def _includes(self, include: Any) -> list[str]:
        if include is None:
            return []
        if not isinstance(include, list) or not all(isinstance(g, str) and g for g in include):
            raise BundleError(f"{self.display}: include: must be a list of file globs, not {_show(include)}")
        root, found = self.root.resolve(), []
        for pattern in include:
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                self.note("", f"include: {pattern!r}: outside the bundle's directory; not read")
                continue
            try:
                matches = sorted(self.root.glob(pattern))
            except (OSError, ValueError, NotImplementedError) as exc:
                self.note("", f"include: {pattern!r}: not a usable glob ({exc}); not read")
                continue
            for match in matches:
                resolved = match.resolve()
                if not resolved.is_relative_to(root):
                    self.note("", f"include: {pattern!r}: {match.name} leads outside the bundle's directory; not read")
                elif match.is_file() and resolved != self.path.resolve():
                    found.append(resolved.relative_to(root).as_posix())
        return list(dict.fromkeys(found))

    def _normalise(self, data: dict[Any, Any], display: str, rel: str) -> dict[str, Any]:
        """One file's sections checked for shape (keys as text), `environments` read as `targets`,
        and the relative paths of its pipelines made `${REPO_ROOT}/...` (relative to this file)."""

        def mapping(value: Any, key: str) -> dict[str, Any]:
            if value is None:
                return {}
            if not isinstance(value, dict):
                raise BundleError(f"{display}: {key}: must be a mapping, not {_kind(value)} ({_show(value)})")
            return {str(k): v for k, v in value.items()}

        def resources(value: Any, key: str) -> dict[str, Any]:
            section = mapping(value, key)
            pipelines = section["pipelines"] = mapping(section.get("pipelines"), join(key, "pipelines"))
            for name, pipeline in pipelines.items():
                if pipeline is not None:
                    pipelines[name] = mapping(pipeline, join(join(key, "pipelines"), name))
                    self._paths(pipelines[name], posixpath.dirname(rel), display, name)
            section["jobs"] = mapping(section.get("jobs"), join(key, "jobs"))
            return section

        out = {str(k): v for k, v in data.items() if k not in ("include", "environments")}
        out["resources"] = resources(data.get("resources"), "resources")
        out["variables"] = mapping(data.get("variables"), "variables")
        out["targets"] = {}
        for section in ("targets", "environments"):
            for name, target in mapping(data.get(section), section).items():
                where = join(section, name)
                target = mapping(target, where)
                target["resources"] = resources(target.get("resources"), join(where, "resources"))
                target["variables"] = mapping(target.get("variables"), join(where, "variables"))
                out["targets"][name] = merge(out["targets"].get(name), target)
        return out

    def _paths(self, pipeline: dict[str, Any], rel_dir: str, display: str, key: str) -> None:
        libraries = pipeline.get("libraries")
        for i, library in enumerate(libraries if isinstance(libraries, list) else []):
            for kind, attr in LIBRARY_PATHS:
                holder, name = (library.get(kind), attr) if attr and isinstance(library, dict) else (library, kind)
                if isinstance(holder, dict) and isinstance(holder.get(name), str):
                    where = f"libraries[{i}].{kind}" + (f".{attr}" if attr else "")
                    holder[name] = self._path(holder[name], rel_dir, where, display, key, kind == "notebook")
        if isinstance(pipeline.get("root_path"), str):
            pipeline["root_path"] = self._path(pipeline["root_path"], rel_dir, "root_path", display, key, False)

    def _path(self, path: str, rel_dir: str, where: str, display: str, key: str, notebook: bool) -> str:
        if _ABSOLUTE.match(path) or path.startswith("${"):
            return path
        joined = posixpath.normpath(posixpath.join(rel_dir, path))
        if joined == ".." or joined.startswith("../"):
            self.note(
                key,
                f"{where}: {path!r} ({display}) leads outside the bundle's directory; kept as written "
                "(write its workspace path)",
            )
            return path
        if notebook and joined.lower().endswith(NOTEBOOK_EXTENSIONS):
            joined = joined.rsplit(".", 1)[0]
        return "${REPO_ROOT}" if joined == "." else "${REPO_ROOT}/" + joined

    # --- targets ---------------------------------------------------------------------------------

    def pipeline_keys(self) -> list[str]:
        keys = list(self.resources["pipelines"])
        for target in self.targets.values():
            keys += [k for k in target["resources"]["pipelines"] if k not in keys]
        return keys

    def definition(self, key: str, target: str | None) -> dict[str, Any]:
        """The pipeline as `target` (None: no target) deploys it; {} when it does not."""
        override = self.targets[target]["resources"]["pipelines"].get(key) if target is not None else None
        doc = merge(self.resources["pipelines"].get(key), override) or {}
        return {**doc, "clusters": _by_label(doc["clusters"])} if isinstance(doc.get("clusters"), list) else doc

    def setting(self, target: str | None, name: str) -> tuple[str, Any]:
        """(where, value) of top-level `run_as` / `permissions`: a target's replaces the bundle's."""
        if target is not None and self.targets[target].get(name) is not None:
            return f"targets.{target}.{name}", self.targets[target][name]
        return f"top-level {name}", self.data.get(name)

    # --- one pipeline file -----------------------------------------------------------------------

    def pipeline_file(
        self, key: str, definition: dict[str, Any], target: str | None, imported: Collection[str]
    ) -> dict[str, Any]:
        """The pipeline file for one target, references resolved (rules 2, 4 and 5)."""
        name = logical_name(key)
        doc: dict[str, Any] = {"name": name}
        self.steps = 0
        for k, value in definition.items():
            if k == "name":
                self.note(key, f"name: {_show(value)}: the bundle's display name; the stack names it <env>_{name}")
            elif k in REJECTED_PIPELINE_KEYS:
                self.note(key, f"{k}: {_show(value)}: dropped: {REJECTED_PIPELINE_KEYS[k]}")
            elif k not in KNOWN_KEYS:
                hint = POINTERS.get(k) or did_you_mean(k, KNOWN_KEYS) or "see pipelines/pipeline.schema.json"
                self.note(key, f"{k}: not a field of the provider's Pipeline or of this stack; dropped ({hint})")
            elif k not in ("permissions", "run_as"):
                doc[k] = value
        doc = self.resolve(doc, "", target, key, frozenset())

        def resolved(where: str, value: Any) -> tuple[str, Any]:
            return where, self.resolve(value, where, target, key, frozenset())

        own = resolved("permissions", definition.get("permissions"))
        if permissions := self._permissions(key, [own, resolved(*self.setting(target, "permissions"))]):
            doc["permissions"] = permissions
        run_as = ("run_as", definition["run_as"]) if definition.get("run_as") else self.setting(target, "run_as")
        if (kept := self._run_as(key, *resolved(*run_as))) is not None:
            doc["run_as"] = kept
        if schedule := self.schedules(target, imported).get(key):
            if "schedule" in doc:
                self.note(key, "schedule: the pipeline's own is kept; the bundle's job for it is not carried over")
            else:
                doc["schedule"] = resolved("schedule", schedule)[1]
        return doc

    def _permissions(self, key: str, sources: list[tuple[str, Any]]) -> list[Any]:
        kept: list[Any] = []
        for where, entries in sources:
            if entries is not None and not isinstance(entries, list):
                self.note(key, f"{where}: {_show(entries)}: not a list of permissions; dropped")
                continue
            for i, entry in enumerate(entries or []):
                level = entry.get("level") if isinstance(entry, dict) else None
                if level in PERMISSION_LEVELS:
                    kept += [] if entry in kept else [entry]
                elif level == "IS_OWNER":
                    self.note(
                        key,
                        f"{where}[{i}]: IS_OWNER: dropped: the run-as principal owns the pipeline "
                        "(run_as:, or lakeflow:runAs)",
                    )
                else:
                    self.note(
                        key,
                        f"{where}[{i}]: {_show(entry)}: dropped: a pipeline's levels here are "
                        f"{', '.join(PERMISSION_LEVELS)}",
                    )
        return kept

    def _run_as(self, key: str, where: str, run_as: Any) -> dict[str, Any] | None:
        if run_as is None:
            return None
        fields = ("service_principal_name", "user_name")
        kept = {k: v for k, v in run_as.items() if k in fields} if isinstance(run_as, dict) else {}
        if len(kept) != 1:
            self.note(
                key,
                f"{where}: {_show(run_as)}: dropped: run_as names one service_principal_name or user_name "
                "(else the stack's lakeflow:runAs applies)",
            )
            return None
        if kept != run_as:
            self.note(key, f"{where}: {_show(run_as)}: only {next(iter(kept))} is carried over")
        return kept

    # --- jobs ------------------------------------------------------------------------------------

    def schedules(self, target: str | None, imported: Collection[str]) -> dict[str, dict[str, Any]]:
        """Pipeline key -> `schedule:`, from the jobs `target` deploys (rule 5)."""
        if target in self._schedules:
            return self._schedules[target]
        schedules: dict[str, dict[str, Any]] = {}
        overrides = self.targets[target]["resources"]["jobs"] if target is not None else {}
        jobs = self.resources["jobs"]
        for job_key in dict.fromkeys([*jobs, *overrides]):
            job = merge(jobs.get(job_key), overrides.get(job_key))
            listed = job.get("tasks") if isinstance(job, dict) else None
            tasks: dict[Any, dict[str, Any]] = {}  # merged by task_key, as the CLI does
            for task in listed if isinstance(listed, list) else []:
                if isinstance(task, dict):
                    tasks[task.get("task_key")] = merge(tasks.get(task.get("task_key")), task)
            runs: dict[Any, str] = {}  # task key -> pipeline key
            for task_key, task in tasks.items():
                pipeline_task = task.get("pipeline_task")
                pipeline_id = pipeline_task.get("pipeline_id") if isinstance(pipeline_task, dict) else None
                if isinstance(pipeline_id, str) and (m := _PIPELINE_ID.fullmatch(pipeline_id)):
                    runs[task_key] = m.group(1)
            if not isinstance(job, dict) or not runs:
                continue
            self.pipeline_jobs.add(job_key)
            where = f"resources.jobs.{job_key}"
            trigger = self._trigger(job, where, runs.values())
            for task_key, pipeline in runs.items():
                self._job_notes(pipeline, where, job, tasks, runs)
                if trigger is None:
                    continue
                if any(task_key in self._upstream(other, tasks) for other in runs if other != task_key):
                    self.note(
                        pipeline,
                        f"{where}: no schedule of its own: the stack's job of the pipeline that "
                        "depends on it runs it first (that pipeline's schedule.after)",
                    )
                    continue
                upstream = [t for t in self._upstream(task_key, tasks) if t in runs and runs[t] != pipeline]
                for missing in dict.fromkeys(runs[t] for t in upstream if runs[t] not in imported):
                    self.note(pipeline, f"{where}: runs {missing} first, which the bundle does not define; dropped")
                after = list(dict.fromkeys(logical_name(runs[t]) for t in upstream if runs[t] in imported))
                if len(after) > 1 and any(set(self._upstream(t, tasks)) & set(runs) for t in upstream):
                    self.note(
                        pipeline,
                        f"{where}: the stack's job runs {', '.join(after)} side by side before it; "
                        "the bundle's job ran them in order",
                    )
                if pipeline in schedules:
                    self.note(pipeline, f"{where}: a second job of the pipeline; its trigger is not carried over")
                else:
                    schedules[pipeline] = {**trigger, **({"after": after} if after else {})}
        self._schedules[target] = schedules
        return schedules

    def _trigger(self, job: dict[str, Any], where: str, pipelines: Collection[str]) -> dict[str, Any] | None:
        schedule, trigger = job.get("schedule"), job.get("trigger")
        arrival = trigger.get("file_arrival") if isinstance(trigger, dict) else None
        found: dict[str, Any] | None = None
        if isinstance(schedule, dict) and schedule.get("quartz_cron_expression"):
            found = {"cron": schedule["quartz_cron_expression"]}
            found |= {"timezone": schedule["timezone_id"]} if schedule.get("timezone_id") else {}
        elif isinstance(arrival, dict) and arrival.get("url"):
            found = {"file_arrival": {k: arrival[k] for k in FILE_ARRIVAL_KEYS if k in arrival}}
        for pipeline in pipelines:
            if found is None:
                self.note(
                    pipeline,
                    f"{where}: runs it without a cron schedule or file-arrival trigger; not carried "
                    "over (write schedule: {cron: ...} or {file_arrival: {url: ...}})",
                )
            for holder, name in ((schedule, "schedule"), (trigger, "trigger")):
                if isinstance(holder, dict) and "pause_status" in holder:
                    self.note(
                        pipeline, f"{where}.{name}.pause_status: the stack's lakeflow:schedulePauseStatus decides it"
                    )
            if isinstance(trigger, dict) and (
                other := [str(k) for k in trigger if k not in ("file_arrival", "pause_status")]
            ):
                self.note(
                    pipeline,
                    f"{where}.trigger: {', '.join(other)}: not carried over (schedule: takes cron, "
                    "file_arrival or after)",
                )
        return found

    @staticmethod
    def _upstream(task_key: Any, tasks: dict[Any, dict[str, Any]]) -> list[Any]:
        """The task keys `task_key` depends on, directly or not, nearest first."""
        seen: list[Any] = []
        todo = [task_key]
        while todo:
            depends = (tasks.get(todo.pop(0)) or {}).get("depends_on")
            for d in depends if isinstance(depends, list) else []:
                up = d.get("task_key") if isinstance(d, dict) else None
                if up is not None and up != task_key and up not in seen:
                    seen.append(up)
                    todo.append(up)
        return seen

    def _job_notes(
        self, pipeline: str, where: str, job: dict[str, Any], tasks: dict[Any, Any], runs: dict[Any, str]
    ) -> None:
        settings = [str(k) for k in job if k not in ("name", "tasks", "schedule", "trigger")]
        others = [str(k) for k in tasks if k not in runs]
        task_settings = sorted(
            {str(k) for t in runs for k in tasks[t]} - {"task_key", "pipeline_task", "depends_on"}
            | {f"pipeline_task.{k}" for t in runs for k in tasks[t]["pipeline_task"] if k != "pipeline_id"}
        )
        for what, keys in (("", settings), (" tasks", others), (" pipeline tasks'", task_settings)):
            if keys:
                self.note(
                    pipeline,
                    f"{where}{what}: {', '.join(keys)}: not carried over (the stack makes the job from "
                    "schedule:, with its own retries, lakeflow:failureEmails and health rules)",
                )

    # --- references ------------------------------------------------------------------------------

    def resolve(self, value: Any, path: str, target: str | None, key: str, seen: frozenset[str]) -> Any:
        self.steps += 1
        if self.steps > MAX_VALUES:
            raise BundleError(
                f"{self.display}: resources.pipelines.{key}: its variables expand to over {MAX_VALUES:,} values, "
                "more than a pipeline file may hold"
            )
        if isinstance(value, dict):
            return {k: self.resolve(v, join(path, str(k)), target, key, seen) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, join(path, i), target, key, seen) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        if whole := _ANY_REFERENCE.fullmatch(value):
            return self._reference(whole.group(1), path, target, key, seen)

        def fill(m: re.Match[str]) -> str:
            found = self._reference(m.group(1), path, target, key, seen)
            if isinstance(found, dict | list):
                self.note(key, f"{path}: {m.group(0)} is a complex variable inside text; kept")
                return m.group(0)
            return _text(found)

        return _ANY_REFERENCE.sub(fill, value)

    def _reference(self, inner: str, path: str, target: str | None, key: str, seen: frozenset[str]) -> Any:
        """What `${inner}` becomes: a variable's value (resolved), or the reference to write."""
        written = "${" + inner + "}"
        if PLACEHOLDER.fullmatch(written):
            return written  # this stack's ${NAME}
        if not BUNDLE_REFERENCE.fullmatch(written):
            self.note(key, f"{path}: {written}: neither a bundle reference nor a ${{NAME}}; kept (write the value)")
            return written
        scope, name, *parts = re.findall(r"[^.\[\]]+", inner)
        if scope == "var":
            if name in seen:
                self.note(key, f"{path}: {written}: the variable refers to itself; kept")
                return written
            found, value = self._variable(name, target)
            for part in parts if found else []:
                if isinstance(value, dict):
                    value = value.get(part, _MISSING)
                elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                    value = value[int(part)]
                else:
                    value = _MISSING
            if found and value is not _MISSING:
                return self.resolve(copy.deepcopy(value), path, target, key, seen | {name})
            if not parts:
                self.origins.setdefault(name, self._declared(name))
                return written  # the loader fills it from the stack variable `name`
        elif inner in ("bundle.target", "bundle.environment"):
            return "${ENV}"
        elif inner == "workspace.file_path":
            return "${REPO_ROOT}"
        elif inner == "bundle.name" and isinstance(self.name, str):
            return self.name
        variable = upper_snake(inner)
        hint = BUNDLE_HINTS.get(scope, "this stack does not resolve it")
        self.note(key, f"{path}: {written} cannot be carried over ({hint}); written ${{{variable}}}")
        self.origins.setdefault(variable, f"stands for the bundle's {written}")
        return "${" + variable + "}"

    def _variable(self, name: str, target: str | None) -> tuple[bool, Any]:
        """(whether it has a value, the value) of the bundle variable `name` in `target`: the
        target's value, else the declared default; none for a `lookup:`."""
        given = self.targets[target]["variables"].get(name) if target is not None else None
        for value, declaration in ((given, False), (self.variables.get(name), True)):
            if isinstance(value, dict) and (declaration or set(value) <= DECLARATION_KEYS):
                if "lookup" in value:
                    return False, None
                if value.get("default") is not None:
                    return True, value["default"]
            elif value is not None:
                return True, value
        return False, None

    def _declared(self, name: str) -> str:
        declared = self.variables.get(name)
        if not isinstance(declared, dict):
            return "a variable the bundle does not declare"
        what = (
            f"the bundle looks it up: {_show(declared['lookup'])}"
            if "lookup" in declared
            else "no default in the bundle"
        )
        description = declared.get("description")
        return what + (f"; {shorten(str(description), 100)}" if description else "")


# --- the import -----------------------------------------------------------------------------------


def diff(new: dict[Any, Any], old: dict[Any, Any], path: str, removed: list[str]) -> dict[Any, Any]:
    """What `new` changes or adds to `old`, as an `environments.<env>` override: maps key by key,
    `clusters` by label, other lists whole. Keys `new` lacks go to `removed`."""
    out: dict[Any, Any] = {}
    for k, value in new.items():
        before = old.get(k, _MISSING)
        where = join(path, str(k))
        if isinstance(value, dict) and isinstance(before, dict):
            gone: list[str] = []
            changed = diff(value, before, where, gone)
            if where == "run_as":  # one identity or the other: the override clears the base's
                changed |= {path.rsplit(".", 1)[-1]: None for path in gone}
            else:
                removed += gone
            if changed:
                out[k] = changed
        elif (
            k == "clusters"
            and isinstance(value, list)
            and isinstance(before, list)
            and all(isinstance(c, dict) for c in [*value, *before])
        ):
            labelled = {c.get("label", "default"): c for c in before}
            clusters = []
            for c in value:
                label = c.get("label", "default")
                if label not in labelled:
                    clusters.append(c)
                elif changed := diff(c, labelled.pop(label), f"{where}(label {label})", removed):
                    clusters.append({"label": label, **changed})
            removed += [f"{where}(label {label})" for label in labelled]
            if clusters:
                out[k] = clusters
        elif value != before:
            out[k] = value
    removed += [join(path, str(k)) for k in old if k not in new]
    return out


def _environment_of(targets: Collection[str], envs: Collection[str]) -> dict[str, str]:
    """Target -> environment: by its own name, else by alias; one target per environment."""
    chosen: dict[str, str] = {}
    for aliased in (False, True):
        for t in targets:
            env = ENVIRONMENT_ALIASES.get(t) if aliased else t
            if env is not None and env in envs and env not in chosen.values() and t not in chosen:
                chosen[t] = env
    return {t: chosen[t] for t in targets if t in chosen}


def import_bundle(
    bundle: Path,
    *,
    envs: Collection[str],
    target: str | None = None,
    display: str | None = None,
    bundle_root: Path | None = None,
) -> BundleImport:
    """The pipeline files of `bundle` (rules 1-5 of the module docstring); `envs`: the project's
    environments; `bundle_root`: where relative paths start (rule 1). Raises BundleError on bad input."""
    b = _Bundle(bundle, display or str(bundle), bundle_root)
    if target is not None and target not in b.targets:
        raise BundleError(
            f"{b.display}: --target {target!r} is not a target of the bundle "
            f"(targets: {', '.join(b.targets) or 'none'})"
        )
    base = target if target is not None else next((t for t, v in b.targets.items() if v.get("default") is True), None)
    mapped = _environment_of(b.targets, envs)
    definitions = {
        key: {t: b.definition(key, t) for t in dict.fromkeys([base, *b.targets])} for key in b.pipeline_keys()
    }
    imported = [key for key, by_target in definitions.items() if any(by_target.values())]
    for key in definitions.keys() - set(imported):
        b.note("", f"resources.pipelines.{key}: empty; not imported")
    if not imported:
        raise BundleError(
            f"{b.display}: defines no pipelines (resources.pipelines.<key> in it, in the files it includes or under "
            "its targets)"
        )
    names: dict[str, str] = {}
    for key in imported:
        if (other := names.setdefault(logical_name(key), key)) != key:
            raise BundleError(
                f"{b.display}: pipelines {other!r} and {key!r} would both be {logical_name(key)}.yaml; rename one"
            )

    pipelines: list[Imported] = []
    for key in imported:
        by_target = definitions[key]
        base_of = base if by_target[base] else next(t for t, d in by_target.items() if d)
        if base_of != base:
            b.note(key, f"defined only under targets: the file's base is its definition in targets.{base_of}")
        data = b.pipeline_file(key, by_target[base_of], base_of, imported)
        environments: dict[str, Any] = {}
        for t, env in mapped.items():
            if not by_target[t]:
                b.note(
                    key,
                    f"targets.{t} does not deploy it; the stack deploys every pipeline file in every "
                    f"environment, {env} too",
                )
                continue
            removed: list[str] = []
            if override := diff(b.pipeline_file(key, by_target[t], t, imported), data, "", removed):
                environments[env] = override
            for path in removed:
                b.note(
                    key,
                    f"environments.{env}: targets.{t} has no {path}, which the base sets; an override cannot "
                    "remove it (check the file)",
                )
        if environments:
            data["environments"] = environments
        pipelines.append(Imported(key, data["name"], data, list(b.notes.get(key, {}))))

    for section, text in NOT_CARRIED.items():
        places = ["the bundle"] if section in b.data else []
        places += [f"targets.{t}" for t, v in b.targets.items() if section in v]
        if places:
            b.note("", f"{section} ({', '.join(places)}): not carried over; {text}")
    for t in b.targets:
        if t not in mapped and t != base:
            b.note(
                "",
                f"targets.{t}: no environment {t!r} in this project's stacks ({', '.join(sorted(envs)) or 'none'})"
                "; not carried over",
            )
    if b.targets and (untargeted := sorted(set(envs) - set(mapped.values()))):
        b.note(
            "",
            f"environments {', '.join(untargeted)}: no target of the bundle; they deploy the base "
            f"({'targets.' + base if base else 'the bundle without a target'}): check it suits them",
        )
    sections = [b.resources, *(v["resources"] for v in b.targets.values())]
    if others := sorted({k for r in sections for k, v in r.items() if v} - {"pipelines", "jobs"}):
        b.note(
            "",
            f"resources: {', '.join(others)}: not carried over (this project deploys pipelines, and their jobs "
            "from schedule:)",
        )
    if jobs := sorted({k for r in sections for k in r["jobs"]} - b.pipeline_jobs):
        b.note("", f"resources.jobs: {', '.join(jobs)}: run no pipeline of the bundle; not carried over")
    for p in pipelines:
        p.variables = {name: (where, b.origins.get(name, "")) for name, where in _variables(p.data).items()}
    return BundleImport(pipelines, list(b.notes.get("", {})), base, mapped)


def _variables(data: Any) -> dict[str, list[str]]:
    """Stack variable -> where the pipeline file uses it."""
    used: dict[str, list[str]] = {}
    for path, text in _strings(data):
        names = [m.group(2) for m in PLACEHOLDER.finditer(text) if not m.group(1)]
        names += [
            m.group(1)[4:]
            for m in BUNDLE_REFERENCE.finditer(text)
            if m.group(1).count(".") == 1 and m.group(1).startswith("var.")
        ]
        for name in names:
            if name != "ENV":
                used.setdefault(name, []).append(path)
    return used


# --- files and report ----------------------------------------------------------------------------


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(p: Imported, source: str) -> str:
    given = re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", "?", source)  # one comment line, whatever the path
    body = yaml.dump(p.data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120)
    return f"{SCHEMA_COMMENT}\n# Imported from {given} by make import-bundle; see the notes it printed.\n{body}"


def write(result: BundleImport, out: Path, source: str, force: bool) -> list[Path]:
    """Every file, or none: refused while one exists (unless `force`)."""
    files = {out / f"{p.name}.yaml": render(p, source) for p in result.pipelines}
    if not force and (existing := [str(f) for f in files if f.exists() or f.is_symlink()]):
        raise BundleError(
            f"{', '.join(existing)}: already exist{'s' if len(existing) == 1 else ''}; nothing written "
            "(FORCE=1 / --force overwrites)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BundleError(f"{exc.filename or out}: cannot be written: {exc.strerror}") from None
    return list(files)


def stack_variables(root: Path) -> dict[str, tuple[str, set[str]]]:
    """Stack file -> (its lakeflow:environment, the names under its lakeflow:variables)."""
    stacks = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        doc = load_yaml(path, path.name)
        config = doc.data.get("config") if isinstance(doc, YamlDoc) and isinstance(doc.data, dict) else None
        env = config.get(f"{NAMESPACE}:environment") if isinstance(config, dict) else None
        if isinstance(env, str):
            variables = config.get(f"{NAMESPACE}:variables") if isinstance(config, dict) else None
            stacks[path.name] = (env, {str(k) for k in variables} if isinstance(variables, dict) else set())
    return stacks


def report(result: BundleImport, written: list[Path], stacks: dict[str, tuple[str, set[str]]], source: str) -> str:
    base = f"target {result.base}" if result.base else "the bundle without a target"
    envs = ", ".join(f"{env} from target {t}" for t, env in result.environments.items()) or "none"
    lines = [f"Imported {len(written)} pipeline(s) from {source} (base: {base}; environments: {envs})"]
    for p, path in zip(result.pipelines, written, strict=True):
        lines.append(f"{path}  (resources.pipelines.{p.key})")
        if p.notes:
            lines += ["  not carried over:", *(f"    - {n}" for n in p.notes)]
        missing = []
        for name, (where, origin) in p.variables.items():
            lacking = [f for f, (_, names) in stacks.items() if name not in names]
            if lacking or not stacks:
                used = ", ".join(where[:3]) + (", …" if len(where) > 3 else "")
                extra = "; ".join(x for x in (origin, f"not in {', '.join(lacking)}" if lacking else "") if x)
                missing.append(f"    - {name}: {used}" + (f" ({extra})" if extra else ""))
        if missing:
            lines += [f"  define under {NAMESPACE}:variables:", *missing]
    if result.notes:
        lines += ["The bundle as a whole, not carried over:", *(f"  - {n}" for n in result.notes)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make import-bundle",
        description="Write a Databricks Asset Bundle's pipelines as pipeline files (rules: this module's docstring).",
    )
    parser.add_argument("--bundle", required=True, help="databricks.yml, or a resources .yml")
    parser.add_argument(
        "--target", help="the bundle target that is the base of the files (default: its default target)"
    )
    parser.add_argument("--out", help=f"where the files go (default: <root>/{PIPELINES_DIR})")
    parser.add_argument("--root", default=str(ROOT), help="the project: its Pulumi.*.yaml name the environments")
    parser.add_argument("--force", action="store_true", help="overwrite existing pipeline files")
    parser.add_argument(
        "--bundle-root",
        help="the bundle's folder, for a resources file (default: the nearest one holding databricks.yml)",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the problem
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if not args.bundle:
            raise BundleError("--bundle: give the bundle file: make import-bundle BUNDLE=<path to databricks.yml>")
        root = Path(args.root)
        stacks = stack_variables(root)
        result = import_bundle(
            Path(args.bundle),
            envs={env for env, _ in stacks.values()},
            target=args.target,
            display=args.bundle,
            bundle_root=Path(args.bundle_root) if args.bundle_root else None,
        )
        written = write(result, Path(args.out) if args.out else root / PIPELINES_DIR, args.bundle, args.force)
    except BundleError as exc:
        print(f"import-bundle: {exc}", file=sys.stderr)
        return 2
    print(report(result, written, stacks, args.bundle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
