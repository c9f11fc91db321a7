# The two commands of the README. Everything installs into ./.venv with the machine's python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test

$(BIN)/guichet: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(BIN)/guichet

## Install, load the demo territory and run the desk on the embedded default (SQLite, local NLU).
run: install
	$(BIN)/guichet demo
	$(BIN)/guichet serve

## Install and run the whole test suite (SQLite; PostgreSQL too when GUICHET_TEST_POSTGRES_URL is set):
## the layers first (import-linter, contracts in pyproject.toml), then pytest.
test: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -p no:cacheprovider
