"""`make` keeps its word (issue 19): each command's exit status is printed as make fails,
`bin/lakeflow <command>` returns it as is, and arguments reach the commands as written, `$`
included (the URNs of data-holding children hold one).

make and bin/lakeflow run as processes here, in a throwaway git copy of the project sharing this
checkout's virtualenv: what a user's shell and CI do. Each command's own status is checked in this process
(a process each would cost a start of Python and the package, for nothing make adds).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git copy of the project (file times kept, so make sees the virtualenv as up to date)."""
    repo = tmp_path_factory.mktemp("make") / "repo"
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*_cache", "bench", "fixtures")
    shutil.copytree(ROOT, repo, ignore=ignore, copy_function=shutil.copy2)
    os.symlink(ROOT / ".venv", repo / ".venv")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    return repo


def run(repo: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), cwd=repo, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


PIPELINE_URN = "urn:pulumi:dev::lakeflow::lakeflow:index:DltPipeline$databricks:index/pipeline:Pipeline::"


def test_a_destroy_is_refused_with_status_1_and_acknowledged_through_make_dollar_signs_and_all(repo):
    # Judged on a delete as the deploy gate sees it (the real engine's preview): the guard on planned deletes
    # is tested in-process (tests/test_diff.py); here, the statuses the processes return and the URN typed back.
    urn = f"{PIPELINE_URN}invoice_ingest-pipeline"
    preview = repo / "preview.json"
    state = {"urn": urn, "type": urn.rsplit("$", 1)[1].split("::")[0], "inputs": {}}
    preview.write_text(json.dumps({"steps": [{"op": "delete", "urn": urn, "oldState": state}]}))
    # bin/lakeflow returns the guard's 1 (make would fold it into 2) and names the URN ...
    refused = run(repo, "bin/lakeflow", "diff", "--stack", "dev", "--engine-preview", str(preview))
    assert refused.returncode == 1
    assert f"  x {urn}: Pipeline holds data" in refused.stdout
    # ... which make passes on as the user typed it, in single quotes, `$databricks` included
    refused = run(repo, "make", "-s", "diff", "STACK=dev", f"ENGINE_PREVIEW={preview}")
    assert refused.returncode == 2 and "make diff: exit status 1" in refused.stderr
    acknowledged = run(repo, "make", "-s", "diff", "STACK=dev", f"ENGINE_PREVIEW={preview}", f"ALLOW_DESTROY={urn}")
    assert acknowledged.returncode == 0, acknowledged.stdout + acknowledged.stderr
    assert f"acknowledged destroy of {urn}\n" in acknowledged.stdout


@pytest.mark.parametrize("where", ["command line", "environment"])
def test_an_argument_that_looks_like_make_or_shell_syntax_reaches_the_command_as_written(repo, where):
    # make's own syntax, then the shell's: substitution, backticks, a command after `;`, a quote broken out of
    weird = "nope$(shell touch pwned)$$x$databricks`touch pwned2`;$HOME$(touch pwned3)' ; touch pwned4 #"
    if where == "command line":
        result = run(repo, "make", "-s", "plan", f"STACK={weird}")
    else:  # as CI passes values (env:), which make would expand too
        result = run(repo, "make", "-s", "plan", env={"STACK": weird})
    assert result.returncode == 2 and f"Stack {weird!r} not planned" in result.stderr
    assert "is not a stack name" in result.stderr  # a stack name is a name (Pulumi's [A-Za-z0-9_.-])
    assert not [name for name in ("pwned", "pwned2", "pwned3", "pwned4") if (repo / name).exists()]


# One cheap failing invocation per command (a stack that does not exist, a missing file, a base that is not a
# commit): the command's arguments as make's variables become them, and its status.
FAILING = {
    "plan": (["--stack", "nope"], 2),
    "diff": (["--stack", "prod", "--base", "no-such-ref"], 2),
    "policy": (["--stack", "nope"], 2),
    "capacity": (["--stack", "nope"], 2),
    "dr-restore": (["--stack", "nope", "--pipeline", "x"], 2),
    "health": (["--stack", "nope"], 2),
    "preflight": (["--stack", "nope"], 2),
    "validate-release": (["--stack", "nope", "--pipeline", "x"], 2),
    "rehearse-upgrade": (["--stack", "nope", "--pipeline", "x"], 2),
    "import-bundle": (["--bundle", "missing.yml"], 2),
}


