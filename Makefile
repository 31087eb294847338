# Loyalty Segments: `make run` builds the demo, `make test` runs everything CI checks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

export DBT_PROFILES_DIR ?= $(CURDIR)/profiles
# dbt builds into the working database; the nightly job publishes its marts to the serving one,
# which BI tools, the summary and the CRM export read.
export DBT_DUCKDB_PATH ?= $(CURDIR)/data/work/loyalty.duckdb
export LOYALTY_SERVING_PATH ?= $(CURDIR)/data/loyalty.duckdb
export LOYALTY_DATA_DIR ?= $(CURDIR)/data/demo
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: help setup demo-data build summary run lint check-project pytest test clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

setup: $(INSTALLED)  ## create .venv with the pinned dependencies

demo-data: setup  ## generate the demo data into $LOYALTY_DATA_DIR (only when missing or stale)
	$(BIN)/python scripts/generate_data.py --out $(LOYALTY_DATA_DIR) --if-stale

build: setup  ## the nightly job: dbt build on $LOYALTY_DATA_DIR into $DBT_DUCKDB_PATH, audit, publish to $LOYALTY_SERVING_PATH
	$(BIN)/python scripts/nightly.py -- --quiet --no-use-colors

summary: setup  ## print the segment and lifecycle summary of the serving database $LOYALTY_SERVING_PATH
	$(BIN)/python scripts/summary.py --database $(LOYALTY_SERVING_PATH)

run: demo-data build summary  ## set up, generate the demo, build it and print a summary

lint: setup  ## ruff on the Python, sqlfluff on the models
	$(BIN)/ruff check scripts tests
	@mkdir -p $(dir $(DBT_DUCKDB_PATH))
	$(BIN)/sqlfluff lint models --processes 2

check-project: setup  ## project rules over the manifest (naming, layering, tests, docs, contracts)
	$(BIN)/dbt parse --quiet --target-path $(CURDIR)/target/check
	$(BIN)/python scripts/check_project.py --manifest $(CURDIR)/target/check/manifest.json

pytest: setup  ## generator, scripts, generic tests, end-to-end builds on generated and real data
	$(BIN)/pytest tests/python -q

test: lint check-project pytest  ## everything CI checks

clean:  ## remove build output and generated data (keeps .venv)
	rm -rf target logs data
