"""What the day-2 commands share: the stack's outputs, a Databricks client, SQL through the
statement execution API, and errors a person can act on (one line, non-zero exit).

Credentials are the Databricks SDK's usual ones: DATABRICKS_HOST with DATABRICKS_TOKEN (or
OAuth client id/secret), or a profile of ~/.databrickscfg (DATABRICKS_CONFIG_PROFILE).

Reaching the workspace is bounded by one setting, `--http-timeout SECONDS` on every command that
talks to a workspace, else the environment variable LAKEFLOW_HTTP_TIMEOUT, else 30 s:

- before the SDK sends anything, one request to the host (`/.well-known/databricks-config`, the
  SDK's own first call) checks that it can be reached: connecting may take at most
  min(5 s, the timeout), answering at most the timeout, and it is not retried. An unreachable host
  is one line within seconds: the DNS name does not resolve, the connection was refused or timed
  out, the TLS handshake failed (the certificate), or the host did not answer, each with what to do;
- every SDK call, including its host-metadata and OIDC-discovery calls, waits at most the timeout
  for an answer (`Config.http_timeout_seconds`), and the SDK retries 429, 503 and connection
  failures with back-off for at most the retry budget (`Config.retry_timeout_seconds`): the
  timeout again unless `--retry-timeout SECONDS` says otherwise;
- a call that fails is one line naming what was asked and what to do: refused credentials (401,
  or 403 "invalid access token"), permission denied (403), not found (404; a host without the
  Databricks API, e.g. a wrong path after the host name, is said to be that), rate limited (429),
  or the network problem. Stopping at the first of these is the commands' choice: an unreachable
  workspace, refused credentials and a host without the API raise `Unusable`, which no later call
  would get past.

Messages from the SDK are shortened at a word boundary (`brief`); `OpsError.full` keeps the whole
text, which `--verbose` prints (with the SDK's own log) and the commands' JSON reports carry.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lakeflow.config.input_files import FileRefused, StackOutputs, read_outputs, shaped

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_ERROR = 0, 1, 2, 2

HTTP_TIMEOUT_ENV = "LAKEFLOW_HTTP_TIMEOUT"
DEFAULT_HTTP_TIMEOUT = 30.0
"""Seconds an HTTP call to the workspace may take to answer."""
CONNECT_TIMEOUT = 5.0
"""Seconds connecting to the workspace may take (at most the HTTP timeout)."""
MAX_TIMEOUT = 3600.0
BRIEF_WIDTH = 300
HOST_HINT = "is DATABRICKS_HOST right? a workspace URL looks like https://<name>.cloud.databricks.com"
_MORE_TIME = f"--http-timeout SECONDS or {HTTP_TIMEOUT_ENV} waits longer"
_sdk_clock: Any = None
"""The clock the SDK's retries read and back off with (a `databricks.sdk.clock.Clock`): None, the SDK's
real one. The tests set one whose back-off does not wait (tests/conftest.py)."""


class OpsError(Exception):
    """A problem the person running the command can act on; printed as one line.

    `full`: the same message with the whole text of what failed (an SDK or SQL error can run to many
    lines); `str()` shows it shortened."""

    def __init__(self, message: str, full: str | None = None):
        super().__init__(message)
        self.full = full or message


def with_full(line: str, exc: OpsError) -> str:
    """`line` (one line, for a table), then the whole text of `exc` below it when that says more (for JSON)."""
    return line if exc.full == str(exc) else f"{line}\n{exc.full}"


class Unusable(OpsError):
    """The workspace cannot be used at all: not reached, not answering in time, not a Databricks API,
    or the credentials refused. The same for every later call, so the commands stop at the first."""


def brief(text: str, width: int = BRIEF_WIDTH) -> str:
    """The first non-blank line of `text`, whitespace collapsed, shortened at a word boundary to at
    most `width` characters; " …" marks what was left out (the whole text stays in `OpsError.full`)."""
    line = " ".join(next((part for part in str(text).splitlines() if part.strip()), "").split())
    if len(line) <= width:
        return line
    cut = line[: width - 2]
    space = cut.rfind(" ")
    if space >= width // 2:  # a word boundary in the second half: cut there, never inside a word
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + " …"


# --- timeouts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeouts:
    """How long reaching the workspace may take (seconds)."""

    http: float = DEFAULT_HTTP_TIMEOUT
    """Each HTTP call: until the answer arrives."""
    retry: float | None = None
    """The SDK's retry budget for one call (429, 503, connection failures); None: `http`."""

    @property
    def connect(self) -> float:
        return min(CONNECT_TIMEOUT, self.http)

    @property
    def retry_budget(self) -> int:
        """Whole seconds, at least 1 (the SDK's Config.retry_timeout_seconds is an int; 0 would mean 300)."""
        return max(1, math.ceil(self.http if self.retry is None else self.retry))


