# Two commands matter: `make run` and `make test`. Both create and reuse .venv/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run run-stdio test conformance lint bench clean prometheus deploy-tools image-test manifests-check deploy-lint

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: install  ## HTTP server on http://127.0.0.1:8000/mcp with embedded defaults
	$(BIN)/mcpcloud serve --transport http

run-stdio: install
	$(BIN)/mcpcloud serve --transport stdio

.PHONY: demo-data run-data
demo-data: install  ## the SQLite shop and the FAQ vector collection examples/data.toml serves
	$(BIN)/python examples/data/make_demo.py

run-data: demo-data  ## HTTP server with the sql and vectors packs on the demo data: no database server needed
	$(BIN)/mcpcloud serve --transport http --config examples/data.toml

test: install  ## the whole suite, conformance included
	$(BIN)/python -m pytest $(PYTEST_ARGS)

LINT_STAMP := $(VENV)/.lint-stamp

$(LINT_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[lint]"
	@touch $(LINT_STAMP)

lint: $(LINT_STAMP)  ## ruff check, ruff format --check, and the import-linter layering contracts (pyproject.toml)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/ruff format --check src tests bench

conformance: install  ## only the official MCP conformance suite and the conformance pack (docs/CONFORMANCE.md)
	$(BIN)/python -m pytest tests/test_conformance.py tests/test_conformance_pack.py tests/test_conformance_judge.py $(PYTEST_ARGS)

BENCH_STAMP := $(VENV)/.bench-stamp
BENCH_ARGS ?=

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	@touch $(BENCH_STAMP)

# wrk only cross-checks the Python load generator; without it (not root, no apt) the run goes on.
bench: $(BENCH_STAMP)  ## the whole benchmark of bench/README.md (~5 min); writes bench/results/latest.{json,md}
	@command -v wrk >/dev/null || (test "$$(id -u)" = 0 && apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq wrk >/dev/null) \
		|| echo "bench: wrk not installed (apt-get install wrk); skipping the cross-check"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

prometheus:  ## Debian's prometheus + promtool, for the metrics and alert-rule tests (service left stopped)
	bash deploy/scripts/install-prometheus.sh

clean:
	rm -rf $(VENV) .pytest_cache .conformance $(DEPLOY_VENV)

# --- deployment checks (docs/DEPLOY.md); their tools live in their own venv ---------------
DEPLOY_VENV  := .venv-deploy
DEPLOY_BIN   := $(DEPLOY_VENV)/bin
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed-stamp

$(DEPLOY_STAMP): deploy/requirements-deploy.txt
	@test -x $(DEPLOY_BIN)/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_BIN)/python -m pip install --quiet -r deploy/requirements-deploy.txt
	@touch $(DEPLOY_STAMP)

deploy-tools: $(DEPLOY_STAMP)

image-test: install deploy-tools  ## build the image with podman, run it hardened, call it, SIGTERM it
	PATH="$(CURDIR)/$(DEPLOY_BIN):$$PATH" PYTHON="$(CURDIR)/$(BIN)/python" deploy/scripts/image-test.sh

manifests-check: deploy-tools  ## render every overlay; kubernetes-validate --strict; checkov
	$(DEPLOY_BIN)/python deploy/scripts/manifests_check.py

deploy-lint: deploy-tools  ## shellcheck the scripts, yamllint the YAML, actionlint the workflows
	$(DEPLOY_BIN)/shellcheck -x deploy/scripts/*.sh .ci/run
	$(DEPLOY_BIN)/yamllint --strict deploy .github
	$(DEPLOY_BIN)/actionlint -shellcheck $(CURDIR)/$(DEPLOY_BIN)/shellcheck
