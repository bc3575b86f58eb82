"""What the day-2 commands share: the stack's outputs, a Databricks client, SQL through the
statement execution API, and errors a person can act on (one line, non-zero exit).

Credentials are the Databricks SDK's usual ones: DATABRICKS_HOST with DATABRICKS_TOKEN (or
OAuth client id/secret), or a profile of ~/.databrickscfg (DATABRICKS_CONFIG_PROFILE). The
client retries 429 and 503 answers with back-off, as the SDK does, for at most
`retry_timeout_seconds`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from settings.input_files import FileRefused, StackOutputs, read_outputs, shaped

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_ERROR = 0, 1, 2, 2


class OpsError(Exception):
    """A problem the person running the command can act on; printed as one line."""


def load_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    """The stack's outputs: a saved `pulumi stack output --json` file, or the Pulumi CLI."""
    if outputs_file is not None:
        try:
            outputs = read_outputs(outputs_file, "OUTPUTS")
        except FileRefused as exc:
            raise OpsError(str(exc)) from None
    else:
        if shutil.which("pulumi") is None:
            raise OpsError(
                f"no Pulumi CLI to read stack {stack!r}'s outputs: pass OUTPUTS=<file> "
                f"(saved with: pulumi stack output --json --stack {stack} > outputs.json)"
            )
        run = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", stack], capture_output=True, text=True, check=False
        )
        if run.returncode != 0:
            raise OpsError(f"pulumi stack output --stack {stack} failed: {run.stderr.strip().splitlines()[-1:]}")
        try:
            read = shaped(json.loads(run.stdout or "{}"), f"pulumi stack output --stack {stack}", StackOutputs)
        except (ValueError, RecursionError) as exc:  # FileRefused is a ValueError
            raise OpsError(f"pulumi stack output --stack {stack}: not usable JSON ({exc})") from None
        outputs = read.model_dump(exclude_unset=True)
    if not isinstance(outputs, dict) or not isinstance(outputs.get("pipelines"), dict) or not outputs["pipelines"]:
        raise OpsError(
            f"stack {stack!r} has no pipelines in its outputs: is it deployed? (`pulumi up --stack {stack}`)"
        )
    return outputs


def pipeline_ids(outputs: dict[str, Any], stack: str, only: str | None = None) -> dict[str, str]:
    """Logical name -> pipeline id from the `pipelines` output; `only` selects one."""
    found = {name: str(p.get("id") or "") for name, p in outputs["pipelines"].items() if isinstance(p, dict)}
    if only is not None:
        if only not in found:
            raise OpsError(
                f"PIPELINE={only}: not a pipeline of stack {stack!r} (pipelines: {', '.join(sorted(found))})"
            )
        found = {only: found[only]}
    missing = sorted(name for name, pid in found.items() if not pid)
    if missing:
        raise OpsError(f"stack {stack!r}: no pipeline id in its outputs for {', '.join(missing)} (deploy it first)")
    return found


def client(retry_timeout_seconds: int = 120, http_timeout_seconds: int = 30) -> Any:
    """A WorkspaceClient from the environment or profile; a clear error when there are no credentials."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    try:
        config = Config(retry_timeout_seconds=retry_timeout_seconds, http_timeout_seconds=http_timeout_seconds)
        if not config.host:
            raise ValueError("no host")
        return WorkspaceClient(config=config)
    except ValueError as exc:
        raise OpsError(
            "no Databricks credentials: set DATABRICKS_HOST and DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and "
            "DATABRICKS_CLIENT_SECRET), or DATABRICKS_CONFIG_PROFILE for a ~/.databrickscfg profile "
            f"({_first_line(exc)})"
        ) from None


def api_error(exc: Exception, what: str) -> OpsError:
    """An SDK/HTTP failure as one actionable line."""
    from databricks.sdk.errors import NotFound, PermissionDenied, TooManyRequests, Unauthenticated

    if isinstance(exc, PermissionDenied):
        return OpsError(f"{what}: permission denied (403): the identity needs CAN_VIEW (checks) or CAN_RUN (updates)")
    if isinstance(exc, Unauthenticated):
        return OpsError(f"{what}: the credentials were refused (401): renew DATABRICKS_TOKEN or the OAuth secret")
    if isinstance(exc, NotFound):
        return OpsError(f"{what}: not found (404): deleted, or the stack's outputs are stale")
    if isinstance(exc, TooManyRequests):
        return OpsError(f"{what}: still rate limited (429) after retrying; try again later")
    if isinstance(exc, TimeoutError):
        return OpsError(f"{what}: timed out ({_first_line(exc)})")
    return OpsError(f"{what}: {type(exc).__name__}: {_first_line(exc)}")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def run_sql(w: Any, warehouse_id: str, statement: str, timeout_seconds: int = 300) -> list[dict[str, Any]]:
    """Rows of one statement (statement execution API), waiting for it if it outlives the first call."""
    from databricks.sdk.service.sql import StatementState

    response = w.statement_execution.execute_statement(
        statement=statement, warehouse_id=warehouse_id, wait_timeout="30s"
    )
    deadline = time.monotonic() + timeout_seconds
    while response.status and response.status.state in (StatementState.PENDING, StatementState.RUNNING):
        if time.monotonic() > deadline:
            w.statement_execution.cancel_execution(response.statement_id)
            raise OpsError(f"SQL statement {response.statement_id} still running after {timeout_seconds} s; cancelled")
        time.sleep(_POLL_SECONDS)
        response = w.statement_execution.get_statement(response.statement_id)
    state = response.status.state if response.status else None
    if state != StatementState.SUCCEEDED:
        error = response.status.error.message if response.status and response.status.error else "no detail"
        raise OpsError(f"SQL statement failed ({state.value if state else 'unknown state'}): {error}")
    columns = [c.name for c in (response.manifest.schema.columns or [])] if response.manifest else []
    rows = (response.result.data_array or []) if response.result else []
    return [dict(zip(columns, row, strict=False)) for row in rows]


_POLL_SECONDS = 2.0


def guarded(what: str, call: Callable[[], Any]) -> Any:
    """Run an API call; SDK errors become one actionable line."""
    try:
        return call()
    except OpsError:
        raise
    except Exception as exc:  # every SDK error class ends here as one line
        raise api_error(exc, what) from None
