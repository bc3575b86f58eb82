"""Docs that cannot drift silently from the code (issue 19, items 6 and 7).

Every fact below is stated in README.md or docs/**/*.md and decided by the code; each test
computes it from the code and compares. When one fails, fix the doc (or the code), not the test.

(a) `make <target> VAR=…`: the target exists in the Makefile, and every VAR= shown with it is
    read by that target's recipe (or a prerequisite's).
(b) `lakeflow:<key>`: a key of `lakeflow.config.models.StackConfig` (its camelCase aliases) or of
    Pulumi.yaml's config schema; `lakeflow:variables.<NAME>`: a variable some stack file sets.
(c) Repository paths (`src/lakeflow/ops/health.py`, `docs/runbooks/release.md`, `Pulumi.<stack>.yaml`, with
    `<placeholders>` as wildcards), `path.py::symbol`, `package.module.symbol`, `test_<name>`,
    and relative Markdown links with their #anchors exist.
(d) The blue/green cutover's counts, stated in docs/runbooks/release.md section "4. Cut over" in
    a form this file parses (keep it when editing that section):
      - the diff excerpt in that section's plain code block, ending with the `Plan: …` line;
      - the sentence "The <N>: <n> view definitions …, <n> alert queries …, <n> DR snapshot
        sources, the dashboard, the config backup and the removed canary filter.";
      - the summary table's row "| 4 Cut over | … | <N> updates … |";
    are computed from the offline diff of prod as shipped against prod with that section's YAML
    snippet applied to `environments.prod` of pipelines/customer_360.yaml (each slot the snippet
    names replaced whole, the way the runbook says: "no canary_percent"). Any "<n> alert
    queries" or "<n> updates" in README.md's "Blue/green releases" section must agree too.
(e) Every canary filter expression in the docs (`…HASH(<column>)… < N`) has the form
    `lakeflow.program.canary_filter` returns.
(f) Every key of README.md's pipeline file example is a key of `lakeflow.config.models.PipelineSpec`
    (aliases, nested models followed), and docs/pipeline-files.md's own and refused keys are too.
(g) Every runbook an alert links (`src/lakeflow/components/pipeline_alerts.py` metrics, the descriptions of the
    planned alerts, any `docs/runbooks/*.md` a code file names) exists in docs/runbooks/, and
    docs/runbooks/README.md's table maps each alert id to the runbook its alert links.
(h) No "being written", TODO, TBD or FIXME in the docs.
(i) docs/going-live.md names every secret and variable the workflows read (`secrets.X`,
    `vars.Y`), its environments table says exactly which ones each GitHub environment needs and
    for which jobs, and its checklist lists every example value the shipped stack files,
    pipeline files and .github/ carry, with its file and key.
(j) The stated sizes of test sets (security.md's hostile names and builders, file kinds and file
    arguments; README.md's agreement-test changes) are the sizes of those sets in tests/.
(k) README.md's "Bad input" example prints what `make plan` prints for those bad values, at those
    lines; README.md's stack config table lists every `StackConfig` key and no other.
(l) A URN in an argument is single-quoted: `ALLOW_DESTROY="…"` lets the shell expand its `$`.

README.md is not edited with the docs. What it states wrongly today is in README_PENDING: each
entry is a passage README.md still has and the text that replaces it. The checks read README.md
with the replacements made, so they hold README.md as it will be; once README.md is fixed,
`test_readme_pending_fixes_are_still_pending` fails until the entry is removed here.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from tests.conftest import ROOT, parse_yaml, read_yaml

MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

README_PENDING: list[tuple[str, str]] = []  # (a passage README.md still has, its replacement), while pending


def no_problems(problems: list[str]) -> None:
    assert problems == [], "\n" + "\n".join(problems)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def pending(text: str) -> str:
    """README.md's text with README_PENDING's replacements made."""
    for passage, fixed in README_PENDING:
        text = text.replace(passage, fixed)
    return text


def read(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return pending(text) if path == ROOT / "README.md" else text


# --- Markdown, as far as these checks need it --------------------------------------------------


@dataclass(frozen=True)
class Code:
    """A code span (its text on one line) or one line of a fenced code block."""

    file: Path
    line: int
    text: str
    block: bool

    @property
    def where(self) -> str:
        return f"{rel(self.file)}:{self.line}"


def prose_and_code(path: Path) -> tuple[str, list[Code]]:
    """The file's prose (fenced blocks blanked, line numbers kept) and its code."""
    code: list[Code] = []
    prose: list[str] = []
    fence = None
    for number, line in enumerate(read(path).splitlines(), 1):
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            prose.append("")
            continue
        if fence is not None and stripped.startswith(fence):
            fence = None
            prose.append("")
            continue
        if fence is not None:
            code.append(Code(path, number, line, block=True))
            prose.append("")
        else:
            prose.append(line)
    text = "\n".join(prose)
    # a code span may wrap a line, never a paragraph
    for m in re.finditer(r"(`+)((?:(?!\n\s*\n).)+?)\1", text, re.S):
        code.append(Code(path, text.count("\n", 0, m.start()) + 1, " ".join(m.group(2).split()), block=False))
    return text, code


