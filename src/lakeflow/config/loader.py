"""Load one stack's settings: `Pulumi.<stack>.yaml` config plus every `pipelines/*.yaml`.

Data flow, in order (each step reports all of its problems before the next runs on good data):

1. stack config (namespace `lakeflow:`) -> `StackConfig`;
2. each pipeline file: YAML -> `environments.<env>` overrides merged in -> `${VAR}` filled from
   `lakeflow:variables` (+ `ENV`) -> `PipelineSpec`;
3. rules across fields and files: duplicate names, `schedule.after` targets and cycles,
   production guard rails, worker caps.

Any error anywhere -> one `ConfigErrors` listing all of them; nothing is returned, so nothing can
be registered.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_snake

from lakeflow.components.types import Tag
from lakeflow.config.errors import ConfigError, ConfigErrors, did_you_mean
from lakeflow.config.models import (
    PATTERN_WORDS,
    POINTERS,
    REJECTED_PIPELINE_KEYS,
    SECRET_KEYS,
    EventLog,
    Mode,
    PipelineSpec,
    StackConfig,
    needed_secrets,
    personal,
)
from lakeflow.config.yaml_source import YamlDoc, join, load_yaml

NAMESPACE = "lakeflow"
PIPELINES_DIR = "pipelines"
_PLACEHOLDER = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class StackSettings:
    """One stack's validated settings; the only input of `stack.build`."""

    project: str
    stack: str
    config: StackConfig
    pipelines: tuple[PipelineSpec, ...]
    sources: Mapping[str, str]  # pipeline name -> file it came from

    @property
    def production(self) -> bool:
        return self.config.mode is Mode.PRODUCTION

    def pipeline(self, name: str) -> PipelineSpec:
        return next(p for p in self.pipelines if p.name == name)


def load_settings(
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: set[str],
    root: Path,
) -> StackSettings:
    """Validate `config` (Pulumi's flat ``ns:key -> string`` map) and the pipeline files."""
    stack_file = f"Pulumi.{stack}.yaml"
    stack_doc = load_yaml(root / stack_file, stack_file) if (root / stack_file).exists() else None
    stack_lines = stack_doc if isinstance(stack_doc, YamlDoc) else YamlDoc(stack_file, None)

    stack_config, errors, raw = _load_stack_config(config, secret_keys, stack_lines)
    if isinstance(stack_lines.data, dict) and isinstance(stack_lines.data.get("config"), dict):
        errors += refused_values(stack_lines, stack_lines.data["config"], "config", SECRET_KEYS)
    # Pipeline files only need the environment and the variables: when those two are usable,
    # check the files even if another stack key is wrong, so one run shows every problem.
    env = stack_config.environment if stack_config else raw.get("environment")
    variables = stack_config.variables if stack_config else raw.get("variables", {})
    if not (isinstance(env, str) and isinstance(variables, dict)):
        raise ConfigErrors(
            errors, [f"the pipeline files: {stack_file} has no usable lakeflow:environment and lakeflow:variables"]
        )

    known_envs = _known_environments(root) | {env}
    variables = {**{k: str(v) for k, v in variables.items()}, "ENV": env}
    pipelines: list[tuple[PipelineSpec, YamlDoc]] = []
    declared: set[str] = set()  # names in files, including files with errors
    unchecked: list[str] = []  # files the rules across files could not look at
    files = sorted((root / PIPELINES_DIR).glob("*.y*ml"))
    if not files:
        errors.append(ConfigError(f"{PIPELINES_DIR}/", "", "holds no pipeline files (*.yaml)"))
    for path in files:
        spec, doc, file_errors = _load_pipeline(path, root, env, known_envs, variables)
        errors += file_errors
        if doc is not None and isinstance(doc.data, dict) and isinstance(doc.data.get("name"), str):
            declared.add(doc.data["name"])
        if spec is not None and doc is not None:
            if stack_config is not None and stack_config.developer:
                spec = personal(spec, stack_config.developer)
            pipelines.append((spec, doc))
        else:
            unchecked.append(path.relative_to(root).as_posix())

    not_checked: list[str] = []
    if stack_config is not None:
        errors += _cross_checks(stack_config, pipelines, declared, stack_lines)
        errors += _collisions(stack_config, pipelines, stack_lines, _other_environments_catalogs(root, stack_config))
        if unchecked:
            not_checked.append(
                "the rules across pipelines (dependencies, collisions of tables and event logs, production "
                f"rules, worker caps) for {', '.join(unchecked)}: the file does not validate"
            )
    else:
        not_checked.append(
            f"the rules that need the stack's settings (production rules, caps, dependencies, collisions): "
            f"{stack_file} has errors"
        )
    if errors or stack_config is None:
        raise ConfigErrors(errors, not_checked)
    return StackSettings(
        project=project,
        stack=stack,
        config=stack_config,
        pipelines=tuple(p for p, _ in pipelines),
        sources={p.name: d.file for p, d in pipelines},
    )


