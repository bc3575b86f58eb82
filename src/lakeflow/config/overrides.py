"""The per-environment overrides of a pipeline file (`environments.<env>`), merged into the file.

The merge keeps the document's line map current, so an error in a value that came from an
override names the override's line.
"""

from __future__ import annotations

import copy

from lakeflow.config.yaml_source import join


def merge(dst: dict, src: dict, dst_path: str, src_path: str, lines: dict[str, int]) -> None:
    """Deep-merge an override into a pipeline document, keeping line numbers pointing at it.

    Mappings merge key by key; `clusters` merge by `label` (as Databricks Asset Bundles do), so
    an environment can resize the default cluster without restating it; other lists are replaced.
    """
    for key, value in src.items():
        d_path, s_path = join(dst_path, key), join(src_path, key)
        current = dst.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merge(current, value, d_path, s_path, lines)
            continue
        if key == "clusters" and isinstance(current, list) and isinstance(value, list):
            merged = [copy.deepcopy(c) for c in current]
            for j, item in enumerate(value):
                label = item.get("label", "default") if isinstance(item, dict) else None
                idx = next(
                    (i for i, c in enumerate(merged) if isinstance(c, dict) and c.get("label", "default") == label),
                    None,
                )
                if idx is None or not isinstance(item, dict):
                    merged.append(copy.deepcopy(item))
                    relocate(lines, join(s_path, j), join(d_path, len(merged) - 1))
                else:
                    merge(merged[idx], item, join(d_path, idx), join(s_path, j), lines)
            dst[key] = merged
            continue
        dst[key] = copy.deepcopy(value)
        relocate(lines, s_path, d_path)


def relocate(lines: dict[str, int], src: str, dst: str) -> None:
    for path, line in list(lines.items()):
        if path == src or path.startswith((src + ".", src + "[")):
            lines[dst + path[len(src) :]] = line
