"""Physical names and tags: the one place they are made.

Physical names carry the environment (and, in personal dev stacks, the developer) so that stacks
sharing a workspace never collide: `prod_sales_pipeline`, `dev_alice_sales_pipeline`.
Logical (URN) names are the pipeline's own name and never change with the environment.
"""

from __future__ import annotations

from lakeflow.components.types import Tag
from lakeflow.config.models import PipelineSpec, StackConfig


def physical_name(cfg: StackConfig, pipeline: str, *suffix: str) -> str:
    parts = [cfg.environment, cfg.developer, pipeline, *suffix]
    return "_".join(p for p in parts if p)


def stack_tags(cfg: StackConfig) -> dict[str, str]:
    """Tags every taggable resource of the stack carries (guide 4.1: Environment, Team, CostCenter)."""
    return {Tag.ENVIRONMENT: cfg.environment, Tag.TEAM: cfg.team, Tag.COST_CENTER: cfg.cost_center}


def pipeline_tags(cfg: StackConfig, spec: PipelineSpec) -> dict[str, str]:
    """Stack tags, then the pipeline file's own tags, then the identity tags nobody may change."""
    return {**stack_tags(cfg), **spec.tags, Tag.ENVIRONMENT: cfg.environment, Tag.PIPELINE: spec.name}
