"""The benchmark's generated project (bench/workload.py) stays a project the stack accepts: when a
rule of the loader tightens, the benchmark's pipelines must follow, or `make bench` stops at its
first check (as it did when dependent schedules could no longer start a scheduled upstream)."""

from __future__ import annotations

import sys

import pytest

from lakeflow.offline.plan import plan_stack
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import plan_bench

pytestmark = pytest.mark.plan


def test_the_benchmark_project_plans(tmp_path):
    plan = plan_stack("bench", plan_bench.write_project(20, tmp_path / "n20"))
    assert plan.schema_errors == []
    kinds = {r["type"].rsplit(":", 1)[-1] for r in plan.resources}
    assert {"Pipeline", "Job", "AlertV2"} <= kinds


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--base", "no-such-ref"], "suite_bench: cannot check out no-such-ref"),
        (["--base", "HEAD", "--base-venv", "/no/such/venv"], "suite_bench: no virtualenv at /no/such/venv"),
    ],
    ids=["ref", "venv"],
)
def test_the_suite_benchmark_refuses_a_baseline_it_cannot_run(argv, said, monkeypatch, capsys):
    """bench/suite_bench.py measures against a commit (and a virtualenv): one that is none stops it at once,
    saying which."""
    import suite_bench

    monkeypatch.setattr(sys, "argv", ["suite_bench.py", *argv, "--repeat", "1"])
    assert suite_bench.main() == 1
    assert said in capsys.readouterr().err
