"""Run the real program under Pulumi's mock runtime and record every registration.

`RecordingMonitor` subclasses Pulumi's `MockMonitor`: it sees each `RegisterResource` request
(inputs, parent, provider, protect, aliases, dependencies, …), computes URNs the way the engine
does, masks secrets, and checks databricks inputs against the provider SDK's types.

The run is a *preview*: ids and other provider-computed outputs are unknown, exactly as in
`pulumi preview`, so nothing in the plan pretends to be a real workspace value.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import heapq
import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi._types as pulumi_types
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from lakeflow.offline import UNKNOWN_TEXT, make_urn, urn_parts
from lakeflow.offline.batch import RARE_GC
from lakeflow.offline.records import AliasRecord, PlanRecord, ResourceRecord
from lakeflow.offline.schema import check_inputs

SECRET = "[secret]"
_SECRET_SIG = rpc._special_sig_key
_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[ResourceRecord] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    workspace: str | None = None
    """`databricks:host` of the stack's default provider: the workspace every resource lives in."""
    schema_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What the program logged at warning level or above (`pulumi.log.warn`), as Pulumi would show."""

    def to_json(self) -> PlanRecord:
        return {
            "project": self.project,
            "stack": self.stack,
            "workspace": self.workspace,
            "resources": self.resources,
            "outputs": self.outputs,
        }


class OfflineDataUnavailable(RuntimeError):
    """The program asked the provider for data (a function call), which no offline plan has."""


_STACK_REFERENCE = "pulumi:pulumi:StackReference"


def placeholder_id(type_: str, name: str) -> str:
    """The id a resource gets in a deployed plan (`record(..., deployed=True)`)."""
    return f"placeholder:{type_.rsplit(':', 1)[-1]}:{name}"


class _PreviewMocks(pulumi.runtime.Mocks):
    def __init__(self, references: Mapping[str, dict[str, Any]] | None = None, deployed: bool = False):
        self.references = dict(references or {})
        self.deployed = deployed

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == _STACK_REFERENCE:
            # A preview reads a referenced stack's outputs for real: here they come from its offline
            # plan or a saved `pulumi stack output --json`.
            name = args.inputs.get("name") or args.name
            if name not in self.references:
                raise OfflineDataUnavailable(f"the offline plan has no outputs for stack reference {name}")
            return name, {"name": name, "outputs": self.references[name], "secretOutputNames": []}
        if self.deployed:
            return placeholder_id(args.typ, args.name), dict(args.inputs)
        # No id and no computed state: like a preview, everything the provider computes is unknown.
        return "", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        # The program calls no provider functions; one added later must fail loudly, not return {}.
        raise OfflineDataUnavailable(f"the offline plan has no data for function {args.token}")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, plan: Plan, references: Mapping[str, dict[str, Any]] | None = None, deployed: bool = False):
        super().__init__(_PreviewMocks(references, deployed))
        self.deployed = deployed
        self.plan = plan
        self._qualified: dict[str, str] = {}
        self._root_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        parent_type = self._qualified.get(parent, "")
        urn = make_urn(
            self.plan.stack, self.plan.project, parent_type if parent_type != _STACK_TYPE else None, type_, name
        )
        self._qualified[urn] = urn_parts(urn)[2]
        return urn

    # RegisterResource and ReadResource answer without MockMonitor's own versions: those serialize
    # their answer with `_sync_await`, which cannot run on the event loop's thread (see
    # `_InlineExecutor`). A preview's answer is the request's own inputs (no id, nothing
    # computed), so the request's struct is echoed as it is.

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == _STACK_TYPE:
            self._root_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        for problem in check_inputs(request.type, inputs):
            self.plan.schema_errors.append(f"{request.type} {request.name!r}: {problem}")
        self._record(
            urn,
            request,
            custom=bool(request.custom),
            inputs=mask(inputs),
            protect=bool(request.protect),
            retainOnDelete=bool(request.retainOnDelete),
            deleteBeforeReplace=bool(request.deleteBeforeReplace),
            aliases=[_alias(a) for a in request.aliases],
            ignoreChanges=list(request.ignoreChanges),
            replaceOnChanges=list(request.replaceOnChanges),
            importId=request.importId or None,
            propertyDependencies={k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items()) if v.urns},
        )
        id_ = placeholder_id(request.type, request.name) if self.deployed and request.custom else ""
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=request.object)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        # The root stack's outputs, as the engine receives them when the program ends: serialized
        # by the SDK leaf by leaf (one unknown id does not hide the names beside it).
        if request.urn == self._root_urn:
            self.plan.outputs = _wire_value(request.outputs)
        return empty_pb2.Empty()

    def ReadResource(self, request: Any) -> Any:
        # A read (here: a StackReference) is part of a preview too: recorded so that what depends
        # on it has its dependency in the plan.
        urn = self.make_urn(request.parent, request.type, request.name)
        args = pulumi_mocks.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=rpc.deserialize_properties(request.properties),
            provider=request.provider,
            resource_id=request.id,
        )
        _, state = self.mocks.new_resource(args)
        self._record(urn, request, custom=True, inputs={"name": request.id})
        properties = struct_pb2.Struct()
        properties.update(state)  # plain JSON: a referenced stack's outputs as `pulumi stack output --json` gives them
        return resource_pb2.ReadResourceResponse(urn=urn, properties=properties)

    def _record(self, urn: str, request: Any, **fields: Any) -> None:  # fields: ResourceRecord's keys
        """One resource of the plan; options a request does not carry (a read's) are their defaults."""
        record: dict[str, Any] = {
            "urn": urn,
            "type": request.type,
            "name": request.name,
            "parent": None if request.parent in ("", self._root_urn) else request.parent,
            "provider": request.provider or None,
            "dependencies": sorted(request.dependencies),
            "propertyDependencies": {},
            "protect": False,
            "retainOnDelete": False,
            "deleteBeforeReplace": False,
            "aliases": [],
            "ignoreChanges": [],
            "replaceOnChanges": [],
            "importId": None,
            **fields,
        }
        self.plan.resources.append(cast(ResourceRecord, record))


def _wire_value(value: Any) -> Any:
    """A struct as the engine receives it, masked like `mask`, with its nulls (the SDK's own
    deserializer drops them: a continuous pipeline's `job_id` is null, not absent)."""
    if isinstance(value, struct_pb2.Struct) and rpc._special_sig_key not in value:
        return {k: _wire_value(value[k]) for k in sorted(value.keys())}
    if isinstance(value, struct_pb2.ListValue):
        return [_wire_value(v) for v in value]
    return mask(rpc.deserialize_property(value, keep_unknowns=True))


def mask(value: Any) -> Any:
    """Secrets -> "[secret]", unknowns -> "(known after apply)", recursively. Keys are sorted
    (the wire format is a protobuf map, whose order is arbitrary) and integral floats become ints
    (the mock runtime turns every number into a float), so equal plans serialize identically."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == rpc._special_secret_sig:
            return SECRET
        return {k: mask(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _alias(alias: Any) -> AliasRecord:
    if alias.HasField("urn") or alias.urn:
        return {"urn": alias.urn}
    spec = alias.spec
    return {
        "name": spec.name,
        "type": spec.type,
        "project": spec.project,
        "stack": spec.stack,
        "parentUrn": spec.parentUrn,
        "noParent": bool(spec.noParent),
    }


def record(
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: set[str],
    program: Callable[[], Any],
    references: Mapping[str, dict[str, Any]] | None = None,
    deployed: bool = False,
) -> Plan:
    """Run `program` as stack `project/stack` under mocks; return what it registered.
    `references`: outputs of the stacks it reads through StackReference. `deployed`: as an update
    after a deployment would see it, every resource with an id (`placeholder_id`) and its inputs
    as outputs, so inputs taken from other resources are known (a preview leaves them unknown)."""
    plan = Plan(project, stack, workspace=config.get("databricks:host"))
    pulumi.runtime.set_all_config(config, secret_keys=sorted(secret_keys))
    pulumi.runtime.set_mocks(
        _PreviewMocks(references, deployed),
        project=project,
        stack=stack,
        preview=not deployed,
        monitor=RecordingMonitor(plan, references, deployed),
        logger=_collecting_logger(plan.warnings),
    )
    # Each plan gets a fresh root stack from `run_in_stack` (set_mocks may leave one, already
    # closed to `pulumi.run`), as the language host runs a `__main__.py`: the program first, then
    # the async entry point it gave `pulumi.run`, then the stack's outputs, which the monitor
    # records (RegisterResourceOutputs of the root stack).
    runtime_settings.ROOT.set(None)
    # A program that failed (a RunError in an apply) leaves its exception and unfinished outputs
    # in the SDK's process-wide RPC manager, where the next plan in this process would raise it.
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()
    _ensure_event_loop().set_exception_handler(_reported_once)
    with _fast_runtime():
        _sync_await(run_in_stack(program))
    plan.resources = canonical_order(plan.resources)
    return plan


def _reported_once(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A program's `pulumi.RunError` ends the run with its message; every output derived from the
    failed one holds the same error, which asyncio would print again, traceback and all, as
    "exception was never retrieved" when it frees them."""
    if isinstance(context.get("exception"), pulumi.RunError) and "never retrieved" in context.get("message", ""):
        return
    loop.default_exception_handler(context)


class _InlineExecutor(ThreadPoolExecutor):
    """Runs each monitor call on the calling thread, at once.

    The SDK sends every RPC through the event loop's default executor, a pool of threads, since a
    real monitor is a remote process. The recording monitor is plain Python in this process:
    handing each of thousands of calls to a thread and back only makes the threads contend for
    the GIL. No thread is ever started."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


@contextmanager
def _fast_runtime() -> Iterator[None]:
    """Settings that make the mock run faster and change nothing that is registered
    (docs/performance.md has the measurements; tests/test_offline_plan.py holds the plan equal
    with and without them):

    - monitor calls run inline (`_InlineExecutor`) on the loop that runs the program;
    - the cyclic garbage collector runs rarely: a plan allocates millions of objects (an `Output`
      with its futures per declared property of every resource) and frees almost none until
      it ends, so frequent collections only re-walk live objects; what was imported before the
      run is frozen out of them altogether;
    - no stack trace per registration: the SDK walks and converts the whole Python stack for
      every resource so that the engine can point at the source line of an error; the plan
      does not record it. The SDK has no public switch for this, hence the swap of its private
      `_get_stack_trace` (pinned SDK; every plan, and so every test, fails if the name goes away);
    - a resource class's output types are worked out once per class: the SDK evaluates the
      class's annotations again (`typing.get_type_hints`) for every resource it registers, although
      they cannot change while the program runs. Components declare their outputs as annotations,
      as Pulumi's guidelines ask, so each of them paid this (`pulumi._types.resource_types`, the
      same pinned-SDK caveat). Likewise the type of each property it serializes is unwrapped
      (`Output[T]`, `Input[T]`, `Optional[T]` -> `T`) once per type, not once per property of every
      resource (`unwrap_type`, `unwrap_optional_type`: pure functions of the type).
    """
    loop = _ensure_event_loop()
    loop.set_default_executor(_InlineExecutor())
    thresholds = gc.get_threshold()
    stack_trace = runtime_resource._get_stack_trace
    swapped = {name: getattr(pulumi_types, name) for name in _PURE_TYPE_FUNCTIONS}
    gc.freeze()
    gc.set_threshold(*RARE_GC)
    runtime_resource._get_stack_trace = source_pb2.StackTrace
    for name, function in swapped.items():
        setattr(pulumi_types, name, _once_per_type(function))
    try:
        yield
    finally:
        runtime_resource._get_stack_trace = stack_trace
        for name, function in swapped.items():
            setattr(pulumi_types, name, function)
        loop.set_default_executor(ThreadPoolExecutor())  # what asyncio would make: threads, started on demand
        gc.set_threshold(*thresholds)
        gc.unfreeze()


# What the SDK works out from a type alone, over and over (`_fast_runtime`).
_PURE_TYPE_FUNCTIONS = ("resource_types", "unwrap_type", "unwrap_optional_type")


def _once_per_type(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`function`, remembered per argument; an argument that cannot be a key (none of the SDK's types)
    is passed through."""
    known: dict[Any, Any] = {}

    @functools.wraps(function)
    def remembered(value: Any) -> Any:
        try:
            return known[value]
        except KeyError:
            known[value] = result = function(value)
            return result
        except TypeError:
            return function(value)

    return remembered


