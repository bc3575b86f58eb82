"""`${NAME}` placeholders and Databricks Asset Bundle references in pipeline files.

Placeholders are filled from the stack's `lakeflow:variables` (plus `ENV`); bundle references
(`${var.<name>}`, `${bundle.target}`, `${workspace.file_path}`) by the rules in
docs/pipeline-files.md; anything else is reported. The patterns are shared with the bundle import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lakeflow.config.errors import ConfigError, did_you_mean
from lakeflow.config.models import NAMESPACE
from lakeflow.config.yaml_source import YamlDoc, join

# `${NAME}`, filled from the stack variables; `$${NAME}` stays literal.
PLACEHOLDER = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")
# `${var.catalog}`, `${bundle.target}`, `${workspace.file_path}`: Databricks Asset Bundle syntax.
BUNDLE_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+|\[[0-9]+\])+)\}")
# What each bundle reference becomes here (docs/pipeline-files.md): the rule, or what to write.
BUNDLE_FILLED = {"bundle.target": "ENV", "bundle.environment": "ENV", "workspace.file_path": "REPO_ROOT"}


def name_placeholders(doc: YamlDoc, data: dict[str, Any]) -> list[ConfigError]:
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


def interpolate(value: Any, path: str, variables: Mapping[str, str], doc: YamlDoc, errors: list[ConfigError]) -> Any:
    """Fill `${VAR}` placeholders anywhere in the document; `$${VAR}` stays literal. Asset Bundle
    references are filled by documented rules: `${var.<name>}` from the stack variable <name>,
    `${bundle.target}` with the environment, `${workspace.file_path}` with REPO_ROOT (the
    repository the bundle synced); any other is refused, named, with what to write."""
    if isinstance(value, dict):
        return {k: interpolate(v, join(path, k), variables, doc, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, join(path, i), variables, doc, errors) for i, v in enumerate(value)]
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
        name = BUNDLE_FILLED.get(reference) or (rest if scope == "var" and "." not in rest else None)
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
                BUNDLE_HINTS.get(scope, "write the value, or a ${NAME} stack variable"),
            )
        return match.group(0)

    # `${var.${ENV}_catalog}` (a bundle variable named after the target) is filled inside out.
    return BUNDLE_REFERENCE.sub(fill_bundle, PLACEHOLDER.sub(fill, value))


BUNDLE_HINTS = {
    "workspace": "the deploying user and the bundle's workspace folders are not this stack's: write a workspace path, "
    "or a ${NAME} stack variable (e.g. ${REPO_ROOT}/...)",
    "resources": "resources refer to each other through the stack: schedule.after for pipelines, outputs for ids",
    "bundle": "write the value (the environment is ${ENV})",
}
