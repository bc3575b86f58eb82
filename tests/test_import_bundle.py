"""`make import-bundle` (src/lakeflow/config/bundle_import.py): a Databricks Asset Bundle's pipelines become
pipeline files that the loader accepts, and everything that cannot be carried over is reported.

Bundles are written into tmp_path; the end-to-end tests import into a throwaway copy of the
project (`project` fixture, its pipeline files removed) and load its stacks.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from lakeflow.config.bundle_import import (
    BundleError,
    BundleImport,
    Imported,
    import_bundle,
    logical_name,
    main,
    upper_snake,
)
from tests.conftest import ROOT, Project, parse_yaml, read_yaml

ENVS = ("dev", "staging", "prod")
SP = "9c2e7b41-0d6a-4c1e-8f3b-5a2d7e9c1b04"
FIXTURES = ROOT / "tests" / "fixtures" / "real_world"


def write(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> YAML text) under `root`; the first one is the bundle."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root / next(iter(files))


def run(tmp_path: Path, text: str, target: str | None = None, **more: str) -> BundleImport:
    bundle = write(tmp_path, {"databricks.yml": text, **{k.replace("__", "/") + ".yml": v for k, v in more.items()}})
    return import_bundle(bundle, envs=ENVS, target=target)


def pipeline(result: BundleImport, name: str) -> Imported:
    return next(p for p in result.pipelines if p.name == name)


def notes(result: BundleImport) -> str:
    return "\n".join([*result.notes, *(n for p in result.pipelines for n in p.notes)])


PIPELINE = textwrap.dedent(
    """
    resources:
      pipelines:
        orders:
          catalog: main
          schema: sales
          libraries:
            - notebook: {path: /Workspace/orders}
    """
)


# --- variables and references (rule 2) -------------------------------------------------------


def test_variables_take_the_targets_values_and_the_differences_become_environments(tmp_path):
    result = run(
        tmp_path,
        """
        bundle: {name: sales_bundle}
        variables:
          catalog: {description: where the tables go}
          schema: {default: sales}
        targets:
          dev: {default: true, variables: {catalog: dev_main}}
          prod: {variables: {catalog: prod_main, schema: sales_prod}}
        resources:
          pipelines:
            orders:
              name: "[${bundle.target}] Orders"
              catalog: ${var.catalog}
              schema: ${var.schema}
              libraries:
                - notebook: {path: "${workspace.file_path}/src/orders"}
              configuration:
                env: ${bundle.target}
                legacy_env: ${bundle.environment}
                bundle: ${bundle.name}
                table: ${var.catalog}.${var.schema}.orders
        """,
    )
    assert result.base == "dev" and result.environments == {"dev": "dev", "prod": "prod"}
    data = pipeline(result, "orders").data
    assert data["catalog"] == "dev_main" and data["schema"] == "sales"
    assert data["libraries"] == [{"notebook": {"path": "${REPO_ROOT}/src/orders"}}]
    assert data["configuration"] == {
        "env": "${ENV}",
        "legacy_env": "${ENV}",
        "bundle": "sales_bundle",
        "table": "dev_main.sales.orders",
    }
    assert data["environments"] == {
        "prod": {
            "catalog": "prod_main",
            "schema": "sales_prod",
            "configuration": {"table": "prod_main.sales_prod.orders"},
        }
    }
    assert list(data)[-1] == "environments" and "name" not in data["environments"]["prod"]
    assert "the bundle's display name; the stack names it <env>_orders" in notes(result)


def test_complex_and_typed_variables_replace_a_whole_reference(tmp_path):
    result = run(
        tmp_path,
        """
        variables:
          alerts:
            type: complex
            default:
              - email_recipients: [oncall@example.com]
                alerts: [on-update-failure]
          cluster:
            type: complex
            default: {autoscale: {min_workers: 1, max_workers: 3}}
          develop: {default: true}
          workers: {default: 4}
        resources:
          pipelines:
            orders:
              catalog: main
              schema: sales
              development: ${var.develop}
              notifications: ${var.alerts}
              clusters:
                - label: default
                  autoscale: {min_workers: 1, max_workers: "${var.cluster.autoscale.max_workers}"}
                  num_workers: ${var.workers}
              configuration:
                text: "workers=${var.workers} dev=${var.develop}"
                mixed: "x-${var.cluster}"
              libraries:
                - notebook: {path: /Workspace/orders}
        """,
    )
    data = pipeline(result, "orders").data
    assert data["development"] is True
    assert data["notifications"] == [{"email_recipients": ["oncall@example.com"], "alerts": ["on-update-failure"]}]
    assert data["clusters"][0]["autoscale"]["max_workers"] == 3 and data["clusters"][0]["num_workers"] == 4
    assert data["configuration"] == {"text": "workers=4 dev=true", "mixed": "x-${var.cluster}"}
    assert "configuration.mixed: ${var.cluster} is a complex variable inside text; kept" in notes(result)


def test_a_variable_without_a_value_stays_for_the_stack_to_fill(tmp_path):
    result = run(
        tmp_path,
        """
        variables:
          catalog: {description: the data catalog}
          policy: {lookup: {cluster_policy: Shared Compute}}
        resources:
          pipelines:
            orders:
              catalog: ${var.catalog}
              schema: sales
              clusters: [{label: default, policy_id: "${var.policy}"}]
              configuration: {owner: "${var.undeclared}"}
              libraries:
                - notebook: {path: /Workspace/orders}
        """,
    )
    p = pipeline(result, "orders")
    assert p.data["catalog"] == "${var.catalog}" and p.data["clusters"][0]["policy_id"] == "${var.policy}"
    assert p.variables["catalog"] == (["catalog"], "no default in the bundle; the data catalog")
    assert p.variables["policy"][1].startswith("the bundle looks it up: {'cluster_policy': 'Shared Compute'}")
    assert p.variables["undeclared"] == (["configuration.owner"], "a variable the bundle does not declare")


def test_references_that_cannot_be_carried_over_become_named_stack_variables(tmp_path):
    result = run(
        tmp_path,
        """
        variables:
          data_path: {default: "/Workspace/Users/${workspace.current_user.userName}/data"}
          a: {default: "${var.b}"}
          b: {default: "${var.a}"}
        resources:
          pipelines:
            orders:
              catalog: main
              schema: ${resources.schemas.sales.name}
              development: ${bundle.target == "dev"}
              configuration:
                owner: ${workspace.current_user.short_name}
                path: ${var.data_path}
                root: ${workspace.root_path}/files
                loop: ${var.a}
                stack_style: ${SOURCE_PATH}/raw
              libraries:
                - notebook: {path: /Workspace/orders}
        """,
    )
    p = pipeline(result, "orders")
    assert p.data["schema"] == "${RESOURCES_SCHEMAS_SALES_NAME}"
    assert p.data["configuration"] == {
        "owner": "${CURRENT_USER_SHORT_NAME}",
        "path": "/Workspace/Users/${CURRENT_USER_USER_NAME}/data",
        "root": "${ROOT_PATH}/files",
        "loop": "${var.a}",
        "stack_style": "${SOURCE_PATH}/raw",
    }
    assert p.data["development"] == '${bundle.target == "dev"}'
    text = notes(result)
    assert "configuration.owner: ${workspace.current_user.short_name} cannot be carried over" in text
    assert "written ${CURRENT_USER_SHORT_NAME}" in text
    assert "schema: ${resources.schemas.sales.name} cannot be carried over" in text
    assert "the variable refers to itself" in text
    assert 'development: ${bundle.target == "dev"}: neither a bundle reference nor a ${NAME}' in text
    assert p.variables["CURRENT_USER_SHORT_NAME"] == (
        ["configuration.owner"],
        "stands for the bundle's ${workspace.current_user.short_name}",
    )
    assert set(p.variables) == {
        "RESOURCES_SCHEMAS_SALES_NAME",
        "CURRENT_USER_SHORT_NAME",
        "CURRENT_USER_USER_NAME",
        "ROOT_PATH",
        "a",
        "SOURCE_PATH",
    }
    assert upper_snake("workspace.current_user.userName") == "CURRENT_USER_USER_NAME"


def test_variables_that_expand_without_end_are_refused(tmp_path):
    levels = {f"v{i}": {"default": [f"${{var.v{i + 1}}}"] * 8} for i in range(12)}
    text = yaml.safe_dump({"variables": {**levels, "v12": {"default": "x"}}})
    text += "resources: {pipelines: {orders: {catalog: main, configuration: {x: '${var.v0}'}}}}\n"
    with pytest.raises(BundleError, match=r"resources\.pipelines\.orders: its variables expand to over 100,000 values"):
        run(tmp_path, text)


# --- paths and includes (rules 1, 2) ------------------------------------------------------------


def test_relative_paths_are_made_repo_root_paths_relative_to_the_file_that_wrote_them(tmp_path):
    result = run(
        tmp_path,
        """
        bundle: {name: b}
        include: [resources/*.yml]
        """,
        resources__orders="""
        resources:
          pipelines:
            orders:
              catalog: main
              schema: sales
              root_path: ..
              libraries:
                - notebook: {path: ../src/orders.py}
                - notebook: {path: ./nb/explore.ipynb}
                - notebook: {path: ../src/report.SQL}
                - file: {path: ../src/helpers.py}
                - glob: {include: ../src/transformations/**}
                - whl: ../dist/orders-1.0-py3-none-any.whl
                - jar: ./lib/udfs.jar
                - file: {path: /Workspace/Shared/abs.py}
                - file: {path: "${workspace.file_path}/src/x.py"}
                - maven: {coordinates: "com.example:lib:1.0"}
                - file: {path: ../../outside.py}
        """,
    )
    data = pipeline(result, "orders").data
    assert data["root_path"] == "${REPO_ROOT}"
    assert data["libraries"] == [
        {"notebook": {"path": "${REPO_ROOT}/src/orders"}},
        {"notebook": {"path": "${REPO_ROOT}/resources/nb/explore"}},
        {"notebook": {"path": "${REPO_ROOT}/src/report"}},
        {"file": {"path": "${REPO_ROOT}/src/helpers.py"}},
        {"glob": {"include": "${REPO_ROOT}/src/transformations/**"}},
        {"whl": "${REPO_ROOT}/dist/orders-1.0-py3-none-any.whl"},
        {"jar": "${REPO_ROOT}/resources/lib/udfs.jar"},
        {"file": {"path": "/Workspace/Shared/abs.py"}},
        {"file": {"path": "${REPO_ROOT}/src/x.py"}},
        {"maven": {"coordinates": "com.example:lib:1.0"}},
        {"file": {"path": "../../outside.py"}},
    ]
    assert re.search(
        r"libraries\[10\]\.file\.path: '\.\./\.\./outside\.py' \(\S*/resources/orders\.yml\) leads outside the "
        r"bundle's directory; kept as written",
        notes(result),
    )


