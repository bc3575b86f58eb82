"""Files the commands are handed besides the config: saved plans (`make diff --old/--new`, the
pull-request judge), `pulumi preview --json` (the deploy gate), `pulumi stack output --json`
(`OUTPUTS=`, `--reference`), policy pack configs, capacity history CSVs and acknowledgement text.

Each is read with limits and checked for the shape its command uses before anything looks inside,
so an empty, binary, truncated, deeply nested, huge or wrong-shaped file is one clear error naming
the file (and the key), never a traceback, a hang or a crash. Some of these files come from
untrusted jobs (a pull request's plan): the shape check is what lets trusted code read them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

if TYPE_CHECKING:
    from lakeflow.offline.records import PlanRecord

MAX_BYTES = 256 << 20  # a plan of 500 pipelines is ~15 MiB; a preview about twice that
MAX_DEPTH = 64  # our plans nest 9 deep; Python's own limit (about 1,000) is a crash, not an error


class FileRefused(ValueError):
    """A file a command cannot use; the message names it and says why (one or more lines)."""


def read_text(path: Path, label: str, *, max_bytes: int = MAX_BYTES) -> str:
    """The file's text: it exists, is a file, is at most `max_bytes`, and is UTF-8."""
    try:
        if not path.is_file():
            raise FileRefused(f"{label}={path}: {'is a directory' if path.is_dir() else 'no such file'}")
        size = path.stat().st_size
        if size > max_bytes:
            raise FileRefused(f"{label}={path}: {size:,} bytes, more than the {max_bytes:,} allowed")
        data = path.read_bytes()
    except OSError as exc:
        raise FileRefused(f"{label}={path}: cannot be read ({exc.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"{label}={path}: not UTF-8 text (byte {exc.start})") from None


def read_json(path: Path, label: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """The file's JSON value: standard JSON (no NaN or Infinity), nested at most MAX_DEPTH."""
    text = read_text(path, label, max_bytes=max_bytes)
    if not text.strip():
        raise FileRefused(f"{label}={path}: empty, expected JSON")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FileRefused(f"{label}={path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise FileRefused(f"{label}={path}: not usable JSON ({_reason(exc)})") from None
    if _depth(value) > MAX_DEPTH:
        raise FileRefused(f"{label}={path}: nested more than {MAX_DEPTH} levels deep")
    return value


Shape = TypeVar("Shape", bound=BaseModel)


def read_shaped(path: Path, label: str, shape: type[Shape], *, max_bytes: int = MAX_BYTES) -> Shape:
    """`read_json`, then checked against `shape`; every problem listed with its key."""
    return shaped(read_json(path, label, max_bytes=max_bytes), f"{label}={path}", shape)


def shaped(value: Any, where: str, shape: type[Shape]) -> Shape:
    try:
        return shape.model_validate(value)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors(include_url=False)[:20]]
        more = exc.error_count() - len(problems)
        tail = [f"  - and {more} more"] if more > 0 else []
        raise FileRefused("\n".join([f"{where}: not {shape.__doc__ or shape.__name__}:", *problems, *tail])) from None


# --- the shapes commands read -------------------------------------------------------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class PlanResource(_Open):
    urn: str = Field(pattern=r"^urn:pulumi:")
    type: str
    name: str
    parent: str | None = None
    inputs: dict[str, Any]
    dependencies: list[str] = []
    propertyDependencies: dict[str, list[str]] = {}
    protect: bool = False
    retainOnDelete: bool = False
    deleteBeforeReplace: bool = False
    ignoreChanges: list[str] = []
    aliases: list[dict[str, Any]] = []


class PlanFile(_Open):
    """an offline plan (`make plan JSON=...`)"""

    project: str
    stack: str
    workspace: str | None = None
    resources: list[PlanResource]
    outputs: dict[str, Any] = {}


def read_plan(path: Path, label: str) -> PlanRecord:
    """A saved offline plan as the diff and the policy runner use it (defaults filled in)."""
    return cast("PlanRecord", read_shaped(path, label, PlanFile).model_dump())


class _StepState(_Open):
    type: str
    inputs: dict[str, Any] = {}
    parent: str | None = None
    protect: bool = False
    retainOnDelete: bool = False


class PreviewStep(_Open):
    op: str
    urn: str = Field(pattern=r"^urn:pulumi:")
    oldState: _StepState | None = None
    newState: _StepState | None = None
    diffReasons: list[str] | None = None


class PreviewFile(_Open):
    """the output of `pulumi preview --json`"""

    # Never empty: every preview has at least the stack's own step (`pulumi:pulumi:Stack`).
    steps: list[PreviewStep] = Field(min_length=1)
    diagnostics: list[dict[str, Any]] = []


def read_preview(path: Path, label: str) -> dict[str, Any]:
    """A successful preview's steps: one that reports an error diagnostic did not finish, and its
    steps are not the whole change (a gate must not pass it)."""
    preview = read_shaped(path, label, PreviewFile)
    failed = [d for d in preview.diagnostics if d.get("severity") == "error"]
    if failed:
        first = str(failed[0].get("message", "")).strip().splitlines()[:1]
        raise FileRefused(f"{label}={path}: the preview failed ({len(failed)} error(s)): {' '.join(first)[:300]}")
    return preview.model_dump(exclude_unset=True)


class StackOutputs(_Open):
    """the output of `pulumi stack output --json` (an object of the stack's outputs)"""

    pipelines: dict[str, dict[str, Any]] | None = None
    releases: dict[str, dict[str, Any]] | None = None


def read_outputs(path: Path, label: str) -> dict[str, Any]:
    """Saved stack outputs; `pipelines` and `releases`, when present, map names to objects."""
    return read_shaped(path, label, StackOutputs).model_dump(exclude_unset=True)


class PolicyConfig(RootModel[dict[str, Literal["advisory", "mandatory", "remediate", "disabled"] | dict[str, Any]]]):
    """a policy pack config (`--policy-pack-config`: an object of policy name -> level or settings)"""

    model_config = ConfigDict(strict=True)


def read_policy_config(path: Path, label: str) -> dict[str, Any]:
    return read_shaped(path, label, PolicyConfig, max_bytes=1 << 20).root


# --- details ------------------------------------------------------------------------------------


def _problem(error: Any) -> str:
    where = ".".join(map(str, error["loc"])) or "(the whole file)"
    got = "" if error["type"] == "missing" else f" (got {_type_name(error.get('input'))})"
    return f"  - {where}: {error['msg']}{got}"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _reason(exc: BaseException) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _depth(value: Any) -> int:
    """Nesting depth without recursion (a value may be nested as deep as the parser allowed)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _type_name(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "a non-finite number"
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def check_writable(path: Path, label: str) -> None:
    """Refuse an output path that cannot be written before the work that fills it (a plan: seconds), with the
    FileRefused `write_text` would give after it. A file this creates to find out is removed again."""
    existed = path.exists()
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise FileRefused(f"{label}={path}: cannot be written ({exc.strerror})") from None
    if not existed:
        path.unlink()


def write_text(path: Path, label: str, text: str) -> None:
    """Write a command's output file; a path that cannot be written is a FileRefused naming it."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FileRefused(f"{label}={path}: cannot be written ({exc.strerror})") from None
