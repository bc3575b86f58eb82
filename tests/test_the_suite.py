"""The suite's own machinery (tests/conftest.py, `make test`'s pytest-xdist options), where getting it wrong
would hide failures or quietly cost time."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT

GROUPED = """import pytest

pytestmark = pytest.mark.xdist_group("sdk")


@pytest.mark.parametrize("i", range(4))
def test_grouped(i):
    pass
"""


def test_a_failing_test_fails_the_run_and_a_group_runs_on_one_worker(tmp_path):
    """Two workers, as `make test` runs them (`-n 2 --dist loadgroup`), this project's conftest as a plugin.

    Each xdist worker ends with `os._exit(0)` (`_leave_the_heap_to_the_os`): the run's status must still be the
    controller's, 1 when a test failed. And the tests marked `xdist_group` (tests.conftest.DATABRICKS_SDK) run on one
    worker, which alone pays for importing the Databricks SDK: pytest 9.2 with pytest-xdist 3.8 silently ignores the
    mark (pytest-dev/pytest-xdist#1386), so requirements-dev.txt pins the pytest before it."""
    (tmp_path / "test_a_grouped.py").write_text(GROUPED)
    (tmp_path / "test_b_grouped.py").write_text(GROUPED)
    others = "".join(f"def test_{i}():\n    pass\n\n\n" for i in range(8))
    (tmp_path / "test_c_one_fails.py").write_text(others + "def test_fails():\n    assert 1 == 2\n")
    argv = ["-n", "2", "--dist", "loadgroup", "-v", "-p", "tests.conftest", "-p", "no:cacheprovider", str(tmp_path)]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 16 passed" in run.stdout
    ran_on = re.findall(r"^\[(gw\d)\] .*(?:PASSED|FAILED) \S*test_\w_grouped\.py", run.stdout, re.MULTILINE)
    assert len(ran_on) == 8 and len(set(ran_on)) == 1, run.stdout
