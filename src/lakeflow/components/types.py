"""Types the components share (closed sets as enums, principals), so that a component depends
only on Pulumi, the Databricks provider and this package's own types. The config layer
(`lakeflow.config`) validates files into these same types."""

from enum import StrEnum


class PauseStatus(StrEnum):
    PAUSED = "PAUSED"
    UNPAUSED = "UNPAUSED"


class Severity(StrEnum):
    """Guide 7.1: who is told, and how fast they must respond."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def response_time(self) -> str:
        return {"P1": "15 minutes", "P2": "1 hour", "P3": "4 hours", "P4": "24 hours"}[self.value]


PRINCIPAL_KINDS = {"group": "group_name", "user": "user_name", "sp": "service_principal_name"}


def principal_field(principal: str) -> tuple[str, str]:
    """'group:analysts' -> ('group_name', 'analysts'): the Databricks access-control field."""
    kind, _, name = principal.partition(":")
    return PRINCIPAL_KINDS[kind], name


# How an upstream's tables start a dependent job: on any of them, once the upstream has written
# nothing for 5 minutes (it writes its tables one after another; the run should see the whole update).
TABLE_TRIGGER_CONDITION = "ANY_UPDATED"
TABLE_TRIGGER_SETTLE_SECONDS = 300


class DestinationKind(StrEnum):
    """Where alerts of a severity go (guide 7.1)."""

    EMAIL = "email"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    WEBHOOK = "webhook"
