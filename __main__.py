"""Pulumi entry point: load this stack's settings (Pulumi.<stack>.yaml + pipelines/*.yaml), build."""

from pathlib import Path

from settings.loader import settings_from_pulumi
from stack.build import build

build(settings_from_pulumi(Path(__file__).parent))
