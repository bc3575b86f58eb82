"""Pulumi entry point: load this stack's settings (Pulumi.<stack>.yaml + pipelines/*.yaml), build.

Settings are loaded (and every config error reported) before anything is declared; `build` is
async, so `pulumi.run` awaits it once this module has run (src/lakeflow/program.py says why).
"""

from pathlib import Path

import pulumi

from lakeflow.config.loader import settings_from_pulumi
from lakeflow.program import build

settings = settings_from_pulumi(Path(__file__).parent)


async def main() -> None:
    await build(settings)


pulumi.run(main)