def test_includes_merge_resources_variables_and_targets_and_stay_inside_the_directory(tmp_path):
    outside = tmp_path / "outside"
    write(outside, {"evil.yml": "resources: {pipelines: {evil: {catalog: x}}}\n"})
    (tmp_path / "b" / "resources").mkdir(parents=True)
    (tmp_path / "b" / "resources" / "link.yml").symlink_to(outside / "evil.yml")
    result = run(
        tmp_path / "b",
        """
        include:
          - resources/*.yml
          - targets/*.yml
          - ../outside/*.yml
          - /etc/*.yml
        """,
        resources__orders="""
        variables: {catalog: {default: main}}
        resources:
          pipelines:
            orders: {catalog: "${var.catalog}", schema: sales, libraries: [{notebook: {path: /Workspace/o}}]}
        """,
        targets__prod="""
        environments:
          prod: {variables: {catalog: prod_main}}
        """,
    )
    assert [p.name for p in result.pipelines] == ["orders"]
    assert pipeline(result, "orders").data["environments"] == {"prod": {"catalog": "prod_main"}}
    text = notes(result)
    assert "include: '../outside/*.yml': outside the bundle's directory; not read" in text
    assert "include: '/etc/*.yml': outside the bundle's directory; not read" in text
    assert "include: 'resources/*.yml': link.yml leads outside the bundle's directory; not read" in text


