# The two commands of the README: `make dev` (run the local stack) and `make test` (the gates, then the
# test suite; `make check` is the same). Each checks the machine first (scripts/check-prereqs), then sets up
# what it needs; everything installed comes from pyproject.toml. Both share one venv: `make dev` installs
# only the local stack and the model server (`.[local,ml]`), `make test` everything the tests use (`.[dev]`).
VENV ?= .venv
PYTHON ?= python3
DEV_STAMP := $(VENV)/.installed-local
TEST_STAMP := $(VENV)/.installed-dev
PY_DIRS := functions infra ml_endpoints tests bench

NODE_STAMP := node_modules/.installed
WEB_STAMP := web/node_modules/.installed
CDK := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk

.PHONY: dev test check test-sqlite test-dynamodb lint format-check typecheck bench side-by-side synth deploy clean prereqs-dev prereqs-test

prereqs-dev:
	@PYTHON=$(PYTHON) scripts/check-prereqs dev

prereqs-test:
	@PYTHON=$(PYTHON) scripts/check-prereqs test

$(VENV)/bin/python: | prereqs-dev
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

# `labelstack dev`: the API under uvicorn, the moto server, and the built-in model server from ml_endpoints.
$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[local,ml]'
	touch $(DEV_STAMP)

$(TEST_STAMP): pyproject.toml | prereqs-test $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(TEST_STAMP)

# The CDK CLI, pinned to v2 in package-lock.json (3.x rejects aws-cdk-lib 2 output).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The web UI's Label Studio Frontend, pinned in web/package-lock.json; its postinstall copies the bundle to web/vendor/.
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

dev: prereqs-dev $(DEV_STAMP) $(WEB_STAMP)
	$(VENV)/bin/labelstack dev $(ARGS)

# The gates, cheapest first so a lint finding fails in seconds: lint, format, types, then the tests.
check: prereqs-test $(TEST_STAMP) $(WEB_STAMP)
	$(VENV)/bin/ruff check $(PY_DIRS)
	$(VENV)/bin/ruff format --check $(PY_DIRS)
	$(VENV)/bin/mypy
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-dynamodb

# The two test runs at once: each spends much of its time waiting on the servers, stacks and browsers
# its tests start, so side by side they take little more than the longer one alone. Each run's output is
# printed whole when it ends (--output-sync); either failing fails `check`.
test-sqlite: $(TEST_STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The API and events suites again on the `dynamodb` engine (moto), the one AWS runs; the store's own
# contract already ran on both in the line above. Left out: suites of the HTTP edge and of
# the ML backend clients, whose answers do not depend on the store (the sqlite engine refuses what
# DynamoDB refuses, so the sqlite run covers their store writes): they took three of its nine minutes.
ENGINE_AGNOSTIC := tests/api/test_openapi_fuzz.py tests/api/test_ml_faults.py \
	tests/api/test_request_models.py tests/api/test_error_path.py
test-dynamodb: $(TEST_STAMP)
	LABELSTACK_TEST_ENGINE=dynamodb $(VENV)/bin/pytest --durations=5 tests/api tests/events \
		$(addprefix --ignore=,$(ENGINE_AGNOSTIC))

test: check

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check $(PY_DIRS)

format-check: $(TEST_STAMP)
	$(VENV)/bin/ruff format --check $(PY_DIRS)

typecheck: $(TEST_STAMP)
	$(VENV)/bin/mypy

bench: $(TEST_STAMP)
	$(VENV)/bin/python -m bench.api_calls
	$(VENV)/bin/python -m bench.export_memory
	$(VENV)/bin/python -m bench.lambda_bundle

# Label Studio and labelstack on the same workload, one run: `make side-by-side N=100000`.
N ?= 10000
side-by-side: $(DEV_STAMP)
	$(VENV)/bin/python bench/side_by_side.py --n $(N) --rounds 1 \
		--labelstack "$(VENV)/bin/labelstack dev --data-dir $(CURDIR)/.bench-data --reset"

# `make synth ARGS="-c stage=prod"`: the CloudFormation template into cdk.out/, no AWS account needed.
synth: $(TEST_STAMP) $(NODE_STAMP) $(WEB_STAMP)
	$(CDK) synth --quiet $(ARGS)

deploy: $(TEST_STAMP) $(NODE_STAMP) $(WEB_STAMP)
	$(CDK) deploy $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache node_modules cdk.out web/node_modules web/vendor
