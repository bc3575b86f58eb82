"""Every file a command reads besides the config, fed what an attacker or an accident hands it:
empty, binary, truncated, nested past any sane depth, a list where an object belongs, null,
wrong types inside, huge, a directory, a missing path. Each must end in one message naming the
file and exit 2: no traceback, no hang, no crash (issue 16). The stack and pipeline YAML files
have their own hostile-input tests (tests/test_settings_validation.py).
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lakeflow.config.input_files import FileRefused, read_plan, read_preview
from lakeflow.offline import diff, plan, policy
from lakeflow.ops import capacity, health, rehearse_upgrade, validate_release
from lakeflow.ops import dr_restore as restore

Write = Callable[[Path], None]


def _text(text: str) -> Write:
    return lambda path: path.write_text(text, encoding="utf-8")


def _huge(path: Path) -> None:
    with path.open("wb") as f:  # sparse: 300 MiB in the directory listing, nothing on disk
        f.truncate(300 << 20)


def _directory(path: Path) -> None:
    path.mkdir()


HOSTILE: dict[str, Write] = {
    "empty": _text(""),
    "binary": lambda path: path.write_bytes(bytes(range(256)) * 8),
    "truncated": _text('{"project": "lakeflow", "stack": "dev", "resources": [{"urn": "urn:pulumi:dev::lake'),
    "nested-lists": _text("[" * 100_000 + "]" * 100_000),
    "nested-objects": _text('{"a":' * 5_000 + "1" + "}" * 5_000),
    "list-not-object": _text("[]"),
    "null": _text("null"),
    "wrong-types": _text('{"project": 1, "stack": [], "resources": "all", "pipelines": ["a"], "releases": 7}'),
    "nan": _text('{"pipelines": {"a": {"id": NaN}}}'),
    "huge": _huge,
    "directory": _directory,
    "missing": lambda path: None,
}

# (command, arguments with FILE where the hostile file goes). Each reads FILE before it would
# touch a workspace, so no credentials or network are involved.
COMMANDS: dict[str, tuple[Callable[[list[str]], int], list[str]]] = {
    "plan --reference": (plan.main, ["--stack", "prod", "--reference", "example-org/lakeflow/staging=FILE"]),
    "diff --old": (diff.main, ["--stack", "dev", "--old", "FILE", "--new", "FILE"]),
    "diff --engine-preview": (diff.main, ["--stack", "dev", "--engine-preview", "FILE"]),
    "diff --acknowledgements": (
        diff.main,
        ["--stack", "dev", "--old", "{plan}", "--new", "{plan}", "--acknowledgements", "FILE"],
    ),
    "policy --config": (policy.main, ["--stack", "dev", "--config", "FILE"]),
    "policy --plan": (policy.main, ["--stack", "dev", "--plan", "FILE"]),
    "capacity --history": (capacity.main, ["--stack", "dev", "--history", "FILE"]),
    "dr-restore --outputs": (restore.main, ["--stack", "dev", "--pipeline", "sales_pipeline", "--outputs", "FILE"]),
    "health --outputs": (health.main, ["--stack", "dev", "--outputs", "FILE"]),
    "validate-release --outputs": (
        validate_release.main,
        ["--stack", "dev", "--pipeline", "sales_pipeline", "--outputs", "FILE"],
    ),
    "rehearse-upgrade --outputs": (
        rehearse_upgrade.main,
        ["--stack", "dev", "--pipeline", "sales_pipeline", "--outputs", "FILE"],
    ),
}


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """A hang is a failure, not a stuck suite (SIGALRM: pytest-xdist runs tests on the main thread)."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# Acknowledgements are free text: any UTF-8 text of a sane size is read (and acknowledges nothing).
READ_AS_TEXT = {"empty", "truncated", "nested-lists", "nested-objects", "list-not-object", "null", "wrong-types", "nan"}