def test_a_resources_file_alone_and_pipelines_only_under_targets(tmp_path):
    bundle = write(
        tmp_path,
        {
            "pipeline.yml": """
            targets:
              development:
                resources:
                  pipelines:
                    orders: {catalog: main, schema: dev_sales, libraries: [{file: {path: orders.py}}]}
              production:
                resources:
                  pipelines:
                    orders: {catalog: main, schema: sales, libraries: [{file: {path: orders.py}}]}
            """
        },
    )
    result = import_bundle(bundle, envs=ENVS)
    data = pipeline(result, "orders").data
    assert data["schema"] == "dev_sales" and data["libraries"] == [{"file": {"path": "${REPO_ROOT}/orders.py"}}]
    assert data["environments"] == {"prod": {"schema": "sales"}}
    assert "defined only under targets: the file's base is its definition in targets.development" in notes(result)


# --- targets (rule 3) ---------------------------------------------------------------------------------


TARGETS = """
    bundle: {name: b}
    workspace: {host: "https://example.cloud.databricks.com"}
    artifacts: {default: {type: whl, path: .}}
    sync: {include: [src/**]}
    targets:
      development:
        mode: development
        default: true
        presets: {name_prefix: "[dev] "}
        resources:
          pipelines:
            orders:
              development: true
              configuration: {debug: "true"}
      production:
        mode: production
        workspace: {root_path: /Workspace/prod}
        resources:
          pipelines:
            orders:
              photon: true
              libraries:
                - notebook: {path: /Workspace/extra}
              clusters:
                - label: default
                  autoscale: {max_workers: 8}
                - label: Maintenance
                  num_workers: 1
      qa:
        resources:
          pipelines:
            orders: {development: true}
    resources:
      pipelines:
        orders:
          catalog: main
          schema: sales
          clusters:
            - autoscale: {min_workers: 1, max_workers: 2}
          libraries:
            - notebook: {path: /Workspace/orders}
"""


def test_targets_become_environments_holding_only_their_differences(tmp_path):
    result = run(tmp_path, TARGETS)
    assert result.base == "development" and result.environments == {"development": "dev", "production": "prod"}
    data = pipeline(result, "orders").data
    assert data["development"] is True and data["configuration"] == {"debug": "true"}
    assert data["clusters"] == [{"autoscale": {"min_workers": 1, "max_workers": 2}, "label": "default"}]
    # the CLI concatenates a target's lists (libraries) and merges clusters by label
    assert data["environments"] == {
        "prod": {
            "photon": True,
            "libraries": [{"notebook": {"path": "/Workspace/orders"}}, {"notebook": {"path": "/Workspace/extra"}}],
            "clusters": [
                {"label": "default", "autoscale": {"max_workers": 8}},
                {"label": "maintenance", "num_workers": 1},
            ],
        }
    }
    text = notes(result)
    assert "environments.prod: targets.production has no development, which the base sets" in text
    assert "environments.prod: targets.production has no configuration, which the base sets" in text
    assert "targets.qa: no environment 'qa' in this project's stacks (dev, prod, staging); not carried over" in text
    assert "environments staging: no target of the bundle; they deploy the base (targets.development)" in text
    for section in ("mode (targets.development, targets.production)", "presets (targets.development)"):
        assert f"{section}: not carried over" in text
    assert "workspace (the bundle, targets.production): not carried over; the workspace is the stack's" in text
    assert "artifacts (the bundle): not carried over" in text and "sync (the bundle): not carried over" in text
    assert text.count("mode (") == 1


