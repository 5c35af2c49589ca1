# The two commands: `make run` (whole system, embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.install-stamp

.PHONY: run test test-fast lint typecheck install postgres chromium weasyprint poppler deploy-tools promtool asyncapi-schema bench clean-data compose-check

run: install ## start broker, services, gateway and demo data; Ctrl-C stops everything
	$(PY) -m deploy.local.runner

test: install postgres chromium weasyprint poppler deploy-tools promtool asyncapi-schema ## every test tier, then the linters (code, layering) and the type checker
	$(PY) -m pytest
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy shared services deploy

test-fast: install ## unit tests only
	$(PY) -m pytest -m unit

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy shared services

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

chromium: ## headless Chromium for the /docs browser test (Debian package)
	@bash deploy/local/ensure-chromium.sh

poppler: ## pdftoppm and pdftotext for the report's PDF page test (Debian package poppler-utils)
	@bash deploy/local/ensure-poppler.sh

weasyprint: ## the Pango libraries WeasyPrint renders the report's PDF with (Debian packages)
	@bash deploy/local/ensure-weasyprint.sh

deploy-tools: ## checkov, hadolint, kubernetes-validate in .venv-tools (for tests/deploy)
	@bash deploy/local/ensure-deploy-tools.sh

asyncapi-schema: ## the published AsyncAPI JSON Schemas (npm @asyncapi/specs) for the catalogue test
	@bash deploy/local/ensure-asyncapi-schema.sh

promtool: ## promtool for the alert rules check (Debian package prometheus)
	@bash deploy/observability/ensure-promtool.sh

postgres: ## start the local PostgreSQL when it is not running (tests use it when present)
	@bash deploy/local/ensure-postgres.sh

bench: install ## benchmarks (see bench/README.md)
	$(PY) -m bench

compose-check: install deploy-tools ## validate compose, Dockerfile and k8s without an engine
	$(PY) -m deploy.check_compose
	.venv-tools/bin/python -m deploy.schema_check docker-compose.yml
	.venv-tools/bin/hadolint deploy/Dockerfile

clean-data: ## forget the local data (SQLite files, keys, demo markers)
	rm -rf .data
