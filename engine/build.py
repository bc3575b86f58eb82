"""`make engine`: build the real Pulumi CLI, the Python language host and the Databricks provider
plugin from Go modules, into a cache keyed by everything that goes into them.

    engine/cli/       go.mod + go.sum: the CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) and
                      our language host (pulumi-language-python/); the runner script
                      pulumi-language-python-exec comes from the same sdk/v3 module
    engine/yaml/      go.mod + go.sum: the Pulumi YAML language host (github.com/pulumi/pulumi-yaml's
                      cmd/pulumi-language-yaml), against the CLI's pkg/v3 and sdk/v3 release: YAML
                      programs use the component package (examples/yaml_program)
    engine/provider/  go.mod + go.sum: pulumi-resource-databricks (main.go), its shim module

The cache entry is `<cache>/<key>/` with `bin/` (pulumi, pulumi-language-python,
pulumi-language-python-exec, pulumi-language-yaml) and `plugins/resource-databricks-v<version>/` (the provider binary,
schema.json, bridge-metadata.json and facts.json: what the provider's schema says forces
replacement and is computed, per resource type), laid out as PULUMI_HOME/plugins expects. The key hashes the
Go sources, go.mod/go.sum, the versions and `go version`, so a second build with nothing changed
is a look-up, and a changed pin builds anew. The provider's version is the pulumi-databricks pin
in requirements.txt: the Python SDK and the plugin move together.

    python -m engine.build            build if needed, print the cache entry
    python -m engine.build --check    exit 1 if the entry is not built (nothing is built)
    python -m engine.build --write-force-new
                                      build if needed, then write src/lakeflow/offline/force_new.json from
                                      the provider's schema (after moving the provider pin)
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI_MODULE = ROOT / "engine" / "cli"
PROVIDER_MODULE = ROOT / "engine" / "provider"
YAML_MODULE = ROOT / "engine" / "yaml"
PULUMI_YAML = "github.com/pulumi/pulumi-yaml"
PULUMI_PKG = "github.com/pulumi/pulumi/pkg/v3"
PULUMI_SDK = "github.com/pulumi/pulumi/sdk/v3"


class BuildError(Exception):
    """A step of the build failed; the message names it and carries the tool's own output."""


@dataclass(frozen=True)
class Engine:
    """A built engine: what `make preview` and the agreement tests run."""

    dir: Path
    cli_version: str
    provider_version: str

    @property
    def bin(self) -> Path:
        return self.dir / "bin"

    @property
    def pulumi(self) -> Path:
        return self.bin / "pulumi"

    @property
    def plugins(self) -> Path:
        return self.dir / "plugins"

    @property
    def yaml_language_host(self) -> Path:
        return self.bin / "pulumi-language-yaml"


def cli_version() -> str:
    """The Pulumi release engine/cli/go.mod requires (pkg/v3 and sdk/v3 move together)."""
    match = re.search(rf"^\s*{re.escape(PULUMI_PKG)} (v\S+)", (CLI_MODULE / "go.mod").read_text(), re.M)
    if not match:
        raise BuildError(f"engine/cli/go.mod does not require {PULUMI_PKG}")
    return match.group(1)


def yaml_version() -> str:
    """The pulumi-yaml release engine/yaml/go.mod requires (its language host is built from it)."""
    match = re.search(rf"^\s*{re.escape(PULUMI_YAML)} (v\S+)", (YAML_MODULE / "go.mod").read_text(), re.M)
    if not match:
        raise BuildError(f"engine/yaml/go.mod does not require {PULUMI_YAML}")
    return match.group(1)


