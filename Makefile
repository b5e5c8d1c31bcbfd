# Everything a fresh machine needs, idempotent: `make build` is quick when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .build-stamps
# A persistent numba cache: umap-learn's first compile costs 16-79 s, once per machine.
export NUMBA_CACHE_DIR ?= $(HOME)/.cache/embedding-projector/numba

.PHONY: build demo test lint bench

build: $(STAMPS)/python

$(STAMPS)/python: pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

demo: build
	$(VENV)/bin/projector inspect ../shared/fixtures/tf2_two_embeddings_sprite

test: build
	$(PY) -m pytest -q

lint: build
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

bench: build
	$(PY) -m benchmarks.run