def timeouts(http: float | None = None, retry: float | None = None) -> Timeouts:
    """From the command line (`--http-timeout`, `--retry-timeout`), else LAKEFLOW_HTTP_TIMEOUT, else 30 s."""
    if http is None:
        raw = os.environ.get(HTTP_TIMEOUT_ENV, "").strip()
        if raw:
            try:
                http = float(raw)
            except ValueError:
                raise OpsError(f"{HTTP_TIMEOUT_ENV}={raw}: not a number of seconds (such as 30)") from None
            _in_range(http, HTTP_TIMEOUT_ENV)
        else:
            http = DEFAULT_HTTP_TIMEOUT
    else:
        _in_range(http, "--http-timeout")
    if retry is not None:
        _in_range(retry, "--retry-timeout")
    return Timeouts(http, retry)


def _in_range(seconds: float, what: str) -> None:
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT):
        raise OpsError(f"{what} {seconds:g}: seconds, more than 0 and at most {MAX_TIMEOUT:g}")


def add_connection_options(parser: Any) -> None:
    """The options every command that talks to a workspace takes, with the same names."""
    parser.add_argument(
        "--http-timeout",
        type=float,
        metavar="SECONDS",
        help=f"how long each HTTP call to the workspace may take (connecting: at most {CONNECT_TIMEOUT:g} s); "
        f"default: ${HTTP_TIMEOUT_ENV}, else {DEFAULT_HTTP_TIMEOUT:g}",
    )
    parser.add_argument(
        "--retry-timeout",
        type=float,
        metavar="SECONDS",
        help="how long the SDK retries 429, 503 and connection failures of one call (default: the HTTP timeout)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print the whole text of errors, and the Databricks SDK's log"
    )


def connection_timeouts(args: Any) -> Timeouts:
    """`Timeouts` from the options of `add_connection_options`."""
    return timeouts(args.http_timeout, args.retry_timeout)


def report_error(prog: str, exc: OpsError, verbose: bool = False) -> None:
    """One line on stderr; with `verbose`, the whole text below it when it says more."""
    print(f"{prog}: {exc}", file=sys.stderr)
    if verbose and exc.full != str(exc):
        for line in exc.full.splitlines():
            print(f"  | {line}", file=sys.stderr)


# --- outputs -----------------------------------------------------------------------------------------------


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
    """Logical name -> pipeline id from the `pipelines` output; `only` selects one. An entry without an
    id (or that is not an object) is named, never skipped."""
    found = {
        name: str((p.get("id") if isinstance(p, dict) else None) or "") for name, p in outputs["pipelines"].items()
    }
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


# --- the client ----------------------------------------------------------------------------------------------


def client(
    bounds: Timeouts | None = None,
    *,
    before_connect: Callable[[str], None] | None = None,
    verbose: bool = False,
) -> Any:
    """A WorkspaceClient from the environment or profile, whose host answered (see the module's text).

    `before_connect(host)`: called with the host the credentials name before anything is sent to it (a
    command refuses a host it must not use there). No credentials, or a host that cannot be reached:
    OpsError (Unusable), one line, within seconds."""
    from databricks.sdk import WorkspaceClient

    bounds = bounds or timeouts()
    _sdk_logging(verbose)
    config_class = _bounded_config()
    try:
        config = config_class(
            lakeflow_timeouts=bounds,
            lakeflow_before_connect=before_connect,
            retry_timeout_seconds=bounds.retry_budget,
            http_timeout_seconds=bounds.http,
            clock=_sdk_clock,
        )
        if not config.host:
            raise ValueError("no host")
    except ValueError as exc:
        text = str(exc)
        problem = network_problem(exc, _url_of(exc) or "the sign-in endpoint", bounds)
        if problem is not None:  # OAuth: the OIDC discovery or token endpoint did not answer
            raise Unusable(f"signing in: {problem}", f"signing in: {problem}\n{_chain_text(exc)}") from None
        message = (
            "no Databricks credentials: set DATABRICKS_HOST and DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and "
            "DATABRICKS_CLIENT_SECRET), or DATABRICKS_CONFIG_PROFILE for a ~/.databrickscfg profile"
        )
        raise OpsError(f"{message} ({brief(text, 200)})", f"{message} ({text})") from None
    if not config.lakeflow_probed:  # an SDK that no longer resolves host metadata in Config(): probe here
        if before_connect is not None:
            before_connect(config.host)
        probe(config.host, bounds, verify=not config.skip_verify, hint=_host_hint(config))
    return WorkspaceClient(config=config)


