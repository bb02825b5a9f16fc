# Every target sets itself up on a fresh machine: it creates .venv and installs the
# package with the tested versions in constraints.txt (torch 2.13.0 CPU wheel).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install test test-slow test-openmm-torch demo bench clean

# The openmm-torch environment: openmmtorch 1.5 needs torch 2.9.1 (a CUDA build from the
# registry, ~3 GB download; it runs on the CPU). Only the TorchForce tests run there.
OMT_VENV ?= .venv-openmm-torch
OMT_PY := $(OMT_VENV)/bin/python
OMT_STAMP := $(OMT_VENV)/.installed-stamp

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,xtb]'
	touch $(STAMP)

$(OMT_STAMP): setup.py constraints-openmm-torch.txt
	$(PYTHON) -m venv $(OMT_VENV)
	$(OMT_PY) -m pip install --quiet --upgrade pip
	$(OMT_PY) -m pip install --quiet -c constraints-openmm-torch.txt -e '.[test]' openmmtorch
	touch $(OMT_STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

test-openmm-torch: $(OMT_STAMP)
	EQUIFORCE_REQUIRE_OPENMM_TORCH=1 $(OMT_PY) -m pytest -m openmm_torch

demo: $(STAMP)
	$(VENV)/bin/equiforce demo

bench: $(STAMP)
	cd benchmarks && ../$(PY) bench_model.py && ../$(PY) bench_export.py && ../$(PY) bench_torchscript.py && ../$(PY) bench_openmm.py && ../$(PY) bench_md.py

clean:
	rm -rf $(VENV) $(OMT_VENV) build *.egg-info