def test_target_option_chooses_the_base_and_an_unknown_one_is_refused(tmp_path):
    result = run(tmp_path, TARGETS, target="production")
    data = pipeline(result, "orders").data
    assert result.base == "production" and data["photon"] is True
    assert data["environments"]["dev"] == {
        "clusters": [{"label": "default", "autoscale": {"max_workers": 2}}],
        "libraries": [{"notebook": {"path": "/Workspace/orders"}}],
        "development": True,
        "configuration": {"debug": "true"},
    }
    text = notes(result)
    assert "environments.dev: targets.development has no photon, which the base sets" in text
    assert "environments.dev: targets.development has no clusters(label maintenance), which the base sets" in text
    with pytest.raises(BundleError, match=r"--target 'stg' is not a target of the bundle \(targets: development, "):
        run(tmp_path, TARGETS, target="stg")


def test_without_a_default_target_the_base_is_the_bundle_without_targets(tmp_path):
    result = run(tmp_path, TARGETS.replace("default: true", "default: false"))
    data = pipeline(result, "orders").data
    assert result.base is None and "development" not in data
    assert data["environments"]["dev"] == {"development": True, "configuration": {"debug": "true"}}


# --- fields, permissions, run_as (rule 4) ---------------------------------------------------------


def test_names_rejected_and_unknown_keys(tmp_path):
    result = run(
        tmp_path,
        """
        resources:
          pipelines:
            Orders-Daily:
              name: Orders daily
              catalog: main
              schema: sales
              storage: dbfs:/pipelines/orders
              id: 1234
              photonn: true
              email_notifications: {on_failure: [a@example.com]}
              libraries: [{notebook: {path: /Workspace/o}}]
            2nd_pass: {catalog: main, schema: s2, libraries: [{notebook: {path: /Workspace/p}}]}
        """,
    )
    assert [p.name for p in result.pipelines] == ["orders_daily", "p_2nd_pass"]
    data = pipeline(result, "orders_daily").data
    assert list(data) == ["name", "catalog", "schema", "libraries"]
    text = notes(result)
    assert "storage: 'dbfs:/pipelines/orders': dropped: never set storage" in text
    assert "id: 1234: dropped: pipeline ids are assigned by Databricks" in text
    assert "photonn: not a field of the provider's Pipeline or of this stack; dropped (did you mean 'photon'?)" in text
    assert (
        "email_notifications: not a field of the provider's Pipeline or of this stack; dropped (a pipeline notifies"
        in text
    )
    assert logical_name("_x") == "p_x"


def test_two_keys_with_one_name_are_refused(tmp_path):
    with pytest.raises(BundleError, match=r"pipelines 'orders-a' and 'orders_a' would both be orders_a.yaml"):
        run(tmp_path, "resources: {pipelines: {orders-a: {catalog: x}, orders_a: {catalog: y}}}")


def test_permissions_are_the_pipelines_and_the_bundles_without_owner_and_other_levels(tmp_path):
    result = run(
        tmp_path,
        """
        permissions:
          - {level: CAN_VIEW, group_name: analysts}
          - {level: CAN_MANAGE, user_name: lead@example.com}
        targets:
          dev: {default: true}
          prod:
            permissions:
              - {level: CAN_VIEW, group_name: auditors}
        resources:
          pipelines:
            orders:
              catalog: main
              schema: sales
              libraries: [{notebook: {path: /Workspace/o}}]
              permissions:
                - {level: CAN_VIEW, group_name: analysts}
                - {level: CAN_RUN, service_principal_name: "<SP>"}
                - {level: IS_OWNER, user_name: owner@example.com}
                - {level: CAN_MANAGE_RUN, group_name: ops}
        """.replace("<SP>", SP),
    )
    data = pipeline(result, "orders").data
    assert data["permissions"] == [
        {"level": "CAN_VIEW", "group_name": "analysts"},
        {"level": "CAN_RUN", "service_principal_name": SP},
        {"level": "CAN_MANAGE", "user_name": "lead@example.com"},
    ]
    assert data["environments"]["prod"]["permissions"] == [
        {"level": "CAN_VIEW", "group_name": "analysts"},
        {"level": "CAN_RUN", "service_principal_name": SP},
        {"level": "CAN_VIEW", "group_name": "auditors"},
    ]
    text = notes(result)
    assert "permissions[2]: IS_OWNER: dropped: the run-as principal owns the pipeline" in text
    assert (
        "permissions[3]: {'level': 'CAN_MANAGE_RUN', 'group_name': 'ops'}: dropped: a pipeline's levels here are "
        in text
    )