def provider_version() -> str:
    """The pulumi-databricks pin of requirements.txt: the plugin stands in for that release."""
    match = re.search(r"^pulumi-databricks==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    if not match:
        raise BuildError("requirements.txt does not pin pulumi-databricks==<version>")
    return match.group(1)


def cache_root() -> Path:
    if os.environ.get("LAKEFLOW_ENGINE_CACHE"):
        return Path(os.environ["LAKEFLOW_ENGINE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lakeflow-engine"


def _go(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GOFLAGS": "-mod=readonly", "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local")}
    try:
        done = subprocess.run(["go", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BuildError("the go command is not on PATH: the engine is built from Go modules") from None
    if done.returncode != 0:
        raise BuildError(f"go {' '.join(args)} (in {cwd.relative_to(ROOT)}) failed:\n{done.stderr.strip()}")
    return done.stdout


def cache_key() -> str:
    digest = hashlib.sha256()
    for module in (CLI_MODULE, YAML_MODULE, PROVIDER_MODULE):
        for path in sorted(module.rglob("*")):
            if path.is_file() and (path.suffix == ".go" or path.name in ("go.mod", "go.sum")):
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"{cli_version()} {yaml_version()} {provider_version()} ".encode())
    digest.update(_go("env", "GOVERSION", cwd=ROOT).encode())
    return digest.hexdigest()[:16]


def entry() -> Engine:
    return Engine(cache_root() / cache_key(), cli_version(), provider_version())


def find() -> Engine | None:
    """The built engine for this checkout, or None (nothing is built)."""
    engine = entry()
    return engine if (engine.dir / "engine.json").exists() else None


def build(log=print) -> Engine:
    """Build the engine unless this checkout's entry already exists; returns it."""
    engine = entry()
    if (engine.dir / "engine.json").exists():
        return engine
    engine.dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{engine.dir.name}-", dir=engine.dir.parent))
    try:
        started = time.monotonic()
        bin_dir = work / "bin"
        plugin_dir = work / "plugins" / f"resource-databricks-v{engine.provider_version}"
        plugin_dir.mkdir(parents=True)
        ldflag = f"-X {PULUMI_SDK}/go/common/version.Version={engine.cli_version}"
        yaml_pulumi = re.findall(rf"^\s*{re.escape(PULUMI_PKG)} (v\S+)", (YAML_MODULE / "go.mod").read_text(), re.M)
        if yaml_pulumi != [engine.cli_version]:
            raise BuildError(
                f"engine/yaml/go.mod must require {PULUMI_PKG} {engine.cli_version}, as engine/cli does "
                f"(it requires {yaml_pulumi or 'none'}): the YAML language host goes with that CLI"
            )
        steps = {
            "pulumi CLI": (
                [
                    "build",
                    "-trimpath",
                    "-ldflags",
                    f"-s -w {ldflag}",
                    "-o",
                    str(bin_dir / "pulumi"),
                    f"{PULUMI_PKG}/cmd/pulumi",
                ],
                CLI_MODULE,
            ),
            "python language host": (
                [
                    "build",
                    "-trimpath",
                    "-ldflags",
                    f"-s -w {ldflag}",
                    "-o",
                    str(bin_dir / "pulumi-language-python"),
                    "./pulumi-language-python",
                ],
                CLI_MODULE,
            ),
            "yaml language host": (
                [
                    "build",
                    "-trimpath",
                    "-ldflags",
                    f"-s -w {ldflag} -X {PULUMI_YAML}/pkg/version.Version={yaml_version()}",
                    "-o",
                    str(bin_dir / "pulumi-language-yaml"),
                    f"{PULUMI_YAML}/cmd/pulumi-language-yaml",
                ],
                YAML_MODULE,
            ),
            "databricks provider": (
                [
                    "build",
                    "-trimpath",
                    "-ldflags",
                    f"-s -w -X main.Version={engine.provider_version}",
                    "-o",
                    str(plugin_dir / "pulumi-resource-databricks"),
                    ".",
                ],
                PROVIDER_MODULE,
            ),
        }
        log(
            f"building the engine into {engine.dir} (Pulumi {engine.cli_version}, databricks {engine.provider_version})"
        )
        with concurrent.futures.ThreadPoolExecutor(len(steps)) as pool:
            futures = {name: pool.submit(_go, *args, cwd=cwd) for name, (args, cwd) in steps.items()}
            for name, future in futures.items():
                future.result()
                log(f"  built {name} ({time.monotonic() - started:.0f} s)")
        sdk_dir = Path(_go("list", "-m", "-f", "{{.Dir}}", PULUMI_SDK, cwd=CLI_MODULE).strip())
        runner = bin_dir / "pulumi-language-python-exec"
        shutil.copyfile(sdk_dir / "python" / "cmd" / "pulumi-language-python-exec", runner)
        runner.chmod(0o755)
        tfgen = subprocess.run(
            [str(plugin_dir / "pulumi-resource-databricks"), "tfgen", "schema", "--out", str(plugin_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        if tfgen.returncode != 0:
            raise BuildError(f"generating the provider schema failed:\n{tfgen.stdout[-3000:]}{tfgen.stderr[-3000:]}")
        (plugin_dir / "Pulumi.yaml").unlink(missing_ok=True)  # tfgen's project stub, not part of a plugin
        facts = subprocess.run(
            [str(plugin_dir / "pulumi-resource-databricks"), "facts", "--out", str(plugin_dir / "facts.json")],
            capture_output=True,
            text=True,
            check=False,
        )
        if facts.returncode != 0:
            raise BuildError(f"reading the provider's schema facts failed:\n{facts.stderr[-3000:]}")
        manifest = {
            "cli": engine.cli_version,
            "yaml": yaml_version(),
            "databricks": engine.provider_version,
            "key": engine.dir.name,
        }
        (work / "engine.json").write_text(json.dumps(manifest, indent=2) + "\n")
        try:
            work.rename(engine.dir)
        except OSError:  # built meanwhile by another process: keep theirs
            if not (engine.dir / "engine.json").exists():
                raise
        log(f"engine built in {time.monotonic() - started:.0f} s")
        return engine
    finally:
        shutil.rmtree(work, ignore_errors=True)


FORCE_NEW_FILE = ROOT / "src" / "lakeflow" / "offline" / "force_new.json"


def force_new_json(engine: Engine) -> str:
    """src/lakeflow/offline/force_new.json as the built provider's schema gives it."""
    plugin = engine.plugins / f"resource-databricks-v{engine.provider_version}"
    facts = json.loads((plugin / "facts.json").read_text())
    upstream = re.search(r"terraform-provider-databricks (v\S+)", (PROVIDER_MODULE / "go.mod").read_text())
    document = {
        "source": (
            f"pulumi-databricks {engine.provider_version}: terraform-provider-databricks "
            f"{upstream.group(1) if upstream else '?'} as engine/provider bridges it "
            "(python -m engine.build --write-force-new)"
        ),
        "forceNew": {t: f["forceNew"] for t, f in sorted(facts.items()) if f["forceNew"]},
        "forceNewBlocks": {t: f["forceNewBlocks"] for t, f in sorted(facts.items()) if f["forceNewBlocks"]},
        "replaceIf": {t: f["replaceIf"] for t, f in sorted(facts.items()) if f["replaceIf"]},
    }
    return json.dumps(document, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 unless the engine is built; build nothing")
    parser.add_argument("--write-force-new", action="store_true", help="write src/lakeflow/offline/force_new.json")
    args = parser.parse_args(argv)
    try:
        if args.check:
            engine = find()
            if engine is None:
                print(f"the engine is not built for this checkout (run: make engine); cache: {cache_root()}")
                return 1
        else:
            engine = build(log=lambda line: print(line, file=sys.stderr))
        if args.write_force_new:
            FORCE_NEW_FILE.write_text(force_new_json(engine), encoding="utf-8")
            print(f"wrote {FORCE_NEW_FILE.relative_to(ROOT)}", file=sys.stderr)
    except BuildError as exc:
        print(f"make engine: {exc}", file=sys.stderr)
        return 1
    print(engine.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
