"""YAML documents that remember where each key came from.

Errors must name a line a user can jump to, so documents are parsed with PyYAML's composer and a
map from dotted key path (``clusters[0].autoscale.min_workers``) to 1-based line is kept beside the
plain Python data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from settings.errors import ConfigError

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


def load_yaml(path: Path, display: str) -> YamlDoc | ConfigError:
    """Parse one file; a syntax error comes back as a ConfigError with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return ConfigError(display, "", f"cannot be read: {exc.strerror}")
    loader = _Loader(text)
    try:
        # One parse: compose the node tree (it has the lines), then build the data from it.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return ConfigError(display, "", f"is not valid YAML: {problem}", line=mark.line + 1 if mark else None)
    doc = YamlDoc(display, data)
    if node is not None:
        _index(node, "", doc.lines)
    return doc


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
