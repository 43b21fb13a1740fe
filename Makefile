# kpiflow: two commands for a newcomer (make run, make test); everything else installs itself.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# No telemetry, no version checks: nothing leaves the machine while the pipeline runs.
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DBT_VERSION_CHECK := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export PREFECT_SERVER_ANALYTICS_ENABLED := False

.PHONY: setup run test lint fmt bench docs parity clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "kpiflow needs $(PYTHON) on PATH (set PYTHON=...)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kpiflow run --ensure-demo-data

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=30

lint: $(STAMP)
	$(BIN)/ruff check .

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench flows

parity: $(STAMP)
	$(BIN)/python -m pytest -q -m parity

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf warehouse target logs .kpiflow
