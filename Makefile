# Everything a fresh machine needs, idempotent: `make build` is quick when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .build-stamps
# A persistent numba cache: umap-learn's first compile costs 16-79 s, once per machine.
export NUMBA_CACHE_DIR ?= $(HOME)/.cache/embedding-projector/numba

# The browser tests and the web benchmark drive Debian's Chromium (never a downloaded one).
CHROMIUM := /usr/bin/chromium

.PHONY: build web demo test lint bench docs api-types

# The HTTP contract the page is built against (docs/decisions.md): committed files written
# from the server's models; building checks they are current.
API_SOURCES := $(shell find src/embedding_projector -name '*.py') scripts/api_contract.py
API_FILES := web/src/api/openapi.json web/test/fixtures/server_config.json

build: $(STAMPS)/api-contract web | $(CHROMIUM)

$(STAMPS)/python: pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# The web page is built into the package (git-ignored, shipped in the wheel). hatch_build.py
# decides, as it does for `python -m build`: `npm ci` when web/node_modules is older than the
# lock file, `npm run build` when the page is older than web/.
web: $(STAMPS)/python
	@$(PY) hatch_build.py

$(STAMPS)/api-contract: $(STAMPS)/python $(API_SOURCES) $(API_FILES)
	$(PY) scripts/api_contract.py --check
	@touch $@

# After changing a route or a model: rewrite the contract files and the page's types.
api-types: web
	$(PY) scripts/api_contract.py
	cd web && npm run --silent api-types

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

demo: build
	$(VENV)/bin/projector demo digits

test: build
	cd web && npm test --silent
	$(PY) -m pytest -q

lint: build
	$(PY) scripts/api_contract.py --check
	$(VENV)/bin/ruff check src tests benchmarks examples scripts hatch_build.py
	$(VENV)/bin/ruff format --check src tests benchmarks examples scripts hatch_build.py
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	cd web && npm run --silent check && npm run --silent lint

bench: build
	$(PY) -m benchmarks.run

# The documentation site, into site/ (git-ignored); warnings are errors. tests/test_docs.py
# builds it the same way in `make test`.
docs: build
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