def all_code() -> Iterator[Code]:
    for path in MARKDOWN:
        yield from prose_and_code(path)[1]


def section(text: str, heading: str) -> str:
    """From the heading that starts with `heading` (after an optional "<n>. ") to the next heading of
    its level or higher; `#` lines inside fenced code are not headings."""
    lines, fence, start, level = text.splitlines(keepends=True), False, None, 0
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"^(#+) (.*)$", line)
        if m and start is None and re.match(rf"(?:\d+\. )?{re.escape(heading)}", m.group(2)):
            start, level = i + 1, len(m.group(1))
        elif m and start is not None and len(m.group(1)) <= level:
            return "".join(lines[start:i])
    assert start is not None, f"no heading {heading!r}"
    return "".join(lines[start:])


def fenced(text: str, language: str = "") -> list[str]:
    """The fenced code blocks of `text` whose info string is `language` ("": none)."""
    blocks, current, info = [], None, ""
    for line in text.splitlines():
        stripped = line.strip()
        if current is None and stripped.startswith("```"):
            current, info = [], stripped[3:].strip()
        elif current is not None and stripped == "```":
            if info == language:
                blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return blocks


_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
NUMBERS = {word: i for i, word in enumerate([*_WORDS.split(), "seventeen", "eighteen", "nineteen", "twenty"])}


def number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


# --- (a) make targets and their arguments --------------------------------------------------------


