"""The offline plan: the real program under Pulumi's mock runtime, every registration recorded
and checked against the provider SDK's own input types. No credentials, no Pulumi CLI."""