def test_run_as_comes_from_the_pipeline_the_target_or_the_bundle(tmp_path):
    result = run(
        tmp_path,
        """
        run_as: {user_name: dev@example.com}
        targets:
          dev: {default: true}
          prod:
            run_as: {service_principal_name: "<SP>"}
        resources:
          pipelines:
            orders: {catalog: main, schema: sales, libraries: [{notebook: {path: /Workspace/o}}]}
            own:
              catalog: main
              schema: own
              run_as: {user_name: me@example.com, group_name: g}
              libraries: [{notebook: {path: /Workspace/p}}]
        """.replace("<SP>", SP),
    )
    orders = pipeline(result, "orders").data
    assert orders["run_as"] == {"user_name": "dev@example.com"}
    # one identity replaces the other: the override clears the base's
    assert orders["environments"] == {"prod": {"run_as": {"service_principal_name": SP, "user_name": None}}}
    own = pipeline(result, "own").data
    assert own["run_as"] == {"user_name": "me@example.com"} and "environments" not in own
    assert "run_as: {'user_name': 'me@example.com', 'group_name': 'g'}: only user_name is carried over" in notes(result)


# --- jobs (rule 5) -----------------------------------------------------------------------------------


def test_jobs_become_schedules(tmp_path):
    result = run(
        tmp_path,
        """
        resources:
          pipelines:
            bronze: {catalog: main, schema: bronze, libraries: [{notebook: {path: /Workspace/b}}]}
            silver: {catalog: main, schema: silver, libraries: [{notebook: {path: /Workspace/s}}]}
            landing: {catalog: main, schema: landing, libraries: [{notebook: {path: /Workspace/l}}]}
            manual: {catalog: main, schema: manual, libraries: [{notebook: {path: /Workspace/m}}]}
          jobs:
            nightly:
              name: nightly
              email_notifications: {on_failure: [a@example.com]}
              schedule: {quartz_cron_expression: "0 0 2 * * ?", timezone_id: Europe/Paris, pause_status: PAUSED}
              tasks:
                - task_key: bronze
                  pipeline_task: {pipeline_id: "${resources.pipelines.bronze.id}"}
                - task_key: silver
                  depends_on: [{task_key: bronze}]
                  max_retries: 3
                  pipeline_task: {pipeline_id: "${resources.pipelines.silver.id}", full_refresh: false}
                - task_key: report
                  depends_on: [{task_key: silver}]
                  notebook_task: {notebook_path: ../src/report}
            on_files:
              trigger:
                pause_status: UNPAUSED
                file_arrival:
                  url: /Volumes/main/landing/raw/
                  min_time_between_triggers_seconds: 120
                  wait_after_last_change_seconds: 60
              tasks:
                - task_key: load
                  pipeline_task: {pipeline_id: "${resources.pipelines.landing.id}"}
            by_hand:
              tasks:
                - task_key: run
                  pipeline_task: {pipeline_id: "${resources.pipelines.manual.id}"}
            cleanup:
              tasks: [{task_key: vacuum, notebook_task: {notebook_path: /x}}]
        """,
    )
    assert "schedule" not in pipeline(result, "bronze").data
    assert pipeline(result, "silver").data["schedule"] == {
        "cron": "0 0 2 * * ?",
        "timezone": "Europe/Paris",
        "after": ["bronze"],
    }
    assert pipeline(result, "landing").data["schedule"] == {
        "file_arrival": {
            "url": "/Volumes/main/landing/raw/",
            "min_time_between_triggers_seconds": 120,
            "wait_after_last_change_seconds": 60,
        }
    }
    assert "schedule" not in pipeline(result, "manual").data
    silver = "\n".join(pipeline(result, "silver").notes)
    assert "resources.jobs.nightly.schedule.pause_status: the stack's lakeflow:schedulePauseStatus decides it" in silver
    assert "resources.jobs.nightly: email_notifications: not carried over (the stack makes the job" in silver
    assert "resources.jobs.nightly tasks: report: not carried over" in silver
    assert "resources.jobs.nightly pipeline tasks': max_retries, pipeline_task.full_refresh: not carried" in silver
    assert "no schedule of its own: the stack's job of the pipeline that depends on it runs it first" in "\n".join(
        pipeline(result, "bronze").notes
    )
    assert "resources.jobs.by_hand: runs it without a cron schedule or file-arrival trigger" in notes(result)
    assert "resources.jobs: cleanup: run no pipeline of the bundle; not carried over" in result.notes


def test_a_job_of_one_target_is_that_environments_schedule(tmp_path):
    result = run(
        tmp_path,
        PIPELINE
        + textwrap.dedent(
            """
            targets:
              prod:
                resources:
                  jobs:
                    daily:
                      schedule: {quartz_cron_expression: "0 0 6 * * ?"}
                      tasks: [{task_key: t, pipeline_task: {pipeline_id: "${resources.pipelines.orders.id}"}}]
            """
        ),
    )
    data = pipeline(result, "orders").data
    assert "schedule" not in data and data["environments"] == {"prod": {"schedule": {"cron": "0 0 6 * * ?"}}}


