"""The components are a Pulumi component package: the real CLI reads the schema of `plugin/`.

`pulumi package get-schema <plugin>` runs plugin/__main__.py through our language host (its
InstallDependencies installs nothing: it checks the virtualenv PulumiPlugin.yaml names), which
analyzes every component class `lakeflow.components` exports. What the schema must say is derived
from those classes here, not written down twice: one `lakeflow:index:<Component>` resource per
component, whose inputs are its Args dataclass's fields, camelCased, and whose required inputs
are the fields without a default.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import inspect
import json
import time
from typing import Any

import pulumi
import pytest

import lakeflow.components
from engine.build import Engine
from engine.sandbox import Sandbox, StubWorkspace
from tests.conftest import ROOT

PLUGIN = ROOT / "plugin"


def _component_classes() -> dict[str, type[pulumi.ComponentResource]]:
    exported = {name: getattr(lakeflow.components, name) for name in lakeflow.components.__all__}
    return {
        name: value
        for name, value in exported.items()
        if isinstance(value, type) and issubclass(value, pulumi.ComponentResource)
    }


COMPONENTS = _component_classes()


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _args_class(component: type[pulumi.ComponentResource]) -> type:
    """The type `__init__`'s `args` is annotated with at run time: what Pulumi's analyzer reads."""
    args = inspect.get_annotations(component.__init__).get("args")
    assert isinstance(args, type) and dataclasses.is_dataclass(args), (
        f"{component.__name__}.__init__'s `args` must be annotated, at run time, with its Args dataclass "
        f"(the schema analyzer reads that annotation); it is {args!r}"
    )
    return args


def _analyzer_verdicts() -> str:
    """What Pulumi's schema analyzer says of each component alone (it stops at the first failure)."""
    from pulumi.provider.experimental.analyzer import Analyzer

    lines = []
    for name, component in sorted(COMPONENTS.items()):
        try:
            Analyzer("lakeflow").analyze([component])
            lines.append(f"  {name}: ok")
        except Exception as exc:  # a diagnosis: every failure is shown, none is raised
            lines.append(f"  {name}: {type(exc).__name__}: {exc}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def schema(engine: Engine) -> dict[str, Any]:
    with StubWorkspace() as stub, Sandbox(engine, stub) as sandbox:
        # An absolute path: a bare name would be looked up as a package in the Pulumi registry.
        sandbox.env["PULUMI_DISABLE_REGISTRY_RESOLVE"] = "true"
        started = time.monotonic()
        done = sandbox.pulumi("package", "get-schema", str(PLUGIN), check=False)
        elapsed = time.monotonic() - started
        assert done.returncode == 0, (
            f"pulumi package get-schema {PLUGIN} failed ({elapsed:.1f} s):\n{done.stderr}\n"
            f"Each component alone, through the analyzer:\n{_analyzer_verdicts()}"
        )
        assert stub.violations == [], f"get-schema reached out to the network: {stub.violations}"
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_there_are_components() -> None:
    assert COMPONENTS, "lakeflow.components exports no ComponentResource class"


def test_package_identity(schema: dict[str, Any]) -> None:
    assert schema["name"] == "lakeflow"
    assert schema.get("namespace") == "lakeflow"
    assert schema["version"] == importlib.metadata.version("lakeflow-stack")


def test_every_component_and_nothing_else(schema: dict[str, Any]) -> None:
    components = {token for token, resource in schema["resources"].items() if resource.get("isComponent")}
    assert components == {f"lakeflow:index:{name}" for name in COMPONENTS}
    assert set(schema["resources"]) == components


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_inputs_are_the_args_fields(schema: dict[str, Any], name: str) -> None:
    args = _args_class(COMPONENTS[name])
    resource = schema["resources"].get(f"lakeflow:index:{name}")
    assert resource is not None, f"the schema has no resource lakeflow:index:{name}"
    assert resource.get("isComponent") is True
    fields = dataclasses.fields(args)
    assert sorted(resource.get("inputProperties", {})) == sorted(_camel(f.name) for f in fields)
    required = [
        _camel(f.name) for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    assert sorted(resource.get("requiredInputs", [])) == sorted(required), (
        f"{args.__name__}: the required inputs must be exactly the fields without a default "
        "(a field with a default must be Optional[...] for the analyzer to leave it optional)"
    )
