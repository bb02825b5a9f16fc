"""Benchmark: every shipped potential in float32 and float64 on the default (fast) path.

    python benchmarks/bench_precision.py [--picoseconds 2] [--names cu-emt ...]

For each shipped potential and precision: NVE energy drift (velocity Verlet, ``equiforce
md`` in a fresh process, the first held-out frame as the start, velocities at 300 K,
drift = slope of the total energy per atom, eV/atom/ps) and speed (steps/s); and the
largest force and energy-per-atom difference of float32 from float64 on the held-out
frames. The numbers behind the precision advice of the model cards (docs/models/).
Results: benchmarks/results/precision.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _common import RESULTS, save_results

TIMESTEP_FS = {"cu-emt": 1.0, "cu-emt-seed1": 1.0, "cu-emt-seed2": 1.0,
               "ethanol-xtb": 0.5, "villin-amber14": 0.5}


def nve(name: str, dtype: str, picoseconds: float, folder: Path) -> dict:
    """``equiforce md`` NVE from the first held-out frame; its summary."""
    from potentials.pretrained import heldout_path

    timestep = TIMESTEP_FS.get(name, 0.5)
    steps = round(picoseconds * 1000 / timestep)
    out = folder / f"{name}-{dtype}"
    command = [sys.executable, "-m", "md_drivers.cli", "md", f"{heldout_path(name)}",
               "--potential", name, "--ensemble", "nve", "--dtype", dtype,
               "--timestep", str(timestep), "--steps", str(steps), "--temperature", "300",
               "--output-interval", "20", "--checkpoint-interval", str(20 * max(1, steps // 20)),
               "--seed", "1", "--out", str(out), "--no-progress"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    summary = json.loads((out / "summary.json").read_text())
    return {"timestep_fs": timestep, "steps": steps, "atoms": summary["num_atoms"],
            "drift_eV_per_atom_per_ps": summary["drift_eV_per_atom_per_ps"],
            "mean_temperature_K": summary["mean_temperature_K"],
            "steps_per_second": summary["steps_per_second"]}


def float32_deviation(name: str) -> dict:
    """Largest |F32 - F64| force component (eV/A) and energy per atom (eV) on held-out frames."""
    from md_drivers import EquiforceCalculator
    from potentials import load
    from potentials.pretrained import heldout_path
    from potentials.train import read_frames

    calculators = {dtype: EquiforceCalculator(load(name, dtype=dtype))
                   for dtype in ("float32", "float64")}
    force, energy = 0.0, 0.0
    for frame in read_frames(heldout_path(name), species=load(name).species):
        results = {}
        for dtype, calc in calculators.items():
            atoms = frame.atoms.copy()
            atoms.calc = calc
            results[dtype] = (atoms.get_potential_energy() / len(atoms), atoms.get_forces())
        force = max(force, float(np.abs(results["float32"][1] - results["float64"][1]).max()))
        energy = max(energy, abs(results["float32"][0] - results["float64"][0]))
    return {"max_force_difference_eV_per_A": force,
            "max_energy_difference_eV_per_atom": energy}


def main() -> None:
    from potentials.pretrained import available

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picoseconds", type=float, default=2.0)
    parser.add_argument("--names", nargs="+", default=available())
    parser.add_argument("--output", type=Path, default=RESULTS / "precision.json")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.names:
            row = {"potential": name, **float32_deviation(name)}
            for dtype in ("float64", "float32"):
                row[dtype] = nve(name, dtype, args.picoseconds, Path(tmp))
            rows.append(row)
            print(f"{name}: f32-f64 max |dF| {row['max_force_difference_eV_per_A']:.1e} eV/A; "
                  + "; ".join(f"{d} drift {row[d]['drift_eV_per_atom_per_ps']:.2e} eV/atom/ps "
                              f"({row[d]['steps_per_second']:.1f} steps/s)"
                              for d in ("float64", "float32")), flush=True)
    save_results("precision", {"picoseconds": args.picoseconds, "rows": rows}, args.output)


if __name__ == "__main__":
    main()
