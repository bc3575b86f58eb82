"""A throwaway Pulumi world for the real engine: its own backend, home and passphrase, this
checkout's program, and a stub Databricks workspace on 127.0.0.1.

Nothing of the user's is read or written: the backend is a temporary `file://` directory,
PULUMI_HOME is temporary (its plugins folder is the engine cache's), every PULUMI_*, DATABRICKS_*
and cloud credential variable of the caller is dropped, and outbound HTTP(S) is sent through the
stub (HTTPS_PROXY), which refuses it. The stack files are copies, so `pulumi stack init` and
`pulumi config set` never touch the committed ones.

The stub answers the one request the provider's Configure makes (GET /.well-known/databricks-config,
404 as for a workspace without it) and records every other request as a violation: a preview of
new resources must not call the Databricks API. `allow` adds (method, path) pairs a test expects.
"""

from __future__ import annotations

import http.server
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.build import ROOT, Engine

# Neither copied nor linked into the sandbox: the committed stack files are copied instead, and
# VCS/cache folders are not part of the program.
_NOT_LINKED = {".git", ".pytest_cache", ".ruff_cache", ".mypy_cache", "__pycache__"}
_DROPPED_ENV_PREFIXES = ("PULUMI_", "DATABRICKS_", "ARM_", "AZURE_", "AWS_", "GOOGLE_", "HTTP_PROXY", "HTTPS_PROXY")
PROVIDER_TOKEN = "dapi-preview-stand-in"


