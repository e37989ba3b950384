# Two commands for a fresh machine:
#   make up    installs what is missing, starts the embedded chain, launches and serves the agents
#   make test  installs what is missing and runs every test (forge, pytest, ruff, mypy)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FORGE := npx --no-install forge
SNAPSHOT_SCOPE := --no-match-path 'contracts/test/invariant/*'
# The dashboard's browser tests drive Debian's Chromium; Playwright never downloads a browser.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help install up test test-contracts test-python lint artifacts snapshot bench clean

help:
	@echo "make up     install, start the embedded chain, launch and serve agents.yaml"
	@echo "make test   install and run every test: forge, pytest, ruff, mypy"
	@echo "make artifacts | snapshot | bench | clean"

install: $(VENV)/.installed node_modules/.installed $(CHROMIUM)

# A file target: nothing to do once Chromium is there.
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

node_modules/.installed: package.json package-lock.json
	# npm ci installs exactly the committed lock and never rewrites it, so a fresh
	# clone stays clean; a lock out of step with package.json is an error, not a fix.
	npm ci --no-audit --no-fund
	touch $@

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

up: install
	$(BIN)/agentdao up

test: install test-contracts test-python

test-contracts:
	$(FORGE) fmt --check
	$(FORGE) test
	$(FORGE) snapshot --check $(SNAPSHOT_SCOPE)
	$(BIN)/python -m contracts.build --check

test-python: lint
	$(BIN)/pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agents dao treasury contracts tests benchmarks
	$(BIN)/lint-imports

artifacts: install
	$(BIN)/python -m contracts.build

snapshot: install
	$(FORGE) snapshot $(SNAPSHOT_SCOPE)

bench: install
	$(BIN)/python -m benchmarks.gas

clean:
	rm -rf contracts/out contracts/cache .pytest_cache .mypy_cache .ruff_cache
