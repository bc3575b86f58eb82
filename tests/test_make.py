"""`make` keeps its word (issue 19): each command's exit status is printed as make fails,
`bin/lakeflow <command>` returns it as is, and arguments reach the commands as written, `$`
included (the URNs of data-holding children hold one).

The commands run as processes here, in a throwaway git copy of the project sharing this
checkout's virtualenv: what a user's shell and CI do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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


def test_a_destroy_is_acknowledged_through_make_with_the_dollar_signs_of_its_urns(repo):
    (repo / "pipelines" / "invoice_ingest.yaml").unlink()
    try:
        refused = run(repo, "make", "-s", "diff", "STACK=dev", "BASE=HEAD")
        assert refused.returncode == 2 and "make diff: exit status 1" in refused.stderr
        destroyed = re.findall(r"^  x (urn:\S+): ", refused.stdout, re.MULTILINE)
        assert any("$databricks:index/pipeline:Pipeline::" in urn for urn in destroyed), refused.stdout

        # As a user types it on make's command line, in single quotes (the guard's hint says so).
        acknowledged = run(repo, "make", "-s", "diff", "STACK=dev", "BASE=HEAD", f"ALLOW_DESTROY={' '.join(destroyed)}")
        assert acknowledged.returncode == 0, acknowledged.stdout + acknowledged.stderr
        for urn in destroyed:  # each as written, `$` and all
            assert f"acknowledged destroy of {urn}\n" in acknowledged.stdout
    finally:
        subprocess.run(["git", "checkout", "-q", "--", "pipelines"], cwd=repo, check=True)


@pytest.mark.parametrize("where", ["command line", "environment"])
def test_an_argument_that_looks_like_make_or_shell_syntax_reaches_the_command_as_written(repo, where):
    weird = "nope$(shell touch pwned)$$x$databricks`touch pwned2`;$HOME"
    if where == "command line":
        result = run(repo, "make", "-s", "plan", f"STACK={weird}")
    else:  # as CI passes values (env:), which make would expand too
        result = run(repo, "make", "-s", "plan", env={"STACK": weird})
    assert result.returncode == 2 and f"Stack {weird!r} not planned" in result.stderr
    assert not (repo / "pwned").exists() and not (repo / "pwned2").exists()


# One cheap failing invocation per command (a stack that does not exist, a missing file): make
# fails with 2 and says the command's status; bin/lakeflow returns it.
FAILING = {
    "plan": (["STACK=nope"], ["--stack", "nope"], 2),
    "diff": (["STACK=prod", "BASE=no-such-ref"], ["--stack", "prod", "--base", "no-such-ref"], 2),
    "policy": (["STACK=nope"], ["--stack", "nope"], 2),
    "capacity": (["STACK=nope"], ["--stack", "nope"], 2),
    "dr-restore": (["STACK=nope", "PIPELINE=x"], ["--stack", "nope", "--pipeline", "x"], 2),
    "health": (["STACK=nope"], ["--stack", "nope"], 2),
    "preflight": (["STACK=nope"], ["--stack", "nope"], 2),
    "validate-release": (["STACK=nope", "PIPELINE=x"], ["--stack", "nope", "--pipeline", "x"], 2),
    "rehearse-upgrade": (["STACK=nope", "PIPELINE=x"], ["--stack", "nope", "--pipeline", "x"], 2),
    "import-bundle": (["BUNDLE=missing.yml"], ["--bundle", "missing.yml"], 2),
}


@pytest.mark.parametrize("target", sorted(FAILING))
def test_each_commands_status_is_said_by_make(repo, target):
    make_args, _, status = FAILING[target]
    through_make = run(repo, "make", "-s", target, *make_args)
    assert through_make.returncode == 2, through_make.stderr
    assert f"make {target}: exit status {status}" in through_make.stderr


def test_bin_lakeflow_returns_each_status_as_is(repo):
    # 2 for bad input (every command alike: one stands for all, bin/lakeflow runs the module make
    # runs, checked below), and the guard's 1, which make folds into 2.
    _, cli_args, status = FAILING["plan"]
    assert run(repo, "bin/lakeflow", "plan", *cli_args).returncode == status
    (repo / "pipelines" / "invoice_ingest.yaml").unlink()
    try:
        assert run(repo, "bin/lakeflow", "diff", "--stack", "dev", "--base", "HEAD").returncode == 1
    finally:
        subprocess.run(["git", "checkout", "-q", "--", "pipelines"], cwd=repo, check=True)


def test_an_unknown_command_is_2_with_the_list():
    result = subprocess.run([str(ROOT / "bin" / "lakeflow"), "nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "plan  diff  policy" in result.stderr


def _makefile_modules() -> dict[str, str]:
    """target -> `python -m` module of every command recipe in the Makefile."""
    text = (ROOT / "Makefile").read_text()
    found = dict(re.findall(r"^([a-z-]+): \$\(STAMP\)\n\t@[^\n]*?python -m ([a-z_.]+)", text, re.MULTILINE))
    found.pop("engine")  # builds the engine: not a command with statuses of its own
    return found


def test_bin_lakeflow_runs_what_make_runs_and_every_command_recipe_reports_its_status():
    text = (ROOT / "Makefile").read_text()
    script = (ROOT / "bin" / "lakeflow").read_text()
    commands = dict(re.findall(r"^  ([a-z-]+)\) module=([a-z_.]+) ;;$", script, re.MULTILINE))
    assert commands == _makefile_modules()
    for recipe in re.findall(r"^\t@[^\n]*python -m [a-z_.]+(?:[^\n]*\\\n)*[^\n]*$", text, re.MULTILINE):
        assert recipe.rstrip().endswith("; $(STATUS)"), recipe
