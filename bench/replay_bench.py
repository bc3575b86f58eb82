"""`python bench/replay_bench.py [--sizes 50,500] [--repeat 3]`: the offline plan against the
like-for-like baseline, in one run.

`plan_bench.py` compares the tool with the issue's baseline, a bare program registering N
Pipelines + Jobs; but the stack now declares far more per pipeline (alerts, permissions,
budgets), so that ratio mostly counts resources. Here the baseline is `replay_program.py`, a
bare program registering exactly the custom resources the tool's plan recorded, so the ratio is
what the tool's own layers cost: settings and YAML, components, the schema check, recording.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from plan_bench import BENCH, ROOT, Run, measure, tool_command, write_project


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,500")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    python = str(ROOT / ".venv" / "bin" / "python")
    rows = []
    with tempfile.TemporaryDirectory(prefix="replay_bench_") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            project = write_project(n, Path(tmp) / f"n{n}")
            plan = Path(tmp) / f"plan{n}.json"
            measure([*tool_command(python, project), "--json", str(plan)], ROOT)  # warm-up, and the plan to replay
            tool: list[Run] = []
            replay: list[Run] = []
            for _ in range(args.repeat):  # interleaved, so machine noise hits both
                tool.append(measure(tool_command(python, project), ROOT))
                replay.append(measure([python, str(BENCH / "replay_program.py"), str(plan)], ROOT))
            resources = plan.read_text().count('"urn":')
            t, r = (statistics.median(x.seconds for x in s) for s in (tool, replay))
            tm, rm = (statistics.median(x.peak_rss_kib for x in s) / 1024 for s in (tool, replay))
            cells = [n, resources, f"{t:.2f}", f"{r:.2f}", f"{t / r:.2f}×", f"{tm:.0f}", f"{rm:.0f}", f"{tm / rm:.2f}×"]
            rows.append("| " + " | ".join(map(str, cells)) + " |")
    header = ["N", "resources", "tool time (s)", "replay time (s)", "time ratio", "tool RSS (MiB)", "replay RSS (MiB)"]
    print("| " + " | ".join([*header, "RSS ratio"]) + " |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