# --- output, report and bad input (rules 6, 7) -------------------------------------------------------


def test_main_writes_the_files_and_reports(tmp_path, capsys):
    bundle = write(tmp_path / "b", {"databricks.yml": TARGETS})
    out = tmp_path / "out"
    assert main(["--bundle", str(bundle), "--out", str(out), "--root", str(ROOT)]) == 0
    stdout = capsys.readouterr().out
    text = (out / "orders.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[:2] == [
        "# yaml-language-server: $schema=pipeline.schema.json",
        f"# Imported from {bundle} by make import-bundle; see the notes it printed.",
    ]
    assert parse_yaml(text) == pipeline(import_bundle(bundle, envs=ENVS), "orders").data
    assert stdout.startswith(
        f"Imported 1 pipeline(s) from {bundle} (base: target development; environments: dev from target "
        "development, prod from target production)\n"
        f"{out / 'orders.yaml'}  (resources.pipelines.orders)\n  not carried over:\n"
    )
    assert "\nThe bundle as a whole, not carried over:\n  - mode (" in stdout


def test_existing_outputs_are_refused_unless_forced(tmp_path, capsys):
    bundle = write(tmp_path, {"databricks.yml": PIPELINE + "    refunds: {catalog: main, schema: r, libraries: []}\n"})
    out = tmp_path / "pipelines"
    out.mkdir()
    (out / "refunds.yaml").write_text("name: refunds\n")
    args = ["--bundle", str(bundle), "--out", str(out), "--root", str(ROOT)]
    assert main(args) == 2
    assert (
        f"{out / 'refunds.yaml'}: already exists; nothing written (FORCE=1 / --force overwrites)"
        in capsys.readouterr().err
    )
    assert sorted(p.name for p in out.iterdir()) == ["refunds.yaml"]  # not even orders.yaml
    assert main([*args, "--force"]) == 0
    assert read_yaml(out / "refunds.yaml")["schema"] == "r"