# --- stack config -----------------------------------------------------------------------------


def _load_stack_config(
    config: Mapping[str, str], secret_keys: set[str], doc: YamlDoc
) -> tuple[StackConfig | None, list[ConfigError], dict[str, Any]]:
    errors: list[ConfigError] = []
    values: dict[str, Any] = {}
    for full_key, raw in config.items():
        ns, _, key = full_key.partition(":")
        if ns != NAMESPACE:
            continue
        line = doc.line(f"config.{full_key}")
        if full_key in secret_keys and key not in SECRET_KEYS:
            errors.append(
                ConfigError(
                    doc.file,
                    full_key,
                    "must not be a secret",
                    line=line,
                    hint="these settings end up in names and tags; keep credentials in a "
                    "Databricks secret scope and reference {{secrets/<scope>/<key>}}",
                )
            )
            continue
        if key in SECRET_KEYS and full_key not in secret_keys:
            errors.append(
                ConfigError(
                    doc.file,
                    full_key,
                    "is a credential and must be a secret",
                    line=line,
                    hint=f"pulumi config set --secret {key} <value>",
                )
            )
            continue
        # A secret is text as given: decoding JSON-looking text would only put the decrypted
        # value into an error message.
        values[key] = raw if full_key in secret_keys else _decode(raw)
    try:
        return StackConfig.model_validate(values), errors, values
    except ValidationError as exc:
        secret_names = {k.partition(":")[2] for k in secret_keys}
        for err in exc.errors():
            path = _dotted(err["loc"])
            if err["type"] == "missing" and path in secret_names:
                continue  # already reported as a secret
            error = _pydantic_error(err, StackConfig, doc, f"{NAMESPACE}:{path}", f"config.{NAMESPACE}:{path}")
            if err["loc"][:1] and err["loc"][0] in secret_names:
                error = dataclasses.replace(error, value="(secret, not shown)")
            errors.append(error)
        return None, errors, values


