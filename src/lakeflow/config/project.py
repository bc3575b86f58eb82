"""Where the Pulumi project lives (its Pulumi.<stack>.yaml and pipelines/): the commands work on it.

`$LAKEFLOW_ROOT` when set (bin/lakeflow sets it, so it runs from anywhere), else the working
directory (make, the Pulumi CLI and CI run from the project). The package itself is installed
and holds no project files.
"""

import argparse
import os
from pathlib import Path


def project_root() -> Path:
    return Path(os.environ.get("LAKEFLOW_ROOT") or Path.cwd()).resolve()


def command_parser(command: str, description: str, stack: str | None = "dev") -> argparse.ArgumentParser:
    """`make <command>`'s argument parser with what every command that reads a stack shares:
    `--stack` (default `stack`; required when None) and the hidden `--root` (the project, default
    `project_root()`; tests point it at a copy)."""
    parser = argparse.ArgumentParser(prog=f"make {command}", description=description)
    if stack is None:
        parser.add_argument("--stack", required=True)
    else:
        parser.add_argument("--stack", default=stack, help=f"stack name: Pulumi.<stack>.yaml (default: {stack})")
    parser.add_argument("--root", type=Path, default=project_root(), help=argparse.SUPPRESS)
    return parser
