"""Physical validation of long MD with the shipped cu-emt potential (fcc Cu, 108 atoms).

NVE drift bound. A velocity-Verlet run with forces that are the exact gradient of a smooth
(C2-cutoff) energy has bounded O(dt^2) energy fluctuations and no systematic drift; a
drift appears only from non-conservative forces, a non-smooth cutoff or a broken
integrator, and those show up at the scale of the kinetic energy per atom
(k_B T = 26 meV at 300 K) per ps. The bound, 0.1 meV/atom/ps, is 0.4% of k_B T per ps,
and still allows a run of 1 ns to drift by less than 4 k_B T per atom.

NVT: the Langevin thermostat must give a mean temperature within statistical error of the
target: |<T> - T0| < 4 standard errors (block averages over 10 blocks, after 20%
equilibration).
"""
import numpy as np
import pytest

from md_drivers.runner import MDConfig, run_md

DRIFT_BOUND_EV_PER_ATOM_PER_PS = 1e-4


def nve(tmp_path, steps, dtype, structure="fcc-Cu:3x3x3"):
    """NVE on the default (fast) path of cu-emt in ``dtype``."""
    config = MDConfig(structure=structure, potential=("cu-emt",), ensemble="nve",
                      steps=steps, temperature_K=300.0, output_interval=20,
                      checkpoint_interval=1000, seed=1, dtype=dtype)
    return run_md(config, tmp_path / "nve", progress=False)


@pytest.mark.parametrize("dtype", ["float64", pytest.param("float32", marks=pytest.mark.slow)])
def test_nve_drift_reduced(tmp_path, dtype):
    """0.5 ps of 32 atoms in float64 (float32, and the 10 ps run of 108 atoms in both
    dtypes, test_nve_drift_10ps, are marked slow)."""
    summary = nve(tmp_path, 500, dtype, structure="fcc-Cu:2x2x2")
    assert abs(summary.drift_eV_per_atom_per_ps) < DRIFT_BOUND_EV_PER_ATOM_PER_PS


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_nve_drift_10ps(tmp_path, dtype):
    summary = nve(tmp_path, 10_000, dtype)
    assert abs(summary.drift_eV_per_atom_per_ps) < DRIFT_BOUND_EV_PER_ATOM_PER_PS


def test_nvt_mean_temperature_matches_the_target(tmp_path):
    """1 ps of 32 atoms: ten blocks of 0.08 ps, each about one thermostat time (0.2 ps)."""
    config = MDConfig(structure="fcc-Cu:2x2x2", potential=("cu-emt",), ensemble="nvt-langevin",
                      steps=1000, temperature_K=500.0, friction_per_ps=5.0,
                      output_interval=10, checkpoint_interval=1000, seed=2)
    run_md(config, tmp_path / "nvt", progress=False)
    rows = np.genfromtxt(tmp_path / "nvt" / "thermo.csv", delimiter=",", names=True)
    temperatures = rows["temperature_K"][len(rows) // 5:]
    blocks = np.array([b.mean() for b in np.array_split(temperatures, 10)])
    sem = blocks.std(ddof=1) / np.sqrt(len(blocks))
    assert abs(temperatures.mean() - 500.0) < 4 * sem, (temperatures.mean(), sem)