def _decode(raw: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _known_environments(root: Path) -> set[str]:
    envs = set()
    for path in root.glob("Pulumi.*.yaml"):
        doc = load_yaml(path, path.name)
        if isinstance(doc, YamlDoc) and isinstance(doc.data, dict):
            env = (doc.data.get("config") or {}).get(f"{NAMESPACE}:environment")
            if isinstance(env, str):
                envs.add(env)
    return envs


def _other_environments_catalogs(root: Path, cfg: StackConfig) -> dict[str, str]:
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


def _collisions(
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


def refused_values(doc: YamlDoc, data: Any, path: str = "", handled: frozenset[str] = frozenset()) -> list[ConfigError]:
    """A value that looks like a credential (src/lakeflow/policy/credentials.py), or any value of a key named
    like one (token, password, secret, …), written in plain text: refused with where it is, never
    with the value. Numbers beyond int64 (or infinite) are refused on the same walk. `secure:`
    values and `{{secrets/<scope>/<key>}}` references are fine; keys in
    `handled` are checked elsewhere (the lakeflow secret keys, with their own message)."""
    from lakeflow.policy.credentials import SECRET_KEY, looks_like

    errors: list[ConfigError] = []
    stack: list[tuple[str, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            if set(value) == {"secure"}:
                continue
            stack.extend((join(where, str(k)), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((join(where, i), v) for i, v in enumerate(value))
        elif isinstance(value, int | float) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            errors.append(
                ConfigError(
                    doc.file,
                    where.removeprefix("config."),
                    "is beyond the 64-bit integers Databricks and Pulumi store",
                    value=value,
                    line=doc.line(where),
                )
            )
        elif isinstance(value, str) and value and not value.startswith("{{secrets/"):
            leaf = where.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
            if leaf in handled:
                continue
            what = looks_like(value) or ("a credential" if SECRET_KEY.search(leaf) else None)
            if what:
                key = where.removeprefix("config.")
                errors.append(
                    ConfigError(
                        doc.file,
                        key,
                        f"holds what looks like {what}, in plain text (value not shown)",
                        line=doc.line(where),
                        hint=f"pulumi config set --secret {key} <value>"
                        if where.startswith("config.")
                        else "keep it in a Databricks secret scope and write {{secrets/<scope>/<key>}}",
                    )
                )
    return sorted(errors, key=lambda e: (e.line or 0, e.key))


# --- pipeline files ---------------------------------------------------------------------------


def _load_pipeline(
    path: Path, root: Path, env: str, known_envs: set[str], variables: Mapping[str, str]
) -> tuple[PipelineSpec | None, YamlDoc | None, list[ConfigError]]:
    display = path.relative_to(root).as_posix()
    doc = load_yaml(path, display)
    if isinstance(doc, ConfigError):
        return None, None, [doc]
    if not isinstance(doc.data, dict):
        return None, None, [ConfigError(display, "", "must be a mapping of pipeline settings", line=1)]

    errors: list[ConfigError] = refused_values(doc, doc.data)
    data = dict(doc.data)
    overrides = data.pop("environments", None) or {}
    if not isinstance(overrides, dict):
        errors.append(
            ConfigError(
                display,
                "environments",
                "must map environment names to overrides",
                value=overrides,
                line=doc.line("environments"),
            )
        )
        overrides = {}
    for name, override in overrides.items():
        key = join("environments", name)
        if name not in known_envs:
            errors.append(
                ConfigError(
                    display,
                    key,
                    "is not an environment of any stack",
                    line=doc.line(key),
                    hint=did_you_mean(str(name), known_envs) or f"known: {', '.join(sorted(known_envs))}",
                )
            )
        elif not isinstance(override, dict):
            errors.append(
                ConfigError(display, key, "must be a mapping of pipeline settings", value=override, line=doc.line(key))
            )
        elif name == env:
            _merge(data, override, "", key, doc.lines)

    errors += _name_placeholders(doc, data)
    data = _interpolate(data, "", variables, doc, errors)
    for key, reason in REJECTED_PIPELINE_KEYS.items():
        if key in data:
            errors.append(
                ConfigError(display, key, "is not accepted", value=data.pop(key), line=doc.line(key), hint=reason)
            )
    # Validate the rest even after errors, so one run shows everything wrong with the file; a
    # value already reported (e.g. an unfilled placeholder) is not reported twice.
    reported = [e.key for e in errors]
    spec: PipelineSpec | None = None
    try:
        spec = PipelineSpec.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            key = _dotted(e["loc"])
            if not any(key == r or key.startswith((r + ".", r + "[")) for r in reported):
                errors.append(_pydantic_error(e, PipelineSpec, doc, key, key))
    ingestion = bool(data.get("ingestion_definition") or data.get("gateway_definition"))
    if not data.get("libraries") and not ingestion:
        errors.append(
            ConfigError(
                display,
                "libraries",
                "a pipeline needs at least one library (only a Lakeflow Connect pipeline, with an "
                "ingestion_definition or gateway_definition, has none)",
                line=doc.lines.get("libraries") or doc.lines.get("name"),
                hint="add e.g. libraries: [{notebook: {path: /Repos/.../my_pipeline}}]",
            )
        )
    return spec, doc, errors


def _merge(dst: dict, src: dict, dst_path: str, src_path: str, lines: dict[str, int]) -> None:
    """Deep-merge an override into a pipeline document, keeping line numbers pointing at it.

    Mappings merge key by key; `clusters` merge by `label` (as Databricks Asset Bundles do), so
    an environment can resize the default cluster without restating it; other lists are replaced.
    """
    for key, value in src.items():
        d_path, s_path = join(dst_path, key), join(src_path, key)
        current = dst.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _merge(current, value, d_path, s_path, lines)
            continue
        if key == "clusters" and isinstance(current, list) and isinstance(value, list):
            merged = [copy.deepcopy(c) for c in current]
            for j, item in enumerate(value):
                label = item.get("label", "default") if isinstance(item, dict) else None
                idx = next(
                    (i for i, c in enumerate(merged) if isinstance(c, dict) and c.get("label", "default") == label),
                    None,
                )
                if idx is None or not isinstance(item, dict):
                    merged.append(copy.deepcopy(item))
                    _relocate(lines, join(s_path, j), join(d_path, len(merged) - 1))
                else:
                    _merge(merged[idx], item, join(d_path, idx), join(s_path, j), lines)
            dst[key] = merged
            continue
        dst[key] = copy.deepcopy(value)
        _relocate(lines, s_path, d_path)


def _relocate(lines: dict[str, int], src: str, dst: str) -> None:
    for path, line in list(lines.items()):
        if path == src or path.startswith((src + ".", src + "[")):
            lines[dst + path[len(src) :]] = line


# `${var.catalog}`, `${bundle.target}`, `${workspace.file_path}`: Databricks Asset Bundle syntax.
_BUNDLE_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+|\[[0-9]+\])+)\}")
# What each bundle reference becomes here (docs/pipeline-files.md): the rule, or what to write.
_BUNDLE_FILLED = {"bundle.target": "ENV", "bundle.environment": "ENV", "workspace.file_path": "REPO_ROOT"}


def _name_placeholders(doc: YamlDoc, data: dict[str, Any]) -> list[ConfigError]:
    """`name: "${ENV}_sales_pipeline"` (the guide's 4.1 example): the name is the pipeline's
    identity in every stack (docs/adr/0002); the stack adds the environment prefix itself."""
    name = data.get("name")
    if not isinstance(name, str) or "${" not in name:
        return []
    plain = re.sub(r"\$\{[^}]*\}[_-]?|[_-]?\$\{[^}]*\}", "", name).lower()
    suggestion = re.sub(r"[^a-z0-9_]+", "_", plain).strip("_")
    return [
        ConfigError(
            doc.file,
            "name",
            "must not hold placeholders: the name is the pipeline's identity (its Pulumi URN) in every stack, "
            "and the stack already adds the environment prefix (dev_<name>, prod_<name>); with ${ENV} in it, "
            "each stack would have a different pipeline and dev would be named dev_dev_<name>",
            value=name,
            line=doc.line("name"),
            hint=f"write name: {suggestion}" if re.fullmatch(r"[a-z][a-z0-9_]*", suggestion) else None,
        )
    ]


def _interpolate(value: Any, path: str, variables: Mapping[str, str], doc: YamlDoc, errors: list[ConfigError]) -> Any:
    """Fill `${VAR}` placeholders anywhere in the document; `$${VAR}` stays literal. Asset Bundle
    references are filled by documented rules: `${var.<name>}` from the stack variable <name>,
    `${bundle.target}` with the environment, `${workspace.file_path}` with REPO_ROOT (the
    repository the bundle synced); any other is refused, named, with what to write."""
    if isinstance(value, dict):
        return {k: _interpolate(v, join(path, k), variables, doc, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, join(path, i), variables, doc, errors) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def refuse(message: str, hint: str | None) -> None:
        errors.append(ConfigError(doc.file, path, message, value=value, line=doc.line(path), hint=hint))

    def fill(match: re.Match[str]) -> str:
        escaped, name = match.groups()
        if escaped:
            return "${" + name + "}"
        if name not in variables:
            refuse(
                f"uses ${{{name}}}, which this stack does not define",
                did_you_mean(name, variables) or f"define it under {NAMESPACE}:variables in the stack file",
            )
            return match.group(0)
        return variables[name]

    def fill_bundle(match: re.Match[str]) -> str:
        reference = match.group(1)
        scope, _, rest = reference.partition(".")
        name = _BUNDLE_FILLED.get(reference) or (rest if scope == "var" and "." not in rest else None)
        if name is not None and name in variables:
            return variables[name]
        if scope == "var":
            refuse(
                f"uses ${{{reference}}}, a bundle variable: it is filled from the stack variable {rest!r}, which "
                "this stack does not define",
                f"define {rest} under {NAMESPACE}:variables in each Pulumi.<stack>.yaml (one value per environment), "
                f"or write the value",
            )
        elif name is not None:
            refuse(
                f"uses ${{{reference}}}, which is filled from the stack variable {name}, not defined in this stack",
                f"define {name} under {NAMESPACE}:variables",
            )
        else:
            refuse(
                f"uses ${{{reference}}}, Asset Bundle syntax this stack does not resolve",
                _BUNDLE_HINTS.get(scope, "write the value, or a ${NAME} stack variable"),
            )
        return match.group(0)

    # `${var.${ENV}_catalog}` (a bundle variable named after the target) is filled inside out.
    return _BUNDLE_REFERENCE.sub(fill_bundle, _PLACEHOLDER.sub(fill, value))


_BUNDLE_HINTS = {
    "workspace": "the deploying user and the bundle's workspace folders are not this stack's: write a workspace path, "
    "or a ${NAME} stack variable (e.g. ${REPO_ROOT}/...)",
    "resources": "resources refer to each other through the stack: schedule.after for pipelines, outputs for ids",
    "bundle": "write the value (the environment is ${ENV})",
}


# --- pydantic errors -> ConfigError ---------------------------------------------------------


def _dotted(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        # `schema_` is the attribute of the key `schema` (lakeflow.config.provider_models.attribute)
        path = join(path, part.removesuffix("_") if isinstance(part, str) else part)
    return path


def _pydantic_error(err: Any, model: type[BaseModel], doc: YamlDoc, key: str, line_path: str) -> ConfigError:
    kind, loc, value = err["type"], err["loc"], err.get("input")
    line = doc.line(line_path)
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        pointer = POINTERS.get(str(loc[-1])) if model is PipelineSpec and len(loc) == 1 else None
        return ConfigError(
            doc.file,
            key,
            "is not a known key" + (" of the provider's Pipeline or of this stack" if model is PipelineSpec else ""),
            line=line,
            hint=pointer or did_you_mean(str(loc[-1]), allowed) or f"allowed: {', '.join(sorted(allowed))}",
        )
    if kind == "missing":
        return ConfigError(doc.file, key, "is required but missing", line=line)
    message = err["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        pattern = err["ctx"]["pattern"]
        message = f"must be {PATTERN_WORDS[pattern]}" if pattern in PATTERN_WORDS else f"does not match {pattern}"
    return ConfigError(doc.file, key, message, value=value, line=line)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Names allowed at `loc` inside `model` (aliases where the model uses them)."""
    current: Any = model
    for part in loc:
        current = _model_in(current)
        if current is None or isinstance(part, int):
            continue
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        current = field.annotation if field else None
    current = _model_in(current)
    if current is None:
        return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _model_in(tp: Any) -> type[BaseModel] | None:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    for arg in get_args(tp) if get_origin(tp) is not None else ():
        if found := _model_in(arg):
            return found
    return None


# --- rules across fields and files -----------------------------------------------------------


def _cross_checks(
    cfg: StackConfig, pipelines: list[tuple[PipelineSpec, YamlDoc]], declared: set[str], stack_doc: YamlDoc
) -> list[ConfigError]:
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

    cycle_errors, in_cycle = _cycles(by_name)  # reported once; the rules below skip those pipelines
    for spec, doc in by_name.values():

        def err(key: str, message: str, value: Any, hint: str | None = None, doc: YamlDoc = doc) -> None:
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
        if cfg.max_workers_cap is not None:
            for i, cluster in enumerate(spec.clusters):
                size = cluster.autoscale.max_workers if cluster.autoscale else cluster.num_workers
                key = f"clusters[{i}].autoscale.max_workers" if cluster.autoscale else f"clusters[{i}].num_workers"
                if size is not None and size > cfg.max_workers_cap:
                    err(
                        key,
                        f"exceeds this stack's cap of {cfg.max_workers_cap} workers",
                        size,
                        f"lower it or raise {NAMESPACE}:maxWorkersCap",
                    )
        for tag in (Tag.ENVIRONMENT, Tag.PIPELINE):
            sources = [("tags", spec.tags)] + [
                (f"clusters[{i}].custom_tags", c.custom_tags) for i, c in enumerate(spec.clusters)
            ]
            expected = cfg.environment if tag is Tag.ENVIRONMENT else spec.name
            for where, tags in sources:
                if tag in tags and tags[tag] != expected:
                    err(
                        f"{where}.{tag}",
                        f"conflicts with the stack's {tag} tag {expected!r}",
                        tags[tag],
                        "the stack sets this tag; remove it",
                    )
        errors.extend(_dr_checks(spec, doc))
        errors.extend(_release_checks(spec, doc, cfg))
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
        usable = (
            all(u in by_name and not by_name[u][0].continuous for u in spec.schedule.after) if spec.schedule else False
        )
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

    errors += _started_twice(by_name)
    errors += cycle_errors
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


def settings_from_pulumi(root: Path) -> StackSettings:
    """Settings of the stack Pulumi is running, from the engine's config; errors end the run
    with the report and no traceback (`pulumi.RunError`)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = {k for k in values if runtime_config.is_config_secret(k)} | set(
        runtime_config.get_config_secret_keys_env()
    )
    try:
        return load_settings(pulumi.get_project(), pulumi.get_stack(), values, secret, root)
    except ConfigErrors as exc:
        raise pulumi.RunError(exc.report()) from None
