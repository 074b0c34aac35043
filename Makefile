# Gradient Flow Lab — `make run` serves the app, `make test` runs every test.
# Both create (or reuse) .venv and install what they need first.

PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint format install install-test chromium fonts postgresql bench clean

run: $(VENV)/.installed
	$(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --no-access-log

# the test files spread over one process per core (pytest-xdist); each file stays on one, so its
# module fixtures (a browser, a server, a Dask cluster) are started once. PYTEST_ARGS= runs serially.
PYTEST_ARGS ?= -n auto --dist loadfile

test: $(VENV)/.installed-test chromium fonts postgresql lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Debian's chromium for the browser tests (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# A Korean font, so that the browser tests' Korean screenshots show glyphs, not empty boxes.
fonts:
	@fc-list :lang=ko 2>/dev/null | grep -q . || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-noto-cjk >/dev/null; }

# Debian's PostgreSQL server for the store's tests (the suite starts its own cluster).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

bench: $(VENV)/.installed-test chromium
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_page.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