_CONFIG_CLASS: type | None = None


def _bounded_config() -> type:
    """databricks.sdk's Config, with the host probed (`probe`) before its first request, and the OIDC
    discovery bounded by the same timeouts as every other call.

    Config() fetches `/.well-known/databricks-config` itself (`_resolve_host_metadata`, with the
    configured timeouts but retried for the whole retry budget, and its failure only logged), then
    reads OIDC endpoints with a client of the SDK's defaults (300 s of retries) for OAuth."""
    global _CONFIG_CLASS
    if _CONFIG_CLASS is not None:
        return _CONFIG_CLASS
    from databricks.sdk.config import Config

    class BoundedConfig(Config):
        lakeflow_probed = False

        def __init__(
            self, *, lakeflow_timeouts: Timeouts, lakeflow_before_connect: Callable[[str], None] | None, **kwargs: Any
        ) -> None:
            self.lakeflow_timeouts = lakeflow_timeouts
            self.lakeflow_before_connect = lakeflow_before_connect
            super().__init__(**kwargs)

        @classmethod
        def attributes(cls) -> Any:  # Config reads its attributes from its own class dictionary
            return Config.attributes()

        def _resolve_host_metadata(self) -> None:
            if self.host and not self.lakeflow_probed:
                if self.lakeflow_before_connect is not None:
                    self.lakeflow_before_connect(self.host)
                probe(self.host, self.lakeflow_timeouts, verify=not self.skip_verify, hint=_host_hint(self))
                self.lakeflow_probed = True
            super()._resolve_host_metadata()

        @property
        def databricks_oidc_endpoints(self) -> Any:
            if self.host and self.discovery_url:
                from databricks.sdk._base_client import _BaseClient
                from databricks.sdk.oauth import get_endpoints_from_url

                bounded = _BaseClient(
                    retry_timeout_seconds=self.retry_timeout_seconds,
                    http_timeout_seconds=self.http_timeout_seconds,
                    clock=self.clock,
                )
                return get_endpoints_from_url(self.discovery_url, client=bounded)
            return super().databricks_oidc_endpoints

    _CONFIG_CLASS = BoundedConfig
    return BoundedConfig


def _host_hint(config: Any) -> str:
    if getattr(config, "profile", None):
        return (
            f"is the host of profile {config.profile} in {config.config_file or '~/.databrickscfg'} right? "
            "a workspace URL looks like https://<name>.cloud.databricks.com"
        )
    return HOST_HINT


def probe(host: str, bounds: Timeouts, verify: bool = True, hint: str = HOST_HINT) -> None:
    """One request to the host, not retried: Unusable, in one line, when it cannot be reached or does not
    answer within the timeout. Any HTTP answer (a 404 included) means the host is there."""
    import requests

    url = f"{host.rstrip('/')}/.well-known/databricks-config"
    try:
        requests.get(url, timeout=(bounds.connect, bounds.http), allow_redirects=False, verify=verify)
    except requests.RequestException as exc:
        problem = network_problem(exc, host, bounds, hint) or f"cannot reach {host}: {brief(str(exc))}"
        raise Unusable(problem, f"{problem}\n{_chain_text(exc)}") from None


class _SdkLog(logging.Handler):
    """The SDK's log on whatever sys.stderr is when a record comes (tests replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"  sdk: {self.format(record)}", file=sys.stderr)


def _sdk_logging(verbose: bool) -> None:
    """The SDK logs a warning when the host-metadata probe fails (a workspace without that endpoint): not
    a problem, so kept off stderr unless `verbose`, which shows its whole log (requests and retries). Not
    passed on to the root logger either: whatever handlers it has are not the command's output."""
    log = logging.getLogger("databricks.sdk")
    log.propagate = False
    for old in [h for h in log.handlers if getattr(h, "lakeflow", False)]:
        log.removeHandler(old)
    handler: logging.Handler = _SdkLog() if verbose else logging.NullHandler()
    handler.lakeflow = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.NOTSET)


# --- errors ----------------------------------------------------------------------------------------------------


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything behind it: causes, contexts, urllib3's `reason`, wrapped arguments."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        behind = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(e for e in behind if isinstance(e, BaseException))


def _chain_text(exc: BaseException) -> str:
    lines: list[str] = []
    for e in _causes(exc):
        text = f"{type(e).__name__}: {e}".strip()
        if not any(text in line for line in lines):
            lines.append(text)
    return "\n".join(lines)


