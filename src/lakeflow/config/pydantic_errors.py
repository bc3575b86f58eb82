"""Pydantic's validation errors as `ConfigError`s: the file, the dotted key, its line and what is allowed."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from lakeflow.config.errors import ConfigError, did_you_mean
from lakeflow.config.models import PATTERN_WORDS, POINTERS, PipelineSpec
from lakeflow.config.yaml_source import YamlDoc, join


def dotted(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        # `schema_` is the attribute of the key `schema` (lakeflow.config.provider_models.attribute)
        path = join(path, part.removesuffix("_") if isinstance(part, str) else part)
    return path


def pydantic_error(err: Any, model: type[BaseModel], doc: YamlDoc, key: str, line_path: str) -> ConfigError:
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
