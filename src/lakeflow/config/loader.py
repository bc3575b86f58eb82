"""Load one stack's settings: `Pulumi.<stack>.yaml` config plus every `pipelines/*.yaml`.

Data flow, in order (each step reports all of its problems before the next runs on good data):

1. stack config (namespace `lakeflow:`) -> `StackConfig`;
2. each pipeline file: YAML -> `environments.<env>` overrides merged in -> `${VAR}` filled from
   `lakeflow:variables` (+ `ENV`) -> `PipelineSpec`;
3. rules across fields and files: duplicate names, `schedule.after` targets and cycles,
   production guard rails, worker caps.

Any error anywhere -> one `ConfigErrors` listing all of them; nothing is returned, so nothing can
be registered.

This module runs the steps; the overrides (`overrides`), the placeholders (`placeholders`), the
rules across files (`cross_checks`) and the wording of pydantic's errors (`pydantic_errors`) live
beside it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lakeflow.config.cross_checks import collisions, cross_checks, known_environments, other_environments_catalogs
from lakeflow.config.errors import ConfigError, ConfigErrors, did_you_mean
from lakeflow.config.models import (
    NAMESPACE,
    REJECTED_PIPELINE_KEYS,
    SECRET_KEYS,
    Mode,
    PipelineSpec,
    StackConfig,
    personal,
)
from lakeflow.config.overrides import merge
from lakeflow.config.placeholders import interpolate, name_placeholders
from lakeflow.config.pydantic_errors import dotted, pydantic_error
from lakeflow.config.yaml_source import YamlDoc, join, load_yaml

PIPELINES_DIR = "pipelines"


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

    known_envs = known_environments(root) | {env}
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
        errors += cross_checks(stack_config, pipelines, declared, stack_lines)
        errors += collisions(stack_config, pipelines, stack_lines, other_environments_catalogs(root, stack_config))
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
            path = dotted(err["loc"])
            if err["type"] == "missing" and path in secret_names:
                continue  # already reported as a secret
            error = pydantic_error(err, StackConfig, doc, f"{NAMESPACE}:{path}", f"config.{NAMESPACE}:{path}")
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
            merge(data, override, "", key, doc.lines)

    errors += name_placeholders(doc, data)
    data = interpolate(data, "", variables, doc, errors)
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
            key = dotted(e["loc"])
            if not any(key == r or key.startswith((r + ".", r + "[")) for r in reported):
                errors.append(pydantic_error(e, PipelineSpec, doc, key, key))
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
