"""The stack's monitoring dashboard as Lakeview JSON (`serialized_dashboard`).

An overview page (DBU and list-price cost per pipeline, guide 11.1) and one page per pipeline
with guide 6.2's views: execution summary (24 h), data-quality trend (7 days) and latency by
table (24 h). Datasets come from `monitoring.queries`; every widget field names a column of its
dataset, which the tests check by parsing the SQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lakeflow.sql import queries
from lakeflow.sql.queries import PipelineRef


@dataclass(frozen=True)
class Chart:
    title: str
    dataset: str
    kind: str  # line | bar | table
    x: str
    y: Sequence[str]


def _dataset(name: str, title: str, sql: str) -> dict[str, Any]:
    # Split at line feeds only: splitlines() also splits at other line boundaries (\v, \f, U+2028, ...), and
    # the lines are joined back with \n, so such a character in a string literal would be changed.
    return {"name": name, "displayName": title, "queryLines": [line + "\n" for line in sql.strip().split("\n")]}


def _widget(name: str, chart: Chart, position: dict[str, int]) -> dict[str, Any]:
    columns = [chart.x, *chart.y]
    query = {
        "name": "main_query",
        "query": {
            "datasetName": chart.dataset,
            "fields": [{"name": c, "expression": f"`{c}`"} for c in columns],
            "disaggregated": True,
        },
    }
    if chart.kind == "table":
        spec: dict[str, Any] = {
            "version": 1,
            "widgetType": "table",
            "encodings": {"columns": [{"fieldName": c, "displayName": c} for c in columns]},
        }
    else:
        spec = {
            "version": 3,
            "widgetType": chart.kind,
            "encodings": {
                "x": {"fieldName": chart.x, "scale": {"type": "temporal" if chart.kind == "line" else "categorical"}},
                "y": {"fieldName": chart.y[0], "scale": {"type": "quantitative"}},
            },
        }
    spec["frame"] = {"showTitle": True, "title": chart.title}
    return {"widget": {"name": name, "queries": [query], "spec": spec}, "position": position}


def _page(name: str, title: str, charts: Sequence[Chart]) -> dict[str, Any]:
    layout = [
        _widget(f"{name}_w{i}", chart, {"x": (i % 2) * 3, "y": (i // 2) * 6, "width": 3, "height": 6})
        for i, chart in enumerate(charts)
    ]
    return {"name": name, "displayName": title, "layout": layout}


def _key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def serialized_dashboard(environment: str, pipelines: Sequence[PipelineRef]) -> str:
    datasets = [_dataset("dbu_by_pipeline", "DBU by pipeline (30 days)", queries.dbu_by_pipeline(environment))]
    pages = [
        _page(
            "overview",
            "Overview",
            [
                Chart("DBUs by pipeline, 30 days", "dbu_by_pipeline", "bar", "pipeline", ["dbus"]),
                Chart(
                    "List-price cost by pipeline, 30 days (USD)",
                    "dbu_by_pipeline",
                    "table",
                    "pipeline",
                    ["dbus", "list_cost_usd"],
                ),
            ],
        )
    ]
    for p in pipelines:
        k = _key(p.name)
        datasets += [
            _dataset(f"{k}_execution", f"{p.name}: execution summary", queries.execution_summary(p)),
            _dataset(f"{k}_quality", f"{p.name}: data quality trend", queries.data_quality_trend(p)),
            _dataset(f"{k}_latency", f"{p.name}: latency by table", queries.latency_by_table(p)),
        ]
        pages.append(
            _page(
                k,
                p.name,
                [
                    Chart("Failed runs per hour (24 h)", f"{k}_execution", "line", "hour", ["failed_runs"]),
                    Chart("Rows processed per hour (24 h)", f"{k}_execution", "line", "hour", ["total_rows_processed"]),
                    Chart("Expectation pass rate per day (7 days)", f"{k}_quality", "line", "day", ["pass_rate"]),
                    Chart(
                        "Latency by table (24 h)",
                        f"{k}_latency",
                        "table",
                        "table_name",
                        ["avg_duration_sec", "max_duration_sec", "execution_count"],
                    ),
                ],
            )
        )
    return _json_lines({"datasets": datasets, "pages": pages})


def _json_lines(doc: dict[str, list[dict[str, Any]]]) -> str:
    """`doc` as JSON with one dataset or page per line: a diff shows which one changed, and it is
    written by json's C encoder (an `indent` would use the pure-Python one: seconds at 500 pages)."""
    members = [
        f"{json.dumps(key)}: [\n" + ",\n".join(json.dumps(item, sort_keys=True) for item in doc[key]) + "\n]"
        for key in sorted(doc)
    ]
    return "{\n" + ",\n".join(members) + "\n}"
