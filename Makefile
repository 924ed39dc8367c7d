# paicha's developer and CI entry points. `make test` is what CI runs (.ci/run): it installs what
# is missing (virtualenv, PostgreSQL, Kafka jars), lints, and runs the whole test suite against a
# real Kafka broker and a real PostgreSQL server. `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Re-install only when pyproject.toml changes (or the virtualenv is new).
INSTALLED := $(VENV)/.installed
# apt-get as root on Debian; `sudo` otherwise, when there is one.
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: help venv install postgres-install java-tools kafka-jars browser lint test-unit \
	test-integration test kafka postgres bench run

help:
	@echo "make install           virtualenv in $(VENV) with the project (editable) and dev tools"
	@echo "make test              install + PostgreSQL + Kafka jars + lint + the whole suite (CI)"
	@echo "make test-unit         fast tests only (no broker, no database)"
	@echo "make test-integration  tests against a real Kafka broker and PostgreSQL"
	@echo "make lint              ruff check, ruff format --check, mypy"
	@echo "make browser           Debian's Chromium and a CJK font, for the browser tests"
	@echo "make kafka | postgres  run one service in the foreground; export what it prints"
	@echo "make run               the whole system in one process: a city fed in, API on localhost"
	@echo "make bench             benchmarks (python -m bench, then bench.tracking_claims)"

venv install: $(INSTALLED)

# Debian splits ensurepip into pythonX.Y-venv; without it `-m venv` fails half-way.
$(INSTALLED): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is not on PATH" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { $(APT) update && $(APT) install -y $(PYTHON)-venv; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,rocksdb]'
	touch $@

postgres-install: $(INSTALLED)
	$(BIN)/python -m infra postgres-install

java-tools:
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
		$(APT) update && $(APT) install -y --no-install-recommends openjdk-17-jre-headless maven; }

kafka-jars: $(INSTALLED) java-tools
	$(BIN)/python -m infra kafka-jars

# The browser tests drive Debian's Chromium with Playwright (no browser download); a CJK font
# so that screenshots of the pages show the Chinese names.
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q . || { \
		$(APT) update && $(APT) install -y --no-install-recommends chromium fonts-wqy-zenhei; }

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-unit: $(INSTALLED)
	$(BIN)/pytest -m "not integration and not e2e"

test-integration: $(INSTALLED) postgres-install kafka-jars browser
	$(BIN)/pytest -m integration

# Lint first: a failing lint stops the run before the slower suite. pytest's summary is the last
# thing printed.
test: $(INSTALLED) postgres-install kafka-jars browser lint
	$(BIN)/pytest

kafka: kafka-jars
	$(BIN)/python -m infra kafka

postgres: postgres-install
	$(BIN)/python -m infra postgres

# The matching, the streams on Kafka, and the claim queue, each beside its baselines.
bench: $(INSTALLED) postgres-install kafka-jars
	$(BIN)/python -m bench
	$(BIN)/python -m bench.tracking_claims

run: $(INSTALLED)
	$(BIN)/paicha run
