# Two commands matter: `make run` and `make test`. Both create and reuse .venv/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run run-stdio test conformance lint bench clean deploy-tools image-test manifests-check deploy-lint

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

test: install  ## the whole suite, conformance included
	$(BIN)/python -m pytest $(PYTEST_ARGS)

conformance: install  ## only the official MCP conformance suite and the conformance pack (docs/CONFORMANCE.md)
	$(BIN)/python -m pytest tests/test_conformance.py tests/test_conformance_pack.py tests/test_conformance_judge.py $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/loadgen.py --help

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
