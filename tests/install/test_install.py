"""The package installs and works outside this repository (issue 20, item 1): `pip install .` and
`pip install git+<url>` into a clean virtualenv, then the offline plan of a project that holds only
its stack and pipeline files (no `src/`, no editable install) and the day-2 commands' scripts.

Slow (a virtualenv and a dependency install, from pip's cache after the first run), so it has its
own marker: `make test-install` runs it, CI runs that; `make test` leaves it out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.install

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "pipelines")


def _run(*cmd: str | Path, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def clean_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed tree plus the working tree's changes: what `git+<url>` and a checkout hold."""
    clone = tmp_path_factory.mktemp("clone") / "repo"
    _run("git", "clone", "-q", "--no-hardlinks", ROOT, clone, cwd=ROOT)
    listed = _run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    _run("git", "add", "-A", cwd=clone)
    _run("git", "commit", "-q", "--allow-empty", "-m", "working tree", cwd=clone, env={**env, "PATH": "/usr/bin:/bin"})
    return clone


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, clean_clone: Path) -> Path:
    """A clean virtualenv (no system packages) with `pip install .` of the clone."""
    where = tmp_path_factory.mktemp("venv") / "venv"
    _run(sys.executable, "-m", "venv", where, cwd=clean_clone)
    pip = (where / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    _run(*pip, ".", "-c", ROOT / "constraints.txt", cwd=clean_clone)
    return where


def test_pip_install_dot_gives_the_package_its_data_and_every_console_script(venv: Path, clean_clone: Path) -> None:
    python = venv / "bin" / "python"
    where = _run(python, "-c", "import lakeflow, sys; print(lakeflow.__file__)", cwd=venv).stdout.strip()
    assert str(venv) in where and str(ROOT) not in where  # installed, not this checkout
    data = "from importlib.resources import files as f; print(f('lakeflow').joinpath('{}').is_file())"
    for name in ("config/pipeline_fields.json", "offline/force_new.json", "py.typed"):
        assert _run(python, "-c", data.format(name), cwd=venv).stdout.strip() == "True", name
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for script in scripts:
        assert "usage:" in _run(venv / "bin" / script, "--help", cwd=venv).stdout, script


def test_the_installed_package_plans_a_project_that_has_only_its_files(
    venv: Path, tmp_path: Path, clean_clone: Path
) -> None:
    """Only Pulumi.*.yaml and pipelines/: the installed `lakeflow-plan` plans it, and the plan is the
    same as this checkout's (the golden plan of dev)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in PROJECT_FILES:
        source = clean_clone / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / name)
    out = tmp_path / "dev.json"
    _run(venv / "bin" / "lakeflow-plan", "--stack", "dev", "--json", out, cwd=project)
    golden = json.loads((ROOT / "tests" / "fixtures" / "plans" / "dev.json").read_text())
    assert json.loads(out.read_text()) == golden


def test_pip_install_git_url_installs_the_same_package(venv: Path, clean_clone: Path) -> None:
    python = venv / "bin" / "python"
    pip = (python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    _run(*pip, "--force-reinstall", "--no-deps", f"git+file://{clean_clone}", cwd=venv)
    shown = _run(python, "-m", "pip", "show", "-f", "lakeflow-stack", cwd=venv).stdout
    assert "lakeflow/components/dlt_pipeline.py" in shown and "lakeflow/offline/force_new.json" in shown
    _run(python, "-c", "from lakeflow.components import DltPipeline, PipelineSchedule, PipelineAlerts", cwd=venv)
