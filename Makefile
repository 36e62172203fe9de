# Two commands set up a fresh machine: `make run` and `make test`. Both create the virtual
# environment from the lock file first, so nothing else needs installing by hand.
PYTHON ?= python3.11
VENV := .venv
UV := $(VENV)/bin/uv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export UV_COMPILE_BYTECODE := 1

.PHONY: install run test dev docs bench lint exceptions clean

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9)
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.installed

## run: generate synthetic returns, load, validate, build and publish the benchmarks (all through Dagster)
run: install
	$(BIN)/workforce generate
	$(BIN)/workforce run

## test: the whole test suite (CI runs exactly this)
test: install
	$(BIN)/pytest

## dev: the Dagster UI on http://127.0.0.1:3000 with the whole lineage
dev: install
	$(BIN)/workforce dev

## docs: dbt documentation site under data/dbt_docs
docs: install
	$(BIN)/workforce docs

## bench: timings and peak memory at England scale and above
bench: install
	$(BIN)/python -m orchestration.bench

## exceptions: regenerate the reconciliation-exceptions register from the DfE releases in raw/dfe/csww_indicators
EXCEPTIONS := dbt_project/seeds/benchmarks/reconciliation_exceptions.csv
exceptions: install
	$(BIN)/python -m synthetic.group_exceptions > $(EXCEPTIONS).new && mv $(EXCEPTIONS).new $(EXCEPTIONS)

lint: install
	$(BIN)/ruff check orchestration synthetic tests
	$(BIN)/ruff format --check orchestration synthetic tests
	$(BIN)/sqlfluff lint dbt_project

clean:
	rm -rf data dbt_project/target dbt_project/logs
