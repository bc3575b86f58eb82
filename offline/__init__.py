"""The offline plan: the real program under Pulumi's mock runtime, every registration recorded
and checked against the provider SDK's own input types. No credentials, no Pulumi CLI."""

# How a plan writes a value known only after apply: the recorder writes it, the diff reads it
# (kept here so the diff, the deploy gate's judge, runs without importing Pulumi).
UNKNOWN_TEXT = "(known after apply)"
