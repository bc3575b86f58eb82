"""Pipeline definitions other teams wrote (tests/fixtures/real_world/, sources in sources.yaml):
each imports with `make import-bundle` and plans in dev and prod, or is refused for the reason
`expected.yaml` states; pasted as written, each pipeline resource is either taken or refused
for a stated reason, and never for a field the provider's Pipeline has.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from lakeflow.config import bundle_import, json_schema
from lakeflow.config.errors import ConfigErrors
from lakeflow.config.provider_models import fields_of
from tests.conftest import ROOT, Project, copy_project, read_yaml

pytestmark = pytest.mark.plan

FIXTURES = ROOT / "tests" / "fixtures" / "real_world"
MANIFEST = read_yaml(FIXTURES / "sources.yaml")
EXPECTED: dict[str, dict[str, Any]] = read_yaml(FIXTURES / "expected.yaml")
# One definition per entry; the resources half of a split definition rides with its databricks.yml.
DEFINITIONS = [e for e in MANIFEST if not (e.get("companion") and e["kind"] == "resources")]
ENVIRONMENTS = ("dev", "staging", "prod")


def definition_id(entry: dict[str, Any]) -> str:
    return entry["file"].split("__")[0] + "_" + entry["repo"].split("/")[0]


def bundle_of(entry: dict[str, Any], into: Path) -> tuple[Path, Path | None]:
    """The fixture laid out as its repository had it (its companion beside it), and the bundle
    root of a resources-only file: the folder above its `resources/` folder, where the
    repository's databricks.yml is (the Databricks templates' layout), else None (its own)."""
    for item in [entry] + [e for e in MANIFEST if e["file"] == entry.get("companion")]:
        target = into / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / item["file"], target)
    main = into / entry["path"]
    parts = Path(entry["path"]).parts
    resources = [i for i, part in enumerate(parts[:-1]) if part.startswith("resource")]
    root = into.joinpath(*parts[: resources[-1]]) if entry["kind"] == "resources" and resources else None
    return main, root


def test_every_definition_has_an_expectation_and_a_source():
    assert sorted(definition_id(e) for e in DEFINITIONS) == sorted(EXPECTED)
    assert len(DEFINITIONS) >= 30
    for entry in MANIFEST:
        assert (FIXTURES / entry["file"]).is_file() and entry["repo"] and entry["url"] and entry["license"]


def empty_project(root: Path) -> Project:
    """The shipped stacks with no pipeline files."""
    root.mkdir(parents=True)
    copy_project(root)
    for path in (root / "pipelines").glob("*.yaml"):
        path.unlink()
    return Project(root)


def import_into(project: Project, entry: dict[str, Any], scratch: Path, prefix: str = "") -> list[str]:
    """`make import-bundle` of one definition into the project (names prefixed, so that many
    definitions can share one project); its pipeline names. Raises BundleError when refused."""
    main, bundle_root = bundle_of(entry, scratch)
    result = bundle_import.import_bundle(main, envs=set(ENVIRONMENTS), bundle_root=bundle_root)
    renamed = {p.name: prefix + p.name for p in result.pipelines}
    for p in result.pipelines:
        p.name = p.data["name"] = renamed[p.name]
        schedule = p.data.get("schedule")
        if isinstance(schedule, dict) and isinstance(schedule.get("after"), list):
            schedule["after"] = [renamed.get(u, u) for u in schedule["after"]]
    bundle_import.write(result, project.root / "pipelines", entry["file"], force=False)
    return [p.name for p in result.pipelines]


def define(project: Project, variables: dict[str, str]) -> None:
    """Add `variables` to every stack's lakeflow:variables (what a team writes in its stack files)."""
    for stack in ENVIRONMENTS:
        data = read_yaml(project.root / f"Pulumi.{stack}.yaml")
        project.edit_stack(stack, variables={**data["config"]["lakeflow:variables"], **variables})


@pytest.fixture(scope="module")
def pipeline_file_validator() -> jsonschema.Draft202012Validator:
    """What an editor checks a pipeline file against as you type (pipelines/pipeline.schema.json)."""
    return jsonschema.Draft202012Validator(json_schema.pipeline_file_schema())


@pytest.mark.parametrize("entry", DEFINITIONS, ids=definition_id)
def test_each_definition_imports_and_plans_in_dev_and_prod_or_is_refused_for_its_stated_reason(
    entry, tmp_path, pipeline_file_validator
):
    expected = EXPECTED[definition_id(entry)]
    project = empty_project(tmp_path / "project")
    try:
        names = import_into(project, entry, tmp_path / "bundle")
    except bundle_import.BundleError as exc:
        assert expected.get("refused") and expected["refused"] in str(exc), str(exc)
        return
    assert names == expected["pipelines"]
    define(project, expected.get("variables", {}))
    if "refused" in expected:
        with pytest.raises(ConfigErrors) as caught:
            project.load("prod")
        assert expected["refused"] in caught.value.report()
        return
    for path in (project.root / "pipelines").glob("*.yaml"):  # what an editor checks as you type
        problems = pipeline_file_validator.iter_errors(read_yaml(path))
        assert [f"{list(e.absolute_path)}: {e.message}" for e in problems] == [], path.name
    for stack in ("dev", "prod"):
        plan = project.plan(stack)
        assert plan.schema_errors == []
        registered = {r["name"] for r in plan.resources if r["type"] == "databricks:index/pipeline:Pipeline"}
        assert {f"{name}-pipeline" for name in names} <= registered


# --- pasted as written ----------------------------------------------------------------------

PROVIDER_KEYS = set(fields_of("Pipeline"))


def _pasted_resources() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for entry in MANIFEST:
        if not entry.get("parses", True):
            continue
        data = read_yaml(FIXTURES / entry["file"])
        pipelines = ((data or {}).get("resources") or {}).get("pipelines") or {}
        for key, body in pipelines.items() if isinstance(pipelines, dict) else []:
            if isinstance(body, dict):
                out.append((f"{entry['file'].split('__')[0]}:{key}", key, body))
    return out


@pytest.mark.parametrize("ident, key, body", _pasted_resources(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_pasted_resource_is_taken_or_refused_for_a_stated_reason_never_for_a_provider_field(
    ident, key, body, project
):
    for path in (project.root / "pipelines").glob("*.yaml"):
        path.unlink()
    (project.root / "pipelines" / "pasted.yaml").write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    try:
        project.load("dev")
    except ConfigErrors as exc:
        for error in exc.errors:
            # Each error is about the file, at a key, in words; none refuses a key the provider's
            # Pipeline has (a nested key the provider lacks is the file's mistake, not ours).
            assert error.file == "pipelines/pasted.yaml" and error.message, error.render()
            if "is not a known key" in error.message:
                assert error.key not in PROVIDER_KEYS, error.render()
