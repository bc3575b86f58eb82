"""How `make plan` and `make policy` run as processes (`make diff` plans in `lakeflow.offline.plan` ones).

A plan is a short batch job: it imports the Databricks SDK (about two million objects), allocates
millions more while the program registers, keeps most of them until the plan is written, and
exits. Two things Python does by default only cost time in such a process
(docs/performance.md, "The process"):

- the cyclic garbage collector runs every 700 allocations, and each run re-walks objects that
  are still alive. From the start of the process it runs every 100,000 (the plan's own run,
  `lakeflow.offline.recorder._fast_runtime`, already does this while it registers);
- at exit, the interpreter frees every object one by one (about a second at N=500) although
  the operating system takes the whole heap back at once. On success the command flushes its
  output and ends the process with `os._exit`, as mypy does for the same reason. An exception,
  or a `SystemExit` with a message, leaves the normal way, traceback and all; so does every run
  with a profiler or tracer attached (`python -m cProfile`, coverage, a debugger), which writes
  its data at exit.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import NoReturn

RARE_GC = (100_000, 50, 1_000)
"""Garbage-collector thresholds for a plan: a collection every 100,000 allocations, not 700."""


def run(main: Callable[[], int]) -> NoReturn:
    gc.set_threshold(*RARE_GC)
    code = main()
    if sys.getprofile() or sys.gettrace():
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
