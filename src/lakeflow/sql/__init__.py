"""Monitoring: the Databricks SQL behind alerts and the dashboard (`monitoring.queries`) and the
dashboard's Lakeview JSON (`monitoring.dashboard`)."""
