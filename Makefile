# ctop-py: `make run` starts the app on this host; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run install deps docker images lint typecheck pytest test stress bench screenshots clean mutate

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

# Host packages the live tests need: Debian's docker.io, busybox-static, prometheus (a real
# server scrapes the exporter in the tests; started by the test, not as a service) and strace
# (proves ctop-py never writes under /proc, /sys or the runtimes' state), tmux (a real terminal
# for the shell that `e` runs, tests/test_exec_tmux.py).
deps:
	@command -v dockerd >/dev/null && [ -x /bin/busybox ] && command -v prometheus >/dev/null \
	  && command -v strace >/dev/null && command -v tmux >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    docker.io busybox-static prometheus strace tmux; }

docker: deps
	scripts/ensure-docker.sh

images: docker
	tests/images/build.sh

lint: install
	$(BIN)/ruff check ctop_py tests benchmarks
	$(BIN)/ruff format --check ctop_py tests benchmarks
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

test: install images lint typecheck pytest

# The long churn run (a minute of containers started and removed while the collector samples).
stress: install images
	CTOP_STRESS_SECONDS=60 $(BIN)/pytest -q tests/test_churn.py

# BENCH_ARGS: e.g. "--screens-only" (the app per screen alone), "--skip peers,glances"
bench: install images
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Mutation testing (mutmut) of the modules whose numbers users trust, against the fast suite
# (no Docker); slow, so not in `make test`. Modules: [tool.mutmut] in pyproject.toml; the score
# and the surviving mutants judged equivalent: MUTATION.md.
MUTMUT_VERSION ?= 3.8.1
mutate: install
	$(BIN)/pip install -q 'mutmut==$(MUTMUT_VERSION)'
	rm -rf mutants
	$(BIN)/mutmut run --max-children $$(nproc)
	$(BIN)/mutmut results

screenshots: install
	$(BIN)/python -m ctop_py.ui.screenshots screenshots

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache mutants

# The live Docker tests on a real cgroup v2 + systemd-driver Docker host: one throw-away qemu VM
# (tests/v2host/README.md). Installs qemu/debootstrap if missing; the guest image is cached in
# /var/tmp/ctop-py-v2host. Extra pytest arguments: make test-v2 V2_PYTEST_ARGS='-k throttled'
.PHONY: test-v2
test-v2:
	tests/v2host/run.sh $(V2_PYTEST_ARGS)
