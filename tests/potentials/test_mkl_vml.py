"""The VML warm-up: a fresh process's first threaded unary op is as accurate as NumPy.

Without the warm-up, about one fresh process in six here computed half of its first
``torch.sin`` (2 threads) with ~7e-9 relative error (pytorch/pytorch issue 188792). oneMKL
picks each function's kernel on that function's first call, so each process checks the
first call of six VML functions: 6 processes give 36 first calls, as many as the 12
processes x 3 functions this test used before (if each first call fails with probability
~1/6, all 36 pass by chance with probability ~0.001).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import potentials
from potentials import EquivariantPotential, PotentialConfig

_MODULE = Path(potentials.__file__).parent / "_mkl_vml.py"

# Loads only the warm-up module, so each process starts in about a second.
_FIRST_CALLS = f"""
import importlib.util, numpy as np, torch
spec = importlib.util.spec_from_file_location("_mkl_vml", {str(_MODULE)!r})
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
module.warm_up_vml()
x = np.linspace(0.1, 3.0, 100_000)
errors = []
for name in ("sin", "exp", "sqrt", "sinh", "log1p", "tanh"):
    first = getattr(torch, name)(torch.from_numpy(x)).numpy()
    reference = getattr(np, name)(x)
    errors.append(float(np.max(np.abs(first - reference) / np.abs(reference))))
print(max(errors))
"""


@pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="torch built without MKL")
def test_first_threaded_unary_ops_of_fresh_processes_match_numpy():
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    errors = [float(subprocess.run([sys.executable, "-c", _FIRST_CALLS], env=env, check=True,
                                   capture_output=True, text=True).stdout)
              for _ in range(6)]
    assert max(errors) < 1e-14, f"first-call relative errors per process: {errors}"


def test_building_or_loading_a_potential_warms_up_vml(monkeypatch):
    import potentials.deployed
    import potentials.model

    calls = []
    for module in (potentials.model, potentials.deployed):
        monkeypatch.setattr(module, "warm_up_vml", lambda name=module.__name__: calls.append(name))
    config = PotentialConfig(species=(29,), cutoff=3.0, channels=4, num_layers=1, l_max=1)
    potentials.DeployedPotential.from_model(EquivariantPotential(config))
    assert calls[0] == "potentials.model" and "potentials.deployed" in calls
