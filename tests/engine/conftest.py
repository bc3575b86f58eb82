"""Fixtures of the agreement tests: the built engine, and changed copies of the project.

These tests run the real Pulumi CLI, language host and Databricks provider (`make engine`), so
they carry the `engine` marker: `make test-engine` runs them (CI does, after building the engine),
`make test` leaves them out. Without a built engine they are skipped, except in CI, where that is
a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import build
from engine.build import Engine
from tests.conftest import ROOT

_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "bench"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:  # the hook sees the whole session's items: mark this folder's only
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def engine() -> Engine:
    found = build.find()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("the engine is not built: .ci/run must run `make engine` before these tests")
        pytest.skip("the real engine is not built here: run `make engine` (or `make test-engine`)")
    return found


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[[str], Path]:
    """`project_copy(name)`: a copy of this checkout's program, pipeline and stack files under
    tmp_path/name, to change for a scenario."""

    def copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copytree(ROOT, dst, ignore=_NOT_COPIED, symlinks=True)
        return dst

    return copy


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace `old` by `new` in a file of a copy; fails if `old` is not there `count` times."""
    text = path.read_text()
    assert text.count(old) == count, f"{path.name}: expected {count} x {old!r}"
    path.write_text(text.replace(old, new))
