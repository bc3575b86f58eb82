"""The JSON Schema of a pipeline file, generated from `lakeflow.config.models.PipelineSpec`.

Editors that speak the YAML language server read it from the first line of each pipeline file
(`# yaml-language-server: $schema=pipeline.schema.json`) and complete and check keys as you type:
every field of the pinned provider's Pipeline (from the same generated models the loader uses)
and this project's own keys. It is written to `pipelines/pipeline.schema.json`, never edited by
hand: `python -m lakeflow.config.json_schema --write` after a model or provider change, and
`tests/test_pipeline_files.py` fails while the file and the models differ.

The schema describes what a file may hold before `${NAME}` placeholders are filled, so wherever
a number, a boolean, a choice or a patterned name is expected, a string holding a placeholder is
accepted too; rules that
need the whole picture (a target's two names, dependencies, production rules) stay with the
loader, which reports them with file, line and fix.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from lakeflow.config.models import PipelineSpec
from lakeflow.config.project import project_root

SCHEMA_FILE = project_root() / "pipelines" / "pipeline.schema.json"
PLACEHOLDER = {"type": "string", "pattern": r"\$\{[^}]+\}", "description": "a ${NAME} placeholder, filled per stack"}


def pipeline_file_schema() -> dict[str, Any]:
    schema = PipelineSpec.model_json_schema(by_alias=True, mode="validation")
    _allow_placeholders(schema)
    schema["properties"]["environments"] = {
        "type": "object",
        "description": "Per-environment overrides, deep-merged over this file in that environment's stacks "
        "(clusters merge by label; other lists are replaced): environments.<env>.<key>.",
        "additionalProperties": {"type": "object"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "pipeline.schema.json",
        "title": "Lakeflow pipeline file (pipelines/*.yaml)",
        **schema,
    }


def _allow_placeholders(node: Any) -> None:
    """Wherever a number, a boolean, a choice or a patterned name is expected, a `${NAME}`
    string is accepted too (the loader checks the filled value)."""
    if isinstance(node, list):
        for item in node:
            _allow_placeholders(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _allow_placeholders(value)
    if node.get("type") in ("integer", "number", "boolean") or "pattern" in node or "enum" in node:
        typed = {k: node.pop(k) for k in list(node) if k not in ("title", "description", "default")}
        node["anyOf"] = [typed, PLACEHOLDER]


def render() -> str:
    return json.dumps(pipeline_file_schema(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["--write"]:
        print("usage: python -m lakeflow.config.json_schema --write", file=sys.stderr)
        return 2
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
