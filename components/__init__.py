"""Pulumi component resources, one per file. Each takes a typed `…Args`, parents every child to
itself, derives child names from its own name, and inherits providers from the caller."""

from components.dlt_pipeline import DltPipeline, DltPipelineArgs
from components.pipeline_schedule import PipelineSchedule, PipelineScheduleArgs, UpstreamPipeline

__all__ = ["DltPipeline", "DltPipelineArgs", "PipelineSchedule", "PipelineScheduleArgs", "UpstreamPipeline"]
