# The two commands of the README: `make dev` (run the local stack) and `make test` (run the test suite).
# Each sets up what it needs first; everything installed comes from pyproject.toml.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: dev test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(VENV)/bin/labelstack dev $(ARGS)

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(VENV)/bin/python -m bench.api_calls
	$(VENV)/bin/python -m bench.export_memory

lint: $(STAMP)
	$(VENV)/bin/ruff check functions infra tests bench

clean:
	rm -rf $(VENV) .pytest_cache
