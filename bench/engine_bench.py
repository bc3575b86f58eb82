"""Build and run costs of the real engine (docs/performance.md, "The real engine").

    .venv/bin/python bench/engine_bench.py [--skip-cold] [--repeat 3]

1. `make engine` cold: empty Go module and build caches and an empty engine cache (temporary
   directories: nothing of the user's is touched), as on a fresh CI machine; wall time and the
   peak RSS of the largest process (`/usr/bin/time -v`).
2. Again with nothing changed: the cache hit.
3. A new engine cache entry with the Go caches warm: what a change to engine/ costs.
4. `make preview` of each stack against `make plan` of the same stack, interleaved, medians.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def timed_build(env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of `python -m engine.build` under /usr/bin/time -v."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", PYTHON, "-m", "engine.build"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"engine build failed:\n{done.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall and rss, done.stderr
    seconds = sum(float(part) * 60**i for i, part in enumerate(reversed(wall.group(1).split(":"))))
    return seconds, int(rss.group(1))


def timed(cmd: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true", help="only the runs with warm caches")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp:
        env = {**os.environ, "LAKEFLOW_ENGINE_CACHE": f"{tmp}/engine"}
        if not args.skip_cold:
            env.update(GOMODCACHE=f"{tmp}/gomod", GOCACHE=f"{tmp}/gocache")
            wall, rss = timed_build(env)
            print(f"cold build (empty Go caches): {wall:.0f} s, peak RSS {rss / 1024:.0f} MiB")
            wall, rss = timed_build(env)
            print(f"second build, nothing changed (cache hit): {wall:.2f} s")
        env["LAKEFLOW_ENGINE_CACHE"] = f"{tmp}/engine-again"
        wall, rss = timed_build(env)
        print(f"new cache entry, Go caches warm: {wall:.0f} s, peak RSS {rss / 1024:.0f} MiB")
        subprocess.run([PYTHON, "-m", "engine.build"], cwd=ROOT, check=True, capture_output=True)  # the user's cache
        for stack in ("dev", "staging", "prod"):
            plan, preview = [], []
            for _ in range(args.repeat):
                plan.append(timed([PYTHON, "-m", "lakeflow.offline.plan", "--stack", stack]))
                preview.append(timed([PYTHON, "-m", "engine.preview", "--stack", stack]))
            print(
                f"{stack}: make preview {statistics.median(preview):.1f} s, make plan {statistics.median(plan):.1f} s "
                f"(medians of {args.repeat}, interleaved)"
            )


if __name__ == "__main__":
    main()