@pytest.mark.parametrize("content", HOSTILE)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_a_hostile_file_with_one_message_naming_it(
    command, content, tmp_path, capsys, dev_plan_file
):
    main, argv = COMMANDS[command]
    path = tmp_path / f"input-{content}"
    HOSTILE[content](path)
    with _deadline(30):
        code = main(
            [str(path) if a == "FILE" else a.replace("=FILE", f"={path}").format(plan=dev_plan_file) for a in argv]
        )
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if command == "diff --acknowledgements" and content in READ_AS_TEXT:
        assert code == 0, f"exit {code}\n{out}\n{err}"
        return
    assert code == 2, f"exit {code}\n{out}\n{err}"
    assert str(path) in err, err


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("plan", ["--stack", "dev", "--json", "{dir}/no/such/dir/plan.json"]),
        ("plan", ["--stack", "dev", "--json", "{dir}"]),
        ("diff", ["--stack", "dev", "--old", "{plan}", "--new", "{plan}", "--json", "{dir}/no/such/dir/d.json"]),
        ("diff", ["--stack", "dev", "--old", "{plan}", "--new", "{plan}", "--markdown", "{dir}"]),
    ],
)
def test_an_output_path_that_cannot_be_written_is_named(command, argv, tmp_path, capsys, dev_plan_file):
    main = {"plan": plan.main, "diff": diff.main}[command]
    code = main([a.format(dir=tmp_path, plan=dev_plan_file) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert "cannot be written" in err and str(tmp_path) in err
    assert "Traceback" not in out + err
    if command == "plan":  # refused before a second of planning, with nothing printed
        assert out == "" and "not planned" in err


@pytest.fixture(scope="module")
def dev_plan_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "dev.json"
    assert plan.main(["--stack", "dev", "--json", str(path)]) == 0
    return path


def test_a_saved_plan_reads_back_as_written(dev_plan_file):
    """The shape check accepts what `make plan JSON=` writes and changes nothing in it."""
    written = json.loads(dev_plan_file.read_text())
    assert read_plan(dev_plan_file, "--old") == written


def test_a_preview_that_failed_cannot_pass_the_deploy_gate(tmp_path):
    """`pulumi preview --json` of a failed preview still prints steps: only those it got to."""
    path = tmp_path / "preview.json"
    path.write_text(
        json.dumps(
            {
                "steps": [{"op": "same", "urn": "urn:pulumi:dev::lakeflow::pulumi:pulumi:Stack::lakeflow-dev"}],
                "diagnostics": [{"severity": "error", "message": "error: preview failed: 403 Forbidden\nmore"}],
            }
        )
    )
    with pytest.raises(FileRefused, match=r"the preview failed \(1 error\(s\)\): error: preview failed: 403"):
        read_preview(path, "ENGINE_PREVIEW")


def test_a_reference_without_the_promoted_version_is_one_message(tmp_path, capsys):
    """The program's own refusal (pulumi.RunError) ends the plan with its message, exit 2."""
    path = tmp_path / "staging-outputs.json"
    path.write_text('{"releases": {}}')
    code = plan.main(["--stack", "prod", "--reference", f"example-org/lakeflow/staging={path}"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "the promotion source runs no version of customer_360; pin a tag" in err
    assert "Traceback" not in out + err
    # The failed run leaves nothing behind in the SDK's process-wide state: the next plan works.
    assert plan.main(["--stack", "dev"]) == 0


# --- the config files every command reads --------------------------------------------------------

HOSTILE_YAML: dict[str, Write] = {
    "empty": _text(""),
    "binary": HOSTILE["binary"],
    "truncated": _text("config:\n  lakeflow:team: [unclosed\n"),
    "nested": _text("[" * 100_000 + "]" * 100_000),
    "list-not-map": _text("- a\n- b\n"),
    "alias-bomb": _text(
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, n in zip("abcdefg", "bcdefgh", strict=True)
        )
    ),
    "huge": _huge,
}

# Every command, with what it needs besides the config (no file argument is hostile here).
CONFIG_COMMANDS: dict[str, tuple[Callable[[list[str]], int], list[str]]] = {
    "plan": (plan.main, []),
    "diff": (diff.main, ["--old", "{plan}"]),
    "policy": (policy.main, []),
    "capacity": (capacity.main, []),
    "dr-restore": (restore.main, ["--pipeline", "sales_pipeline"]),
    "health": (health.main, []),
    "validate-release": (validate_release.main, ["--pipeline", "sales_pipeline"]),
    "rehearse-upgrade": (rehearse_upgrade.main, ["--pipeline", "sales_pipeline"]),
}


@pytest.mark.parametrize("file", ["Pulumi.dev.yaml", "pipelines/sales_pipeline.yaml"])
@pytest.mark.parametrize("content", HOSTILE_YAML)
@pytest.mark.parametrize("command", CONFIG_COMMANDS)
def test_every_command_refuses_a_hostile_config_file_naming_it(command, content, file, project, capsys, dev_plan_file):
    main, extra = CONFIG_COMMANDS[command]
    path = project.root / file
    path.unlink()
    HOSTILE_YAML[content](path)
    argv = ["--stack", "dev", "--root", str(project.root), *(a.format(plan=dev_plan_file) for a in extra)]
    with _deadline(30):
        code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, f"exit {code}\n{out}\n{err}"
    assert file in err, err
    assert "Traceback" not in out + err
