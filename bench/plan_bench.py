"""`make bench [SIZES=1,50,500]`: wall time and peak memory of the offline plan against a bare program.

For each N it generates a production-like project of N pipelines (bench/workload.py) in a
temporary directory and measures, in the same run and interleaved so machine noise hits both:

- the tool, exactly as a user runs it: `python -m lakeflow.offline.plan --stack bench --root <project>`;
- the baseline, `python bench/bare_program.py N`: the same pipelines and jobs registered
  directly under Pulumi's mocks, with no components and no validation.

Each is a fresh process (imports included: a user pays for them too). Wall time is taken around
the process; peak RSS is the child's own `ru_maxrss` from `os.wait4` (RUSAGE_CHILDREN would be the
maximum over every child so far). Medians of `--repeat` runs are compared with the issue's
targets: at N=500 time and peak RSS ≤ 1.3× the bare program, and time growth N=50 → 500 ≤ 11×.

Linux counts the spawning process's own resident memory into a child's `ru_maxrss` (the child
starts as a copy of it), so this process stays small: it imports only the standard library and
PyYAML, and it warns if its own peak comes near a measured figure.

This is a measurement, not a test: it exits 0 whatever the verdicts, and 1 only if a run failed.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import workload
import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
STACK = "bench"
TARGET_SIZE, GROWTH_FROM = 500, 50
TIME_RATIO_TARGET = RSS_RATIO_TARGET = 1.3
GROWTH_TARGET = 11.0
PACKAGES = ("pulumi", "pulumi-databricks", "pydantic", "PyYAML", "grpcio", "protobuf")
HEADER = [
    "N",
    "tool time (s)",
    "bare time (s)",
    "time ratio",
    "tool RSS (MiB)",
    "bare RSS (MiB)",
    "RSS ratio",
    "resources tool / bare",
]


class BenchError(RuntimeError):
    """A measured run failed: its figures would mean nothing."""


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_kib: int


@dataclass
class Series:
    """Every run of one program at one N; the report uses medians, which shrug off a stray slow run."""

    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def rss_mib(self) -> float:
        return statistics.median(r.peak_rss_kib for r in self.runs) / 1024


@dataclass
class Results:
    sizes: list[int]
    repeat: int
    code: str
    """Which checkout's offline plan was measured (commit, and whether it had local changes)."""
    tool: dict[int, Series] = field(default_factory=dict)
    bare: dict[int, Series] = field(default_factory=dict)
    tool_resources: dict[int, int] = field(default_factory=dict)
    bare_resources: dict[int, int] = field(default_factory=dict)


# --- the workload on disk -----------------------------------------------------------------


def write_project(n: int, root: Path, code: Path = ROOT) -> Path:
    """A project directory the tool of checkout `code` accepts: its Pulumi.yaml, a production
    stack Pulumi.bench.yaml built on its Pulumi.prod.yaml, and N pipeline files."""
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    shutil.copy(code / "Pulumi.yaml", root / "Pulumi.yaml")
    prod = code / "Pulumi.prod.yaml"
    base = (yaml.safe_load(prod.read_text(encoding="utf-8")) or {}).get("config", {}) if prod.exists() else {}
    _dump(workload.stack_config(base), root / f"Pulumi.{STACK}.yaml")
    for i in range(n):
        doc = workload.pipeline_doc(i)
        _dump(doc, root / "pipelines" / f"{doc['name']}.yaml")
    return root


def _dump(data: object, path: Path) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False), encoding="utf-8")


def bare_resource_count(n: int) -> int:
    """What bare_program.py registers: a Pipeline per pipeline, a Job per scheduled one."""
    return sum(1 + ("schedule" in workload.pipeline_doc(i, placeholders=False)) for i in range(n))


# --- measuring ----------------------------------------------------------------------------


def tool_command(python: str, project: Path) -> list[str]:
    return [python, "-m", "lakeflow.offline.plan", "--stack", STACK, "--root", str(project)]


def bare_command(python: str, n: int) -> list[str]:
    return [python, str(BENCH / "bare_program.py"), str(n)]


