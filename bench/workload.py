"""The benchmark's workload: N production-like pipelines, described once as plain data.

Both sides of the comparison take their pipelines from here, so they register the same
resources with the same inputs: `plan_bench.py` writes each description as a `pipelines/*.yaml`
file (with `${VAR}` placeholders, as users write them) for the real tool, and `bare_program.py`
registers the very same descriptions (placeholders already filled) straight as
`databricks.Pipeline` + `databricks.Job`.

The mix follows the shipped example pipelines, one in ten of each special kind:

- i % 10 == 9: continuous (near real-time): no schedule, so no job;
- i % 10 == 4: on-demand: serverless (no clusters), started by file arrival;
- i % 10 == 7: dependent: its job runs the cron pipeline seven places earlier first;
- otherwise:   batch ETL on a Quartz cron schedule.

Nothing here validates anything: it is data for the benchmark, kept free of project imports so
the bare program stays bare.
"""

from __future__ import annotations

from typing import Any

ENVIRONMENT = "bench"
TEAM = "DataEngineering"
COST_CENTER = "CC-1042"
TIMEZONE = "America/New_York"
RUN_AS = "sp:5f1d2c3b-7a4e-4b2c-9d1e-0c8f6a5b3e21"
FAILURE_EMAILS = ("dataeng-oncall@example.com",)
VIEWERS = ("group:data-engineers", "group:analysts")
RUNNERS = ("group:platform-ops",)
MANAGERS = ("group:platform-ops",)
MAX_WORKERS_CAP = 20
VARIABLES = {
    "CATALOG": "bench",
    "MIN_WORKERS": "2",
    "MAX_WORKERS": "16",
    "SOURCE_PATH": "/Volumes/bench/landing/raw",
    "REPO_ROOT": "/Workspace/Repos/bench/dlt-pipelines",
}

_DOMAINS = (
    "sales",
    "orders",
    "customers",
    "inventory",
    "finance",
    "marketing",
    "clickstream",
    "logistics",
    "support",
    "billing",
)
_CONTINUOUS, _ON_DEMAND, _DEPENDENT = 9, 4, 7
_UPSTREAM_DISTANCE = 7  # i % 10 == 7 -> i - 7 has i % 10 == 0: always a cron pipeline


def pipeline_name(i: int) -> str:
    """Logical name of pipeline `i`: unique and matching ^[a-z][a-z0-9_]*$."""
    return f"{_DOMAINS[i % len(_DOMAINS)]}_{i:04d}"


def stack_config(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """`Pulumi.bench.yaml`: a production stack.

    `base` is the checkout's own `Pulumi.prod.yaml` config: it supplies whatever else a
    production stack of that version needs (keys added by later features, with their example
    values), so the benchmark keeps up with the project. The keys the bare program mirrors are
    always set here.
    """
    return {
        "config": {
            **(base or {}),
            "databricks:host": "https://dbc-bench.cloud.databricks.com",
            "lakeflow:environment": ENVIRONMENT,
            "lakeflow:mode": "production",
            "lakeflow:team": TEAM,
            "lakeflow:costCenter": COST_CENTER,
            "lakeflow:schedulePauseStatus": "UNPAUSED",
            "lakeflow:timezone": TIMEZONE,
            "lakeflow:runAs": RUN_AS,
            "lakeflow:maxWorkersCap": MAX_WORKERS_CAP,
            "lakeflow:viewers": list(VIEWERS),
            "lakeflow:runners": list(RUNNERS),
            "lakeflow:managers": list(MANAGERS),
            "lakeflow:failureEmails": list(FAILURE_EMAILS),
            "lakeflow:variables": dict(VARIABLES),
        }
    }


def pipeline_doc(i: int, placeholders: bool = True) -> dict[str, Any]:
    """Pipeline `i` in the `pipelines/*.yaml` shape (src/lakeflow/config/models.py `PipelineSpec`).

    With `placeholders`, values that differ per environment are `${VAR}`s, as users write them;
    without, they are filled in (worker counts as ints), which is what the tool ends up with.
    """

    def var(key: str) -> str:
        return f"${{{key}}}" if placeholders else {**VARIABLES, "ENV": ENVIRONMENT}[key]

    def workers(key: str) -> str | int:
        return var(key) if placeholders else int(VARIABLES[key])

    name = pipeline_name(i)
    domain = _DOMAINS[i % len(_DOMAINS)]
    kind = i % 10
    repo = f"{var('REPO_ROOT')}/pipelines/{name}"
    doc: dict[str, Any] = {
        "name": name,
        "target": f"{var('CATALOG')}.{domain}",
        "continuous": kind == _CONTINUOUS,
        "photon": kind != _ON_DEMAND,
        "channel": "CURRENT",
    }
    if kind == _ON_DEMAND:
        doc["serverless"] = True
        doc["libraries"] = [{"glob": {"include": f"{repo}/**"}}]
    else:
        doc["edition"] = "PRO" if kind == _CONTINUOUS else "ADVANCED"
        cluster: dict[str, Any] = {
            "label": "default",
            "autoscale": {
                "min_workers": workers("MIN_WORKERS"),
                "max_workers": workers("MAX_WORKERS"),
                "mode": "ENHANCED",
            },
        }
        if i % 3 == 0:
            cluster["spark_conf"] = {
                "spark.databricks.delta.optimizeWrite.enabled": "true",
                "spark.databricks.delta.autoCompact.enabled": "true",
            }
        if i % 2 == 0:
            cluster["custom_tags"] = {"DataProduct": domain}
        doc["clusters"] = [cluster]
        doc["libraries"] = [{"notebook": {"path": f"{repo}/silver"}}]
        if i % 2 == 1:
            doc["libraries"].append({"file": {"path": f"{repo}/gold.sql"}})
    doc["configuration"] = {"source_path": f"{var('SOURCE_PATH')}/{name}", "environment": var("ENV")}
    doc["tables"] = [f"{name}_silver", f"{name}_gold"]  # what a dependent's table-update trigger watches

    if kind == _ON_DEMAND:
        doc["schedule"] = {
            "file_arrival": {"url": f"{var('SOURCE_PATH')}/{name}/", "min_time_between_triggers_seconds": 300}
        }
    elif kind == _DEPENDENT:
        # The upstream has a job of its own: this one starts on its table updates, never runs it again.
        doc["schedule"] = {"after": [pipeline_name(i - _UPSTREAM_DISTANCE)], "max_retries": 1}
    elif kind != _CONTINUOUS:
        cron = f"0 {i % 60} */6 * * ?" if i % 2 else f"0 {i % 60} {i % 24} * * ?"
        doc["schedule"] = {"cron": cron} if i % 4 else {"cron": cron, "timezone": "UTC"}
    return doc
