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

.PHONY: help setup engines engine-packages demo-data build summary report docs run lint check-project pytest test clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

setup: $(INSTALLED)  ## create .venv with the pinned dependencies

# The PostgreSQL and Spark adapters (requirements-engines.lock), on top of the product's install:
# `make run` on the embedded DuckDB does without them.
ENGINES_INSTALLED := $(VENV)/.engines-installed
$(ENGINES_INSTALLED): $(INSTALLED) requirements-engines.lock
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-engines.lock -c requirements.lock
	touch $@

engines: $(ENGINES_INSTALLED)  ## install the pinned PostgreSQL and Spark adapters into .venv

# The benchmark's peers (pandas, lifetimes, PySpark: requirements-peers.lock) in a venv of their
# own, so that the product's pins and the peers' never meet; scripts/benchmark.py runs them with
# .venv-peers/bin/python.
PEERS_VENV := $(CURDIR)/.venv-peers
PEERS_INSTALLED := $(PEERS_VENV)/.installed
$(PEERS_INSTALLED): requirements-peers.lock
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-peers.lock
	touch $@

.PHONY: peers
peers: $(PEERS_INSTALLED)  ## create .venv-peers with the benchmark's pinned peers (pandas, lifetimes, PySpark)

demo-data: setup  ## generate the demo data into $LOYALTY_DATA_DIR (only when missing or stale)
	$(BIN)/python scripts/generate_data.py --out $(LOYALTY_DATA_DIR) --if-stale

build: setup  ## the nightly job: dbt build on $LOYALTY_DATA_DIR into $DBT_DUCKDB_PATH, audit, publish to $LOYALTY_SERVING_PATH
	$(BIN)/python scripts/nightly.py -- --quiet --no-use-colors

summary: setup  ## print the segment and lifecycle summary of the serving database $LOYALTY_SERVING_PATH
	$(BIN)/python scripts/summary.py --database $(LOYALTY_SERVING_PATH)

report: setup  ## write the HTML report of the serving database $LOYALTY_SERVING_PATH to target/report/loyalty_report.html
	$(BIN)/python scripts/report.py --database $(LOYALTY_SERVING_PATH) --out $(CURDIR)/target/report/loyalty_report.html

# The semantic layer (docs/metrics.md): mf reads target/semantic_manifest.json, written for the
# serving target, and queries the serving database read-only.
.PHONY: metrics
metrics: setup  ## parse the semantic layer and query sample metrics from the serving database $LOYALTY_SERVING_PATH
	DBT_TARGET=serving $(BIN)/dbt parse --quiet --target-path $(CURDIR)/target
	DBT_TARGET=serving $(BIN)/mf query --metrics customers,net_revenue,avg_ltv,repeat_customer_rate \
		--group-by customer__rfm_group --order -net_revenue --decimals 2

# The docs site as one self-contained HTML file (manifest and catalog inside, opens without a web
# server). The catalog (column types, row counts) is read from the working database
# $DBT_DUCKDB_PATH: after `make build` it describes every model as built.
DOCS_DIR := $(CURDIR)/target/docs

docs: setup  ## build the static dbt docs site into target/docs/static_index.html (catalog from $DBT_DUCKDB_PATH)
	$(BIN)/dbt docs generate --static --target-path $(DOCS_DIR) --quiet
	@echo "docs site: $(DOCS_DIR)/static_index.html"

run: demo-data build summary  ## set up, generate the demo, build it and print a summary

# sqlfluff's dbt templater renders is_incremental() against the database it is pointed at: lint
# against a fresh, empty one of its own (and its own target path), so that the same SQL is linted
# whether or not a build has happened.
LINT_DIR := $(CURDIR)/target/lint

lint: setup  ## ruff on the Python, sqlfluff on the models
	$(BIN)/ruff check scripts tests plugins
	@rm -rf $(LINT_DIR) && mkdir -p $(LINT_DIR)
	DBT_DUCKDB_PATH=$(LINT_DIR)/empty.duckdb DBT_TARGET_PATH=$(LINT_DIR) $(BIN)/sqlfluff lint models --processes 2

check-project: setup  ## project rules (dbt-bouncer.yml) over the manifest: naming, layering, tests, docs, contracts
	$(BIN)/dbt parse --quiet --target-path $(CURDIR)/target/check
	COLUMNS=160 $(BIN)/dbt-bouncer run --config-file dbt-bouncer.yml --show-all-failures

