"""Pulumi component provider `lakeflow`: every component `lakeflow.components` exports, served to
programs in any language (`pulumi package add <this folder>`; README.md).

The schema (`pulumi package get-schema <this folder>`) is read from the components' classes: each
`…Args` dataclass gives a component's inputs (`lakeflow:index:<Component>`).
"""

import importlib.metadata

import pulumi
from pulumi.provider.experimental import component_provider_host

import lakeflow.components


def components() -> list[type[pulumi.ComponentResource]]:
    """The component classes among `lakeflow.components.__all__` (not their Args or helper types)."""
    found = (getattr(lakeflow.components, name) for name in lakeflow.components.__all__)
    return [c for c in found if isinstance(c, type) and issubclass(c, pulumi.ComponentResource)]


if __name__ == "__main__":
    component_provider_host(
        components=components(),
        name="lakeflow",
        namespace="lakeflow",
        version=importlib.metadata.version("lakeflow-stack"),
    )
