"""Types the components share (closed sets as enums, principals), so that a component depends
only on Pulumi, the Databricks provider and this package's own types. The config layer
(`lakeflow.config`) validates files into these same types."""

import dataclasses
import inspect
import types
import typing
from collections import abc
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, TypeVar


class PauseStatus(StrEnum):
    PAUSED = "PAUSED"
    UNPAUSED = "UNPAUSED"


class Severity(StrEnum):
    """Guide 7.1: who is told, and how fast they must respond."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def response_time(self) -> str:
        return {"P1": "15 minutes", "P2": "1 hour", "P3": "4 hours", "P4": "24 hours"}[self.value]


class Tag(StrEnum):
    """The tag keys the stack sets and reads (cost attribution, system-table queries, policies):
    the one place they are spelt. Environment, Team and CostCenter are on everything taggable
    (guide 4.1); Pipeline names the logical pipeline, Slot its blue/green slot, Retired a slot that
    may be destroyed."""

    ENVIRONMENT = "Environment"
    TEAM = "Team"
    COST_CENTER = "CostCenter"
    PIPELINE = "Pipeline"
    SLOT = "Slot"
    RETIRED = "Retired"


PRINCIPAL_KINDS = {"group": "group_name", "user": "user_name", "sp": "service_principal_name"}


def principal_field(principal: str) -> tuple[str, str]:
    """'group:analysts' -> ('group_name', 'analysts'): the Databricks access-control field."""
    kind, _, name = principal.partition(":")
    return PRINCIPAL_KINDS[kind], name


# How an upstream's tables start a dependent job: on any of them, once the upstream has written
# nothing for 5 minutes (it writes its tables one after another; the run should see the whole update).
TABLE_TRIGGER_CONDITION = "ANY_UPDATED"
TABLE_TRIGGER_SETTLE_SECONDS = 300


class DestinationKind(StrEnum):
    """Where alerts of a severity go (guide 7.1)."""

    EMAIL = "email"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    WEBHOOK = "webhook"


class Channel(StrEnum):
    """Lakeflow runtime channel of a pipeline."""

    CURRENT = "CURRENT"
    PREVIEW = "PREVIEW"


class Edition(StrEnum):
    """Pipeline product edition (classic compute; serverless pipelines have none)."""

    CORE = "CORE"
    PRO = "PRO"
    ADVANCED = "ADVANCED"


class Cloud(StrEnum):
    """The workspace's cloud: which spot-with-fallback cluster attributes apply."""

    AWS = "aws"
    AZURE = "azure"
    GCP = "gcp"


@dataclass(frozen=True)
class EventLogTable:
    """The Unity Catalog table a pipeline publishes its event log to."""

    catalog: str
    schema: str
    name: str

    @property
    def full_name(self) -> str:
        """`catalog.schema.name`, unquoted (the names are Unity Catalog identifiers)."""
        return f"{self.catalog}.{self.schema}.{self.name}"


# --- Args given as plain mappings --------------------------------------------------------------

A = TypeVar("A")


def coerce_args(cls: type[A], args: object, owner: str | None = None) -> A:
    """`args` as the component's `…Args` dataclass: returned as is when it already is one, else
    built from a mapping (the `…ArgsDict` form, and what Pulumi's component provider passes:
    snake_case keys, nested objects as mappings, numbers as floats). Nested mappings become their
    dataclass types, enum values their enums, whole floats ints. A wrong key or value raises
    a TypeError/ValueError naming `owner` (default: the class), the key and what is allowed."""
    where = owner or cls.__name__
    if isinstance(args, cls):
        return args
    if not isinstance(args, Mapping):
        raise TypeError(f"{where}: args must be a {cls.__name__} or a mapping of its fields, not {type(args).__name__}")
    return _build(cls, args, where, "")


def _build(cls: type[A], mapping: Mapping[Any, Any], owner: str, path: str) -> A:
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    prefix = f"{path}." if path else ""
    unknown = [k for k in mapping if k not in fields]
    if unknown:
        raise TypeError(
            f"{owner}: unknown key {', '.join(repr(f'{prefix}{k}') for k in unknown)}; "
            f"{cls.__name__} takes {', '.join(fields)}"
        )
    missing = [
        name
        for name, f in fields.items()
        if name not in mapping and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise TypeError(f"{owner}: missing required key {', '.join(repr(f'{prefix}{k}') for k in missing)}")
    hints = _field_types(cls)
    values = {k: _convert(v, hints[k], owner, f"{prefix}{k}") for k, v in mapping.items()}
    return cls(**values)


def _field_types(cls: type) -> dict[str, Any]:
    """Field name -> its type. Annotations are real types in the component modules; a module with
    postponed annotations (strings) is resolved, and what cannot be is taken as Any."""
    hints: dict[str, Any] = {f.name: f.type for f in dataclasses.fields(cls)}
    if any(isinstance(t, str) for t in hints.values()):
        try:
            hints.update(typing.get_type_hints(cls))
        except NameError:
            hints = {k: Any if isinstance(t, str) else t for k, t in hints.items()}
    return hints


def _convert(value: Any, tp: Any, owner: str, path: str) -> Any:
    # Imported here: the config layer imports this module's enums without loading Pulumi.
    from pulumi import Output

    if value is None or tp is Any or isinstance(value, Output) or inspect.isawaitable(value):
        return value
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        # `pulumi.Input[T]` is T | Awaitable[T] | Output[T]: a plain value converts as T.
        plain = [
            a
            for a in typing.get_args(tp)
            if a is not type(None)
            and typing.get_origin(a) not in (Awaitable, Output)
            and not isinstance(a, typing.ForwardRef)
        ]
        return _convert(value, plain[0], owner, path) if len(plain) == 1 else value
    if origin in (typing.Required, typing.NotRequired):
        return _convert(value, typing.get_args(tp)[0], owner, path)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(value, tp) or not isinstance(value, Mapping):
            return value
        return _build(tp, value, owner, path)
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in tp)
            raise ValueError(f"{owner}: {path}: {value!r} is not one of {allowed}") from None
    if tp is int and isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{owner}: {path}: {value!r} is not a whole number")
        return int(value)
    if origin in (list, tuple, abc.Sequence) and isinstance(value, (list, tuple)):
        (item,) = typing.get_args(tp)[:1] or (Any,)
        return type(value)(_convert(v, item, owner, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (dict, abc.Mapping) and isinstance(value, Mapping):
        item = typing.get_args(tp)[1] if len(typing.get_args(tp)) == 2 else Any
        return {k: _convert(v, item, owner, f"{path}.{k}") for k, v in value.items()}
    return value


def waits_for(value: object) -> list[Any]:
    """`depends_on` entries that wait for the resources an input comes from (an `Output`'s),
    without passing its value: a component takes another resource's id as `pulumi.Input[str]`
    (never the resource) and its children wait for that resource as with `depends_on=[resource]`.
    A plain value (nothing to wait for) gives none."""
    from pulumi import Output

    # The SDK depends on an entry's resources, and on its value when that is a resource: None here.
    return [value.apply(lambda _: None)] if isinstance(value, Output) else []
