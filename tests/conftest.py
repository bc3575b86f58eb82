"""Shared fixtures: a throwaway copy of the project that a test can edit, load and plan."""

from __future__ import annotations

import atexit
import dataclasses
import fcntl
import gc
import hashlib
import json
import os
import shutil
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:  # imported where used: xdist's controller process loads this file and runs no test
    from lakeflow.config.loader import StackSettings  # the models: 0.2 s
    from lakeflow.offline.recorder import Plan  # Pulumi and the provider: 1.5 s

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")


def _temporary_files_in_memory() -> None:
    """pytest's temporary directories (`tmp_path`: hundreds of project copies and git repositories a run,
    about 16,000 files) in /dev/shm where it is a directory we may write, instead of /tmp. On a disk mounted
    with `discard` (this project's machines), making and deleting them cost 4-10 s of system time a run,
    and deleting the run from three runs before (pytest keeps three) held the end of every run for 1.5-2 s.
    Set PYTEST_DEBUG_TEMPROOT (pytest's own setting for this) to choose another place."""
    shm = Path("/dev/shm")
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ and shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(shm)


_temporary_files_in_memory()


# The suite is a batch job too (lakeflow.offline.batch): every worker imports Pulumi, the provider and the SDK
# (millions of long-lived objects) and plans dozens of stacks, each leaving a large heap behind. At Python's
# default thresholds the collector ran about 2,000 times per worker and re-walked that heap in each full
# collection (2-3 s of CPU per worker); collections every 100,000 allocations halve that, for a peak of about
# 600 MiB per worker instead of 380.
SUITE_GC = (100_000, 50, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.set_threshold(*SUITE_GC)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """An xdist worker ends as the plan command does (lakeflow.offline.batch). Its results reached the
    controller as each test ended, and the controller alone sets the run's exit status; what the worker
    would still do only delays the end of the run by 4-5 s: pytest's last garbage collection walks the heap
    of every plan the worker ran (about 2.4 s at SUITE_GC), then the interpreter frees each object one by
    one. So the heap is frozen (that collection has nothing left to walk), and the last exit handler leaves
    it to the operating system. Not under a profiler or tracer (coverage), whose data is written at exit, nor
    in a run without workers (`-p no:xdist`), whose exit status is this process's."""
    global _LEAVE_AT_EXIT
    if hasattr(config, "workerinput") and not (sys.gettrace() or sys.getprofile()):
        gc.freeze()
        _LEAVE_AT_EXIT = True


_LEAVE_AT_EXIT = False


@atexit.register  # registered first, so it runs after every exit handler registered since
def _leave_the_heap_to_the_os() -> None:
    if _LEAVE_AT_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def parse_yaml(text: str) -> Any:
    """yaml.safe_load with libyaml's parser (what the loader uses): the tests edit and read hundreds of files a
    run, and the pure-Python one took seconds of it."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


def read_yaml(path: Path) -> Any:
    return parse_yaml(path.read_text(encoding="utf-8"))


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False)


# The tests that start the Databricks SDK (about a second of imports in each process that does): on one
# worker, which alone pays for it (`make test` runs pytest-xdist with --dist loadgroup).
DATABRICKS_SDK = pytest.mark.xdist_group("databricks-sdk")


@dataclass
class Project:
    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def pipeline(self, name: str) -> dict[str, Any]:
        return read_yaml(self.root / "pipelines" / f"{name}.yaml")

    def set_pipeline(self, name: str, data: dict[str, Any], file: str | None = None) -> None:
        (self.root / "pipelines" / (file or f"{name}.yaml")).write_text(dump_yaml(data))

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
        data = read_yaml(path)
        for key, value in changes.items():
            full = key if ":" in key else f"lakeflow:{key}"
            if value is None:
                data["config"].pop(full, None)
            else:
                data["config"][full] = value
        path.write_text(dump_yaml(data))

    def load(self, stack: str = "dev", *, as_deployed: bool = False) -> StackSettings:
        """The stack's settings as the offline tools read them, or (`as_deployed`) as a real
        `pulumi up` hands them to the program: without stand-ins for secrets the file lacks."""
        from lakeflow.config.loader import load_settings
        from lakeflow.offline.stack_file import project_name, read_stack_config

        project = project_name(self.root)
        config, secret = read_stack_config(self.root, project, stack, stand_ins=not as_deployed)
        return load_settings(project, stack, config, secret, self.root)

    def plan(self, stack: str = "dev") -> Plan:
        from lakeflow.offline.plan import plan_stack

        return plan_stack(stack, self.root)


def copy_project(dst: Path) -> None:
    """What a plan reads: the project file, the stack files, the pipeline files (not the editors' JSON
    schema beside them: 220 kB a copy, hundreds of copies a run)."""
    for name in ["Pulumi.yaml", *(f"Pulumi.{s}.yaml" for s in STACKS)]:
        shutil.copy(ROOT / name, dst / name)
    (dst / "pipelines").mkdir()
    for path in (ROOT / "pipelines").glob("*.y*ml"):
        shutil.copy(path, dst / "pipelines" / path.name)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    copy_project(tmp_path)
    return Project(tmp_path)


def _source_hash() -> str:
    """What the shipped stacks' plans depend on in this checkout: the package, the project and stack
    files, the pipeline files."""
    digest = hashlib.sha256()
    files = [
        *sorted((ROOT / "src" / "lakeflow").rglob("*")),
        *sorted(ROOT.glob("Pulumi*.yaml")),
        *sorted((ROOT / "pipelines").rglob("*")),
    ]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _shared_plan(stack: str, cache: Path, *, wait: bool) -> Plan | None:
    """The stack's plan from the session's cache, computed and written there by whichever worker gets
    its lock first. None: another worker holds the lock and `wait` is false."""
    path = cache / f"{stack}.json"
    with open(cache / f"{stack}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        if path.exists():
            from lakeflow.offline.recorder import Plan

            return Plan(**json.loads(path.read_text(encoding="utf-8")))
        plan = Project(ROOT).plan(stack)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(dataclasses.asdict(plan)), encoding="utf-8")
        partial.replace(path)
        return plan


@pytest.fixture(scope="session")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    """The offline plan of each shipped stack, computed once per session: with pytest-xdist, by one
    worker each (the workers start on different stacks), written as JSON under the session's temporary
    directory, which all workers share, and read by the others."""
    base = tmp_path_factory.getbasetemp()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    cache = (base.parent if worker else base) / f"plans-{_source_hash()}"
    cache.mkdir(exist_ok=True)
    shift = int(worker.removeprefix("gw")) if worker and worker.removeprefix("gw").isdigit() else 0
    order = [STACKS[(i + shift) % len(STACKS)] for i in range(len(STACKS))]
    found: dict[str, Plan] = {}
    for stack in order:  # first the stacks no other worker is planning ...
        if (plan := _shared_plan(stack, cache, wait=False)) is not None:
            found[stack] = plan
    for stack in order:  # ... then wait for the others' (or plan them, if a worker failed to)
        if stack not in found:
            plan = _shared_plan(stack, cache, wait=True)
            assert plan is not None
            found[stack] = plan
    return {stack: found[stack] for stack in STACKS}


@pytest.fixture(scope="session")
def dev_without_invoice_ingest(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The offline plan of dev once invoice_ingest's pipeline file is removed (the everyday destroy the
    data-loss guard refuses), computed once per worker: its tests compare it with `plans["dev"]`."""
    root = tmp_path_factory.mktemp("without-invoice-ingest")
    copy_project(root)
    (root / "pipelines" / "invoice_ingest.yaml").unlink()
    return Project(root).plan("dev")


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


class BackOffClock:
    """The SDK's clock (`databricks.sdk.clock.Clock`) for its retries, whose back-off does not wait: the
    time it reads is the real time plus every back-off slept so far, so a retry budget is spent by the
    calls' real durations and by the back-offs as if they had been waited."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def time(self) -> float:
        return time.time() + sum(self.slept)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch):
    """A fake Databricks workspace on 127.0.0.1 (tests/fake_databricks.py), and SDK credentials for it.
    The SDK's retries back off without waiting (BackOffClock); the commands run as processes
    (tests/test_workspace_connection.py) keep the real clock."""
    import lakeflow.ops.workspace
    from tests.fake_databricks import FakeWorkspace

    monkeypatch.setattr(lakeflow.ops.workspace, "_sdk_clock", BackOffClock())
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