def _url_of(exc: BaseException) -> str | None:
    """scheme://host[:port] of the request that failed, when the exception knows it."""
    for e in _causes(exc):
        request = getattr(e, "request", None)
        url = getattr(request, "url", None)
        if isinstance(url, str) and url:
            parsed = urlparse(url)
            return f"{parsed.scheme}://{parsed.netloc}"
    return None


def _seconds(exc: BaseException, which: str) -> str | None:
    """The timeout urllib3 reports in its message ("read timeout=30"), as text."""
    for e in _causes(exc):
        found = re.search(rf"{which} timeout=([0-9.]+)", str(e))
        if found:
            return f"{float(found.group(1)):g}"
    return None


def network_problem(exc: BaseException, host: str, bounds: Timeouts | None = None, hint: str = HOST_HINT) -> str | None:
    """What kept the request from the workspace (`host`), with what to do, such as "cannot reach
    https://x: connection refused (…)"; None when it was not the network (an HTTP answer, a bug)."""
    import socket
    import ssl

    import requests
    from urllib3 import exceptions as u3

    chain = list(_causes(exc))

    def first(*types: type) -> BaseException | None:
        return next((e for e in chain if isinstance(e, types)), None)

    if first(ssl.SSLError, requests.exceptions.SSLError, u3.SSLError) is not None:
        cert = first(ssl.SSLCertVerificationError)
        reason = getattr(cert, "verify_message", None) or getattr(cert, "reason", None)
        what = f"certificate verify failed: {reason}" if cert is not None and reason else "handshake failed"
        if cert is None:
            tls = first(ssl.SSLError)
            what = brief(getattr(tls, "reason", None) or str(tls or "handshake failed"), 120)
        return (
            f"cannot reach {host}: TLS error: {what} (the host's certificate is not one this machine trusts: "
            f"behind a proxy that inspects TLS, point REQUESTS_CA_BUNDLE at its CA certificate; {hint})"
        )
    if first(socket.gaierror, u3.NameResolutionError) is not None:
        return f"cannot reach {host}: the host name does not resolve (DNS) ({hint})"
    if first(ConnectionRefusedError) is not None:
        return f"cannot reach {host}: connection refused ({hint})"
    if first(requests.exceptions.ConnectTimeout, u3.ConnectTimeoutError) is not None:
        seconds = _seconds(exc, "connect") or (f"{bounds.connect:g}" if bounds else None)
        within = f" within {seconds} s" if seconds else ""
        return f"cannot reach {host}: no connection{within} (a firewall, VPN or proxy in the way? {hint}; {_MORE_TIME})"
    if first(requests.exceptions.ReadTimeout, u3.ReadTimeoutError) is not None:
        seconds = _seconds(exc, "read") or (f"{bounds.http:g}" if bounds else None)
        within = f" within {seconds} s" if seconds else " in time"
        return f"{host} did not answer{within} (slow or down? https://status.databricks.com; {_MORE_TIME})"
    broken = first(requests.exceptions.ConnectionError, ConnectionError, u3.ProtocolError)
    if broken is not None:
        root = next((e for e in reversed(chain) if isinstance(e, OSError)), broken)
        return f"cannot reach {host}: {brief(str(root) or type(root).__name__, 160)} ({hint})"
    return None


def refused_credentials(exc: BaseException) -> bool:
    """401, or a 403 that says the token itself is invalid (how Databricks answers an unknown token)."""
    from databricks.sdk.errors import PermissionDenied, Unauthenticated

    if isinstance(exc, Unauthenticated):
        return True
    return isinstance(exc, PermissionDenied) and bool(re.search(r"invalid access token|invalid token", str(exc), re.I))


def _no_api_here(exc: BaseException) -> bool:
    """A 404 from something that is not the Databricks REST API: no such endpoint (ENDPOINT_NOT_FOUND), an
    HTML page, or an answer the SDK could not parse (a wrong host, or a path after the host name)."""
    from databricks.sdk.errors import NotFound

    if not isinstance(exc, NotFound):
        return False
    code = getattr(exc, "error_code", None) or ""
    text = str(exc)
    return code == "ENDPOINT_NOT_FOUND" or text.startswith("unable to parse response") or "<html" in text.lower()


