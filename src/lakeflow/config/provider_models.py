"""Pydantic models of the pinned provider's `Pipeline` inputs, generated from `pulumi_databricks`.

A pipeline file may hold any field of the provider's `Pipeline` resource, in the API's snake_case
shape (the shape of Databricks Asset Bundles and of the REST API). Rather than a hand-written
subset that falls behind each provider release, the fields are read off the generated SDK: each
`…Args` input type lists its properties (their snake_case names, their types, and which
`__init__` requires). `describe()` walks `PipelineArgs` into a plain description, kept in
`src/lakeflow/config/pipeline_fields.json` so that loading a pipeline file does not import the 5 MB SDK
(1.5 s); `tests/test_provider_models.py` fails when the file and the installed SDK differ, and
`python -m lakeflow.config.provider_models --write` rewrites it after a provider upgrade.

`model("Pipeline")` turns the description into strict pydantic models, nested types into nested
models. The offline plan's schema check (`src/lakeflow/offline/schema.py`) reads the same SDK types, so the
file, the plan and the provider agree; the JSON Schema editors use is generated from these
models (`src/lakeflow/config/json_schema.py`).

Text-valued maps (`configuration`, `spark_conf`, `tags`, …) take YAML booleans and numbers and
turn them into strings the way Databricks Asset Bundles do (`true` -> "true", `4` -> "4").
"""

from __future__ import annotations

import json
import keyword
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, create_model

DESCRIPTION_FILE = Path(__file__).with_name("pipeline_fields.json")
ROOT = "Pipeline"


def as_text(value: Any) -> Any:
    """A YAML scalar in a text-valued map, as Asset Bundles turn it into text: booleans in lower
    case, numbers as written. Anything else is left for validation to refuse."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(as_text, json_schema_input_type=str | bool | int | float)]
"""A value of a text-valued map: strings, and booleans or numbers turned into text."""


class ProviderFields(BaseModel):
    """Base of every generated model: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


_RESERVED = frozenset(dir(BaseModel)) | frozenset(keyword.kwlist)


def attribute(name: str) -> str:
    """The Python attribute of the field named `name` (`schema` would shadow BaseModel.schema)."""
    return f"{name}_" if name in _RESERVED or name.startswith("model_") else name


@cache
def description() -> dict[str, Any]:
    return json.loads(DESCRIPTION_FILE.read_text(encoding="utf-8"))


def fields_of(type_name: str) -> dict[str, dict[str, Any]]:
    """snake_case name -> {"type", "required", "doc"} of one provider type ("Pipeline", …)."""
    return description()["types"][type_name]["fields"]


@cache
def model(type_name: str, exclude: frozenset[str] = frozenset()) -> type[ProviderFields]:
    """The pydantic model of one provider type: every property by its snake_case name, required
    where the SDK requires it, nested types as nested models. `exclude`: names left out (the
    caller declares or refuses them)."""
    fields: dict[str, Any] = {}
    for name, spec in fields_of(type_name).items():
        if name in exclude:
            continue
        annotation = _annotation(spec["type"])
        # Written as the API spells it (or as the provider does); sent as the provider spells it.
        names = AliasChoices(spec["api"], name) if "api" in spec else AliasChoices(name)
        kwargs: dict[str, Any] = {"alias": name, "validation_alias": names, "description": spec["doc"]}
        if spec["required"]:
            fields[attribute(name)] = (annotation, Field(**kwargs))
        else:
            fields[attribute(name)] = (annotation | None, Field(default=None, **kwargs))
    doc = f"Fields of the provider's `{type_name}` (pulumi_databricks.{type_name}Args)."
    return create_model(type_name, __base__=ProviderFields, __doc__=doc, **fields)


def _annotation(tp: Any) -> Any:
    if isinstance(tp, str):
        return {"bool": bool, "int": int, "float": float, "str": str, "any": Any}[tp]
    (kind, inner), *_ = tp.items()
    if kind == "object":
        return model(inner)
    if kind == "list":
        return list[_annotation(inner)]  # type: ignore[misc]
    value = _annotation(inner)
    return dict[str, Text if value is str else value]  # type: ignore[misc]


# --- the description, read off the installed SDK ------------------------------------------------


def describe() -> dict[str, Any]:
    """`PipelineArgs` and every input type under it, from the installed pulumi_databricks; with
    the REST API's name of each field the provider spells differently (the Terraform bridge
    pluralizes list blocks: `filters.includes` is the API's `include`, `restart_window.days_of_weeks`
    its `days_of_week`), read off the Databricks SDK's `pipelines.PipelineSpec`."""
    import dataclasses
    import importlib.metadata
    import typing

    import pulumi._types as pulumi_types
    import pulumi_databricks
    from databricks.sdk.service import pipelines

    from lakeflow.offline.schema import _expected, _shape

    types: dict[str, Any] = {}

    def api_class(hint: Any) -> Any:
        """The SDK dataclass inside a field's type hint (`Optional[List[X]]` -> X), if any."""
        if dataclasses.is_dataclass(hint):
            return hint
        return next((c for a in typing.get_args(hint) if (c := api_class(a)) is not None), None)

    def encode(tp: Any, api: Any) -> Any:
        kind, inner = _expected(tp)
        if kind == "object":
            walk(inner, api)
            return {"object": inner.__name__.removesuffix("Args")}
        if kind in ("list", "map"):
            return {kind: encode(inner, api)}
        return kind

    def walk(input_type: type, api: Any) -> None:
        name = input_type.__name__.removesuffix("Args")
        if name in types:
            return
        types[name] = {}  # placeholder: a type met again inside itself is not walked twice
        by_wire, required = _shape(input_type)
        py_names = pulumi_types.input_type_py_to_pulumi_names(input_type)
        hints = typing.get_type_hints(api) if api is not None else {}
        fields = {}
        for py_name, wire in sorted(py_names.items()):
            prop = getattr(input_type, py_name, None)
            doc = " ".join((getattr(prop, "__doc__", None) or "").split()) or None
            api_name = py_name if py_name in hints else _api_spelling(py_name, hints)
            field: dict[str, Any] = {"type": None, "required": wire in required, "doc": doc}
            if api_name not in (None, py_name):
                field["api"] = api_name
            field["type"] = encode(by_wire[wire], api_class(hints[api_name]) if api_name else None)
            fields[py_name] = field
        types[name] = {"fields": fields}

    walk(pulumi_databricks.PipelineArgs, pipelines.PipelineSpec)
    return {
        "source": f"pulumi-databricks {importlib.metadata.version('pulumi_databricks')} PipelineArgs and the input "
        f"types under it; REST API names from databricks-sdk {importlib.metadata.version('databricks-sdk')} "
        "(python -m lakeflow.config.provider_models --write)",
        "types": dict(sorted(types.items())),
    }


def _api_spelling(py_name: str, api_names: Mapping[str, Any]) -> str | None:
    """The API's name of a field the Terraform bridge pluralized (`includes` -> `include`,
    `sequence_bies` -> `sequence_by`), when the API has exactly that field."""
    for singular in (py_name.removesuffix("s"), py_name.removesuffix("ies") + "y"):
        if singular != py_name and singular in api_names:
            return singular
    return None


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["--write"]:
        print("usage: python -m lakeflow.config.provider_models --write", file=sys.stderr)
        return 2
    DESCRIPTION_FILE.write_text(render(describe()), encoding="utf-8")
    print(f"wrote {DESCRIPTION_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
