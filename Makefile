# aep-pipelines: every command goes through here, so each one installs what it needs
# (virtualenv, packages, Pulumi CLI) and runs with the same offline Pulumi environment.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(CURDIR)/$(VENV)/bin/python
STACK  ?= dev

include scripts/versions.env

# The offline Pulumi environment is pipelines/workspace.py's: every command below applies it
# (`make env` prints it). Set any of its variables yourself to use your own backend, e.g.
# PULUMI_BACKEND_URL=s3://bucket/prefix make up STACK=prod (docs/state.md).
export PATH := $(CURDIR)/.tools/pulumi/bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help up test venv toolchain env emulator emulator-stop preview drift status demo destroy graph export bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

up: venv toolchain ## the main job: pulumi up of STACK (default dev, on the local emulator); prints the inlet URL
	@$(PY) -m pipelines.cli up --stack $(STACK)

test: venv toolchain ## the linter (ruff, configured in pyproject.toml), then every test (emulator, providers, engine)
	@$(PY) -m ruff check --quiet . && echo "[lint] ruff: clean"
	@$(PY) -m pytest $(PYTEST_ARGS)

venv: $(VENV)/.installed ## create the virtualenv and install the pinned packages

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is required (found $$($(PYTHON) --version 2>&1))"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@echo "[venv] installing pinned packages into $(VENV)"
	@$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

toolchain: ## make the Pulumi CLI available (.tools/pulumi/bin): on PATH, cached, or built from the Go module proxy
	@scripts/bootstrap

env: venv ## print the offline Pulumi environment: eval "$$(make -s env)" to run pulumi yourself
	@$(PY) -m pipelines.cli env --stack $(STACK)

emulator: venv ## run the AEP emulator in the foreground on the dev stack's port
	@$(PY) -m emulator --host 127.0.0.1 --port 8765 --data-dir .state/emulator

emulator-stop: venv ## stop the background emulator that `make up` started
	@$(PY) -m pipelines.cli emulator-stop

preview: venv toolchain ## pulumi preview of STACK
	@$(PY) -m pipelines.cli preview --stack $(STACK)

drift: venv toolchain ## drift check: pulumi preview --refresh --expect-no-changes; non-zero exit on drift
	@$(PY) -m pipelines.cli drift --stack $(STACK)

status: venv toolchain ## each pipeline's dataflow state and recent runs
	@$(PY) -m pipelines.cli status --stack $(STACK)

demo: venv toolchain ## post the source's sample payloads (PIPELINE=<name>, default the first) and show the records
	@$(PY) -m pipelines.cli demo --stack $(STACK) $(if $(PIPELINE),--pipeline $(PIPELINE))

destroy: venv toolchain ## pulumi destroy of STACK
	@$(PY) -m pipelines.cli destroy --stack $(STACK)

graph: venv toolchain ## render STACK's resource graph into docs/resource-graph.png (needs graphviz)
	@$(PY) -m pipelines.cli graph --stack $(STACK)

# The spec goes to stdout, so the setup's own messages go to stderr. `python -m pipelines.cli export`
# exits 3 when something was left out; make then reports "Error 3" (and exits 2).
export: ## the sandbox's streaming dataflows as a spec: make export SANDBOX=dev [FLOWS=id,...] [NO_ADOPT=1] > pipelines.yaml
	@$(MAKE) -s venv toolchain >&2
	@$(PY) -m pipelines.cli export --stack $(STACK) $(if $(SANDBOX),--sandbox $(SANDBOX)) $(if $(FLOWS),--flows $(FLOWS)) $(if $(filter 1,$(NO_ADOPT)),--no-adopt)

bench: venv toolchain ## benchmarks (the full matrix takes over an hour on 2 cores; BENCH_ARGS=--quick is a smoke run): writes docs/benchmarks.md and .png
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[bench]'
	@$(PY) -m bench.run $(BENCH_ARGS)

clean: ## remove local state, the emulator data and the virtualenv (not the cached CLI)
	rm -rf .state .tools $(VENV)
