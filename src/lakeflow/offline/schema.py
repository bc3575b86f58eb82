"""Check recorded inputs against pulumi_databricks' own input types.

Pulumi's mocks accept any dict, but the real provider rejects an unknown property
(`clusters=[{"lable": ...}]`), a missing required one, or a wrong scalar kind. The generated SDK
describes every resource's inputs: `<Resource>Args` and the nested `…Args` input types carry each
property's wire (camelCase) name, its type, and whether `__init__` requires it. This module walks
a resource's recorded inputs against that description, recursively.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from functools import cache
from typing import Any

import pulumi
import pulumi._types as pulumi_types
import pulumi_databricks
from pulumi.output import Unknown

# Values that stand for something the checker cannot look inside.
_SECRET_SIG = "4dabf18193072939515e22adb298388d"


@cache
def args_type_for(token: str) -> type | None:
    """`databricks:index/pipeline:Pipeline` -> `pulumi_databricks.PipelineArgs` (None for
    providers and for types this SDK does not know)."""
    if not token.startswith("databricks:index/"):
        return None
    cls_name = token.rsplit(":", 1)[1]
    resource = getattr(pulumi_databricks, cls_name, None)
    args = getattr(pulumi_databricks, f"{cls_name}Args", None)
    if resource is None or args is None or getattr(resource, "pulumi_type", None) != token:
        return None
    return args


@cache
def _shape(input_type: type) -> tuple[dict[str, Any], frozenset[str]]:
    """Wire name -> type, and the wire names `__init__` requires."""
    types_by_wire = pulumi_types.input_type_types(input_type)
    py_to_wire = pulumi_types.input_type_py_to_pulumi_names(input_type)
    params = inspect.signature(input_type).parameters  # the class signature is its __init__'s
    required = frozenset(
        py_to_wire.get(name, name)
        for name, p in params.items()
        if name != "__self__" and p.default is inspect.Parameter.empty and p.kind is p.KEYWORD_ONLY
    )
    return types_by_wire, required


def check_inputs(token: str, inputs: dict[str, Any]) -> list[str]:
    """Problems with `inputs` for resource type `token`, each as `path: message`."""
    args = args_type_for(token)
    if args is None:
        return []
    problems: list[str] = []
    _check_object(inputs, args, "", problems)
    return problems


def _check_object(value: Any, input_type: type, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path or '<inputs>'}: expected an object ({input_type.__name__}), got {_kind(value)}")
        return
    types_by_wire, required = _shape(input_type)
    for key, item in value.items():
        sub = f"{path}.{key}" if path else key
        if key not in types_by_wire:
            near = [k for k in types_by_wire if k.lower() == key.lower() or _close(k, key)]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(f"{sub}: unknown property for {input_type.__name__}{hint}")
            continue
        _check(item, types_by_wire[key], sub, problems)
    for key in sorted(required - value.keys()):
        problems.append(f"{path + '.' if path else ''}{key}: required by {input_type.__name__} but missing")


def _check(value: Any, tp: Any, path: str, problems: list[str]) -> None:
    value = _unwrap_secret(value)
    if value is None or isinstance(value, Unknown | pulumi.Resource):
        return
    kind, inner = _expected(tp)
    if kind == "object":
        _check_object(value, inner, path, problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {_kind(value)}")
            return
        for i, item in enumerate(value):
            _check(item, inner, f"{path}[{i}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map, got {_kind(value)}")
            return
        for key, item in value.items():
            _check(item, inner, f"{path}.{key}", problems)
    elif kind == "bool":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {_kind(value)}")
    elif kind == "int":
        # The mock runtime hands numbers back as floats; an integral float is an int on the wire.
        if isinstance(value, bool) or not isinstance(value, int | float) or float(value) != int(value):
            problems.append(f"{path}: expected an integer, got {_kind(value)}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected a number, got {_kind(value)}")
    elif kind == "str" and not isinstance(value, str):
        problems.append(f"{path}: expected a string, got {_kind(value)}")


@cache
def _expected(tp: Any) -> tuple[str, Any]:
    """What a declared input type accepts: ("object", its input type), ("list" | "map", the item
    type), ("bool" | "int" | "float" | "str", None), or ("any", None). Worked out once per type."""
    tp = _strip_input(tp)
    origin = typing.get_origin(tp)
    if tp is typing.Any or tp is object:
        return "any", None
    if pulumi_types.is_input_type(tp):
        return "object", tp
    if origin in (list, collections.abc.Sequence):
        (item_type,) = typing.get_args(tp) or (typing.Any,)
        return "list", item_type
    if origin in (dict, collections.abc.Mapping):
        _, value_type = typing.get_args(tp) or (str, typing.Any)
        return "map", value_type
    if tp in (bool, int, float, str):
        return tp.__name__, None
    return "any", None


def _strip_input(tp: Any) -> Any:
    """`Input[Optional[T]]` and friends -> `T`."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [
            a
            for a in typing.get_args(tp)
            if a is not type(None)
            and typing.get_origin(a) is not collections.abc.Awaitable
            and a is not collections.abc.Awaitable
            and not _is_output(a)
        ]
        if len(members) == 1:
            return _strip_input(members[0])
        return typing.Any if not members else members[0]
    return tp


def _is_output(tp: Any) -> bool:
    return (
        tp is pulumi.Output
        or typing.get_origin(tp) is pulumi.Output
        or (isinstance(tp, typing.ForwardRef) and tp.__forward_arg__.startswith("Output"))
    )


def _unwrap_secret(value: Any) -> Any:
    if isinstance(value, dict) and value.get(_SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
        return value.get("value")
    return value


def _close(a: str, b: str) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio() >= 0.8


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)
