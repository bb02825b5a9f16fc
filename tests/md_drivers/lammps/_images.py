"""Explicit periodic images, as LAMMPS gives a rank its ghost atoms, and the reference all
LAMMPS tests compare with: the ASE calculator on the periodic structure."""
import itertools

import numpy as np
from ase import Atoms

from md_drivers import EquiforceCalculator


def with_images(atoms: Atoms, local: np.ndarray, reach: float):
    """Positions (nall, 3), numbers (nall,) and nlocal: the atoms ``local`` (a boolean mask)
    first, then every other atom and periodic image within ``reach`` A of the cell."""
    cell = atoms.cell.array
    heights = atoms.cell.volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]),
                                                 axis=1)
    span = [int(np.ceil(reach / h)) + 1 for h in heights]
    centre, points, numbers = [], [], []
    for shift in itertools.product(*[range(-s, s + 1) for s in span]):
        moved = atoms.positions + np.array(shift) @ cell
        home = not any(shift)
        for index, position in enumerate(moved):
            if home and local[index]:
                centre.append((position, atoms.numbers[index]))
            elif _distance_to_cell(position, cell) <= reach:
                points.append(position)
                numbers.append(atoms.numbers[index])
    positions = np.array([p for p, _ in centre] + points)
    all_numbers = np.array([z for _, z in centre] + numbers)
    return positions, all_numbers, len(centre)


def _distance_to_cell(position: np.ndarray, cell: np.ndarray) -> float:
    """An upper bound of the distance to the cell parallelepiped (0 inside)."""
    fractional = np.linalg.solve(cell.T, position)
    outside = np.clip(fractional, 0.0, 1.0)
    return float(np.linalg.norm(position - outside @ cell))


def ase_reference(atoms: Atoms, potential):
    """Energy (eV), forces (N, 3) eV/A and virial (3, 3) eV (``-stress * volume``) of the
    periodic structure from the ASE calculator (its own neighbour list with cell shifts)."""
    atoms = atoms.copy()
    atoms.calc = EquiforceCalculator(potential, skin=0.0)
    virial = -atoms.get_stress(voigt=False) * atoms.get_volume()
    return atoms.get_potential_energy(), atoms.get_forces(), virial


def lammps_order(virial: np.ndarray) -> np.ndarray:
    """(3, 3) -> LAMMPS's (xx, yy, zz, xy, xz, yz)."""
    return virial[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
