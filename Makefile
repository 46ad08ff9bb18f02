# Two commands on a fresh machine with python3 and make: `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.installed-base
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit install eval clean chromium prometheus alertmanager fonts

# What the product needs (the demo's install; no .pyc pre-compiling, imports compile what
# they use); the tools and baselines come on top for tests.
$(BASE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e .
	$(BIN)/python -m knowledge.install
	touch $(BASE)

$(STAMP): $(BASE)
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev,eval]'
	$(BIN)/python -m evals.baselines.install
	touch $(STAMP)

install: $(STAMP)

demo: $(BASE)
	$(BIN)/triage demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# The war room's browser tests drive Debian's chromium (installing it needs root).
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# The telemetry tests run a real Prometheus (and promtool) from Debian's package.
prometheus:
	command -v prometheus >/dev/null || (apt-get update && apt-get install -y prometheus)

# A real Alertmanager delivers to the live server in tests/server/test_real_alertmanager.py.
alertmanager:
	command -v prometheus-alertmanager >/dev/null || (apt-get update && apt-get install -y prometheus-alertmanager)

# The war room's browser tests read Japanese drafts: a CJK font (Debian's fonts-noto-cjk).
fonts:
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || (apt-get update && apt-get install -y fonts-noto-cjk)

test: chromium prometheus alertmanager fonts lint typecheck unit

# Accuracy (out of sample, on time and late) and speed on the shared dev datasets (not part of
# CI's pass/fail; the floors are in tests/evals/test_engine_floors.py).
eval: $(STAMP)
	$(BIN)/triage eval ../shared/replay/nezha-ob-dev ../shared/replay/nezha-tt-dev ../shared/replay/petshop-dev --alert-lag 0 --alert-lag 120 --alert-lag 300 --baselines --out eval-report

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
