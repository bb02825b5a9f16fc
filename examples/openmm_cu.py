"""An equiforce potential as an OpenMM force: NVE of fcc Cu with a PythonForce.

    python examples/openmm_cu.py [--repeat 4] [--steps 500] [--backend python]

Builds an OpenMM System for fcc Cu (``repeat``^3 cubic cells) with ``create_system`` and
the shipped cu-emt potential, runs VerletIntegrator NVE on the CPU platform, and prints
ms/step and the total-energy fluctuation next to the kinetic-energy fluctuation (the
scale a broken force would show).
"""
import argparse
import time

import numpy as np
import openmm
from ase.build import bulk

from md_drivers.openmm import create_system

KJ = openmm.unit.kilojoule_per_mole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--backend", default="auto", choices=("auto", "python", "torch"))
    args = parser.parse_args()

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(args.repeat)
    built = create_system(atoms, "cu-emt", backend=args.backend)     # masses, box (nm), force
    force = built.force
    context = openmm.Context(built.system, openmm.VerletIntegrator(0.001),  # 1 fs
                             openmm.Platform.getPlatformByName("CPU"))
    context.setPositions(built.positions)                               # nm
    context.setVelocitiesToTemperature(600.0, 1)

    kinetic, total = [], []
    start = time.perf_counter()
    for _ in range(max(1, args.steps // 10)):
        context.getIntegrator().step(10)
        state = context.getState(getEnergy=True)
        k = state.getKineticEnergy().value_in_unit(KJ)
        kinetic.append(k)
        total.append(k + state.getPotentialEnergy().value_in_unit(KJ))
    seconds = time.perf_counter() - start
    print(f"{len(atoms)} Cu atoms, {type(force).__name__}, "
          f"{1e3 * seconds / (10 * len(total)):.1f} ms/step")
    print(f"total-energy std {np.std(total):.4f} kJ/mol vs kinetic-energy std "
          f"{np.std(kinetic):.2f} kJ/mol")


if __name__ == "__main__":
    main()