# Debian packages the tests use: faketime moves the clock (the shifted runs below and the
# `make run` on consecutive days of tests/python/test_make_run.py); chromium renders the HTML
# report headless (tests/python/test_report.py).
system-packages:  ## install the Debian packages the tests use (faketime, chromium), when missing
	@command -v faketime >/dev/null || { echo "installing faketime (apt-get)"; mkdir -p $(CURDIR)/target; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime; } \
		>$(CURDIR)/target/faketime-install.log 2>&1 || { cat $(CURDIR)/target/faketime-install.log; exit 1; }; }
	@command -v chromium >/dev/null || { echo "installing chromium (apt-get)"; mkdir -p $(CURDIR)/target; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		>$(CURDIR)/target/chromium-install.log 2>&1 || { cat $(CURDIR)/target/chromium-install.log; exit 1; }; }

# The PostgreSQL server (Debian's postgresql package) and a Java runtime for Spark's local session,
# when missing; the tests start and stop their own server (scripts/local_postgres.py).
engine-packages:  ## install the Debian packages the engine tests use (postgresql, Java 17), when missing
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && command -v java >/dev/null || { \
		echo "installing postgresql and openjdk-17-jre-headless (apt-get)"; mkdir -p $(CURDIR)/target; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql openjdk-17-jre-headless; } \
		>$(CURDIR)/target/engine-packages-install.log 2>&1 || { cat $(CURDIR)/target/engine-packages-install.log; exit 1; }; }

pytest: setup engines system-packages engine-packages  ## generator, scripts, generic tests, end-to-end builds on generated and real data, the three engines
	$(BIN)/pytest tests/python -q -n 2 --dist loadfile

# The fast tests again under a clock moved a year ahead (faketime, from Debian): no test may
# depend on the day it runs. Three years back only the tests without dbt builds: the others' data
# ends in 2024-2025, and a clock before the data's dates makes rows "future" (quarantined) by
# design. LOYALTY_SHIFTED_TODAY tells tests/python/test_shifted_clock.py which day the clock must
# show. The three runs go in parallel (dbt on small inputs is mostly one busy core). Another day:
# make pytest-shifted SHIFT_AHEAD=2030-02-28
SHIFT_AHEAD ?= $(shell date -u -d '+1 year' +%F)
SHIFT_BACK ?= $(shell date -u -d '-3 years' +%F)
SHIFT_AHEAD := $(SHIFT_AHEAD)
SHIFT_BACK := $(SHIFT_BACK)
SHIFTED_QUICK_TESTS := $(addprefix tests/python/,test_shifted_clock.py test_generator.py test_seeds.py \
	test_check_project.py test_generic_tests.py)
shifted-ahead-builds: SHIFT_DAY := $(SHIFT_AHEAD)
shifted-ahead-builds: SHIFT_TESTS := tests/python/test_input_contract.py
shifted-ahead-quick: SHIFT_DAY := $(SHIFT_AHEAD)
shifted-ahead-quick: SHIFT_TESTS := $(SHIFTED_QUICK_TESTS) tests/python/test_offers_export.py \
	tests/python/test_benchmark.py
shifted-back-quick: SHIFT_DAY := $(SHIFT_BACK)
shifted-back-quick: SHIFT_TESTS := $(SHIFTED_QUICK_TESTS)

.PHONY: system-packages pytest-shifted shifted-ahead-builds shifted-ahead-quick shifted-back-quick
pytest-shifted: setup system-packages  ## the fast tests under faketime, a year ahead (the quickest also three years back)
	@$(MAKE) --no-print-directory -j3 --output-sync=target SHIFT_AHEAD=$(SHIFT_AHEAD) SHIFT_BACK=$(SHIFT_BACK) \
		shifted-ahead-builds shifted-ahead-quick shifted-back-quick

shifted-ahead-builds shifted-ahead-quick shifted-back-quick:
	LOYALTY_SHIFTED_TODAY=$(SHIFT_DAY) faketime '$(SHIFT_DAY) 12:00:00' \
		$(BIN)/pytest $(SHIFT_TESTS) -q -p no:cacheprovider

test: lint check-project pytest pytest-shifted  ## everything CI checks

clean:  ## remove build output and generated data (keeps .venv)
	rm -rf target logs data
