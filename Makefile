# The two commands of the README: `make dev` (run the local stack) and `make test` (run the test suite).
# Each sets up what it needs first; everything installed comes from pyproject.toml.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

NODE_STAMP := node_modules/.installed
WEB_STAMP := web/node_modules/.installed
CDK := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk

.PHONY: dev test bench lint synth deploy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The CDK CLI, pinned to v2 in package-lock.json (3.x rejects aws-cdk-lib 2 output).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The web UI's Label Studio Frontend, pinned in web/package-lock.json; its postinstall copies the bundle to web/vendor/.
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

dev: $(STAMP) $(WEB_STAMP)
	$(VENV)/bin/labelstack dev $(ARGS)

test: $(STAMP) $(WEB_STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(VENV)/bin/python -m bench.api_calls
	$(VENV)/bin/python -m bench.export_memory
	$(VENV)/bin/python -m bench.lambda_bundle

# `make synth ARGS="-c stage=prod"`: the CloudFormation template into cdk.out/, no AWS account needed.
synth: $(STAMP) $(NODE_STAMP) $(WEB_STAMP)
	$(CDK) synth --quiet $(ARGS)

deploy: $(STAMP) $(NODE_STAMP) $(WEB_STAMP)
	$(CDK) deploy $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check functions infra ml_endpoints tests bench

clean:
	rm -rf $(VENV) .pytest_cache node_modules cdk.out web/node_modules web/vendor