def measure(command: Sequence[str], cwd: Path) -> Run:
    """One fresh process: wall time around it, its own peak RSS from wait4, exit code 0 or BenchError."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; tell Popen
        if proc.returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace")[-3000:]
            raise BenchError(f"{' '.join(command)} exited with {proc.returncode}:\n{tail}")
    return Run(elapsed, usage.ru_maxrss)  # KiB on Linux


def tool_resource_count(command: Sequence[str], cwd: Path) -> int:
    """Untimed run that also checks the generated project plans cleanly; the count is the tree's
    last line, `Resources: … (<n> in all)`."""
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    found = re.search(r"\((\d+) in all\)", proc.stdout)
    return int(found.group(1)) if found else -1


def run_benchmark(sizes: list[int], repeat: int, python: str, code: Path, workdir: Path) -> Results:
    results = Results(sizes, repeat, describe_code(code))
    projects = {n: write_project(n, workdir / f"n{n}", code) for n in sizes}
    # Untimed passes: each project must plan cleanly, and no timed run should pay for cold caches.
    for n in sizes:
        print(f"  checking the N={n} project…", file=sys.stderr)
        results.tool_resources[n] = tool_resource_count(tool_command(python, projects[n]), code)
        results.bare_resources[n] = bare_resource_count(n)
    measure(bare_command(python, sizes[0]), ROOT)
    for rep in range(repeat):
        for n in sizes:
            pair = [
                (results.tool, tool_command(python, projects[n]), code),
                (results.bare, bare_command(python, n), ROOT),
            ]
            if rep % 2:  # alternate who goes first, so neither always runs on a warmer machine
                pair.reverse()
            for series, command, cwd in pair:
                series.setdefault(n, Series()).runs.append(measure(command, cwd))
            print(
                f"  run {rep + 1}/{repeat} N={n}: tool {results.tool[n].runs[-1].seconds:.2f}s, "
                f"bare {results.bare[n].runs[-1].seconds:.2f}s",
                file=sys.stderr,
            )
    return results


def describe_code(code: Path) -> str:
    """`<commit>` or `<commit> + uncommitted changes`, for the record."""
    try:
        rev = subprocess.run(
            ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{code} (not a git checkout)"
    return f"commit {rev}" + (" + uncommitted changes" if dirty else "")


# --- reporting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    target: str
    figure: str
    passed: bool | None  # None: not measured (size not in --sizes)

    @property
    def word(self) -> str:
        return "n/a" if self.passed is None else ("PASS" if self.passed else "FAIL")


def verdicts(r: Results) -> list[Verdict]:
    time_target = f"time ≤ {TIME_RATIO_TARGET}× bare at N={TARGET_SIZE}"
    rss_target = f"peak RSS ≤ {RSS_RATIO_TARGET}× bare at N={TARGET_SIZE}"
    out = []
    if TARGET_SIZE in r.tool:
        t, b = r.tool[TARGET_SIZE], r.bare[TARGET_SIZE]
        time_ratio, rss_ratio = t.seconds / b.seconds, t.rss_mib / b.rss_mib
        out += [
            Verdict(time_target, f"{time_ratio:.2f}×", time_ratio <= TIME_RATIO_TARGET),
            Verdict(rss_target, f"{rss_ratio:.2f}×", rss_ratio <= RSS_RATIO_TARGET),
        ]
    else:
        out += [Verdict(time_target, "not measured", None), Verdict(rss_target, "not measured", None)]
    growth = _growth(r.tool, "seconds")
    out.append(
        Verdict(
            f"tool time growth N={GROWTH_FROM} → {TARGET_SIZE} ≤ {GROWTH_TARGET:g}×",
            f"{growth:.2f}×" if growth is not None else "not measured",
            None if growth is None else growth <= GROWTH_TARGET,
        )
    )
    return out


def _growth(series: dict[int, Series], attr: str) -> float | None:
    if GROWTH_FROM not in series or TARGET_SIZE not in series:
        return None
    return getattr(series[TARGET_SIZE], attr) / getattr(series[GROWTH_FROM], attr)


def table_rows(r: Results) -> list[list[str]]:
    rows = []
    for n in r.sizes:
        t, b = r.tool[n], r.bare[n]
        rows.append(
            [
                str(n),
                f"{t.seconds:.2f}",
                f"{b.seconds:.2f}",
                f"{t.seconds / b.seconds:.2f}×",
                f"{t.rss_mib:.0f}",
                f"{b.rss_mib:.0f}",
                f"{t.rss_mib / b.rss_mib:.2f}×",
                f"{r.tool_resources[n]} / {r.bare_resources[n]}",
            ]
        )
    return rows


def growth_lines(r: Results) -> list[str]:
    figures = {
        "tool time": _growth(r.tool, "seconds"),
        "bare time": _growth(r.bare, "seconds"),
        "tool RSS": _growth(r.tool, "rss_mib"),
        "bare RSS": _growth(r.bare, "rss_mib"),
    }
    if any(v is None for v in figures.values()):
        return [f"Growth N={GROWTH_FROM} → {TARGET_SIZE}: not measured (needs both sizes)."]
    lines = [f"Growth N={GROWTH_FROM} → {TARGET_SIZE}: " + ", ".join(f"{k} ×{v:.2f}" for k, v in figures.items())]
    return lines


def text_report(r: Results) -> str:
    rows = [HEADER, *table_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", f"Offline plan of {r.code}; median of {r.repeat} runs.", *growth_lines(r), ""]
    lines += [f"{v.word:4}  {v.target}: {v.figure}" for v in verdicts(r)]
    return "\n".join(lines)


def markdown_report(r: Results, machine: dict[str, str]) -> str:
    lines = [
        f"### Run of {machine['date']}",
        "",
        f"- Code measured: {r.code}",
        f"- Machine: {machine['os']}, {machine['cpus']} CPUs ({machine['cpu']}), Python {machine['python']}",
        f"- Packages: {machine['packages']}",
        f"- Median of {r.repeat} interleaved runs per program and size; each run is a fresh process.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---:" for _ in HEADER) + "|",
        *("| " + " | ".join(row) + " |" for row in table_rows(r)),
        "",
        *(f"{line}  " for line in growth_lines(r)),
        "",
        "| Target | Measured | Verdict |",
        "|---|---:|---|",
        *(f"| {v.target} | {v.figure} | **{v.word}** |" for v in verdicts(r)),
        "",
        "<details><summary>Every run (seconds / peak RSS MiB)</summary>",
        "",
        "| N | tool | bare |",
        "|---:|---|---|",
        *(f"| {n} | {_runs(r.tool[n])} | {_runs(r.bare[n])} |" for n in r.sizes),
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)


def _runs(series: Series) -> str:
    return ", ".join(f"{run.seconds:.2f} / {run.peak_rss_kib / 1024:.0f}" for run in series.runs)


def machine_info(python: str) -> dict[str, str]:
    probe = (
        "import importlib.metadata as m, platform\n"
        "print(platform.python_version())\n"
        f"print(', '.join(f'{{p}} {{m.version(p)}}' for p in {PACKAGES!r}))\n"
    )
    version, packages = subprocess.run(
        [python, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    cpuinfo = Path("/proc/cpuinfo")
    models = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpus": str(os.cpu_count()),
        "cpu": models[0] if models else platform.processor() or "unknown CPU",
        "python": version,
        "packages": packages,
    }


def _check_own_footprint(r: Results) -> None:
    own_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    smallest = min(s.rss_mib for s in (*r.tool.values(), *r.bare.values()))
    if own_mib > 0.8 * smallest:
        print(
            f"warning: this process peaked at {own_mib:.0f} MiB, close to the smallest measured peak "
            f"({smallest:.0f} MiB); children's RSS figures may include it",
            file=sys.stderr,
        )


# --- command line -------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive integers, e.g. 1,50,500")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/plan_bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[1, 50, 500], help="pipeline counts (default: 1,50,500)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per program and size (default: 3)")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the results as markdown to PATH")
    parser.add_argument(
        "--python",
        default=str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").is_dir() else sys.executable,
        help="interpreter for both programs (default: the project's .venv)",
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        metavar="DIR",
        help="checkout whose offline plan is measured (default: this one); e.g. an exported older "
        "commit, to compare before and after a change",
    )
    parser.add_argument(
        "--generate",
        nargs=2,
        metavar=("N", "DIR"),
        help="only write the N-pipeline project into DIR (e.g. to profile the tool on it) and exit",
    )
    args = parser.parse_args(argv)
    code = args.code.resolve()
    # Absolute (not resolved: a venv's python is a symlink that must stay one), as the tool runs in `code`.
    python = os.path.abspath(args.python) if os.sep in args.python else shutil.which(args.python) or args.python

    if args.generate:
        project = write_project(int(args.generate[0]), Path(args.generate[1]).resolve(), code)
        print(f"wrote {project}; plan it with: python -m lakeflow.offline.plan --stack {STACK} --root {project}")
        return 0

    print(
        f"Benchmarking the offline plan at N={','.join(map(str, args.sizes))}, {args.repeat} runs each…",
        file=sys.stderr,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="plan_bench_") as workdir:
            results = run_benchmark(args.sizes, args.repeat, python, code, Path(workdir))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _check_own_footprint(results)

    print(text_report(results))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown_report(results, machine_info(python)), encoding="utf-8")
        print(f"\nMarkdown written to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