def _deep(depth: int) -> str:
    return "resources:\n  pipelines:\n    p:\n      x: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({}, [], "databricks.yml: cannot be read: No such file or directory"),
        ({"databricks.yml/x": "a: 1"}, [], "databricks.yml: cannot be read: Is a directory"),
        ({"databricks.yml": "a: [1\n"}, [], "databricks.yml:2: is not valid YAML"),
        ({"databricks.yml": "a: 1\na: 2\n"}, [], "databricks.yml:2: a: appears twice in one mapping"),
        ({"databricks.yml": b"a: \xff\xfe"}, [], "databricks.yml:1: is not UTF-8 text (byte 3 is 0xff)"),
        ({"databricks.yml": "- resources\n- pipelines\n"}, [], "databricks.yml: is a list; a bundle file is a mapping"),
        ({"databricks.yml": "resources: [1]\n"}, [], "databricks.yml: resources: must be a mapping, not a list"),
        (
            {"databricks.yml": "resources: {pipelines: none}\n"},
            [],
            "resources.pipelines: must be a mapping, not a string",
        ),
        ({"databricks.yml": "resources: {pipelines: {p: [1]}}\n"}, [], "resources.pipelines.p: must be a mapping"),
        ({"databricks.yml": "resources: {pipelines: {p: null}}\n"}, [], "databricks.yml: defines no pipelines"),
        ({"databricks.yml": "bundle: {name: x}\n"}, [], "databricks.yml: defines no pipelines"),
        ({"databricks.yml": ""}, [], "databricks.yml: defines no pipelines"),
        ({"databricks.yml": "targets: {dev: 3}\n"}, [], "databricks.yml: targets.dev: must be a mapping, not int (3)"),
        ({"databricks.yml": "include: resources/*.yml\n"}, [], "include: must be a list of file globs"),
        ({"databricks.yml": "include: [r.yml]\n", "r.yml": "[1, 2]\n"}, [], "r.yml: is a list; a bundle file is"),
        ({"databricks.yml": "include: ['../*.yml']\n"}, [], "databricks.yml: defines no pipelines"),
        ({"databricks.yml": "a: " + "x" * (1 << 20)}, [], "databricks.yml: is 1,048,579 bytes; a config file may have"),
        ({"databricks.yml": _deep(80)}, [], "nests deeper than 64 levels"),
        (
            {
                "databricks.yml": "a: &a [1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                + "".join(f"c{i}: &c{i} [{', '.join(['*b' if i == 0 else f'*c{i - 1}'] * 10)}]\n" for i in range(5))
            },
            [],
            "expands to over 100,000 values (aliases?)",
        ),
        ({"databricks.yml": TARGETS}, ["--target", "nope"], "--target 'nope' is not a target of the bundle (targets: "),
    ],
    ids=[
        "missing",
        "directory",
        "not-yaml",
        "duplicate-key",
        "not-utf8",
        "list",
        "resources-list",
        "pipelines-string",
        "pipeline-list",
        "pipeline-null",
        "no-pipelines",
        "empty",
        "target-int",
        "include-string",
        "include-list",
        "include-escaping",
        "huge",
        "deep",
        "alias-bomb",
        "unknown-target",
    ],
)
def test_bad_input_is_one_message_and_exit_2(tmp_path, capsys, files, args, message):
    bundle = tmp_path / "b" / "databricks.yml"
    bundle.parent.mkdir()
    for relative, text in files.items():
        (tmp_path / "b" / relative).parent.mkdir(parents=True, exist_ok=True)
        path = tmp_path / "b" / relative
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    out = tmp_path / "out"
    assert main(["--bundle", str(bundle), "--out", str(out), "--root", str(ROOT), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith("import-bundle: ") and captured.err.count("\n") == 1, captured.err
    assert message in captured.err, captured.err
    assert not out.exists()


def test_bad_arguments_exit_2(tmp_path, capsys):
    assert main([]) == 2
    assert "the following arguments are required: --bundle" in capsys.readouterr().err
    assert main(["--bundle", ""]) == 2
    assert "make import-bundle BUNDLE=<path to databricks.yml>" in capsys.readouterr().err


def test_a_hostile_bundle_path_stays_one_comment_line(tmp_path):
    bundle = write(tmp_path / "a\nname: injected\u2028id: 1", {"databricks.yml": PIPELINE})
    result = import_bundle(bundle, envs=ENVS)
    assert main(["--bundle", str(bundle), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "orders.yaml").read_text()
    assert parse_yaml(text) == pipeline(result, "orders").data
    assert "# Imported from " + str(bundle).replace("\n", "?").replace("\u2028", "?") in text


# --- the files plan: imported files load in the project's stacks -------------------------------------


BUNDLE = {
    "databricks.yml": f"""
    bundle: {{name: sales}}
    include: [resources/*.yml]
    variables:
      catalog: {{description: the environment's catalog}}
      max_workers: {{default: 2}}
      alerts:
        type: complex
        default: [{{email_recipients: [oncall@example.com], alerts: [on-update-failure]}}]
    permissions:
      - {{level: CAN_VIEW, group_name: analysts}}
      - {{level: IS_OWNER, user_name: someone@example.com}}
    targets:
      dev:
        default: true
        mode: development
        variables: {{catalog: dev}}
      prod:
        mode: production
        variables: {{catalog: prod, max_workers: 8}}
        run_as: {{service_principal_name: {SP}}}
        resources:
          pipelines:
            orders: {{photon: true}}
    """,
    "resources/pipelines.yml": """
    resources:
      pipelines:
        orders:
          name: "[${bundle.target}] Orders"
          catalog: ${var.catalog}
          schema: sales
          clusters:
            - label: default
              autoscale: {min_workers: 1, max_workers: "${var.max_workers}"}
          libraries:
            - notebook: {path: ../src/orders.py}
          notifications: ${var.alerts}
          configuration:
            source: ${workspace.file_path}/data
            owner: ${workspace.current_user.short_name}
            bundle: ${bundle.name}
            env: ${bundle.target}
        customer_360:
          catalog: ${var.catalog}
          schema: customers
          serverless: true
          root_path: ..
          libraries:
            - glob: {include: ../src/customers/**}
      jobs:
        nightly:
          schedule: {quartz_cron_expression: "0 0 2 * * ?", timezone_id: UTC, pause_status: UNPAUSED}
          tasks:
            - task_key: orders
              pipeline_task: {pipeline_id: "${resources.pipelines.orders.id}"}
            - task_key: customers
              depends_on: [{task_key: orders}]
              pipeline_task: {pipeline_id: "${resources.pipelines.customer_360.id}"}
    """,
}


def _import_into(project: Project, bundle: Path, capsys: pytest.CaptureFixture[str], **values: str) -> set[str]:
    """Import `bundle` into the project's (emptied) pipelines/ and define in each stack every
    variable the report asks for (`values`, else a made-up value); returns those names."""
    for path in (project.root / "pipelines").glob("*.yaml"):
        path.unlink()
    assert main(["--bundle", str(bundle), "--root", str(project.root)]) == 0
    asked, section = set(), ""
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith("    - "):
            section = line.strip()
        elif section == "define under lakeflow:variables:":
            asked.add(line.removeprefix("    - ").split(":")[0])
    for stack in ENVS:
        defined = read_yaml(project.root / f"Pulumi.{stack}.yaml")["config"]["lakeflow:variables"]
        project.edit_stack(stack, variables={**defined, **{n: values.get(n, f"{n.lower()}_{stack}") for n in asked}})
    return asked


def test_imported_files_load_in_the_stacks(project, capsys):
    asked = _import_into(project, write(project.root / "bundle", BUNDLE), capsys)
    assert asked == {"CURRENT_USER_SHORT_NAME"}
    dev, prod = project.load("dev"), project.load("prod")
    assert sorted(p.name for p in dev.pipelines) == ["customer_360", "orders"]
    orders, prod_orders = dev.pipeline("orders"), prod.pipeline("orders")
    assert (orders.catalog, prod_orders.catalog) == ("dev", "prod")
    assert orders.clusters[0].autoscale.max_workers == 2 and prod_orders.clusters[0].autoscale.max_workers == 8
    assert (orders.photon, prod_orders.photon) == (False, True)
    assert orders.libraries[0].path == "/Workspace/Repos/dev/dlt-pipelines/src/orders"
    assert orders.configuration == {
        "source": "/Workspace/Repos/dev/dlt-pipelines/data",
        "owner": "current_user_short_name_dev",
        "bundle": "sales",
        "env": "dev",
    }
    assert orders.notifications[0].email_recipients == ["oncall@example.com"]
    assert orders.granted("viewers") == ["group:analysts"]
    assert (orders.run_as_principal, prod_orders.run_as_principal) == (None, f"sp:{SP}")
    customers = prod.pipeline("customer_360")
    assert customers.schedule is not None and orders.schedule is None
    assert (customers.schedule.cron, customers.schedule.after) == ("0 0 2 * * ?", ["orders"])
    assert customers.root_path == "/Workspace/Repos/prod/dlt-pipelines"
    assert customers.libraries[0].path == "/Workspace/Repos/prod/dlt-pipelines/src/customers/**"


def _real(tmp: Path, fixture: str) -> Path:
    """A split real bundle laid out as in its repository: databricks.yml, resources/<file>."""
    (tmp / "bundle" / "resources").mkdir(parents=True)
    shutil.copy(FIXTURES / f"{fixture}__resources.yml", tmp / "bundle" / "resources" / "pipeline.yml")
    return Path(shutil.copy(FIXTURES / f"{fixture}__databricks.yml", tmp / "bundle" / "databricks.yml"))


def test_a_real_bundle_with_targets_loads_in_every_stack(project, capsys):
    """daily_databricks_feed: targets dev/staging/prod, run_as per target, prod permissions."""
    bundle = _real(project.root, "18_Akhilesh-Varma__daily_databricks_feed__news-dlt")
    asked = _import_into(project, bundle, capsys, SERVICE_PRINCIPAL_NAME=SP, CURRENT_USER_USER_NAME="me@example.com")
    assert asked == {"SERVICE_PRINCIPAL_NAME", "CURRENT_USER_USER_NAME"}
    dev, staging, prod = (project.load(s).pipeline("databricks_news_dlt") for s in ENVS)
    assert dev.libraries[0].path == "/Workspace/Repos/dev/dlt-pipelines/notebooks/dlt_pipeline"
    assert (dev.development, staging.development, prod.development) == (True, False, False)
    assert (dev.run_as_principal, staging.run_as_principal) == ("user:me@example.com", f"sp:{SP}")
    assert prod.tags["environment"] == "prod" and prod.granted("managers") == ["group:admins"]


# --- real bundles -----------------------------------------------------------------------------------


MANIFEST = read_yaml(FIXTURES / "sources.yaml")
BY_FILE = {e["file"]: e for e in MANIFEST}
REFUSED = {  # real files this project's YAML reader refuses, with why
    "25_sushmakl95__lakehouse-iot-telemetry-pipeline__iot-aws-attributes-invalid-yaml.yml": "is not valid YAML",
}


@pytest.mark.parametrize(
    "entry",
    [e for e in MANIFEST if not (e["file"].endswith("__resources.yml") and e["companion"])],
    ids=lambda e: e["file"][:2],
)
def test_real_bundles_import_with_notes_and_no_traceback(tmp_path, capsys, entry):
    """Each bundle is laid out as in its repository: a bundle file at the root, resources files in
    resources/ (a resources-only fixture gets a databricks.yml that includes it)."""
    root = tmp_path / "bundle"
    (root / "resources").mkdir(parents=True)
    if entry["kind"] == "bundle":
        shutil.copy(FIXTURES / entry["file"], root / "databricks.yml")
    else:
        shutil.copy(FIXTURES / entry["file"], root / "resources" / entry["file"])
        (root / "databricks.yml").write_text("bundle: {name: fixture}\ninclude: [resources/*.yml]\n")
    if entry["companion"]:
        shutil.copy(FIXTURES / entry["companion"], root / "resources" / entry["companion"])
    out = tmp_path / "out"
    code = main(["--bundle", str(root / "databricks.yml"), "--out", str(out), "--root", str(ROOT)])
    captured = capsys.readouterr()
    if entry["file"] in REFUSED:
        assert code == 2 and REFUSED[entry["file"]] in captured.err and not out.exists()
        return
    assert code == 0, captured.err
    keys = {*entry["pipelines"], *(BY_FILE[entry["companion"]]["pipelines"] if entry["companion"] else [])}
    files = {p.stem: read_yaml(p) for p in out.glob("*.yaml")}
    assert set(files) == {logical_name(k) for k in keys}
    for name, data in files.items():
        assert data["name"] == name and re.fullmatch(r"[a-z][a-z0-9_]*", name)
        assert not {"storage", "id"} & set(data)
        for library in [x for x in data.get("libraries") or [] if isinstance(x, dict)]:
            path = next(iter(library.values()))
            path = path.get("path") or path.get("include") if isinstance(path, dict) else path
            assert path is None or re.match(r"(/|\$\{|[a-z0-9]+:/)", str(path)) or f"{path!r}" in captured.out