def api_error(exc: BaseException, what: str, bounds: Timeouts | None = None) -> OpsError:
    """An SDK/HTTP failure as one actionable line (OpsError; Unusable when no later call would do better)."""
    from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied, TooManyRequests

    full = _chain_text(exc)
    host = _url_of(exc) or "the workspace"
    problem = network_problem(exc, host, bounds)
    if problem is not None:
        line = f"{what}: {problem}"
        return Unusable(line, f"{line}\n{full}")
    api = next((e for e in _causes(exc) if isinstance(e, DatabricksError)), None)
    if api is not None and refused_credentials(api):
        status = "401" if not isinstance(api, PermissionDenied) else f"403: {brief(_api_message(api), 80)}"
        line = f"{what}: the credentials were refused ({status}): renew DATABRICKS_TOKEN or the OAuth secret"
        if isinstance(api, PermissionDenied):
            line += " (a token of another workspace is refused too: check DATABRICKS_HOST)"
        return Unusable(line, f"{line}\n{full}")
    if isinstance(api, PermissionDenied):
        line = f"{what}: permission denied (403): the identity needs CAN_VIEW (checks) or CAN_RUN (updates)"
        return OpsError(line, f"{line}\n{full}")
    if api is not None and _no_api_here(api):
        line = (
            f"{what}: not found (404): the host answers, but not as the Databricks REST API (a path after the "
            f"host name, or not a workspace URL? {HOST_HINT})"
        )
        return Unusable(line, f"{line}\n{full}")
    if isinstance(api, NotFound):
        line = f"{what}: not found (404): deleted, or the stack's outputs are stale"
        return OpsError(line, f"{line}\n{full}")
    budget = re.search(r"Timed out after ([0-9:.]+)", str(exc)) if isinstance(exc, TimeoutError) else None
    after = f" for {_clock(budget.group(1))}" if budget else ""
    if isinstance(api, TooManyRequests):
        line = f"{what}: still rate limited (429) after retrying{after}; try again later (--retry-timeout SECONDS)"
        return OpsError(line, f"{line}\n{full}")
    if api is not None:
        head = f"{what}: {type(api).__name__}"
        line = f"{head}: {brief(_api_message(api))}"
        if budget:
            line += f" (still failing after retrying{after})"
        return OpsError(line, f"{head}: {api}" + (f"\n{full}" if budget else ""))
    if budget:
        line = f"{what}: timed out after retrying{after}"
        return OpsError(line, f"{line}\n{full}")
    line = f"{what}: {type(exc).__name__}: {brief(str(exc))}"
    return OpsError(line, f"{what}: {full}")


def _api_message(api: BaseException) -> str:
    """The API's own message, without the SDK's " Config: host=..., auth_type=... Env: ..." appendix."""
    return re.split(r"\s+Config: \S+=", str(api), maxsplit=1)[0]


def _clock(text: str) -> str:
    """ "0:00:30" (a timedelta) as "30 s"."""
    try:
        h, m, s = (float(part) for part in text.split(":"))
    except ValueError:
        return text
    return f"{h * 3600 + m * 60 + s:g} s"


def guarded(what: str, call: Callable[[], Any]) -> Any:
    """Run an API call; SDK errors become one actionable line."""
    try:
        return call()
    except OpsError:
        raise
    except Exception as exc:  # every SDK error class ends here as one line
        raise api_error(exc, what) from None


# --- SQL -------------------------------------------------------------------------------------------------------


def run_sql(w: Any, warehouse_id: str, statement: str, timeout_seconds: int = 300) -> list[dict[str, Any]]:
    """Rows of one statement (statement execution API), waiting for it if it outlives the first call.

    The first call asks the warehouse to wait for the result a little less than the HTTP timeout (so the
    answer comes before the client gives up on it), then the statement is polled."""
    from databricks.sdk.service.sql import StatementState

    response = w.statement_execution.execute_statement(
        statement=statement, warehouse_id=warehouse_id, wait_timeout=sql_wait(w)
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
        head = f"SQL statement failed ({state.value if state else 'unknown state'})"
        raise OpsError(f"{head}: {brief(error)}", f"{head}: {error}")
    columns = [c.name for c in (response.manifest.schema.columns or [])] if response.manifest else []
    rows = (response.result.data_array or []) if response.result else []
    return [dict(zip(columns, row, strict=False)) for row in rows]


def sql_wait(w: Any) -> str:
    """`wait_timeout` of the first statement call: 5-50 s and 5 s under the HTTP timeout, else 0s (answer
    at once, then poll), so the warehouse answers before the HTTP call times out."""
    try:
        http = float(getattr(getattr(w, "config", None), "http_timeout_seconds", None) or 60)
    except (TypeError, ValueError):
        http = 60.0
    seconds = min(50, math.floor(http) - 5)
    return f"{seconds}s" if seconds >= 5 else "0s"


_POLL_SECONDS = 2.0
