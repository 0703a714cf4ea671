# loihi-pinn: `make demo` and `make test` do all set-up on a fresh machine.
# Lava 0.10.0 imports only on Python 3.10: PYTHON=... overrides, then python3.10 on PATH,
# then pyenv's 3.10 versions.
SHELL := /bin/bash
VENV  := .venv
STAMP := $(VENV)/.installed
PY    := $(VENV)/bin/python

# First candidate that really runs Python 3.10 (a pyenv shim may exist yet point elsewhere).
PYTHON ?= $(shell for p in python3.10 $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV); do \
            "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)

.PHONY: venv demo test test-fast clean-venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ] || ! "$(PYTHON)" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
	  echo "loihi-pinn needs Python 3.10 (Lava 0.10.0 does not import on 3.11+)."; \
	  echo "Install one (e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv')"; \
	  echo "or point to it: make PYTHON=/path/to/python3.10 $(MAKECMDGOALS)"; \
	  exit 1; fi
	@[ -x $(PY) ] || "$(PYTHON)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/loihi-pinn demo --force

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

clean-venv:
	rm -rf $(VENV)
