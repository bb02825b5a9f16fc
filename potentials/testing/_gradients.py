"""Forces and stress against finite differences of the potential's own energy."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ._evaluate import PotentialLike, as_potential, check, evaluate

__all__ = ["finite_difference_forces", "finite_difference_stress",
           "assert_forces_match_finite_differences", "assert_stress_matches_finite_strain"]


def finite_difference_forces(potential: PotentialLike, atoms, delta: float = 1e-4) -> np.ndarray:
    """Central differences ``-dE/dr`` (N, 3) in eV/A, step ``delta`` (A); 6N energies."""
    potential = as_potential(potential)
    forces = np.zeros((len(atoms), 3))
    for index in range(len(atoms)):
        for axis in range(3):
            energies = []
            for sign in (1.0, -1.0):
                displaced = atoms.copy()
                displaced.positions[index, axis] += sign * delta
                energies.append(evaluate(potential, displaced)["energy"])
            forces[index, axis] = -(energies[0] - energies[1]) / (2 * delta)
    return forces


def finite_difference_stress(potential: PotentialLike, atoms, delta: float = 1e-5) -> np.ndarray:
    """``(1/V) dE/d(strain)`` (3, 3) in eV/A^3 by central differences of a symmetric
    strain of size ``delta`` applied to cell and positions (ASE's sign); 12 energies."""
    potential = as_potential(potential)
    volume = abs(np.linalg.det(atoms.cell.array))
    if volume == 0.0:
        raise ValueError("finite_difference_stress needs a cell with a non-zero volume")
    stress = np.zeros((3, 3))
    for i in range(3):
        for j in range(i, 3):
            energies = []
            for sign in (1.0, -1.0):
                strain = np.eye(3)
                strain[i, j] += sign * delta / (1.0 if i == j else 2.0)
                strain[j, i] = strain[i, j]
                strained = atoms.copy()
                strained.set_cell(atoms.cell.array @ strain, scale_atoms=False)
                strained.positions = atoms.positions @ strain
                energies.append(evaluate(potential, strained)["energy"])
            stress[i, j] = stress[j, i] = (energies[0] - energies[1]) / (2 * delta * volume)
    return stress


def assert_forces_match_finite_differences(potential: PotentialLike, atoms, delta: float = 1e-5,
                                           rtol: float = 1e-6,
                                           directions: Optional[int] = None) -> None:
    """Forces equal central finite differences of the energy (float64 potentials;
    float32 round-off swamps a difference quotient).

    Args:
        directions: None differentiates along every coordinate (6N energies); an integer
            k differentiates along k random unit directions ``v`` of all 3N coordinates
            and compares ``-dE/dv`` with ``F . v`` (2k energies: cheaper for large
            structures, and a wrong force almost surely shows in a random direction).
        rtol: scales the largest finite-difference force (plus 1e-9 eV/A).

    Raises:
        AssertionError: naming the largest deviation.
    """
    potential = as_potential(potential)
    forces = evaluate(potential, atoms)["forces"]
    if directions is None:
        reference = finite_difference_forces(potential, atoms, delta)
        check("forces", forces, reference, rtol * np.abs(reference).max() + 1e-9,
              "differ from finite differences")
        return
    rng = np.random.default_rng(len(atoms))
    scale = np.abs(forces).max()
    for _ in range(directions):
        direction = rng.normal(size=forces.shape)
        direction /= np.linalg.norm(direction)
        energies = []
        for sign in (1.0, -1.0):
            displaced = atoms.copy()
            displaced.positions = atoms.positions + sign * delta * direction
            energies.append(evaluate(potential, displaced)["energy"])
        slope = -(energies[0] - energies[1]) / (2 * delta)
        check("forces", float(np.sum(forces * direction)), slope, rtol * scale + 1e-9,
              "differ from finite differences along a random direction")


def assert_stress_matches_finite_strain(potential: PotentialLike, atoms, delta: float = 1e-5,
                                        rtol: float = 1e-6) -> None:
    """The stress equals ``(1/V) dE/d(strain)`` by finite strain (float64 potentials).

    ``rtol`` scales the largest finite-difference component (plus 1e-9 eV/A^3).

    Raises:
        AssertionError: naming the largest deviation.
    """
    potential = as_potential(potential)
    reference = finite_difference_stress(potential, atoms, delta)
    check("stress", evaluate(potential, atoms)["stress"], reference,
          rtol * np.abs(reference).max() + 1e-9, "differs from finite strain")