def _collecting_logger(sink: list[str]) -> logging.Logger:
    """The mock engine's `Log` RPCs (pulumi.log.*) end up here instead of the root logger. A Logger of
    its own, outside logging's registry: one from `getLogger` per plan would stay there (with its sink)
    for the life of the process."""
    logger = logging.Logger("lakeflow.offline.plan", logging.WARNING)  # the SDK's debug lines make no record
    logger.propagate = False

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            sink.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    return logger


def canonical_order(resources: list[ResourceRecord]) -> list[ResourceRecord]:
    """A registration order the engine could have seen, the same on every run.

    The SDK registers resources concurrently, so their arrival order varies between processes.
    This order keeps what the engine guarantees (a parent before its children, a dependency
    before its dependents) and breaks ties by URN.
    """
    by_urn = {r["urn"]: r for r in resources}
    waiting = {u: {d for d in [r["parent"], *r["dependencies"]] if d in by_urn} for u, r in by_urn.items()}
    dependents: dict[str, list[str]] = {}
    for urn, deps in waiting.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(urn)
    ready = sorted(u for u, deps in waiting.items() if not deps)
    ordered: list[ResourceRecord] = []
    while ready:
        urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for other in dependents.get(urn, ()):
            waiting[other].discard(urn)
            if not waiting[other]:
                heapq.heappush(ready, other)
    return ordered
