# Turing on Dagster. `make demo` and `make test` are the two commands a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: demo test quick bench reliability lint ui install clean

$(BIN)/turing: setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/turing

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

## set up, load the sample postings and run the sample workflow (Ollama at OLLAMA_HOST, else the simulator)
demo: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m turing_dagster.demo

## the whole suite, on two workers (each its own PostgreSQL databases); the PostgreSQL tier runs when
## TURING_TEST_DATABASE_URL is set (.ci/run sets it)
test: install
	$(BIN)/python -m pytest -q -n 2

## the inner loop: unit and Dagster tiers on SQLite, no browser (a minute or two); `make test` runs everything
quick: install
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not postgres and not browser"

## benchmarks against the simulator; results in bench/results/ (bench.md: the table; BENCH_ARGS="--postings 50 ..." to scale)
bench: install
	mkdir -p bench/results
	$(BIN)/python bench/model_session.py --out bench/results/model_session.json
	$(BIN)/python bench/waves.py --out bench/results/waves.json
	$(BIN)/python bench/hosts.py --out bench/results/hosts.json
	$(BIN)/python bench/suite.py $(BENCH_ARGS)
	$(BIN)/python bench/overhead.py --out bench/results/overhead.json

## operator scenarios against real processes (kills, faults, restarts, concurrent runs, bad files): a table;
## PostgreSQL rows too when TURING_TEST_DATABASE_URL is set (a database of its own: its tables are dropped)
reliability: install
	$(BIN)/python -m reliability

## pyflakes, syntax, import and bugbear checks, import order
lint: install
	$(BIN)/pip install --quiet ruff
	$(BIN)/ruff check turing_dagster turing_dagster_tests bench reliability --select F,E9,E4,B,I

ui: install $(DAGSTER_HOME)/dagster.yaml
	@# the instance's storage first, under Turing's lock: dagster dev does not take it, and a turing command
	@# creating the storage at the same moment could leave two alembic heads behind
	$(BIN)/python -m turing_dagster.dagster_defs.instance >/dev/null
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf .turing .dagster_home bench/results
