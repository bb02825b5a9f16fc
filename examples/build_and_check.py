"""Build an equivariant potential, evaluate it through ASE, and check it like a test would.

    python examples/build_and_check.py [--l-max 2] [--correlation 3]

Prints energy, forces, stress, and the deviations of forces from finite differences and of
energies under a random rotation + reflection (both should be ~1e-10 or below in float64),
then exports the model and runs the whole test kit (docs/testing.md) on the exported file.
"""
import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from ase.build import bulk

from md_drivers import EquiforceCalculator
from potentials import EquivariantPotential, PotentialConfig, export
from potentials.testing import (check_potential, evaluate, finite_difference_forces,
                                random_orthogonal, transform_atoms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l-max", type=int, default=2)
    parser.add_argument("--correlation", type=int, default=3)
    args = parser.parse_args()

    torch.manual_seed(0)
    config = PotentialConfig(species=(29, 79), cutoff=4.5, l_max=args.l_max, channels=16,
                             correlation=args.correlation, avg_num_neighbors=30.0)
    model = EquivariantPotential(config, dtype=torch.float64)
    atoms = bulk("Cu", "fcc", a=3.7).repeat((2, 2, 2))
    atoms.numbers[::3] = 79                       # a random-ish CuAu alloy
    atoms.rattle(0.05, seed=1)

    atoms.calc = EquiforceCalculator(model)
    print(f"energy {atoms.get_potential_energy():.6f} eV for {len(atoms)} atoms")
    print(f"max |force| {np.abs(atoms.get_forces()).max():.4f} eV/A")
    print("stress (eV/A^3, Voigt):", np.array2string(atoms.get_stress(), precision=6))

    fd_error = np.abs(evaluate(model, atoms)["forces"]
                      - finite_difference_forces(model, atoms, delta=1e-5)).max()
    print(f"forces vs finite differences: max deviation {fd_error:.2e} eV/A")
    rotated = transform_atoms(atoms, random_orthogonal(7, reflect=True))
    energy_error = abs(evaluate(model, rotated)["energy"] - evaluate(model, atoms)["energy"])
    print(f"energy change under rotation+reflection: {energy_error:.2e} eV")

    with tempfile.TemporaryDirectory() as folder:
        path = export(model, Path(folder) / "model.pt")
        check_potential(path, [atoms], finite_differences=False)  # raises on any failure
    print("test kit on the exported file: every check passed")


if __name__ == "__main__":
    main()
