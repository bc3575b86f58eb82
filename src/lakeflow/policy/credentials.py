"""What a credential written in plain text looks like: one list, for the policy pack
(`no-plaintext-secrets`, over every resource input) and the config loader (every stack and
pipeline value, before anything is registered). No imports beyond `re`: the policy pack loads
this module from its own folder under the Pulumi CLI.
"""

from __future__ import annotations

import re

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("a Databricks personal access token", re.compile(r"\bdapi[0-9a-f]{32}\b")),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Slack webhook URL", re.compile(r"hooks\.slack\.com/services/\S+")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[0-9A-Za-z-]{10,}")),
    ("a GitHub token", re.compile(r"\b(ghp|gho|ghu|ghs|github_pat)_[0-9A-Za-z_]{20,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a credential in a URL", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
    ("a bearer token", re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{16,}")),
    ("a shared access signature", re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{16,}")),
]
# Keys whose values are credentials by name (a {{secrets/<scope>/<key>}} reference is fine).
SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|client[_-]?secret)$", re.IGNORECASE)


def looks_like(value: str) -> str | None:
    """What credential `value` looks like, or None."""
    for what, pattern in PATTERNS:
        if pattern.search(value):
            return what
    return None
