"""Equation of state of fcc Cu: the shipped `cu-emt` potential against EMT itself.

    python examples/cu_emt_eos.py [--points 9]

Fits E(V) of the one-atom fcc cell (Birch-Murnaghan, ASE's EquationOfState) for both
calculators and prints the lattice constant (A) and bulk modulus (GPa).
"""
import argparse

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState
from ase.units import GPa

from md_drivers import EquiforceCalculator


def lattice_constant_and_bulk_modulus(calc, points: int) -> tuple[float, float]:
    volumes, energies = [], []
    for a in np.linspace(3.50, 3.70, points):
        atoms = bulk("Cu", "fcc", a=a)
        atoms.calc = calc
        volumes.append(atoms.get_volume())
        energies.append(atoms.get_potential_energy())
    v0, _, b = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
    return (4 * v0) ** (1 / 3), b / GPa


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=9)
    args = parser.parse_args()
    for name, calc in (("EMT", EMT()), ("cu-emt", EquiforceCalculator("cu-emt"))):
        a0, b = lattice_constant_and_bulk_modulus(calc, args.points)
        print(f"{name:7s} a0 = {a0:.4f} A   B = {b:.1f} GPa")


if __name__ == "__main__":
    main()
