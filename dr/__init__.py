"""Disaster recovery (guide 10): what is snapshotted where and when, the SQL that does it, and
the restore plan. The stack's components (components/disaster_recovery.py) and the
`make dr-restore` command (dr/restore.py) both read these, so they cannot disagree."""
