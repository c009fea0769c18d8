# ctop-py: `make run` starts the app on this host; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run install deps docker images lint typecheck pytest test bench screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "ctop-py needs Python >= 3.11"; exit 1; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/ctop-py

# Host packages the live tests need: Debian's docker.io and busybox-static.
deps:
	@command -v dockerd >/dev/null && [ -x /bin/busybox ] || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static; }

docker: deps
	scripts/ensure-docker.sh

images: docker
	tests/images/build.sh

lint: install
	$(BIN)/ruff check ctop_py tests benchmarks
	$(BIN)/ruff format --check ctop_py tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

test: install images lint typecheck pytest

bench: install images
	$(BIN)/python -m benchmarks

screenshots: install
	$(BIN)/python -m ctop_py.ui.screenshots screenshots

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
