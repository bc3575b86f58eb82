"""`make preview STACK=<stack>`: the real `pulumi preview --diff` of a stack, offline.

The real Pulumi CLI, Python language host and Databricks provider (engine/build.py) run this
checkout's program against a throwaway backend and a stub workspace (engine/sandbox.py), with the
CrossGuard pack (`--policy-pack policy`, its `policy/config/<stack>.json`). No credentials and no
workspace: the preview of new resources makes no API call, and the stub fails the command if one
is made. What the stack's committed config cannot give a throwaway preview is stood in for, and
said so:

- `databricks:host` points at the stub (a token stand-in comes from the environment);
- a secret the stack needs but does not commit gets a stand-in value (a real deploy asks for it);
- `lakeflow:promoteFrom` names the promoting stack in the temporary backend
  (`organization/<project>/<stack>`, the form a file backend takes), which holds that stack's
  outputs from its offline plan (`pulumi stack import`).

Exit 0 when the preview succeeds and touched no API; otherwise the engine's own output and exit
code (or 1 for API calls the stub refused).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine import build as engine_build
from engine.sandbox import EngineError, Sandbox, StubWorkspace, deployment
from lakeflow.config.errors import ConfigErrors
from lakeflow.offline.stack_file import available_stacks, project_name, read_stack_config, unset_secrets

ROOT = engine_build.ROOT
SECRET_STAND_IN = "preview-stand-in-not-a-credential"


def stack_deployment(project: str, stack: str, outputs: dict[str, Any]) -> dict[str, Any]:
    """A deployment of just the root stack resource with `outputs`: what a StackReference reads."""
    urn = f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"
    return deployment([{"urn": urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": outputs}])


def prepare(sandbox: Sandbox, stack: str, root: Path = ROOT) -> list[str]:
    """Create `stack` in the sandbox, with the stand-ins a credential-free preview needs; returns
    one line per stand-in."""
    project = project_name(root)
    config, _ = read_stack_config(root, project, stack, stand_ins=False)
    sandbox.init_stack(stack)
    notes = [
        f"databricks:host -> the stub workspace {sandbox.stub.url} (committed: {config.get('databricks:host')}); "
        "the token is a stand-in (DATABRICKS_TOKEN)"
    ]
    if config.get(f"{project}:accountId"):
        # The account-level provider's Configure asks its host too.
        sandbox.set_config(stack, f"{project}:accountHost", sandbox.stub.url)
        notes.append(f"{project}:accountHost -> the stub (committed: {config.get(f'{project}:accountHost')})")
    for key in unset_secrets(config, project):
        sandbox.set_config(stack, key, SECRET_STAND_IN, secret=True)
        notes.append(
            f"{key} -> a stand-in secret (a deploy needs: pulumi config set --secret {key} <value> --stack {stack})"
        )
    source = config.get(f"{project}:promoteFrom")
    if source:
        other = source.rsplit("/", 1)[-1]
        if other not in available_stacks(root):
            raise EngineError(
                f"{project}:promoteFrom is {source}, and this project has no Pulumi.{other}.yaml to stand in"
            )
        from lakeflow.offline.plan import plan_stack

        outputs = plan_stack(other, root).outputs
        sandbox.init_stack(other)
        sandbox.import_deployment(other, stack_deployment(project, other, outputs))
        sandbox.set_config(stack, f"{project}:promoteFrom", f"organization/{project}/{other}")
        notes.append(
            f"{project}:promoteFrom -> organization/{project}/{other}, holding the outputs of its offline plan"
        )
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make preview", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name: Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stacks = available_stacks(args.root)
    if args.stack not in stacks:
        print(
            f"make preview: no stack {args.stack!r} (Pulumi.{args.stack}.yaml); stacks here: {', '.join(stacks)}",
            file=sys.stderr,
        )
        return 2
    try:
        engine = engine_build.build(log=lambda line: print(line, file=sys.stderr))
    except engine_build.BuildError as exc:
        print(f"make preview: the engine could not be built: {exc}", file=sys.stderr)
        return 1
    with StubWorkspace() as stub, Sandbox(engine, stub, args.root) as sandbox:
        try:
            notes = prepare(sandbox, args.stack, args.root)
        except ConfigErrors as exc:
            print(f"Stack {args.stack!r} not previewed.\n{exc.report()}", file=sys.stderr)
            return 2
        except EngineError as exc:
            print(f"make preview: {exc}", file=sys.stderr)
            return 1
        print(f"Real engine: Pulumi {engine.cli_version}, databricks provider {engine.provider_version}. Stand-ins:")
        for note in notes:
            print(f"  {note}")
        print(flush=True)
        done = sandbox.preview(args.stack, "--diff")
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        if stub.violations:
            print(
                f"\nmake preview: the preview called the Databricks API ({len(stub.violations)} requests, refused):",
                file=sys.stderr,
            )
            for request in stub.violations:
                print(f"  {request}", file=sys.stderr)
            return done.returncode or 1
        return done.returncode


if __name__ == "__main__":
    sys.exit(main())