def _console_script(target: str) -> Callable[[list[str]], int]:
    """The `main` of the console script make's `target` runs (pyproject.toml's [project.scripts])."""
    module, _, function = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"][
        _makefile_programs()[target]
    ].partition(":")
    main: Callable[[list[str]], int] = getattr(importlib.import_module(module), function)
    return main


@pytest.mark.parametrize("target", sorted(FAILING))
def test_each_command_returns_its_status(target, monkeypatch):
    """In this process: what make runs, with the arguments its variables become. That every recipe runs its
    command and reports its status is read off the Makefile (below), and shown through make once."""
    argv, status = FAILING[target]
    monkeypatch.chdir(ROOT)
    assert _console_script(target)(argv) == status


def test_make_says_the_status_of_the_command_it_ran(repo):
    _, status = FAILING["plan"]
    through_make = run(repo, "make", "-s", "plan", "STACK=nope")
    assert through_make.returncode == 2, through_make.stderr
    assert f"make plan: exit status {status}" in through_make.stderr


def test_an_unknown_command_is_2_with_the_list():
    result = subprocess.run([str(ROOT / "bin" / "lakeflow"), "nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "plan  diff  policy" in result.stderr


def _makefile_programs() -> dict[str, str]:
    """target -> what every command recipe in the Makefile runs: a console script of the package
    (`lakeflow-<command>`) or, for the development tools, `python -m <module>`."""
    text = (ROOT / "Makefile").read_text()
    found = dict(
        re.findall(
            r"^([a-z-]+): \$\(STAMP\)\n\t@[^\n]*?(?:\$\(BIN\)/(?=lakeflow-)|python -m )([a-z_.-]+)", text, re.MULTILINE
        )
    )
    found.pop("engine")  # builds the engine: not a command with statuses of its own
    return found


def test_bin_lakeflow_runs_what_make_runs_and_every_command_recipe_reports_its_status():
    text = (ROOT / "Makefile").read_text()
    script = (ROOT / "bin" / "lakeflow").read_text()
    commands = dict(re.findall(r"^  ([a-z-]+)\) program=([a-z-]+) ;;", script, re.MULTILINE))
    assert commands.pop("preview") == "engine" and "-m engine.preview" in script
    assert {**commands, "preview": "engine.preview"} == _makefile_programs()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == set(commands.values())  # every console script is a command, and the reverse
    for recipe in re.findall(
        r"^\t@[^\n]*(?:/lakeflow-[a-z-]+|python -m [a-z_.]+)(?:[^\n]*\\\n)*[^\n]*$", text, re.MULTILINE
    ):
        assert recipe.rstrip().endswith("; $(STATUS)"), recipe


def _chosen_python(**variables: str) -> str:
    """The interpreter the Makefile would make .venv from, with `variables` on make's command line."""
    query = "print-python: ; @echo '$(PYTHON)'"
    argv = ["make", "-s", "-f", str(ROOT / "Makefile"), f"--eval={query}", "print-python"]
    done = subprocess.run([*argv, *(f"{k}={v}" for k, v in variables.items())], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_virtualenv_is_made_from_the_first_candidate_that_is_cpython_3_11_with_venv(tmp_path):
    """/usr/bin/python3.11 (a distribution's optimized build) first, when it is usable; a candidate that is
    missing, lacks the venv module or is another version is passed over; none: python3; PYTHON overrides."""
    import sys

    def fake(name: str, setup: str) -> Path:
        """This interpreter running the Makefile's check (`-c CODE`) after `setup`."""
        script = tmp_path / name
        script.write_text(f"#!/bin/sh\nexec {sys.executable} -c '{setup}; exec(sys.argv[1])' \"$2\"\n")
        return script

    # as Debian's python3.11 without the python3.11-venv package; a python3.11 that is really 3.12
    without_venv = fake("no-venv-python", 'import sys; sys.modules["ensurepip"] = None')
    other_version = fake("python3.11", 'import sys; sys.version_info = (3, 12, 0, "final", 0)')
    for script in (without_venv, other_version):
        script.chmod(0o755)
    missing = tmp_path / "missing" / "python3.11"
    candidates = f"{missing} {without_venv} {other_version} {sys.executable}"
    assert _chosen_python(PYTHON_CANDIDATES=candidates) == sys.executable
    assert _chosen_python(PYTHON_CANDIDATES=f"{missing} {without_venv}") == "python3"
    assert _chosen_python(PYTHON_CANDIDATES=candidates, PYTHON="/opt/python/bin/python3") == "/opt/python/bin/python3"
    assert _chosen_python().split()[0] in {"/usr/bin/python3.11", "python3.11", "python3"}
