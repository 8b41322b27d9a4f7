# Set-up and entry points. `make demo` and `make test` are all a fresh clone
# needs: they create the virtualenv and install the project on first use.
# Java 17 and Maven must be on the PATH; the Kafka jars are fetched from
# Maven Central once into ~/.cache/seawall (or $SEAWALL_CACHE).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COUNT ?= 10000
PYTEST_ARGS ?=

.PHONY: install demo test lint unit

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/seawall demo --count $(COUNT)

lint: $(STAMP)
	$(BIN)/ruff format --check streams tests benchmarks scripts
	$(BIN)/ruff check streams tests benchmarks scripts
	$(BIN)/mypy streams benchmarks scripts tests --exclude tests/deploy/
	$(BIN)/mypy tests/deploy

unit: $(STAMP)
	$(BIN)/pytest -m "not kafka" $(PYTEST_ARGS)

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)
