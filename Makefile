# Quick start: `make demo` (train on synthetic demo data and serve), `make test` (run the tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo train-demo serve test lint format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

data/demo.csv: $(STAMP)
	$(BIN)/salary data demo --out data/demo.csv

train-demo: data/demo.csv
	$(BIN)/salary train --source demo --data data/demo.csv

serve: $(STAMP)
	$(BIN)/salary serve --host $(HOST) --port $(PORT)

demo: train-demo serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf mlflow.db mlartifacts data .pytest_cache .mypy_cache .ruff_cache
