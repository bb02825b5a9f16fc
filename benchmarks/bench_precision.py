"""Benchmark: every shipped potential in float32 and float64 on the default (fast) path.

    python benchmarks/bench_precision.py [--picoseconds 2] [--names cu-emt ...]

For each shipped potential and precision: NVE energy drift (velocity Verlet, ``equiforce
md`` in a fresh process, from 108-atom fcc Cu for the Cu potentials and from a held-out
frame for the molecules, velocities at 300 K,
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

TIMESTEP_FS = {"cu-emt": 1.0, "cu-emt-seed1": 1.0, "cu-emt-seed2": 1.0, "ethanol-xtb": 0.5}
# villin-amber14 is an ML/MM region model (trained inside solvated villin): alone in vacuum
# at 300 K it leaves its training distribution and the watchdog stops the run (max force
# 70 eV/A at step 40 in float64), so no standalone NVE drift is measured for it.
NO_STANDALONE_NVE = {"villin-amber14": "ML/MM region model; standalone vacuum NVE is "
                                       "outside its training distribution"}


def nve(name: str, dtype: str, picoseconds: float, folder: Path) -> dict:
    """``equiforce md`` NVE of the potential's start structure; its summary."""
    from potentials.pretrained import heldout_path

    structure = "fcc-Cu:3x3x3" if name.startswith("cu-") else str(heldout_path(name))
    timestep = TIMESTEP_FS.get(name, 0.5)
    steps = round(picoseconds * 1000 / timestep)
    out = folder / f"{name}-{dtype}"
    command = [sys.executable, "-m", "md_drivers.cli", "md", structure,
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
            print(f"{name}: f32-f64 max |dF| {row['max_force_difference_eV_per_A']:.1e} eV/A",
                  flush=True)
            if name in NO_STANDALONE_NVE:
                row["nve_skipped"] = NO_STANDALONE_NVE[name]
                rows.append(row)
                continue
            for dtype in ("float64", "float32"):
                row[dtype] = nve(name, dtype, args.picoseconds, Path(tmp))
                drift = row[dtype]["drift_eV_per_atom_per_ps"]  # None: too short to fit
                print(f"  {dtype}: drift {'n/a' if drift is None else f'{drift:.2e}'} "
                      f"eV/atom/ps, {row[dtype]['steps_per_second']:.1f} steps/s", flush=True)
            rows.append(row)
    save_results("precision", {"picoseconds": args.picoseconds, "rows": rows}, args.output)


if __name__ == "__main__":
    main()
