"""Symmetry checks: rotations, reflections, translations, permutations, periodic images."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from e3nn import o3

from ._evaluate import (PotentialLike, as_potential, assert_same_outputs, evaluate,
                        same_dtype_tolerance)

__all__ = ["random_orthogonal", "transform_atoms", "assert_equivariant", "assert_wrap_invariant"]


def random_orthogonal(seed: int, reflect: bool = False) -> np.ndarray:
    """A random 3x3 rotation (uniform on SO(3), from ``e3nn.o3.rand_matrix``); with
    ``reflect``, times -1 (an improper rotation). The global torch RNG is left untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        rotation = o3.rand_matrix(dtype=torch.float64).numpy()
    return -rotation if reflect else rotation


def transform_atoms(atoms, rotation: np.ndarray, translation: Optional[np.ndarray] = None,
                    permutation: Optional[np.ndarray] = None):
    """Copy of ``atoms`` with ``r -> R r + t`` (Angstrom) applied to positions and cell
    vectors, atoms reordered by ``permutation`` (new atom k is old atom permutation[k])."""
    out = atoms.copy()
    out.positions = atoms.positions @ rotation.T + (0.0 if translation is None else translation)
    out.set_cell(atoms.cell.array @ rotation.T, scale_atoms=False)
    if permutation is not None:
        out = out[permutation]
    return out


def assert_equivariant(potential: PotentialLike, atoms, seed: int = 0,
                       rtol: Optional[float] = None, reflect: bool = True) -> None:
    """Energy and atomic energies invariant, forces equivariant and stress ``R s R^T``
    under a random rotation (times an inversion if ``reflect``), translation and
    permutation of atoms.

    Args:
        potential: a model, a :class:`~potentials.DeployedPotential` or a model file.
        atoms: an ``ase.Atoms`` (any cell; a molecule, a slab or a crystal).
        rtol: relative tolerance (default 1e-9 in float64, 2e-4 in float32), scaled by
            the largest energy, force and stress magnitudes.

    Raises:
        AssertionError: naming the quantity and its largest deviation.
    """
    potential = as_potential(potential)
    rtol = same_dtype_tolerance(potential, rtol)
    rng = np.random.default_rng(seed)
    rotation = random_orthogonal(seed, reflect)
    permutation = rng.permutation(len(atoms))
    moved = transform_atoms(atoms, rotation, rng.normal(size=3) * 3.0, permutation)
    ref, out = evaluate(potential, atoms), evaluate(potential, moved)
    expected = {"energy": ref["energy"], "atomic_energies": ref["atomic_energies"][permutation],
                "forces": (ref["forces"] @ rotation.T)[permutation],
                "stress": rotation @ ref["stress"] @ rotation.T}
    assert_same_outputs(out, expected, rtol, "not equivariant")


def assert_wrap_invariant(potential: PotentialLike, atoms, seed: int = 0,
                          rtol: Optional[float] = None) -> None:
    """Moving atoms by whole lattice vectors (unwrapped positions, as MD produces them)
    changes neither energy, atomic energies, forces nor stress. ``atoms`` must be
    periodic in some direction.

    Raises:
        ValueError: ``atoms`` is not periodic.
        AssertionError: naming the quantity and its largest deviation.
    """
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if not pbc.any():
        raise ValueError("assert_wrap_invariant needs a periodic structure (atoms.pbc all False)")
    potential = as_potential(potential)
    rtol = same_dtype_tolerance(potential, rtol)
    offsets = np.random.default_rng(seed).integers(-2, 3, size=(len(atoms), 3)) * pbc
    unwrapped = atoms.copy()
    unwrapped.positions = atoms.positions + offsets @ atoms.cell.array
    assert_same_outputs(evaluate(potential, unwrapped), evaluate(potential, atoms), rtol,
                        "changed by unwrapping positions")
