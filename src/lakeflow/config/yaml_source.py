"""YAML documents that remember where each key came from.

Errors must name a line a user can jump to, so documents are parsed with PyYAML's composer and a
map from dotted key path (``clusters[0].autoscale.min_workers``) to 1-based line is kept beside the
plain Python data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lakeflow.config.errors import ConfigError

# libyaml's loader when PyYAML has it (the wheels do): same results and marks, several times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDoc:
    file: str
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, path: str) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = parent_path(path)
        return self.lines.get("")


def parent_path(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rsplit(".", 1)[0] if "." in path else ""


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


# Limits on what a config file may be: these files are a few KiB; anything far beyond is a mistake
# or an attack (an alias "bomb" expands to billions of values from a few lines).
MAX_BYTES = 1 << 20
MAX_VALUES = 100_000  # after expanding aliases
MAX_DEPTH = 64


def load_yaml(path: Path, display: str) -> YamlDoc | ConfigError:
    """Parse one file; a syntax error, a duplicate key, text that is not UTF-8 and a file over the
    limits above come back as a ConfigError with its line."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return ConfigError(display, "", f"is {path.stat().st_size:,} bytes; a config file may have {MAX_BYTES:,}")
        raw = path.read_bytes()
    except OSError as exc:
        return ConfigError(display, "", f"cannot be read: {exc.strerror}")
    parsed = _parse(raw, display)
    if isinstance(parsed, ConfigError):
        return parsed
    return YamlDoc(parsed.file, _copied(parsed.data), dict(parsed.lines))


def _copied(value: Any) -> Any:
    """A copy of parsed YAML data the caller may change: mappings, sequences and sets are new, every other
    value YAML makes (str, int, float, bool, None, bytes, date, datetime) is immutable and is shared.
    `copy.deepcopy`, which would do the same through its memo and dispatch, is four times slower; commands read
    these files thousands of times in a test run."""
    kind = type(value)
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if kind is list:
        return [_copied(item) for item in value]
    if kind is set:
        return set(value)
    return value


@functools.lru_cache(maxsize=64)
def _parse(raw: bytes, display: str) -> YamlDoc | ConfigError:
    """The document these bytes hold. Kept for the next read of the same bytes under the same name: a
    command reads each stack file several times (the project's name, the other stacks' catalogs, its own
    settings). Callers get a copy of the data, never the kept one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return ConfigError(display, "", f"is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x})", line=line)
    try:
        # libyaml's parser is a state machine, its composer recursive: depth is checked on the
        # events first (a document nested 100,000 deep would crash the composer).
        depth = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return ConfigError(
                        display, "", f"nests deeper than {MAX_DEPTH} levels", line=mark.line + 1 if mark else None
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        loader = _Loader(text)
        # Compose the node tree (it has the lines), check it, then build the data.
        node = loader.get_single_node()
        if node is not None and (refused := _check(node, display)) is not None:
            return refused
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return ConfigError(display, "", f"is not valid YAML: {problem}", line=mark.line + 1 if mark else None)
    except RecursionError:
        return ConfigError(display, "", f"nests deeper than {MAX_DEPTH} levels")
    doc = YamlDoc(display, data)
    if node is not None:
        _index(node, "", doc.lines)
    return doc


def _check(root: yaml.Node, display: str) -> ConfigError | None:
    """Duplicate keys (YAML 1.2 and the Pulumi CLI refuse them; PyYAML would keep the last),
    depth and expanded size, without expanding anything: an alias is the same node again."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            return ConfigError(display, "", f"nests deeper than {MAX_DEPTH} levels", line=node.start_mark.line + 1)
        children = (
            [v for pair in node.value for v in pair]
            if isinstance(node, yaml.MappingNode)
            else (list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        )
        if done:
            visiting.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
            if sizes[id(node)] > MAX_VALUES:
                return ConfigError(
                    display, "", f"expands to over {MAX_VALUES:,} values (aliases?)", line=node.start_mark.line + 1
                )
            continue
        if id(node) in sizes:
            continue
        if id(node) in visiting:
            return ConfigError(display, "", "refers to itself (a recursive alias)", line=node.start_mark.line + 1)
        visiting.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
                if key in seen:
                    return ConfigError(
                        display,
                        str(key),
                        f"appears twice in one mapping (lines {seen[key]} and {key_node.start_mark.line + 1}); "
                        "YAML and the Pulumi CLI refuse duplicate keys",
                        line=key_node.start_mark.line + 1,
                    )
                seen[key] = key_node.start_mark.line + 1
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)
    return None


def _index(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = join(path, key_node.value)
            lines[child] = key_node.start_mark.line + 1
            _index(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, join(path, i), lines)
