"""The components are a Pulumi component package: the real CLI reads the schema of `plugin/`.

`pulumi package get-schema <plugin>` runs plugin/__main__.py through our language host (its
InstallDependencies installs nothing: it checks the virtualenv PulumiPlugin.yaml names), which
analyzes every component class `lakeflow.components` exports. What the schema must say is derived
from those classes here, not written down twice: one `lakeflow:index:<Component>` resource per
component, whose inputs are its Args dataclass's fields, camelCased, and whose required inputs
are the fields without a default.

The package is usable from other languages: examples/yaml_program, a Pulumi YAML program (run by
the YAML language host `make engine` builds), previews its components through the package's
provider (Construct), which builds their Databricks children from the Python classes.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import inspect
import json
import shutil
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


YAML_PROGRAM = ROOT / "examples" / "yaml_program"


@pytest.fixture(scope="module")
def yaml_preview(engine: Engine) -> dict[str, Any]:
    """`pulumi preview --json` of examples/yaml_program, offline: a temporary backend and home, the
    stub workspace as the Databricks host."""
    with StubWorkspace() as stub, Sandbox(engine, stub) as sandbox:
        # The program names the package by a relative path (`../../plugin`): keep that layout in
        # the sandbox. The plugin's own `../.venv` is then the sandbox's link to the virtualenv.
        program = sandbox.dir / "examples" / "yaml_program"
        shutil.copytree(YAML_PROGRAM, program)
        (sandbox.dir / "plugin").symlink_to(PLUGIN)
        sandbox.env["PULUMI_DISABLE_REGISTRY_RESOLVE"] = "true"
        cwd = ("--cwd", str(program))
        sandbox.pulumi(*cwd, "stack", "init", "dev", "--secrets-provider", "passphrase")
        sandbox.pulumi(*cwd, "config", "set", "--plaintext", "databricks:host", stub.url)
        sandbox.pulumi(*cwd, "config", "set", "--plaintext", "databricks:retryTimeoutSeconds", "10")
        started = time.monotonic()
        done = sandbox.pulumi(*cwd, "preview", "--json", check=False)
        elapsed = time.monotonic() - started
        assert done.returncode == 0, (
            f"pulumi preview of the YAML program failed ({elapsed:.1f} s):\n{done.stdout}{done.stderr}"
        )
        assert stub.violations == [], f"the preview called the Databricks API: {stub.violations}"
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def _created(preview: dict[str, Any], token: str) -> list[dict[str, Any]]:
    """The states the preview creates of resource type `token`, each with its `urn`."""
    return [
        {**step["newState"], "urn": step["urn"]}
        for step in preview.get("steps", [])
        if step.get("op") == "create" and step.get("newState", {}).get("type") == token
    ]


def _one(preview: dict[str, Any], token: str) -> dict[str, Any]:
    states = _created(preview, token)
    assert len(states) == 1, f"expected one {token} to be created, got {[s['urn'] for s in states]}"
    return states[0]


def test_yaml_program_previews_without_errors(yaml_preview: dict[str, Any]) -> None:
    errors = [d for d in yaml_preview.get("diagnostics", []) if d.get("severity") == "error"]
    assert errors == []


def test_yaml_program_constructs_the_components(yaml_preview: dict[str, Any]) -> None:
    pipeline = _one(yaml_preview, "lakeflow:index:DltPipeline")
    schedule = _one(yaml_preview, "lakeflow:index:PipelineSchedule")
    alerts = _one(yaml_preview, "lakeflow:index:PipelineAlerts")
    for component in (pipeline, schedule, alerts):
        assert component.get("custom") is False, f"{component['urn']} is not a component"

    # Each component's children are what its Python class builds, inside the package's provider.
    dlt = _one(yaml_preview, "databricks:index/pipeline:Pipeline")
    assert dlt.get("parent") == pipeline["urn"]
    inputs = dlt["inputs"]
    assert (inputs["name"], inputs["catalog"], inputs["schema"]) == ("orders_pipeline", "main", "orders")
    assert inputs["serverless"] is True
    assert inputs["libraries"] == [
        {"__defaults": [], "glob": {"__defaults": [], "include": "/Workspace/Shared/orders/transformations/**"}}
    ]
    assert {k: v for k, v in inputs["eventLog"].items() if k != "__defaults"} == {
        "catalog": "main",
        "schema": "orders",
        "name": "orders_event_log",
    }

    job = _one(yaml_preview, "databricks:index/job:Job")
    assert job.get("parent") == schedule["urn"]
    assert job["inputs"]["name"] == "orders_pipeline_schedule"
    assert job["inputs"]["schedule"]["quartzCronExpression"] == "0 0 6 * * ?"
    assert job["inputs"]["schedule"]["timezoneId"] == "Europe/Amsterdam"
    (task,) = job["inputs"]["tasks"]
    assert task["maxRetries"] == 2
    # The pipeline's id is unknown in a preview: the task takes it from the DltPipeline component.
    assert pipeline["urn"] in job.get("propertyDependencies", {}).get("tasks", [])

    alert_states = _created(yaml_preview, "databricks:index/alertV2:AlertV2")
    assert alert_states, "PipelineAlerts created no databricks:index/alertV2:AlertV2"
    assert all(a.get("parent") == alerts["urn"] for a in alert_states)
    assert {a["inputs"]["warehouseId"] for a in alert_states} == {"0123456789abcdef"}
    by_name = {a["urn"].rsplit("::", 1)[-1]: a for a in alert_states}
    # The program's thresholds (not guide 6.1's defaults) reach the alert queries' `watched` table.
    for alert, threshold in (("failed-updates", "1.0"), ("processing-lag", "90.0"), ("drop-rate", "0.1")):
        query = by_name[f"ordersAlerts-{alert}"]["inputs"]["queryText"]
        assert f"('orders_pipeline', {threshold})" in query, f"{alert}: {query[:200]}"
