# Two commands on a fresh machine with python3 and make: `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit install bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,eval]'
	$(BIN)/python -m evals.baselines.install
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/triage demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

# Accuracy and speed on the shared dev datasets (not part of CI's pass/fail).
eval: $(STAMP)
	$(BIN)/triage eval ../shared/replay/nezha-ob-dev ../shared/replay/nezha-tt-dev ../shared/replay/petshop-dev --baselines --out eval-report

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
