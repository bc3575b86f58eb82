# Every target bootstraps its own virtualenv (.venv) from the pinned requirements, so on a fresh
# machine with python3 and make, `make plan` and `make test` work as the first command.
# The interpreter .venv is made from (make venv PYTHON=<path> chooses another): the first of
# PYTHON_CANDIDATES that is CPython 3.11 with its venv module, else python3. /usr/bin/python3.11 is
# CPython as a Linux distribution builds it, with profile-guided and link-time optimization; a default
# pyenv build has neither, and runs the plans and the suite 15-20% slower (docs/performance.md).
PYTHON_CANDIDATES ?= /usr/bin/python3.11 python3.11
PYTHON ?= $(or $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(shell '$(p)' -c 'import sys, ensurepip, venv; \
	sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1 && echo '$(p)'))),python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?= dev
# Every argument reaches the commands as an environment variable, quoted by the shell ("$$STACK"),
# never spliced into the command line: `make plan 'STACK=dev;cmd'` plans a stack named that (and
# is refused), it does not run cmd.
ARGS := STACK JSON BASE MARKDOWN ACKNOWLEDGEMENTS GROWTH MONTHS HISTORY PIPELINE TABLE VERSION TIMESTAMP \
	OUTPUTS SLOT REFRESH TABLES TIMEOUT TOLERANCE CHANNEL SIZES ALLOW_DESTROY ENGINE_PREVIEW BUNDLE TARGET OUT FORCE \
	HTTP_TIMEOUT RETRY_TIMEOUT VERBOSE HISTORY_SQL
export $(ARGS)
# ... and keep every character as written: a URN holds `$` (`…DltPipeline$databricks:index/…`), which make
# would expand (`$d`) in a command-line or environment value. Each argument becomes its raw text.
$(foreach v,$(ARGS),$(if $(filter command line environment,$(origin $(v))),$(eval override $(v) := $$(value $(v)))))

# How long a day-2 command waits for the workspace (seconds): each call, and the SDK's retries.
WORKSPACE = $(if $(HTTP_TIMEOUT),--http-timeout "$$HTTP_TIMEOUT") $(if $(RETRY_TIMEOUT),--retry-timeout "$$RETRY_TIMEOUT") \
	$(if $(VERBOSE),--verbose)

# make turns any failed command into its own exit status 2; each command's status (README: exit codes)
# is printed as it fails, and `bin/lakeflow <command>` (what the workflows run) returns it as is.
STATUS = status=$$?; [ $$status -eq 0 ] || { echo "make $@: exit status $$status" >&2; exit $$status; }

.PHONY: venv plan test test-install test-engine lint bench clean diff policy capacity dr-restore health preflight validate-release rehearse-upgrade engine preview import-bundle

# The pinned requirements, then this repository's own package (src/lakeflow, editable: the program,
# the commands and the tests run the working tree).
$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

## venv: just the pinned virtualenv (Pulumi.yaml points the Pulumi CLI at .venv)
venv: $(STAMP)

## plan: offline plan of STACK (default dev); JSON=<path> also writes it as JSON
plan: $(STAMP)
	@$(BIN)/lakeflow-plan --stack "$$STACK" $(if $(JSON),--json "$$JSON"); $(STATUS)

## test: the test suite (offline, in parallel on every CPU: pytest-xdist)
##       Compiled modules are kept (__pycache__, ignored by git) even where PYTHONDONTWRITEBYTECODE is set:
##       each worker and each command the tests start would otherwise compile the package and the tests again.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n auto --dist loadgroup -m "not engine and not install"

## engine: build the real Pulumi CLI, Python language host and Databricks provider from Go modules
##         (cached by version: ~/.cache/lakeflow-engine, or LAKEFLOW_ENGINE_CACHE)
engine: $(STAMP)
	@$(BIN)/python -m engine.build; $(STATUS)

## preview: the real `pulumi preview --diff` of STACK with the policy pack: temporary backend, stub
##          workspace on 127.0.0.1, no credentials (builds the engine first if needed)
preview: $(STAMP)
	@$(BIN)/python -m engine.preview --stack "$$STACK"; $(STATUS)

## test-install: `pip install .` and `pip install git+<url>` into a clean virtualenv, then the installed
##               package plans a project that has only its stack and pipeline files (tests/install)
test-install: $(STAMP)
	$(BIN)/python -m pytest -m install tests/install

## test-engine: the agreement tests: the real engine against the offline plan, diff and policies
test-engine: engine
	$(BIN)/python -m pytest -n auto -m engine tests/engine

## lint: ruff lint + format check, mypy on the package code
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: offline-plan speed and memory against a bare Pulumi program (docs/performance.md)
bench: $(STAMP)
	$(BIN)/python bench/plan_bench.py $(if $(SIZES),--sizes "$$SIZES")

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

## diff: offline diff of STACK between BASE (git ref, default origin/main) and the working tree;
##       fails on an unacknowledged destroy of data (ALLOW_DESTROY="<urn> ..." acknowledges);
##       ENGINE_PREVIEW=<pulumi preview --json file> judges the real engine's preview instead (deploy gate)
BASE ?= origin/main
diff: $(STAMP)
	@LAKEFLOW_ALLOW_DESTROY="$$ALLOW_DESTROY" $(BIN)/lakeflow-diff --stack "$$STACK" --base "$$BASE" \
		$(if $(JSON),--json "$$JSON") $(if $(MARKDOWN),--markdown "$$MARKDOWN") \
		$(if $(ACKNOWLEDGEMENTS),--acknowledgements "$$ACKNOWLEDGEMENTS") \
		$(if $(ENGINE_PREVIEW),--engine-preview "$$ENGINE_PREVIEW"); $(STATUS)

## policy: the CrossGuard policy pack (policy/) over the offline plan of STACK
policy: $(STAMP)
	@$(BIN)/lakeflow-policy --stack "$$STACK"; $(STATUS)

## capacity: guide 9.2 projection of workers and cost (GROWTH=0.1 MONTHS=6 [HISTORY=metrics.csv]);
##           HISTORY_SQL=1 prints the query that exports the HISTORY csv for STACK's pipelines
capacity: $(STAMP)
	@$(BIN)/lakeflow-capacity --stack "$$STACK" $(if $(GROWTH),--growth "$$GROWTH") \
		$(if $(MONTHS),--months "$$MONTHS") $(if $(HISTORY),--history "$$HISTORY") $(if $(HISTORY_SQL),--history-sql); $(STATUS)

## dr-restore: the ordered restore plan of PIPELINE in STACK from its DR snapshots (guide 10.3);
##             [TABLE=] [VERSION=|TIMESTAMP=] [OUTPUTS=<pulumi stack output --json file>]
dr-restore: $(STAMP)
	@$(BIN)/lakeflow-dr-restore --stack "$$STACK" --pipeline "$$PIPELINE" $(if $(TABLE),--table "$$TABLE") \
		$(if $(VERSION),--version "$$VERSION") $(if $(TIMESTAMP),--timestamp "$$TIMESTAMP") \
		$(if $(OUTPUTS),--outputs "$$OUTPUTS"); $(STATUS)

## health, preflight, validate-release, rehearse-upgrade reach the workspace within HTTP_TIMEOUT seconds a call
##         (default 30, or LAKEFLOW_HTTP_TIMEOUT) and retry for RETRY_TIMEOUT (default the same); VERBOSE=1: whole errors
## health: day-2 health check of STACK's pipelines through the Databricks SDK (guide 5.1-5.2);
##         [PIPELINE=] [OUTPUTS=<pulumi stack output --json file>] [JSON=1]; exit 0 ok, 1 warnings, 2 critical
health: $(STAMP)
	@$(BIN)/lakeflow-health --stack "$$STACK" $(if $(PIPELINE),--pipeline "$$PIPELINE") \
		$(if $(OUTPUTS),--outputs "$$OUTPUTS") $(if $(JSON),--json) $(WORKSPACE); $(STATUS)

## preflight: check in the workspace what STACK assumes but does not create (catalogs and grants, DR catalog,
##            SQL warehouse, system tables, run-as principal, Git credentials, folders, pipeline code, landing
##            volumes), each missing one with its fix; before the first deploy (docs/going-live.md); [JSON=1];
##            exit 0 all present, 1 something missing, 2 could not check
preflight: $(STAMP)
	@$(BIN)/lakeflow-preflight --stack "$$STACK" $(if $(JSON),--json) $(WORKSPACE); $(STATUS)

## validate-release: run an update of PIPELINE (or its blue/green SLOT) and check its output (guide 3.2, 4.2)
##         [SLOT=green] [REFRESH=incremental|full|selected TABLES=a,b] [TIMEOUT=<minutes>] [TOLERANCE=0.1]
##         [OUTPUTS=] [JSON=1]; exit 0 valid, 1 validation failed, 2 could not validate
validate-release: $(STAMP)
	@$(BIN)/lakeflow-validate-release --stack "$$STACK" --pipeline "$$PIPELINE" $(if $(SLOT),--slot "$$SLOT") \
		$(if $(REFRESH),--refresh "$$REFRESH") $(if $(TABLES),--tables "$$TABLES") \
		$(if $(TIMEOUT),--timeout-minutes "$$TIMEOUT") $(if $(OUTPUTS),--outputs "$$OUTPUTS") \
		$(if $(TOLERANCE),--tolerance "$$TOLERANCE") $(if $(JSON),--json) $(WORKSPACE); $(STATUS)

## rehearse-upgrade: run PIPELINE on the PREVIEW channel (or CHANNEL=) as a temporary development copy in a
##         non-prod STACK, full refresh, report, delete the copy (guide 8.2); [TIMEOUT=<minutes>] [OUTPUTS=]
rehearse-upgrade: $(STAMP)
	@$(BIN)/lakeflow-rehearse-upgrade --stack "$$STACK" --pipeline "$$PIPELINE" \
		$(if $(CHANNEL),--channel "$$CHANNEL") $(if $(TIMEOUT),--timeout-minutes "$$TIMEOUT") \
		$(if $(OUTPUTS),--outputs "$$OUTPUTS") $(WORKSPACE); $(STATUS)

## import-bundle: a Databricks Asset Bundle's pipelines as pipelines/*.yaml, one file each, target differences
##                as environments.<env>; prints what it could not carry over (src/lakeflow/config/bundle_import.py)
##                BUNDLE=<databricks.yml or resources .yml> [TARGET=<base target>] [OUT=pipelines] [FORCE=1]
import-bundle: $(STAMP)
	@$(BIN)/lakeflow-import-bundle --bundle "$$BUNDLE" $(if $(TARGET),--target "$$TARGET") \
		$(if $(OUT),--out "$$OUT") $(if $(FORCE),--force); $(STATUS)
