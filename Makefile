# Every target sets itself up on a fresh machine: it creates .venv and installs the
# package with the tested versions in constraints.txt (torch 2.13.0 CPU wheel).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install test test-slow demo bench clean

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,xtb]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

demo: $(STAMP)
	$(VENV)/bin/equiforce demo

bench: $(STAMP)
	cd benchmarks && ../$(PY) bench_model.py && ../$(PY) bench_export.py

clean:
	rm -rf $(VENV) build *.egg-info
