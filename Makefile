# Quick start: `make app` (set up .venv, start the app) and `make test` (set up .venv, run tests).
# Both install the exact versions of the lock files; `make lock` remakes them from the ranges in
# requirements.txt / requirements-dev.txt. Another interpreter or place for the virtualenv:
# `make test PYTHON=python3.12 VENV=.venv312`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# Extra flags for `make lock`: --upgrade (every package to its newest allowed release) or
# --upgrade-package NAME; without them the lock keeps its pins and moves only what must move.
LOCK_FLAGS ?=
# One lock for every supported Python: markers pick the version where they differ.
COMPILE := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 \
	--custom-compile-command "make lock" $(LOCK_FLAGS)

.PHONY: app test lint benchmark lock ray

$(VENV)/.runtime: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.lock
	$(PY) -m pip install -q -r requirements-dev.lock
	touch $@

app: $(VENV)/.runtime
	$(PY) -m streamlit run app.py

test: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m mypy

# The optional Ray engine (`predict --engine ray`), at the development lock's versions.
ray: $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-ray.txt -c requirements-dev.lock

benchmark: $(VENV)/.dev
	$(PY) -m mask_detector benchmark

# The runtime lock first; the development lock is held to it, so both agree on shared packages.
lock: $(VENV)/.dev
	$(COMPILE) requirements.txt -c lock-constraints.txt -o requirements.lock
	$(COMPILE) requirements-dev.txt -c lock-constraints.txt -c requirements.lock \
		-o requirements-dev.lock
