"""Reaching the workspace (src/lakeflow/ops/workspace.py): every day-2 command fails fast, in one line that says what
went wrong and what to do, against real sockets on 127.0.0.1 (no other network):

- a closed port (connection refused), a listening socket that never answers (no answer in time), a
  listening socket whose backlog is full (no connection in time), a TLS server with a self-signed
  certificate (TLS error), a host name that does not resolve (DNS; the resolver is replaced, nothing
  is looked up), and the fake workspace answering 401, 403 "invalid access token" or
  ENDPOINT_NOT_FOUND (not the Databricks API);
- the one timeout setting (`--http-timeout`, LAKEFLOW_HTTP_TIMEOUT, default 30 s) reaches the SDK's
  Config, and bounds its retries unless `--retry-timeout` says otherwise;
- messages are shortened at word boundaries, never mid-word; `--verbose` shows the whole text.

The timeouts are set to 1-2 s, so a command returns within seconds; the one wall-clock bound asserted
is a generous 20 s.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import lakeflow.ops.rehearse_upgrade
import lakeflow.ops.validate_release
import lakeflow.ops.workspace
from lakeflow.ops import health, preflight, rehearse_upgrade, validate_release
from lakeflow.ops.workspace import Timeouts, Unusable, brief, timeouts
from tests.conftest import DATABRICKS_SDK
from tests.fake_databricks import Answer, recorded

pytestmark = DATABRICKS_SDK

SALES = "3f6b0d4e-5a1c-4b7e-9e52-0c1d2e3f4a5b"
HINT = "is DATABRICKS_HOST right? a workspace URL looks like https://<name>.cloud.databricks.com"
NOW = "2025-11-29T14:00:00Z"
BOUND = 20.0  # seconds: far above what any of these takes with 1-2 s timeouts


# --- the commands, each pointed at one pipeline ---------------------------------------------------------------


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    ids = {"sales_pipeline": SALES, "customer_360": "9d0e1f2a", "invoice_ingest": "b5c6d7e8"}
    path.write_text(json.dumps({"pipelines": {n: {"id": i, "name": f"prod_{n}"} for n, i in ids.items()}}))
    return path


COMMANDS: dict[str, tuple[str, Callable[[list[str]], int], list[str]]] = {
    "health": ("make health", health.main, ["--stack", "prod", "--pipeline", "sales_pipeline", "--outputs"]),
    "preflight": ("make preflight", preflight.main, ["--stack", "prod"]),
    "validate-release": (
        "make validate-release",
        validate_release.main,
        ["--stack", "prod", "--pipeline", "sales_pipeline", "--outputs"],
    ),
    "rehearse-upgrade": (
        "make rehearse-upgrade",
        rehearse_upgrade.main,
        ["--stack", "staging", "--pipeline", "sales_pipeline", "--outputs"],
    ),
}


def command(name: str, project, outputs: Path, host: str, *extra: str) -> tuple[int, str, float]:
    """Run one command against `host` (DATABRICKS_HOST and, for preflight, the stack's databricks:host):
    (exit code, its `make` name, seconds). Its output is read through capsys."""
    prog, main, argv = COMMANDS[name]
    if name == "preflight":
        project.edit_stack("prod", **{"databricks:host": host})
    args = [*argv, str(outputs)] if argv[-1] == "--outputs" else list(argv)
    os.environ["DATABRICKS_HOST"] = host  # the workspace fixture's monkeypatch restores it
    started = time.monotonic()
    code = main([*args, "--root", str(project.root), *extra])
    return code, prog, time.monotonic() - started


def one_line(capsys, prog: str) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    (line,) = captured.err.splitlines()
    assert line.startswith(f"{prog}: ")
    return line.removeprefix(f"{prog}: ")


# --- sockets ---------------------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does, from the backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(scope="module")
def full_backlog() -> Iterator[str]:
    """A listening socket whose accept queue is full: the kernel drops new connection attempts, so
    connecting times out (as behind a firewall that drops packets). One for the module: a timed-out
    attempt leaves nothing in the queue."""
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(socket.socket())
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        for _ in range(4):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def self_signed_tls_server(tmp_path: Path) -> Iterator[str]:
    """HTTPS on 127.0.0.1 with a certificate nobody trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_such_name(monkeypatch) -> str:
    """A host name the resolver does not know: socket.getaddrinfo fails for it as a DNS server would say."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return "https://dbc-nowhere.invalid"


# --- network failures, for every command --------------------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_connection_refused(name, workspace, project, outputs, capsys):
    host = f"http://127.0.0.1:{closed_port()}"
    code, prog, seconds = command(name, project, outputs, host, "--http-timeout", "2")
    assert code == 2 and seconds < BOUND
    assert one_line(capsys, prog) == f"cannot reach {host}: connection refused ({HINT})"


@pytest.mark.parametrize("name", COMMANDS)
def test_a_host_that_never_answers(name, workspace, project, outputs, capsys):
    with silent_server() as host:
        code, prog, seconds = command(name, project, outputs, host, "--http-timeout", "0.05")
    assert code == 2 and seconds < BOUND
    assert one_line(capsys, prog) == (
        f"{host} did not answer within 0.05 s (slow or down? https://status.databricks.com; "
        "--http-timeout SECONDS or LAKEFLOW_HTTP_TIMEOUT waits longer)"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_a_host_that_cannot_be_connected_to(name, workspace, project, outputs, capsys, full_backlog):
    host = full_backlog
    code, prog, seconds = command(name, project, outputs, host, "--http-timeout", "0.05")
    assert code == 2 and seconds < BOUND
    assert one_line(capsys, prog) == (
        f"cannot reach {host}: no connection within 0.05 s (a firewall, VPN or proxy in the way? {HINT}; "
        "--http-timeout SECONDS or LAKEFLOW_HTTP_TIMEOUT waits longer)"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_a_certificate_that_is_not_trusted(name, workspace, project, outputs, capsys, tmp_path):
    with self_signed_tls_server(tmp_path) as host:
        code, prog, seconds = command(name, project, outputs, host, "--http-timeout", "2")
    assert code == 2 and seconds < BOUND
    assert one_line(capsys, prog) == (
        f"cannot reach {host}: TLS error: certificate verify failed: self-signed certificate (the host's "
        "certificate is not one this machine trusts: behind a proxy that inspects TLS, point REQUESTS_CA_BUNDLE "
        f"at its CA certificate; {HINT})"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_a_host_name_that_does_not_resolve(name, workspace, project, outputs, capsys, no_such_name):
    code, prog, _ = command(name, project, outputs, no_such_name, "--http-timeout", "2")
    assert code == 2
    assert one_line(capsys, prog) == f"cannot reach {no_such_name}: the host name does not resolve (DNS) ({HINT})"


def test_a_profile_s_host_is_named_as_such(workspace, tmp_path, monkeypatch):
    config = tmp_path / "databrickscfg"
    port = closed_port()
    config.write_text(f"[ops]\nhost = http://127.0.0.1:{port}\ntoken = dapi-x\n")
    monkeypatch.delenv("DATABRICKS_HOST")
    monkeypatch.delenv("DATABRICKS_TOKEN")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "ops")
    with pytest.raises(Unusable, match=rf"127.0.0.1:{port}: connection refused \(is the host of profile "):
        lakeflow.ops.workspace.client(timeouts(2))


# --- the workspace answers, but no --------------------------------------------------------------------------


def refuse_everything(fake, answer: Answer) -> None:
    for method in ("GET", "POST"):
        fake.on(method, r"/api/.*", answer)


@pytest.mark.parametrize("name", COMMANDS)
def test_refused_credentials(name, workspace, project, outputs, capsys):
    refuse_everything(workspace, Answer(401, recorded("health_error_401")))
    code, prog, _ = command(name, project, outputs, workspace.host)
    assert code == 2
    assert one_line(capsys, prog).endswith(
        ": the credentials were refused (401): renew DATABRICKS_TOKEN or the OAuth secret"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_a_token_the_workspace_does_not_know(name, workspace, project, outputs, capsys):
    refuse_everything(workspace, Answer(403, {"error_code": "403", "message": "Invalid access token."}))
    code, prog, _ = command(name, project, outputs, workspace.host)
    assert code == 2
    assert one_line(capsys, prog).endswith(
        ": the credentials were refused (403: Invalid access token.): renew DATABRICKS_TOKEN or the OAuth secret "
        "(a token of another workspace is refused too: check DATABRICKS_HOST)"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_a_host_without_the_databricks_api(name, workspace, project, outputs, capsys):
    refuse_everything(
        workspace, Answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "No API found for 'GET /x/api/2.0'"})
    )
    code, prog, _ = command(name, project, outputs, workspace.host)
    assert code == 2
    assert one_line(capsys, prog).endswith(
        ": not found (404): the host answers, but not as the Databricks REST API (a path after the host name, "
        f"or not a workspace URL? {HINT})"
    )


def test_an_html_page_instead_of_the_api_is_said_so(workspace):
    from databricks.sdk.errors import NotFound

    error = lakeflow.ops.workspace.api_error(NotFound("Not Found <html><body>nginx</body></html>"), "pipeline x")
    assert isinstance(error, lakeflow.ops.workspace.Unusable) and "not as the Databricks REST API" in str(error)
    plain = lakeflow.ops.workspace.api_error(
        NotFound("Pipeline x does not exist", error_code="RESOURCE_DOES_NOT_EXIST"), "x"
    )
    assert not isinstance(plain, lakeflow.ops.workspace.Unusable)
    assert str(plain) == "x: not found (404): deleted, or the stack's outputs are stale"


def test_preflight_refuses_another_workspace_before_sending_anything(workspace, project, capsys):
    project.edit_stack("prod", **{"databricks:host": "https://dbc-prod.cloud.databricks.com"})
    assert preflight.main(["--stack", "prod", "--root", str(project.root)]) == 2
    assert "but stack 'prod' deploys to https://dbc-prod.cloud.databricks.com" in capsys.readouterr().err
    assert workspace.requests == []  # not even the reachability probe


# --- the timeout setting ---------------------------------------------------------------------------------------


def test_the_timeouts_reach_the_sdk_config(workspace):
    w = lakeflow.ops.workspace.client(timeouts(7.5))
    assert (w.config.http_timeout_seconds, w.config.retry_timeout_seconds) == (7.5, 8)
    w = lakeflow.ops.workspace.client(timeouts(7.5, 2))
    assert (w.config.http_timeout_seconds, w.config.retry_timeout_seconds) == (7.5, 2)
    assert w.api_client._api_client._http_timeout_seconds == 7.5  # what each request is sent with
    assert w.api_client._api_client._retry_timeout_seconds == 2
    # The reachability probe went first, before the SDK's own host-metadata request.
    assert [r.path for r in workspace.requests][:1] == ["/.well-known/databricks-config"]


def test_connecting_takes_at_most_five_seconds_of_the_timeout():
    assert timeouts(30).connect == 5 and timeouts(2).connect == 2
    assert timeouts(0.5).retry_budget == 1  # the SDK reads 0 as its 300 s default


def test_the_default_and_the_environment_variable(monkeypatch):
    monkeypatch.delenv("LAKEFLOW_HTTP_TIMEOUT", raising=False)
    assert timeouts() == Timeouts(30.0)
    monkeypatch.setenv("LAKEFLOW_HTTP_TIMEOUT", "12")
    assert timeouts().http == 12
    assert timeouts(3).http == 3  # the command line wins


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], None, (30.0, None)),
        ([], "4.5", (4.5, None)),
        (["--http-timeout", "9", "--retry-timeout", "3"], "4.5", (9.0, 3.0)),
    ],
)
def test_every_command_passes_its_timeouts_to_the_client(
    name, workspace, project, outputs, capsys, monkeypatch, args, env, expected
):
    seen = []

    def client(bounds=None, **kwargs):
        seen.append(bounds)
        raise lakeflow.ops.workspace.OpsError("stopped here")

    for module in (lakeflow.ops.workspace, lakeflow.ops.validate_release, lakeflow.ops.rehearse_upgrade):
        monkeypatch.setattr(module, "client", client)
    if env is None:
        monkeypatch.delenv("LAKEFLOW_HTTP_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("LAKEFLOW_HTTP_TIMEOUT", env)
    code, prog, _ = command(name, project, outputs, workspace.host, *args)
    assert code == 2 and one_line(capsys, prog) == "stopped here"
    assert [(b.http, b.retry) for b in seen] == [expected]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_bad_timeout_is_one_line_before_anything_is_sent(name, workspace, project, outputs, capsys, monkeypatch):
    monkeypatch.setenv("LAKEFLOW_HTTP_TIMEOUT", "soon")
    code, prog, _ = command(name, project, outputs, workspace.host)
    assert code == 2
    assert one_line(capsys, prog) == "LAKEFLOW_HTTP_TIMEOUT=soon: not a number of seconds (such as 30)"
    monkeypatch.delenv("LAKEFLOW_HTTP_TIMEOUT")
    code, prog, _ = command(name, project, outputs, workspace.host, "--http-timeout", "0")
    assert code == 2
    assert one_line(capsys, prog) == "--http-timeout 0: seconds, more than 0 and at most 3600"
    assert workspace.requests == []


def test_a_workspace_that_goes_away_midway_is_said_to_refuse_connections(workspace):
    """After the probe: the SDK retries the refused connection for the retry budget, then gives up with a
    TimeoutError; the line still says what happened, not "timed out"."""
    w = lakeflow.ops.workspace.client(timeouts(2, 1))
    workspace.stop()
    workspace.stop = lambda: None  # the fixture's teardown
    with pytest.raises(Unusable) as raised:
        lakeflow.ops.workspace.guarded(f"pipeline sales_pipeline ({SALES})", lambda: w.pipelines.get(SALES))
    host = w.config.host
    assert str(raised.value) == f"pipeline sales_pipeline ({SALES}): cannot reach {host}: connection refused ({HINT})"
    assert "TimeoutError: Timed out after 0:00:01" in raised.value.full  # the whole story, for --verbose


@pytest.mark.parametrize(("http", "wait"), [(30, "25s"), (60, "50s"), (120, "50s"), (10, "5s"), (9, "0s"), (1, "0s")])
def test_the_warehouse_answers_before_the_http_call_times_out(http, wait):
    class Config:
        http_timeout_seconds = http

    class Client:
        config = Config()

    assert lakeflow.ops.workspace.sql_wait(Client()) == wait


def test_statements_are_sent_with_that_wait(workspace, project, outputs, capsys):
    workspace.on("GET", rf"/api/2.0/pipelines/{SALES}", recorded("pipeline_get"))
    workspace.on("GET", rf"/api/2.0/pipelines/{SALES}/updates", recorded("pipeline_updates"))
    workspace.on("POST", r"/api/2.0/sql/statements/?", recorded("health_lag_ok"))
    code, _, _ = command("health", project, outputs, workspace.host, "--http-timeout", "20", "--now", NOW)
    capsys.readouterr()
    assert code in (0, 1)
    assert {r.body["wait_timeout"] for r in workspace.calls("POST", r"/api/2.0/sql/statements/?")} == {"15s"}


def test_oauth_discovery_is_bounded_too(workspace, monkeypatch):
    """The SDK reads the OIDC endpoints with a client of its own defaults (300 s of retries): bounded here."""
    with silent_server() as silent:
        monkeypatch.delenv("DATABRICKS_TOKEN")
        monkeypatch.setenv("DATABRICKS_CLIENT_ID", "ci-client")
        monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "secret")
        monkeypatch.setenv("DATABRICKS_DISCOVERY_URL", f"{silent}/oidc/.well-known/oauth-authorization-server")
        started = time.monotonic()
        with pytest.raises(Unusable) as raised:
            lakeflow.ops.workspace.client(timeouts(0.25, 0.25))
    assert time.monotonic() - started < BOUND
    assert str(raised.value) == (
        f"signing in: {silent} did not answer within 0.25 s (slow or down? https://status.databricks.com; "
        "--http-timeout SECONDS or LAKEFLOW_HTTP_TIMEOUT waits longer)"
    )


# --- messages --------------------------------------------------------------------------------------------------


def test_brief_never_cuts_a_word():
    text = "The table or view `prod`.`sales`.`orders` cannot be found. " * 10
    short = brief(text, 100)
    assert len(short) <= 100 and short.endswith(" …")
    kept = short.removesuffix(" …")
    assert text.startswith(kept) and text[len(kept)] in " .`", "cut inside a word"
    assert brief("short message\n  context line 1\n  context line 2") == "short message"
    assert brief("\n\n  spaced   out  \n") == "spaced out"
    assert len(brief("x" * 500, 100)) <= 100  # one endless word: cut, and marked as cut


def test_verbose_prints_the_whole_text(workspace, project, outputs, capsys):
    long = "the token was revoked by an administrator of the workspace " * 8
    refuse_everything(workspace, Answer(401, {"error_code": "UNAUTHENTICATED", "message": long.strip()}))
    code, prog, _ = command("health", project, outputs, workspace.host, "--verbose")
    assert code == 2
    err = capsys.readouterr().err.splitlines()
    (first,) = [line for line in err if line.startswith(f"{prog}: ")]
    assert first.startswith(f"{prog}: pipeline sales_pipeline ({SALES}): the credentials were refused (401)")
    assert any(line.startswith(f"  | Unauthenticated: {long.strip()}") for line in err)
    assert any(line.startswith("  sdk: ") for line in err)  # and the SDK's log


def test_a_long_sql_error_is_shortened_in_the_table_and_whole_in_json(workspace, project, outputs, capsys, monkeypatch):
    monkeypatch.setattr(lakeflow.ops.workspace, "_POLL_SECONDS", 0.001)
    message = " ".join(
        ["[TABLE_OR_VIEW_NOT_FOUND] The table or view `prod`.`sales`.`sales_pipeline_event_log` cannot be found."] * 6
    )
    failed = {
        "statement_id": "01ef-fail",
        "status": {"state": "FAILED", "error": {"error_code": "BAD_REQUEST", "message": message}},
    }
    workspace.on("GET", rf"/api/2.0/pipelines/{SALES}", recorded("pipeline_get"))
    workspace.on("GET", rf"/api/2.0/pipelines/{SALES}/updates", recorded("pipeline_updates"))
    workspace.on("POST", r"/api/2.0/sql/statements/?", failed)
    argv = ["--stack", "prod", "--pipeline", "sales_pipeline", "--outputs", str(outputs), "--root", str(project.root)]
    argv += ["--now", "2025-11-29T14:00:00Z"]
    assert health.main(argv) == 1
    (row,) = [line for line in capsys.readouterr().out.splitlines() if " processing_lag " in f" {line} "]
    assert row.endswith(" …") and "cannot be found. [TABLE_OR_VIEW_NOT_FOUND]" in row and len(row) < 400
    assert health.main([*argv, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    lag = next(c for c in report["pipelines"][0]["checks"] if c["check"] == "processing_lag")
    assert lag["detail"].splitlines()[0].endswith(" …")
    assert message in lag["detail"]
