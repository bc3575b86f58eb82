"""Read `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program:
a flat `namespace:key -> string` map (structured values as JSON text) plus the secret keys.

`secure:` values are never decrypted here (no secrets provider is reachable offline, and none is
needed): each becomes the literal "[secret]" and its key is marked secret, as Pulumi would. A
secret the stack needs but does not set (no credential is committed) gets the same stand-in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeflow.config.errors import ConfigError, ConfigErrors
from lakeflow.config.models import needed_secrets
from lakeflow.config.yaml_source import YamlDoc, load_yaml

if TYPE_CHECKING:
    from lakeflow.config.loader import StackSettings

SECRET = "[secret]"
# Pulumi's own rule for stack names (a file name and a URN part here).
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def project_name(root: Path) -> str:
    doc = load_yaml(root / "Pulumi.yaml", "Pulumi.yaml")
    if isinstance(doc, ConfigError):
        raise ConfigErrors([doc])
    name = doc.data.get("name") if isinstance(doc.data, dict) else None
    if not isinstance(name, str):
        raise ConfigErrors([ConfigError("Pulumi.yaml", "name", "is required: the project's name")])
    return name


def available_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def read_stack_config(
    root: Path, project: str, stack: str, *, stand_ins: bool = True
) -> tuple[dict[str, str], set[str]]:
    """The config map and secret keys; `stand_ins=False` leaves needed secrets the file lacks
    unset, as a real deploy would see them (the loader then reports each one)."""
    if not STACK_NAME.fullmatch(stack):
        raise ConfigErrors(
            [
                ConfigError(
                    "--stack",
                    "",
                    f"{stack!r} is not a stack name",
                    hint="letters, digits, '_', '.' and '-'; stacks here: "
                    + (", ".join(available_stacks(root)) or "none"),
                )
            ]
        )
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise ConfigErrors(
            [
                ConfigError(
                    path.name, "", "does not exist", hint=f"stacks here: {', '.join(available_stacks(root)) or 'none'}"
                )
            ]
        )
    doc = load_yaml(path, path.name)
    if isinstance(doc, ConfigError):
        raise ConfigErrors([doc])
    raw = (doc.data or {}).get("config", {}) if isinstance(doc.data, dict) else None
    if not isinstance(raw, dict):
        raise ConfigErrors(
            [ConfigError(path.name, "config", "must be a mapping of config keys", line=doc.line("config"))]
        )

    values: dict[str, str] = {}
    secret: set[str] = set()
    for key, value in {**_project_defaults(root, project), **raw}.items():
        full = key if ":" in key else f"{project}:{key}"
        masked, is_secret = _mask(value)
        values[full] = _as_config_string(masked)
        if is_secret:
            secret.add(full)
    for key in unset_secrets(values, project) if stand_ins else []:
        values[key] = SECRET
        secret.add(key)
    return values, secret


def unset_secrets(values: dict[str, str], project: str) -> list[str]:
    """The secrets the config needs (settings.models.needed_secrets) that it does not set: the
    offline tools plan with a stand-in, as they do for every secret; a real deploy asks for them."""
    ours = {k.partition(":")[2]: v for k, v in values.items() if k.startswith(f"{project}:")}
    decoded = {}
    for key, value in ours.items():
        try:
            decoded[key] = json.loads(value) if value[:1] == "[" else value
        except ValueError:  # "[secret]", or a malformed list the loader reports
            decoded[key] = value
    return [f"{project}:{key}" for key in needed_secrets(decoded) if key not in ours]


def load_stack(root: Path, stack: str) -> StackSettings:
    """The validated settings of `stack`, read as the CLI would hand them over (ConfigErrors if not)."""
    from lakeflow.config.loader import load_settings

    project = project_name(root)
    config, secret_keys = read_stack_config(root, project, stack)
    return load_settings(project, stack, config, secret_keys, root)


def _project_defaults(root: Path, project: str) -> dict[str, Any]:
    doc = load_yaml(root / "Pulumi.yaml", "Pulumi.yaml")
    schema = doc.data.get("config", {}) if isinstance(doc, YamlDoc) and isinstance(doc.data, dict) else {}
    return {
        f"{project}:{key}": spec["default"]
        for key, spec in (schema or {}).items()
        if isinstance(spec, dict) and "default" in spec
    }


def _mask(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET, True
        items = {k: _mask(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        items_ = [_mask(v) for v in value]
        return [v for v, _ in items_], any(s for _, s in items_)
    return value, False


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)
