"""Shared fixtures: a throwaway copy of the project that a test can edit, load and plan."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakeflow.config.loader import StackSettings, load_settings
from lakeflow.offline.plan import plan_stack
from lakeflow.offline.recorder import Plan
from lakeflow.offline.stack_file import project_name, read_stack_config

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")


@dataclass
class Project:
    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def pipeline(self, name: str) -> dict[str, Any]:
        return yaml.safe_load((self.root / "pipelines" / f"{name}.yaml").read_text())

    def set_pipeline(self, name: str, data: dict[str, Any], file: str | None = None) -> None:
        (self.root / "pipelines" / (file or f"{name}.yaml")).write_text(yaml.safe_dump(data, sort_keys=False))

    def edit_pipeline(self, name: str, **changes: Any) -> None:
        """Set (or, with None, remove) top-level keys of one pipeline file."""
        data = self.pipeline(name)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        self.set_pipeline(name, data)

    def edit_stack(self, stack: str, **changes: Any) -> None:
        """Set (or, with None, remove) `lakeflow:<key>` values in Pulumi.<stack>.yaml."""
        path = self.root / f"Pulumi.{stack}.yaml"
        data = yaml.safe_load(path.read_text())
        for key, value in changes.items():
            full = key if ":" in key else f"lakeflow:{key}"
            if value is None:
                data["config"].pop(full, None)
            else:
                data["config"][full] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    def load(self, stack: str = "dev", *, as_deployed: bool = False) -> StackSettings:
        """The stack's settings as the offline tools read them, or (`as_deployed`) as a real
        `pulumi up` hands them to the program: without stand-ins for secrets the file lacks."""
        project = project_name(self.root)
        config, secret = read_stack_config(self.root, project, stack, stand_ins=not as_deployed)
        return load_settings(project, stack, config, secret, self.root)

    def plan(self, stack: str = "dev") -> Plan:
        return plan_stack(stack, self.root)


def copy_project(dst: Path) -> None:
    """What a plan reads: the project file, the stack files, the pipeline files."""
    for name in ["Pulumi.yaml", *(f"Pulumi.{s}.yaml" for s in STACKS)]:
        shutil.copy(ROOT / name, dst / name)
    shutil.copytree(ROOT / "pipelines", dst / "pipelines")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    copy_project(tmp_path)
    return Project(tmp_path)


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    """The offline plan of each shipped stack, computed once per session."""
    return {stack: plan_stack(stack, ROOT) for stack in STACKS}


def by_type(plan: Plan, short_type: str) -> list[dict[str, Any]]:
    return [r for r in plan.resources if r["type"].rsplit(":", 1)[-1] == short_type]


def resource(plan: Plan, short_type: str, name: str) -> dict[str, Any]:
    matches = [r for r in by_type(plan, short_type) if r["name"] == name]
    assert len(matches) == 1, f"expected one {short_type} named {name!r}, found {len(matches)}"
    return matches[0]


def live_pipelines(plan: Plan) -> dict[str, dict[str, Any]]:
    """Logical name -> the Pipeline that runs it: for a blue/green pipeline, its active slot."""
    active = {name: r["active"] for name, r in (plan.outputs.get("releases") or {}).items()}
    live = {}
    for p in by_type(plan, "Pipeline"):
        tags = p["inputs"]["tags"]
        if tags.get("Slot") is None or active.get(tags["Pipeline"]) == tags["Slot"]:
            live[tags["Pipeline"]] = p
    return live


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch):
    """A fake Databricks workspace on 127.0.0.1 (tests/fake_databricks.py), and SDK credentials for it."""
    from tests.fake_databricks import FakeWorkspace

    fake = FakeWorkspace().start()
    for var in (
        "DATABRICKS_CONFIG_PROFILE",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
        "DATABRICKS_AUTH_TYPE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DATABRICKS_HOST", fake.host)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test-token")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
    yield fake
    fake.stop()
