"""One test module per component: its `…Args` given directly (no pipeline files), as the dataclass
and as a plain mapping (`…ArgsDict`, what Pulumi's component provider passes), run under Pulumi's
mocks through the offline recorder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi.provider.experimental.analyzer import Analyzer, ComponentDefinition

from lakeflow.offline.recorder import Plan, record


def plan_of(program: Callable[[], Any], *, deployed: bool = False) -> Plan:
    plan = record("lakeflow", "test", {}, set(), program, deployed=deployed)
    assert plan.schema_errors == []
    return plan


def children(plan: Plan, component_urn: str) -> list[tuple[str, str]]:
    """(short type, name) of each resource parented to the component."""
    return [(r["type"].rsplit(":", 1)[-1], r["name"]) for r in plan.resources if r["parent"] == component_urn]


def registrations(plan: Plan, *options: str) -> list[tuple[Any, ...]]:
    """Every registered resource as (type, name, parent, inputs, *options): what a plan compares by."""
    return [(r["type"], r["name"], r["parent"], r["inputs"], *(r[o] for o in options)) for r in plan.resources]  # type: ignore[literal-required]


def component_urn(plan: Plan, name: str) -> str:
    (urn,) = [r["urn"] for r in plan.resources if r["name"] == name and not r["custom"]]
    return urn


def as_floats(value: Any) -> Any:
    """Every int a float, as Pulumi's component provider hands numbers to a component."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, Mapping):
        return {k: as_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_floats(v) for v in value]
    return value


def schema_of(component: type) -> ComponentDefinition:
    """What Pulumi's schema analyzer infers for the component (it reads the annotations at runtime)."""
    return Analyzer("lakeflow").analyze([component])["component_definitions"][component.__name__]
