# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATE   ?= $(shell date +%F)

.PHONY: run test install dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	$(BIN)/python -c "from ltc_scheduler.routing.warm_start import warm_up; warm_up()"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -c "from ltc_scheduler.routing.warm_start import warm_up; warm_up()"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

## make run: install, create/migrate the DB, seed the demo pharmacy if empty, plan today, open the dashboard
run: install
	$(BIN)/ltc-scheduler init
	$(BIN)/ltc-scheduler demo --if-empty --date $(DATE)
	$(BIN)/ltc-scheduler plan --date $(DATE) --if-missing
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.headless true --browser.gatherUsageStats false

## make test: install dev extras, lint, run the whole test suite
test: dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: dev
	$(BIN)/python benchmarks/solomon.py --instances ../shared/benchmarks/solomon --time-limit 10
	$(BIN)/python benchmarks/plan_bench.py
	$(BIN)/python benchmarks/import_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
