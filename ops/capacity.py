"""`make capacity STACK=<stack> GROWTH=0.1 MONTHS=6 [HISTORY=metrics.csv]`: guide 9.2's model.

For each pipeline: throughput per worker = current throughput / current workers; the volume of
month m = current throughput x (1 + growth)^m; required workers = ceil(volume / throughput per
worker); monthly cost = (required workers + 1 driver) x run hours a month x DBU per node-hour x
list price per DBU. A month whose required workers exceed the cluster's max_workers (or the
stack's cap) is flagged: that is when autoscaling stops keeping up.

Inputs come from the pipeline file's `capacity:` section, or from a CSV exported from the
system tables (columns: pipeline, month as YYYY-MM, rows_processed, avg_workers, run_hours,
dbus, list_cost_usd): its latest month gives throughput, workers and hours, the DBU and price
figures come from its dbus/cost columns, and GROWTH, when not given, is the compound monthly
growth of rows over the history.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from settings.errors import ConfigErrors
from settings.input_files import FileRefused, read_text
from settings.loader import StackSettings
from settings.models import Capacity

ROOT = Path(__file__).resolve().parent.parent
HISTORY_COLUMNS = ("pipeline", "month", "rows_processed", "avg_workers", "run_hours", "dbus", "list_cost_usd")


@dataclass(frozen=True)
class Month:
    month: int
    rows_per_hour: float
    required_workers: int
    monthly_cost_usd: float
    exceeds_cap: bool


@dataclass(frozen=True)
class Projection:
    pipeline: str
    source: str
    growth: float
    cap: int | None
    months: list[Month]


def project(inputs: Capacity, growth: float, months: int, cap: int | None) -> list[Month]:
    per_worker = inputs.current_rows_per_hour / inputs.current_workers
    out = []
    for m in range(1, months + 1):
        volume = inputs.current_rows_per_hour * (1 + growth) ** m
        # A tiny epsilon keeps float noise (x.0000000001) from adding a worker.
        workers = math.ceil(volume / per_worker - 1e-9)
        cost = (workers + 1) * inputs.run_hours_per_month * inputs.dbu_per_node_hour * inputs.usd_per_dbu
        out.append(Month(m, round(volume, 2), workers, round(cost, 2), cap is not None and workers > cap))
    return out


class HistoryError(ValueError):
    """A history CSV that cannot be used; the message names the file, row and column."""


def read_history(path: Path) -> dict[str, list[dict[str, float | str]]]:
    try:
        text = read_text(path, "HISTORY", max_bytes=16 << 20)
    except FileRefused as exc:
        raise HistoryError(str(exc)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: dict[str, list[dict[str, float | str]]] = {}
    try:
        missing = [c for c in HISTORY_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise HistoryError(f"{path}: missing column(s) {', '.join(missing)}; needs {', '.join(HISTORY_COLUMNS)}")
        for n, row in enumerate(reader, start=2):
            if None in row or any(row[c] is None for c in HISTORY_COLUMNS):
                raise HistoryError(f"{path}:{n}: expected the {len(reader.fieldnames or [])} columns of the header")
            if not row["pipeline"] or not row["month"]:
                raise HistoryError(f"{path}:{n}: pipeline and month must not be empty")
            parsed: dict[str, float | str] = {"month": row["month"]}
            for col in HISTORY_COLUMNS[2:]:
                try:
                    value = float(row[col])
                except ValueError:
                    raise HistoryError(f"{path}:{n}: {col}: {row[col]!r} is not a number") from None
                if not math.isfinite(value) or value < 0 or (col not in ("dbus", "list_cost_usd") and value == 0):
                    raise HistoryError(f"{path}:{n}: {col}: {row[col]!r} must be a finite, positive number")
                parsed[col] = value
            rows.setdefault(row["pipeline"], []).append(parsed)
    except csv.Error as exc:
        raise HistoryError(f"{path}:{reader.line_num}: not CSV ({exc})") from None
    return {p: sorted(r, key=lambda x: str(x["month"])) for p, r in rows.items()}


def from_history(rows: list[dict[str, float | str]]) -> tuple[Capacity, float | None]:
    last = rows[-1]
    hours, workers = float(last["run_hours"]), float(last["avg_workers"])
    dbus, cost = float(last["dbus"]), float(last["list_cost_usd"])
    inputs = Capacity(
        current_rows_per_hour=float(last["rows_processed"]) / hours,
        current_workers=workers,
        run_hours_per_month=hours,
        dbu_per_node_hour=dbus / ((workers + 1) * hours) if dbus else 1.0,
        usd_per_dbu=cost / dbus if dbus else 0.0001,
    )
    growth = None
    if len(rows) >= 2:
        first = float(rows[0]["rows_processed"])
        growth = (float(last["rows_processed"]) / first) ** (1 / (len(rows) - 1)) - 1
    return inputs, growth


def plan_capacity(
    settings: StackSettings, growth: float | None, months: int, history: Path | None = None
) -> list[Projection]:
    hist = read_history(history) if history else {}
    out = []
    for spec in settings.pipelines:
        caps = [c.autoscale.max_workers if c.autoscale else c.num_workers for c in spec.clusters]
        caps += [settings.config.max_workers_cap]
        cap = min((c for c in caps if c is not None), default=None)
        if spec.name in hist:
            inputs, fitted = from_history(hist[spec.name])
            source, g = f"history ({len(hist[spec.name])} months)", growth if growth is not None else fitted
        elif spec.capacity is not None:
            inputs, source, g = spec.capacity, "pipeline file", growth
        else:
            continue
        if g is None:
            why = "one month of history gives no trend" if spec.name in hist else "its pipeline file gives no trend"
            raise HistoryError(f"{spec.name}: GROWTH is needed ({why})")
        out.append(Projection(spec.name, source, round(g, 4), cap, project(inputs, g, months, cap)))
    return out


def render(projections: list[Projection]) -> str:
    lines = []
    for p in projections:
        lines.append(f"{p.pipeline}  (from {p.source}, growth {p.growth:.1%}/month, max workers {p.cap})")
        lines.append(f"  {'month':>5}  {'rows/hour':>14}  {'workers':>7}  {'cost/month':>12}")
        for m in p.months:
            flag = "  EXCEEDS max_workers" if m.exceeds_cap else ""
            cost = f"${m.monthly_cost_usd:>11,.2f}"
            lines.append(f"  {m.month:>5}  {m.rows_per_hour:>14,.0f}  {m.required_workers:>7}  {cost}{flag}")
    if not projections:
        lines.append("No pipeline has a capacity: section, and no HISTORY was given.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from offline.stack_file import load_stack

    parser = argparse.ArgumentParser(prog="make capacity", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--growth", type=float, help="monthly growth rate, e.g. 0.1 (default: fitted from HISTORY)")
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--history", type=Path, help="CSV of monthly metrics exported from system tables")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.months <= 60:
        print(f"make capacity: MONTHS={args.months}: must be between 1 and 60", file=sys.stderr)
        return 2
    if args.growth is not None and not -0.9 < args.growth <= 10:
        print(f"make capacity: GROWTH={args.growth}: must be a rate such as 0.1 (10 % a month)", file=sys.stderr)
        return 2
    try:
        settings = load_stack(args.root, args.stack)
        projections = plan_capacity(settings, args.growth, args.months, args.history)
    except ConfigErrors as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except HistoryError as exc:
        print(f"make capacity: {exc}", file=sys.stderr)
        return 2
    print(json.dumps([asdict(p) for p in projections], indent=2) if args.json else render(projections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
