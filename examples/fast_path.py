"""The default fast path: a shipped potential in float64 and float32, against the e3nn model.

    python examples/fast_path.py [--repeat 4] [--calls 5]

``load("cu-emt")`` (and every calculator, ``equiforce md`` and the OpenMM PythonForce)
runs a :class:`potentials.FastPotential`: the same function and weights as the e3nn
model, with the edge work fused and chunked. This script loads cu-emt in both precisions
and as the file's own TorchScript module, checks that they agree on a rattled fcc Cu
crystal of ``4 * repeat^3`` atoms, and prints the time of one energy+forces+stress call.
"""
import argparse
import time

import numpy as np
import torch
from ase.build import bulk

from md_drivers import EquiforceCalculator
from potentials import load


def timed_results(calculator: EquiforceCalculator, atoms, calls: int):
    """Energy (eV), forces (N, 3) and stress (6,), and the median seconds per call."""
    atoms = atoms.copy()
    atoms.calc = calculator
    atoms.get_forces()  # warm-up (first call builds the neighbour list)
    seconds = []
    for k in range(calls):
        atoms.positions[0, 0] += 1e-4 * (k + 1)  # a new geometry each call
        start = time.perf_counter()
        atoms.get_stress()
        seconds.append(time.perf_counter() - start)
    return (atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress(),
            float(np.median(seconds)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(args.repeat)
    atoms.rattle(0.05, seed=0)
    variants = {"fast float64": load("cu-emt"),
                "fast float32": load("cu-emt", dtype=torch.float32),
                "TorchScript float64": load("cu-emt", fast=False)}
    results = {name: timed_results(EquiforceCalculator(potential), atoms, args.calls)
               for name, potential in variants.items()}
    energy, forces, stress, _ = results["TorchScript float64"]
    print(f"{len(atoms)} Cu atoms, cu-emt, energy+forces+stress per call:")
    for name, (e, f, s, seconds) in results.items():
        print(f"  {name:20s} {1e3 * seconds:8.1f} ms   |dE| {abs(e - energy):.1e} eV   "
              f"max|dF| {np.abs(f - forces).max():.1e} eV/A   max|dS| {np.abs(s - stress).max():.1e} eV/A^3")


if __name__ == "__main__":
    main()