class StubWorkspace:
    """An HTTP server on 127.0.0.1 standing in for the workspace and account hosts."""

    CONFIGURE = ("GET", "/.well-known/databricks-config")
    # Who the token is: asked by plans against existing state, whose response header also gives
    # the workspace id (plugin-framework resources keep it in provider_config).
    ME = ("GET", "/api/2.0/preview/scim/v2/Me")
    WORKSPACE_ID = "1234567890123456"

    def __init__(self, allow: Iterable[tuple[str, str]] = ()) -> None:
        self.allowed = {self.CONFIGURE, *allow}
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self) -> None:
                path = self.path.split("?", 1)[0]
                stub.requests.append((self.command, path))
                if (self.command, path) in stub.allowed:
                    body = stub.answer(self.command, path)
                    self.send_response(200 if body is not None else 404)
                    if (self.command, path) == stub.ME:
                        self.send_header("X-Databricks-Org-Id", stub.WORKSPACE_ID)
                else:
                    stub.violations.append(f"{self.command} {self.path}")
                    body = {"error_code": "NOT_AVAILABLE", "message": "the preview stub answers no API calls"}
                    self.send_response(501)
                data = json.dumps(body or {"error_code": "NOT_FOUND"}).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_CONNECT = handle_one

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # Stopped at the end of each preview: a short poll, so `shutdown` waits 50 ms, not the default 0.5 s.
        self._thread = threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True)

    def answer(self, method: str, path: str) -> dict[str, Any] | None:
        """The body of an allowed request (None: 404)."""
        if (method, path) == self.ME:
            return {"id": "1", "userName": "deployer@example.invalid", "active": True}
        return None

    def __enter__(self) -> StubWorkspace:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def deployment(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A `pulumi stack import` document (format version 3) holding `resources`."""
    manifest = {"time": "2026-01-01T00:00:00Z", "magic": "", "version": ""}
    return {"version": 3, "deployment": {"manifest": manifest, "resources": resources}}


class Sandbox:
    """A temporary Pulumi project directory, backend and home for one engine run."""

    def __init__(self, engine: Engine, stub: StubWorkspace, root: Path = ROOT) -> None:
        self.engine = engine
        self.stub = stub
        self.dir = Path(tempfile.mkdtemp(prefix="lakeflow-preview-"))
        self.project = self.dir / "project"
        self.policy = self.dir / "policy"
        self._config: dict[str, list[tuple[str, str, bool]]] = {}  # stack -> what set_config set
        self.use_program(root)
        home = self.dir / "home"
        home.mkdir()
        (home / "plugins").symlink_to(engine.plugins)
        (self.dir / "state").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_DROPPED_ENV_PREFIXES)}
        env.update(
            PATH=f"{engine.bin}{os.pathsep}{env.get('PATH', '')}",
            PULUMI_HOME=str(home),
            PYTHONPATH=str(self.code),
            PULUMI_BACKEND_URL=f"file://{self.dir / 'state'}",
            PULUMI_CONFIG_PASSPHRASE=secrets.token_hex(16),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_IGNORE_AMBIENT_PLUGINS="true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
            DATABRICKS_CONFIG_FILE=str(self.dir / "no-databrickscfg"),
            DATABRICKS_TOKEN=PROVIDER_TOKEN,
            HTTPS_PROXY=stub.url,
            HTTP_PROXY=stub.url,
            NO_PROXY="127.0.0.1,localhost",
        )
        self.env = env

    def use_program(self, root: Path) -> None:
        """Run the program, pipeline files and stack files of `root` from now on (a changed copy
        of the project, say). Stacks already created keep their secrets salt and the config the
        sandbox set on them."""
        # The program runs with the code of `root` (its `src`), not whatever `lakeflow` the
        # virtualenv has installed: a base and a changed checkout each run their own.
        self.code = root / "src"
        if hasattr(self, "env"):
            self.env["PYTHONPATH"] = str(self.code)
        salts = {}
        for stack in self._config:
            text = (self.project / f"Pulumi.{stack}.yaml").read_text()
            salts[stack] = next((line for line in text.splitlines() if line.startswith("encryptionsalt:")), None)
        for folder in (self.project, self.policy):
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
        for entry in root.iterdir():
            if entry.name in _NOT_LINKED or entry.name == ".venv":
                continue
            if entry.name.startswith("Pulumi.") and entry.name != "Pulumi.yaml":
                shutil.copyfile(entry, self.project / entry.name)
            else:
                (self.project / entry.name).symlink_to(entry)
        # The policy pack runs from its own folder, with the project's virtualenv
        # (PulumiPolicy.yaml: `../.venv`).
        for entry in (root / "policy").iterdir():
            if entry.name not in _NOT_LINKED:
                (self.policy / entry.name).symlink_to(entry)
        (self.project / ".venv").symlink_to(ROOT / ".venv")
        if not (self.dir / ".venv").exists():
            (self.dir / ".venv").symlink_to(ROOT / ".venv")
        for stack, salt in salts.items():
            stack_file = self.project / f"Pulumi.{stack}.yaml"
            if salt:
                stack_file.write_text(f"{salt}\n{stack_file.read_text()}")
            for key, value, secret in self._config[stack]:
                self.set_config(stack, key, value, secret, remember=False)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.engine.pulumi), "--non-interactive", *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=600,
        )
        if check and done.returncode != 0:
            raise EngineError(f"pulumi {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def init_stack(self, stack: str) -> None:
        """The stack in the temporary backend, its copied config pointed at the stub workspace."""
        self.pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
        self._config[stack] = []
        self.set_config(stack, "databricks:host", self.stub.url)
        # The Terraform provider retries a failing call "forever" by default.
        self.set_config(stack, "databricks:retryTimeoutSeconds", "10")

    def set_config(self, stack: str, key: str, value: str, secret: bool = False, remember: bool = True) -> None:
        if remember:
            self._config[stack].append((key, value, secret))
        self.pulumi("config", "set", "--stack", stack, "--secret" if secret else "--plaintext", "--", key, value)

    def config(self, stack: str) -> list[tuple[str, str, bool]]:
        """(key, value, secret) of every `set_config` on `stack`, in order."""
        return list(self._config.get(stack, []))

    def import_deployment(self, stack: str, deployment: dict[str, Any]) -> None:
        path = self.dir / f"{stack}.deployment.json"
        path.write_text(json.dumps(deployment))
        self.pulumi("stack", "import", "--stack", stack, "--file", str(path))

    def preview(self, stack: str, *extra: str, policy_pack: bool = True) -> subprocess.CompletedProcess[str]:
        args = ["preview", "--stack", stack, *extra]
        if policy_pack:
            args += ["--policy-pack", str(self.policy)]
            config = self.policy / "config" / f"{stack}.json"
            if config.exists():
                args += ["--policy-pack-config", str(config)]
        return self.pulumi(*args, check=False)


class EngineError(Exception):
    """The real CLI failed where the caller needed it to succeed."""
