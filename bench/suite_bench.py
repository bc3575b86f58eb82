"""`python bench/suite_bench.py [--base REF] [--base-venv DIR] [--repeat 3]`: the fast suite (`make test`) of
this checkout against the one at git `REF`, interleaved in the same run so that the machine's noise hits both.

Issue 20's target is `make test` under 25 s on 2 CPUs, read from the runner's own timing: pytest's
"passed in N s" line, which is what this reports (with the CPU seconds the run and its children used,
from `getrusage(RUSAGE_CHILDREN)`). A worktree of REF is checked out beside this one and shares this checkout's
virtualenv, or runs with `--base-venv` (another interpreter: `--base HEAD --base-venv DIR` measures only the
interpreter), through a symlink, so that its own tests that start commands find `.venv/bin`; REF's package
comes first on the path there. Each run is a fresh
`python -m pytest -n auto --dist loadgroup -m "not engine and not install"`, as the Makefile's `test` target
runs it, compiled modules kept (`PYTHONDONTWRITEBYTECODE` unset).

A measurement, not a test: exit 0 whatever the numbers, 1 if a run failed or REF cannot be checked out.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = ["-m", "pytest", "-n", "auto", "--dist", "loadgroup", "-m", "not engine and not install"]
SUITE += ["-p", "no:cacheprovider"]
PASSED = re.compile(r"(\d+) passed.* in ([\d.]+)s")


def run_suite(checkout: Path, venv: Path) -> tuple[float, float, float, int]:
    """(pytest's seconds, wall seconds, CPU seconds of the run and its children, tests passed)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPATH": str(checkout / "src")}
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(venv / "bin" / "python"), *SUITE],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out, _ = proc.communicate()
    wall = time.monotonic() - started
    found = PASSED.search(out.splitlines()[-1] if out else "")
    if proc.returncode != 0 or not found:
        sys.exit(f"suite_bench: the suite failed in {checkout}:\n{out[-3000:]}")
    cpu = _children_cpu()
    return float(found[2]), wall, cpu, int(found[1])


_LAST_CHILDREN = [0.0]


def _children_cpu() -> float:
    """CPU seconds of the children reaped since the previous call (the run, its workers and commands)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    spent, _LAST_CHILDREN[0] = total - _LAST_CHILDREN[0], total
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git ref of the baseline (e.g. the commit an issue started from)")
    parser.add_argument("--base-venv", type=Path, default=ROOT / ".venv", help="the virtualenv REF runs with")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for venv in {ROOT / ".venv", args.base_venv}:
        if not (venv / "bin" / "python").exists():
            return print(f"suite_bench: no virtualenv at {venv}: run `make venv` first", file=sys.stderr) or 1
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        added = subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(base), args.base],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if added.returncode != 0:
            return print(f"suite_bench: cannot check out {args.base}: {added.stderr.strip()}", file=sys.stderr) or 1
        try:
            (base / ".venv").symlink_to(args.base_venv.resolve())
            # make's stamp rule: the worktree's pins must not look newer than its virtualenv.
            installed = (args.base_venv / ".installed").stat().st_mtime - 1
            for pins in ("requirements.txt", "requirements-dev.txt", "constraints.txt", "pyproject.toml"):
                if (base / pins).exists():
                    os.utime(base / pins, (installed, installed))
            results: dict[str, list[tuple[float, float, float, int]]] = {"base": [], "head": []}
            _children_cpu()
            for i in range(args.repeat):
                for name, checkout in (
                    (("base", base), ("head", ROOT)) if i % 2 == 0 else (("head", ROOT), ("base", base))
                ):
                    results[name].append(run_suite(checkout, args.base_venv if name == "base" else ROOT / ".venv"))
                    pytest_s, wall, cpu, passed = results[name][-1]
                    print(
                        f"run {i + 1} {name}: {passed} passed in {pytest_s:.1f} s (wall {wall:.1f} s, CPU {cpu:.1f} s)"
                    )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
    print(f"\nmedians of {args.repeat} interleaved runs on {os.cpu_count()} CPUs:")
    print("| checkout | tests | pytest (s) | wall (s) | CPU (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in results.items():
        label = args.base if name == "base" else "this checkout"
        if args.base_venv.resolve() != (ROOT / ".venv").resolve():
            label += f" ({_interpreter(args.base_venv if name == 'base' else ROOT / '.venv')})"
        med = [statistics.median(r[k] for r in runs) for k in range(3)]
        print(f"| {label} | {runs[-1][3]} | {med[0]:.1f} | {med[1]:.1f} | {med[2]:.1f} |")
    return 0


def _interpreter(venv: Path) -> str:
    """`home` of the virtualenv: the interpreter it was made from."""
    for line in (venv / "pyvenv.cfg").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home":
            return value.strip()
    return str(venv)


if __name__ == "__main__":
    sys.exit(main())
