"""The real Pulumi engine and Databricks provider, built from Go modules (engine/build.py), and
what runs them: `make preview` (engine/preview.py) and the agreement tests (engine/agreement.py)."""
