"""Benchmark the MD runner: the demo system with the ASE and OpenMM engines, and NVE drift.

    python benchmarks/bench_md.py [--steps 300] [--nve-ps 10]

Speed: fcc Cu, 256 atoms (the demo system), shipped cu-emt potential (TorchScript,
float64), Langevin NVT at 300 K, 1 fs, frames every 20 steps, through ``run_md`` with
``engine="ase"`` and ``engine="openmm"`` (CPU platform, PythonForce). Reports steps/s and
ns/day from the runner's own summary (outputs and watchdog included).

Drift (``--nve-ps``, 0 to skip): NVE of 108 Cu atoms (velocities drawn at 300 K from the
perfect lattice, so ~150 K after equipartition) for that many ps, the slope of the total
energy per atom (eV/atom/ps), as in tests/validation. Every run is ``equiforce md`` in a
fresh process.
Results: benchmarks/results/md.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import RESULTS, save_results


def run(folder: Path, args: list[str]) -> dict:
    """``equiforce md`` in a fresh process (as a user runs it): its summary.json.

    Fresh processes matter: a TorchScript module that has already been specialised for
    other system sizes in the same process can fall back to its slow unoptimised path.
    """
    command = [sys.executable, "-m", "md_drivers.cli", "md", *args, "--out", str(folder),
               "--no-progress"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads((folder / "summary.json").read_text())


def speed(engine: str, steps: int, folder: Path) -> dict:
    summary = run(folder / engine, [
        "fcc-Cu:4x4x4", "--potential", "cu-emt", "--engine", engine, "--ensemble",
        "nvt-langevin", "--steps", str(steps), "--output-interval", "20",
        "--checkpoint-interval", str(20 * max(1, steps // 100)), "--friction", "5"])
    return {"engine": engine, "atoms": summary["num_atoms"], "steps": summary["steps"],
            "steps_per_second": summary["steps_per_second"], "ns_per_day": summary["ns_per_day"]}


def drift(picoseconds: float, folder: Path) -> dict:
    summary = run(folder / "nve", [
        "fcc-Cu:3x3x3", "--potential", "cu-emt", "--ensemble", "nve", "--temperature", "300",
        "--steps", str(round(picoseconds * 1000)), "--output-interval", "20",
        "--checkpoint-interval", "1000", "--seed", "1"])
    return {"atoms": summary["num_atoms"], "picoseconds": summary["simulated_ps"],
            "drift_eV_per_atom_per_ps": summary["drift_eV_per_atom_per_ps"],
            "mean_temperature_K": summary["mean_temperature_K"],
            "steps_per_second": summary["steps_per_second"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--nve-ps", type=float, default=10.0)
    parser.add_argument("--output", help="JSON file (default: results/md.json)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = [speed(engine, args.steps, folder) for engine in ("ase", "openmm")]
        for row in rows:
            print(f"{row['engine']:>6}: {row['atoms']} atoms, {row['steps_per_second']:.1f} "
                  f"steps/s, {row['ns_per_day']:.2f} ns/day")
        sections = {"demo_system_speed": rows}
        if args.nve_ps > 0:
            sections["nve_drift"] = drift(args.nve_ps, folder)
            print("NVE drift:", sections["nve_drift"])
    save_results("md", sections, Path(args.output) if args.output else RESULTS / "md.json")


if __name__ == "__main__":
    main()
