"""The suite's own machinery (tests/conftest.py), where getting it wrong would hide failures."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_a_failing_test_still_fails_the_run_though_workers_leave_with_os_exit(tmp_path):
    """Each xdist worker ends with `os._exit(0)` (`_leave_the_heap_to_the_os`): the run's status must still be
    the controller's, 1 when a test failed. One worker, this project's conftest as a plugin."""
    tests = "def test_fails():\n    assert 1 == 2\n\n\ndef test_passes():\n    pass\n"
    (tmp_path / "test_one_fails.py").write_text(tests)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "1", "-p", "tests.conftest", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