@functools.cache
def makefile() -> dict[str, set[str]]:
    """Target -> the variables its recipe, and its prerequisites' recipes, read."""
    own: dict[str, set[str]] = {}
    prerequisites: dict[str, list[str]] = {}
    target = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        rule = re.match(r"^([a-z][a-z0-9-]*)\s*:(?!=)(.*)$", line)
        if rule:
            target = rule.group(1)
            own[target] = set(re.findall(r"\$\(([A-Z][A-Z0-9_]*)\)", rule.group(2)))
            prerequisites[target] = re.findall(r"(?<![$(\w])([a-z][a-z0-9-]*)", rule.group(2))
        elif line.startswith("\t") and target:
            own[target] |= {a or b for a, b in re.findall(r"\$\$\{?([A-Z][A-Z0-9_]*)|\$\(([A-Z][A-Z0-9_]*)\)", line)}
        elif line.strip() and not line.startswith("#"):
            target = None

    # Variables defined as text the recipes use (`WORKSPACE = $(if $(HTTP_TIMEOUT),...)`): what they read.
    text = (ROOT / "Makefile").read_text()
    macros = {
        name: set(re.findall(r"\$\(([A-Z][A-Z0-9_]*)\)|\$\$\{?([A-Z][A-Z0-9_]*)", body.replace("\\\n", " ")))
        for name, body in re.findall(r"^([A-Z][A-Z0-9_]*) = ((?:.*\\\n)*.*)$", text, re.MULTILINE)
    }
    macros = {name: {a or b for a, b in found} for name, found in macros.items()}

    def reads(t: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found = set(own[t])
        found |= {v for name in own[t] & set(macros) for v in macros[name]}
        for p in prerequisites[t]:
            if p in own and p not in seen:
                found |= reads(p, seen | {t})
        return found

    return {t: reads(t) for t in own}


MAKE_CALL = re.compile(r"(?<![\w./-])make((?:[ \t]+[a-z][a-z0-9-]*)+)(?![\w/.-])([^#;&\n]*)")
MAKE_ARG = re.compile(r"(?<![\w$])\[?([A-Z][A-Z0-9_]*)=")


def make_calls(code: Iterator[Code]) -> Iterator[tuple[Code, str, set[str]]]:
    """(where, target, VARs) of each `make target [VAR=…]` in code; `make a b` is two targets when
    both exist (the words after a target that is not followed by another are prose)."""
    targets = makefile()
    for c in code:
        for m in MAKE_CALL.finditer(c.text):
            words = m.group(1).split()
            called = [words[0]]
            for w in words[1:]:
                if w not in targets:
                    break
                called.append(w)
            rest = m.group(1).split(called[-1], 1)[1] if len(called) == len(words) else ""
            args = set(MAKE_ARG.findall(rest + m.group(2))) if len(called) == len(words) else set()
            for t in called:
                yield c, t, args


def make_problems(code: list[Code]) -> list[str]:
    targets = makefile()
    problems = []
    for c, target, args in make_calls(iter(code)):
        if target not in targets:
            problems.append(f"{c.where}: `make {target}`: the Makefile has no target {target!r}")
            continue
        for arg in sorted(args - targets[target]):
            problems.append(f"{c.where}: `make {target} {arg}=`: the recipe of {target} never reads {arg}")
    return problems


def test_every_make_command_in_the_docs_exists_with_the_arguments_it_reads():
    code = list(all_code())
    no_problems(make_problems(code))
    called = {t for _, t, _ in make_calls(iter(code))}
    # the parser sees the commands (a regex that matched nothing would pass everything)
    assert {"plan", "test", "diff", "preview", "preflight", "health", "dr-restore", "validate-release"} <= called


# --- (b) lakeflow: keys --------------------------------------------------------------------------


@functools.cache
def stack_keys() -> frozenset[str]:
    from lakeflow.config.models import StackConfig

    keys = {f.alias or to_camel(name) for name, f in StackConfig.model_fields.items()}
    declared = read_yaml(ROOT / "Pulumi.yaml")["config"]
    return frozenset(keys | set(declared))


@functools.cache
def stack_files() -> dict[str, dict[str, Any]]:
    return {p.name: read_yaml(p)["config"] for p in sorted(ROOT.glob("Pulumi.*.yaml"))}


LAKEFLOW_KEY = re.compile(r"lakeflow:([A-Za-z][A-Za-z0-9]*)(?![\w:-])(?:\.([A-Za-z_][A-Za-z0-9_]*))?")


def lakeflow_key_problems(paths: list[Path]) -> tuple[list[str], int]:
    variables = {v for config in stack_files().values() for v in config.get("lakeflow:variables", {})}
    problems, seen = [], 0
    for path in paths:
        text = read(path)
        for m in LAKEFLOW_KEY.finditer(text):
            seen += 1
            line = text.count("\n", 0, m.start()) + 1
            key, variable = m.groups()
            if key not in stack_keys():
                problems.append(f"{rel(path)}:{line}: lakeflow:{key} is not a key of StackConfig or Pulumi.yaml")
            elif key == "variables" and variable and variable.isupper() and variable not in variables:
                problems.append(f"{rel(path)}:{line}: lakeflow:variables.{variable}: no stack file sets {variable}")
    return problems, seen


def test_every_lakeflow_key_in_the_docs_is_a_stack_config_key():
    problems, seen = lakeflow_key_problems(MARKDOWN)
    no_problems(problems)
    assert seen > 50


# --- (c) paths, code references and links -------------------------------------------------------

TOP = {p.name for p in ROOT.iterdir()} - {".git", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
USER_FILES = {"Pulumi.dev-<you>.yaml"}  # files a reader creates, not the repository's
PATH = re.compile(r"(?<![\w./$}{~@:+%-])((?:\.?[\w-]+)(?:/[\w.<>*-]*)+)(?:::(\w+))?")
BARE_FILE = re.compile(r"^(Pulumi\.[\w.<>-]+\.yaml|[A-Z][\w-]*\.md|Makefile|Pulumi\.yaml)(?:::(\w+))?$")
PACKAGES = {
    "settings",
    "stack",
    "components",
    "offline",
    "monitoring",
    "policy",
    "ops",
    "dr",
    "engine",
    "bench",
    "tests",
}


def defines(path: Path, symbol: str) -> bool:
    text = path.read_text()
    return bool(re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{symbol}\b|^\s*{symbol}\s*[:=]", text, re.M))


def exists(path: str) -> bool:
    """The path, with `<placeholder>` as a wildcard; `docs/adr/0007` names the ADR by number."""
    pattern = re.sub(r"<[^>]*>", "*", path.rstrip("/"))
    return any(ROOT.glob(pattern)) or any(ROOT.glob(pattern + "-*"))


@functools.cache
def defined_tests() -> frozenset[str]:
    return frozenset(
        m for p in (ROOT / "tests").rglob("test_*.py") for m in re.findall(r"^def (test_\w+)", p.read_text(), re.M)
    )


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[`*_]", lambda m: m.group() if m.group() == "_" else "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def path_problems(paths: list[Path]) -> tuple[list[str], int]:
    problems: list[str] = []
    checked = 0
    for path in paths:
        prose, code = prose_and_code(path)
        texts = [(c.where, c.text) for c in code]
        texts += [(f"{rel(path)}:{n}", line) for n, line in enumerate(prose.splitlines(), 1)]
        for where, text in texts:
            for m in PATH.finditer(text):
                token, symbol = m.group(1).rstrip(".,:;)"), m.group(2)
                first = token.split("/")[0]
                if first not in TOP or "…" in token or "**" in token:
                    continue
                checked += 1
                if not exists(token):
                    problems.append(f"{where}: {token}: no such file or folder")
                elif symbol and token.endswith(".py") and not defines(ROOT / token, symbol):
                    problems.append(f"{where}: {token}::{symbol}: {token} defines no {symbol}")
        for c in code:
            if c.block:
                continue
            bare = BARE_FILE.match(c.text)
            if bare and c.text not in USER_FILES:
                checked += 1
                if not exists(bare.group(1)):
                    problems.append(f"{c.where}: {c.text}: no such file")
            if re.fullmatch(r"test_\w+", c.text):
                checked += 1
                if c.text not in defined_tests():
                    problems.append(f"{c.where}: {c.text}: no test of that name in tests/")
            dotted = re.fullmatch(r"([a-z_]+)\.([a-z_]+)\.(\w+)", c.text)
            if dotted and dotted.group(1) in PACKAGES:
                module = ROOT / dotted.group(1) / f"{dotted.group(2)}.py"
                if module.exists():
                    checked += 1
                    if not defines(module, dotted.group(3)):
                        problems.append(f"{c.where}: {c.text}: {rel(module)} defines no {dotted.group(3)}")
        for m in re.finditer(r"\[[^\]]*\]\(([^)\s]+)\)", prose):
            target = m.group(1)
            if re.match(r"[a-z]+:", target):
                continue
            checked += 1
            where = f"{rel(path)}:{prose.count(chr(10), 0, m.start()) + 1}"
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.exists():
                problems.append(f"{where}: link {target}: no such file")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
                if anchor not in {slug(h) for h in headings}:
                    problems.append(f"{where}: link {target}: {linked.name} has no heading #{anchor}")
    return problems, checked


def test_every_repository_path_and_link_in_the_docs_exists():
    problems, checked = path_problems(MARKDOWN)
    no_problems(list(dict.fromkeys(problems)))
    assert checked > 200


# --- (d) the cutover's counts --------------------------------------------------------------------

RELEASE = ROOT / "docs" / "runbooks" / "release.md"
CUTOVER_SENTENCE = re.compile(
    r"The (\d+): (\w+) view definitions\b.*?, the schedule job's .*?, (\w+) alert queries\b.*?, (\w+) DR snapshot "
    r"sources, the dashboard, the config backup and the removed canary filter\.",
    re.S,
)


def cutover_snippet(text: str) -> tuple[str, dict[str, Any]]:
    """The environment and its `release:` of release.md's step 4 YAML snippet."""
    (snippet,) = fenced(section(text, "4. Cut over"), "yaml")
    ((env, block),) = parse_yaml(snippet).items()
    return env, block["release"]


def apply_cutover(pipeline: dict[str, Any], env: str, release: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(pipeline)
    target = data.setdefault("environments", {}).setdefault(env, {}).setdefault("release", {})
    for key, value in release.items():
        if key == "slots":
            for slot, fields in value.items():
                target.setdefault("slots", {})[slot] = fields  # the slot as the snippet writes it, whole
        else:
            target[key] = value
    return data


@pytest.fixture(scope="module")
def cutover(plans, tmp_path_factory):
    """The offline diff of release.md's step 4 against prod as shipped, and its text."""
    from lakeflow.offline.diff import diff_plans
    from lakeflow.offline.diff_render import render_text
    from lakeflow.offline.plan import plan_stack
    from tests.conftest import Project, copy_project

    env, release = cutover_snippet(RELEASE.read_text())
    project = Project(tmp_path_factory.mktemp("cutover"))
    copy_project(project.root)
    project.set_pipeline("customer_360", apply_cutover(project.pipeline("customer_360"), env, release))
    staging = stack_files()[f"Pulumi.{env}.yaml"]["lakeflow:promoteFrom"]
    after = plan_stack(env, project.root, {staging: plans["staging"].outputs}).to_json()
    diff = diff_plans(plans[env].to_json(), after)
    return diff, render_text(diff, "HEAD")


def cutover_facts(d) -> dict[str, int]:
    types = [c.short_type for c in d.changed]
    return {
        "updates": d.count("update"),
        "others": d.count("create") + d.count("replace") + d.count("delete"),
        "views": types.count("SqlTable"),
        "alerts": types.count("AlertV2"),
        "snapshots": types.count("Query"),
        "singles": sum(types.count(t) for t in ("Job", "Dashboard", "File", "Pipeline")),
        "kinds": len(set(types) - {"SqlTable", "AlertV2", "Query", "Job", "Dashboard", "File", "Pipeline"}),
    }


def cutover_problems(text: str, readme: str, d, rendered: str) -> list[str]:
    facts = cutover_facts(d)
    problems = []
    if facts["others"] or facts["kinds"] or facts["singles"] != 4:
        problems.append(f"the cutover no longer changes only the pointers the runbook lists: {d.summary()}")
    step = section(text, "4. Cut over")
    excerpts = [b for b in fenced(step) if "Plan:" in b]
    if len(excerpts) != 1:
        problems.append("release.md step 4 has no diff excerpt ending with its Plan: line")
    else:
        lines = set(rendered.splitlines())
        problems += [
            f"release.md step 4 shows {x.strip()!r}, the diff does not"
            for x in excerpts[0].splitlines()
            if x.strip() not in ("", "...", "…") and x not in lines
        ]
    m = CUTOVER_SENTENCE.search(" ".join(step.split()))
    if not m:
        problems.append("release.md step 4 lacks the sentence 'The <N>: <n> view definitions, ...'")
    else:
        stated = dict(zip(("updates", "views", "alerts", "snapshots"), map(number, m.groups()), strict=True))
        problems += [
            f"release.md step 4 says {v} {k}, the diff has {facts[k]}" for k, v in stated.items() if v != facts[k]
        ]
    row = re.search(r"^\| 4 Cut over \|[^|\n]*\|\s*(\w+) updates\b", section(text, "Summary"), re.M)
    if not row:
        problems.append("release.md's summary row '4 Cut over' does not state '<N> updates'")
    elif number(row.group(1)) != facts["updates"]:
        problems.append(f"release.md's summary says {row.group(1)} updates, the diff has {facts['updates']}")
    blue_green = " ".join(section(readme, "Blue/green releases").split())
    for what, pattern in (("alerts", r"(\w+) (?:of them )?alert queries"), ("updates", r"(\w+) (?:in-place )?updates")):
        for word in re.findall(pattern, blue_green):
            if (word.lower() in NUMBERS or word.isdigit()) and number(word) != facts[what]:
                problems.append(f"README.md 'Blue/green releases' says {word} {what}, the diff has {facts[what]}")
    return problems


@pytest.mark.plan
def test_the_cutover_counts_in_the_docs_are_the_diffs(cutover):
    d, rendered = cutover
    no_problems(cutover_problems(RELEASE.read_text(), read(ROOT / "README.md"), d, rendered))


# --- (e) the canary filter -----------------------------------------------------------------------

CANARY_EXPRESSION = re.compile(r"(?:[A-Z]+\()*HASH\([^)`]*\)[^<`\n]*<\s*[\w<>]+")


def canary_problems(paths: list[Path]) -> tuple[list[str], int]:
    from lakeflow.program import canary_filter

    form = re.escape(canary_filter("COLUMN", 12345)).replace("COLUMN", r"[\w<>]+").replace("12345", r"[\w<>]+")
    problems, seen = [], 0
    for path in paths:
        text = read(path)
        for m in CANARY_EXPRESSION.finditer(text):
            seen += 1
            if not re.fullmatch(form, m.group().strip()):
                line = text.count("\n", 0, m.start()) + 1
                problems.append(
                    f"{rel(path)}:{line}: {m.group()!r} is not the filter the stack writes, "
                    f"{canary_filter('<column>', 10)!r}"
                )
    return problems, seen


def test_the_canary_filter_in_the_docs_is_the_one_the_stack_writes():
    problems, seen = canary_problems(MARKDOWN)
    no_problems(problems)
    assert seen >= 2


# --- (f) pipeline file keys ----------------------------------------------------------------------


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _models(typing.get_args(annotation)[0])
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    else:
        for arg in typing.get_args(annotation):
            yield from _models(arg)


def unknown_keys(value: Any, annotation: Any, path: str = "") -> list[str]:
    """Keys of `value` that no model `annotation` leads to has (lists and dicts followed)."""
    models = list(_models(annotation))
    if isinstance(value, list):
        return [k for item in value for k in unknown_keys(item, annotation, path + "[].")]
    if not isinstance(value, dict) or not models:
        return []
    fields: dict[str, Any] = {}
    for model in models:
        for name, f in model.model_fields.items():
            fields[name] = fields[f.alias or name] = f.annotation
    if not set(value) & set(fields):  # a free mapping (configuration:, slots:): its values
        return [k for key, v in value.items() for k in unknown_keys(v, annotation, f"{path}{key}.")]
    out = []
    for key, v in value.items():
        if key not in fields:
            out.append(path + str(key))
        else:
            out += unknown_keys(v, fields[key], f"{path}{key}.")
    return out


def readme_pipeline_example(readme: str) -> dict[str, Any]:
    blocks = fenced(section(readme, "Pipeline files"), "yaml")
    assert blocks, "README.md 'Pipeline files' has no yaml example"
    return parse_yaml(blocks[0])


def pipeline_key_problems(example: dict[str, Any]) -> list[str]:
    from lakeflow.config.models import PipelineSpec

    spec = {k: v for k, v in example.items() if k != "environments"}
    problems = unknown_keys(spec, PipelineSpec)
    for env, override in (example.get("environments") or {}).items():
        problems += unknown_keys(override, PipelineSpec, f"environments.{env}.")
    return [f"README.md pipeline file example: {k} is not a key of PipelineSpec" for k in problems]


def test_every_key_of_the_readmes_pipeline_file_example_is_a_pipeline_key():
    example = readme_pipeline_example(read(ROOT / "README.md"))
    no_problems(pipeline_key_problems(example))
    assert {"schedule", "monitoring", "dr", "release", "environments"} <= set(example)


def test_pipeline_files_md_names_the_stacks_own_and_refused_keys():
    from lakeflow.config.models import REJECTED_PIPELINE_KEYS, PipelineSpec

    text = (ROOT / "docs" / "pipeline-files.md").read_text()
    fields = {f.alias or n for n, f in PipelineSpec.model_fields.items()} | {"environments"}
    own = set(re.findall(r"`(\w+)`", section(text, "The stack's own keys").split("README")[0]))
    refused = re.findall(r"`(\w+)`", text.split("Refused, each with the reason:")[1].split("\n\n")[0])
    assert own and own <= fields, own - fields
    assert refused and set(refused) <= set(REJECTED_PIPELINE_KEYS), set(refused) - set(REJECTED_PIPELINE_KEYS)


# --- (g) the runbooks the alerts link ------------------------------------------------------------

RUNBOOKS = ROOT / "docs" / "runbooks"


def alert_runbooks() -> dict[str, str]:
    """Alert id -> the runbook file its description links."""
    from lakeflow.components.pipeline_alerts import DAILY_COST, MONTHLY_COST, PIPELINE_METRICS

    return {m.id: m.runbook for m in (*(m for m, _, _ in PIPELINE_METRICS), DAILY_COST, MONTHLY_COST)}


def runbook_problems(links: dict[str, str], table: str, named: set[str]) -> list[str]:
    problems = [f"alert {a} links {f}: not in docs/runbooks/" for a, f in links.items() if not (RUNBOOKS / f).exists()]
    problems += [f"{n}: named by the code, not in the repository" for n in sorted(named) if not (ROOT / n).exists()]
    rows = {}
    for m in re.finditer(r"^\| \[([\w.-]+)\]\([\w.-]+\) \| ([^|]*)\|", table, re.M):
        for alert in re.findall(r"`([\w-]+)`", m.group(2)):
            rows[alert] = m.group(1)
    for alert, file in links.items():
        if rows.get(alert) != file:
            problems.append(
                f"docs/runbooks/README.md lists alert {alert} under {rows.get(alert) or 'no runbook'}; it links {file}"
            )
    return problems


def test_every_runbook_an_alert_links_exists_and_the_index_agrees(plans):
    links = alert_runbooks()
    descriptions = [
        r["inputs"].get("customDescription", "")
        for p in plans.values()
        for r in p.resources
        if r["type"].endswith("AlertV2")
    ]
    linked = {m for d in descriptions for m in re.findall(r"Runbook: \S*?([\w-]+\.md)", d)}
    assert descriptions and linked <= set(links.values()), linked - set(links.values())
    named = {
        m
        for folder in ("components", "sql", "ops", "model", "config", "offline", "policy", ".")
        for f in (ROOT / "src" / "lakeflow" / folder).glob("*.py")
        for m in re.findall(r"docs/(?:runbooks|adr)/[\w.-]+\.md", f.read_text())
    }
    assert named, "the code names no runbook: the pattern is wrong"
    no_problems(runbook_problems(links, (RUNBOOKS / "README.md").read_text(), named))


# --- (h) nothing left unwritten --------------------------------------------------------------------

UNFINISHED = re.compile(r"being written|to be written|\bTODO\b|\bTBD\b|\bFIXME\b", re.I)


def unfinished(paths: list[Path]) -> list[str]:
    return [
        f"{rel(p)}:{n}: {line.strip()}"
        for p in paths
        for n, line in enumerate(read(p).splitlines(), 1)
        if UNFINISHED.search(line)
    ]


def test_no_doc_says_it_is_unfinished():
    no_problems(unfinished(MARKDOWN))


# --- (i) docs/going-live.md: CI's secrets and the example values -----------------------------------

GOING_LIVE = ROOT / "docs" / "going-live.md"


def workflow_reads() -> dict[str, dict[str, Any]]:
    """GitHub environment -> the secrets and vars its jobs read, and those jobs (`<file>` job `<id>`)."""
    envs: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for job_id, job in read_yaml(path)["jobs"].items():
            text = yaml.safe_dump(job)
            secrets = set(re.findall(r"secrets\.(\w+)", text))
            variables = set(re.findall(r"vars\.(\w+)", text))
            environment = job.get("environment")
            if isinstance(environment, dict):
                environment = environment.get("name")
            if environment is None:
                assert not secrets | variables, (
                    f"{path.name} job {job_id} reads {secrets | variables} outside an environment"
                )
                continue
            names = [environment]
            if m := re.fullmatch(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", environment):
                names = [item[m.group(1)] for item in job["strategy"]["matrix"]["include"]]
            for name in names:
                entry = envs.setdefault(name, {"secrets": set(), "vars": set(), "jobs": set()})
                entry["secrets"] |= secrets
                entry["vars"] |= variables
                entry["jobs"].add(f"`{path.name}` job `{job_id}`")
    return envs


def environments_table(text: str) -> dict[str, dict[str, Any]]:
    """Going-live's table `| environment | jobs | secrets | variables | … |`."""
    rows = {}
    for m in re.finditer(r"^\| `([\w-]+)` \|([^|\n]*)\|([^|\n]*)\|([^|\n]*)\|", text, re.M):
        env, jobs, secrets, variables = m.groups()
        rows[env] = {
            "jobs": jobs,
            "secrets": set(re.findall(r"`([A-Z][A-Z0-9_]+)`", secrets)),
            "vars": set(re.findall(r"`([A-Z][A-Z0-9_]+)`", variables)),
        }
    return rows


def ci_problems(text: str, envs: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    names = {s for e in envs.values() for s in e["secrets"] | e["vars"]}
    problems += [f"going-live.md does not name {n}, which the workflows read" for n in sorted(names) if n not in text]
    table = environments_table(section(text, "CI: GitHub environments"))
    for env, reads in sorted(envs.items()):
        row = table.get(env)
        if row is None:
            problems.append(f"going-live.md's environments table has no row for `{env}`")
            continue
        for kind in ("secrets", "vars"):
            if row[kind] != reads[kind]:
                problems.append(
                    f"going-live.md: environment {env}: {kind} {sorted(row[kind])}, "
                    f"the workflows read {sorted(reads[kind])}"
                )
        problems += [
            f"going-live.md: environment {env}: does not name {j}"
            for j in sorted(reads["jobs"])
            if j not in row["jobs"]
        ]
    problems += [f"going-live.md: environment {env}: no workflow job uses it" for env in sorted(set(table) - set(envs))]
    return problems


def test_going_live_names_every_secret_and_variable_each_environment_needs():
    envs = workflow_reads()
    assert {"pr-preview", "staging", "production"} <= set(envs)
    no_problems(ci_problems(GOING_LIVE.read_text(), envs))


def test_the_readmes_repository_set_up_names_every_environment():
    paragraph = read(ROOT / "README.md").split("**Repository set-up**", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`([\w-]+)`", paragraph))
    no_problems(
        [
            f"README.md 'Repository set-up' does not name the environment {e}"
            for e in sorted(workflow_reads())
            if e not in named
        ]
    )


def secrets_problems(text: str) -> list[str]:
    from lakeflow.config.models import needed_secrets

    rows = {
        m.group(1): set(re.findall(r"lakeflow:(\w+)", m.group(2)))
        for m in re.finditer(r"^\| `([\w-]+)` \|([^|\n]*)\|", section(text, "The stacks' secrets"), re.M)
    }
    problems = []
    for name, config in stack_files().items():
        stack = name.removeprefix("Pulumi.").removesuffix(".yaml")
        values = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("lakeflow:")}
        needed = set(needed_secrets(values))
        if rows.get(stack) != needed:
            problems.append(
                f"going-live.md: stack {stack} needs the secrets {sorted(needed)}, the table says {rows.get(stack)}"
            )
    return problems


def test_going_live_names_the_secrets_each_stack_needs():
    no_problems(secrets_problems(GOING_LIVE.read_text()))


EXAMPLE_KEYS = {
    "databricks:host",
    "lakeflow:warehouseId",
    "lakeflow:drWarehouseId",
    "lakeflow:accountId",
    "lakeflow:workspaceId",
    "lakeflow:accountClientId",
    "lakeflow:runAs",
    "lakeflow:workspaceFolder",
    "lakeflow:runbookBaseUrl",
    "lakeflow:promoteFrom",
}
PIPELINE_EXAMPLE_KEYS = {"repo_url", "import_id", "budget_policy_id", "policy_id", "instance_pool_id"}


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v, path)
    else:
        yield path, value


def example_values() -> list[tuple[str, str, str]]:
    """(file, key, value) of every example value shipped: the workspace-specific ids and hosts of
    the stack files, every address, anything that says `example` (or sits on a line whose comment
    does), the pipeline files' repository URLs and ids, and `example` in .github/."""
    found = []
    for name, config in stack_files().items():
        lines = (ROOT / name).read_text().splitlines()
        commented = {m.group(1) for line in lines if (m := re.match(r"\s*([\w:]+):.*#.*\bexample", line))}
        for key, value in config.items():
            for _, leaf in _leaves(value, ""):
                text = str(leaf)
                if key in EXAMPLE_KEYS | commented or "example" in text or "@" in text:
                    found.append((name, key, text))
    for path in sorted((ROOT / "pipelines").glob("*.yaml")):
        for key, leaf in _leaves(read_yaml(path), ""):
            text = str(leaf)
            if key.rsplit(".", 1)[-1] in PIPELINE_EXAMPLE_KEYS or "example" in text or "@" in text:
                found.append((rel(path), re.sub(r"^environments\.\w+\.", "", key), text))
    for path in sorted((ROOT / ".github").rglob("*")):
        if path.is_file():
            for token in sorted(set(re.findall(r"[@\w./:-]*example[\w./-]*", path.read_text()))):
                found.append((rel(path), "", token))
    return sorted(set(found))


def checklist_problems(text: str, examples: list[tuple[str, str, str]]) -> list[str]:
    rows = [
        line for line in section(text, "Checklist: the example values to replace").splitlines() if line.startswith("|")
    ]
    problems = []
    for file, key, value in examples:
        if not any(f"`{file}`" in row and (not key or f"`{key}`" in row) and value in row for row in rows):
            problems.append(f"going-live.md's checklist has no row for {file} {key or '(file)'} {value!r}")
    return problems


def test_going_live_lists_every_example_value_to_replace():
    examples = example_values()
    assert len(examples) > 20
    no_problems(checklist_problems(GOING_LIVE.read_text(), examples))


# --- (j) sizes of test sets the docs state ----------------------------------------------------------


def sizes_of_test_sets() -> dict[str, int]:
    import tests.engine.test_replacements as agreement
    import tests.test_hostile_names as hostile
    import tests.test_input_files as files

    return {
        "hostile names": len(hostile.HOSTILE),
        "builders": len(hostile.BUILDERS),
        "kinds": len(files.HOSTILE),
        "file arguments": len(files.COMMANDS),
        "changes": len(agreement.SCENARIOS),
    }


STATED_SIZES = (
    ("docs/security.md", r"\b(\w+) hostile names\b", "hostile names"),
    ("docs/security.md", r"\bthrough (\w+) builders\b", "builders"),
    ("docs/security.md", r"\b(\w+) kinds × \w+ file arguments\b", "kinds"),
    ("docs/security.md", r"\b\w+ kinds × (\w+) file arguments\b", "file arguments"),
    ("README.md", r"\bfor (\w+) changes \(a blue/green cutover", "changes"),
)


def size_problems(sizes: dict[str, int]) -> list[str]:
    problems = []
    for file, pattern, what in STATED_SIZES:
        found = re.findall(pattern, " ".join(read(ROOT / file).split()))
        if not found:
            problems.append(f"{file} no longer states the number of {what} ({pattern}): update STATED_SIZES")
        problems += [f"{file}: {w} {what}, tests/ has {sizes[what]}" for w in found if number(w) != sizes[what]]
    return problems


def test_the_sizes_of_test_sets_the_docs_state_are_the_tests():
    no_problems(size_problems(sizes_of_test_sets()))


# --- (k) README.md's error example and stack config table ---------------------------------------------

ERROR_LINE = re.compile(r"^  - ([\w./-]+):(\d+): ([\w:.\[\]]+): '([^']*)': ")


def error_example_problems(readme: str, tmp: Path) -> list[str]:
    """Put each value of README's example into a copy of the project at the line it names, plan the
    stack, and compare what `make plan` prints with the example."""
    import contextlib
    import io
    import shutil

    from lakeflow.offline.plan import main as plan_main

    block = next(b for b in fenced(section(readme, "Stack config")) if b.startswith("$ make plan"))
    command, *printed = block.splitlines()
    stack = re.search(r"STACK=(\w+)", command)
    shutil.copytree(ROOT / "pipelines", tmp / "pipelines")
    for f in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(f, tmp / f.name)
    problems = []
    for line in printed:
        m = ERROR_LINE.match(line)
        if not m:
            continue
        file, number_, key, value = m.groups()
        lines = (tmp / file).read_text().splitlines(keepends=True)
        index = int(number_) - 1
        leaf = re.split(r"[.\]]", key)[-1].split("[")[0]
        target = lines[index] if index < len(lines) else ""
        if not re.match(rf"\s*(?:- )?{re.escape(leaf)}:", target):
            problems.append(f"README.md error example: {file}:{number_} is not {key} (it is {target.strip()!r})")
            continue
        lines[index] = re.sub(
            rf"({re.escape(leaf)}:\s*)[^#\n]*?(\s*(?:#.*)?)$", rf"\g<1>{json.dumps(value)}\g<2>", target
        )
        (tmp / file).write_text("".join(lines))
    if problems:
        return problems
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        plan_main(["--stack", stack.group(1) if stack else "dev", "--root", str(tmp)])
    actual = set(out.getvalue().splitlines())
    return [f"README.md error example: make plan prints no line {line!r}" for line in printed if line not in actual]


@pytest.mark.plan
def test_the_readmes_bad_input_example_is_what_make_plan_prints(tmp_path):
    no_problems(error_example_problems(read(ROOT / "README.md"), tmp_path))


def stack_table_problems(readme: str) -> list[str]:
    table = section(readme, "Stack config")
    listed: set[str] = set()
    for row in re.findall(r"^\| (`.*?) \|", table, re.M):
        keys = re.findall(r"`(\w+)`", row)
        if "…" in row and len(keys) == 2:  # `routeP1` … `routeP4`
            a, b = (re.match(r"(\D+)(\d+)$", k) for k in keys)
            assert a and b and a.group(1) == b.group(1)
            keys = [f"{a.group(1)}{i}" for i in range(int(a.group(2)), int(b.group(2)) + 1)]
        listed |= set(keys)
    from lakeflow.config.models import StackConfig

    keys = {f.alias or to_camel(n) for n, f in StackConfig.model_fields.items()}
    return [f"README.md's stack config table lacks lakeflow:{k}" for k in sorted(keys - listed)] + [
        f"README.md's stack config table lists {k}, not a StackConfig key" for k in sorted(listed - keys)
    ]


def test_the_readmes_stack_config_table_lists_every_key():
    no_problems(stack_table_problems(read(ROOT / "README.md")))


# --- (l) quoting -----------------------------------------------------------------------------------


def quoting_problems(paths: list[Path]) -> list[str]:
    return [
        f"{c.where}: {c.text!r}: a URN holds `$`: single-quote it (ALLOW_DESTROY='<urn>')"
        for path in paths
        for c in prose_and_code(path)[1]
        if re.search(r"ALLOW_DESTROY=\"", c.text)
    ]


def test_urns_in_arguments_are_single_quoted():
    no_problems(quoting_problems(MARKDOWN))


# --- README.md's pending fixes -----------------------------------------------------------------------


def test_readme_pending_fixes_are_still_pending():
    readme = (ROOT / "README.md").read_text()
    fixed = [passage for passage, _ in README_PENDING if passage not in readme]
    assert fixed == [], f"README.md no longer has these: remove them from README_PENDING in tests/test_docs.py: {fixed}"


def test_the_readmes_capacity_export_query_is_the_one_the_command_prints():
    from lakeflow.ops.capacity import history_query
    from tests.test_capacity_inputs import SALES_REF

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Cost and capacity") :]
    shown = section[section.index("```sql\n") + len("```sql\n") : section.index("```\n\n</details>")]
    assert shown == history_query([SALES_REF], "prod"), (
        "README's export query is stale: paste make capacity HISTORY_SQL=1"
    )
