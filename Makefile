# Two commands set up a fresh machine: `make run` and `make test`. Both create the virtual
# environment from the lock file first, so nothing else needs installing by hand.
PYTHON ?= python3.11
VENV := .venv
UV := $(VENV)/bin/uv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export UV_COMPILE_BYTECODE := 1

.PHONY: install run test dev docs bench lint exceptions clean serve portal-assets portal-bench pack-screens

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9)
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.installed

## run: generate synthetic returns, load, validate, build and publish the benchmarks (all through Dagster)
run: install
	$(BIN)/workforce generate
	$(BIN)/workforce run

# The portal's GOV.UK Frontend: from npm (package-lock.json), compiled into an ignored folder.
PORTAL_FRONTEND := portal/frontend
PORTAL_BUILD := portal/static/build

$(PORTAL_FRONTEND)/node_modules/.package-lock.json: $(PORTAL_FRONTEND)/package.json $(PORTAL_FRONTEND)/package-lock.json
	npm ci --prefix $(PORTAL_FRONTEND) --silent

$(PORTAL_BUILD)/portal.css: $(PORTAL_FRONTEND)/node_modules/.package-lock.json $(PORTAL_FRONTEND)/portal.scss $(PORTAL_FRONTEND)/init.js
	mkdir -p $(PORTAL_BUILD)
	cp $(PORTAL_FRONTEND)/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(PORTAL_FRONTEND)/init.js $(PORTAL_BUILD)/
	$(PORTAL_FRONTEND)/node_modules/.bin/sass --pkg-importer=node --style=compressed --no-source-map \
		$(PORTAL_FRONTEND)/portal.scss $(PORTAL_BUILD)/portal.css

portal-assets: $(PORTAL_BUILD)/portal.css

## serve: the council portal on http://127.0.0.1:8000 (after `make run`)
serve: install portal-assets
	$(BIN)/workforce serve

## portal-bench: 50 concurrent clients against the portal's pages and API, during a full rebuild
portal-bench: install portal-assets
	$(BIN)/python -m portal.bench

## test: the whole test suite (CI runs exactly this), on two workers; each test module stays on one
## worker, so its module fixtures (generated returns, a published warehouse) are built once. Modules
## go out in collection order, the longest first (tests/conftest.py), so neither worker ends alone.
test: install portal-assets
	$(BIN)/pytest -n 2 --dist loadscope --no-loadscope-reorder

## dev: the Dagster UI on http://127.0.0.1:3000 with the whole lineage
dev: install
	$(BIN)/workforce dev

## docs: dbt documentation site under data/dbt_docs
docs: install
	$(BIN)/workforce docs

## pack-screens: one council's pack as printed (HTML by chromium, XLSX by LibreOffice), page by page as PNG
## under data/pack_screens, the pages shown in the README copied to docs/ (after `make run`)
pack-screens: install
	$(BIN)/python -m orchestration.pack_screens

## bench: timings and peak memory at England scale and above
bench: install
	$(BIN)/python -m orchestration.bench

## exceptions: regenerate the reconciliation-exceptions register from the DfE releases in raw/dfe/csww_indicators
EXCEPTIONS := dbt_project/seeds/benchmarks/reconciliation_exceptions.csv
exceptions: install
	$(BIN)/python -m synthetic.group_exceptions > $(EXCEPTIONS).new && mv $(EXCEPTIONS).new $(EXCEPTIONS)

lint: install
	$(BIN)/ruff check orchestration synthetic tests portal
	$(BIN)/ruff format --check orchestration synthetic tests portal
	DBT_TARGET_PATH=$(CURDIR)/data/dbt/lint DBT_LOG_PATH=$(CURDIR)/data/dbt/logs $(BIN)/sqlfluff lint dbt_project

clean:
	rm -rf data dbt_project/target dbt_project/logs
