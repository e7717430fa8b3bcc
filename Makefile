# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: install install-dev run test bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "LDN CDS needs Python 3.11 or newer as '$(PYTHON)' (PYTHON=... to choose another)."; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		{ echo "'$(PYTHON) -m venv' is not available: install your system's python3-venv package."; exit 1; }
	@$(PYTHON) -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null && \
		command -v cc >/dev/null 2>&1 || \
		{ echo "durable-rules compiles a C core at install: install a C compiler and the Python headers (e.g. gcc, python3-dev)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Local development: loopback only, CDS Hooks JWT checks off (a warning is logged at start-up).
run: install
	LDN_CDS_HOOKS_AUTH=off $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers $(WORKERS) --worker-class sync \
		'cds:create_app()'

test: install-dev
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
