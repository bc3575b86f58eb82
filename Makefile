# Every target bootstraps its own virtualenv (.venv) from the pinned requirements, so on a fresh
# machine with python3 and make, `make plan` and `make test` work as the first command.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?= dev

.PHONY: plan test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

## plan: offline plan of STACK (default dev); JSON=<path> also writes it as JSON
plan: $(STAMP)
	@$(BIN)/python -m offline.plan --stack $(STACK) $(if $(JSON),--json $(JSON))

## test: the test suite (offline, a few seconds)
test: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff lint + format check, mypy on the package code
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: offline-plan speed and memory against a bare Pulumi program (docs/performance.md)
bench: $(STAMP)
	$(BIN)/python bench/plan_bench.py $(if $(SIZES),--sizes $(SIZES))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
