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

.PHONY: build web demo test lint bench docs

build: web | $(CHROMIUM)

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

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

demo: build
	$(VENV)/bin/projector demo digits

test: build
	cd web && npm test --silent
	$(PY) -m pytest -q

lint: build
	$(VENV)/bin/ruff check src tests benchmarks examples scripts hatch_build.py
	$(VENV)/bin/ruff format --check src tests benchmarks examples scripts hatch_build.py
	$(VENV)/bin/mypy
	cd web && npm run --silent check && npm run --silent lint

bench: build
	$(PY) -m benchmarks.run

# The documentation site, into site/ (git-ignored); warnings are errors. tests/test_docs.py
# builds it the same way in `make test`.
docs: build
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
