"""Symmetry checks: rotations, reflections, translations, permutations, periodic images."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from e3nn import o3

from ._evaluate import PotentialLike, as_potential, check, evaluate, same_dtype_tolerance

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
    """Energy invariant, forces equivariant and stress ``R s R^T`` under a random
    rotation (times an inversion if ``reflect``), translation and permutation of atoms.

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
    what = "not equivariant"
    check("energy", out["energy"], ref["energy"], rtol * max(1.0, abs(ref["energy"])), what)
    check("forces", out["forces"], (ref["forces"] @ rotation.T)[permutation],
          rtol * max(1.0, np.abs(ref["forces"]).max()), what)
    check("stress", out["stress"], rotation @ ref["stress"] @ rotation.T,
          rtol * max(1e-3, np.abs(ref["stress"]).max()), what)


def assert_wrap_invariant(potential: PotentialLike, atoms, seed: int = 0,
                          rtol: Optional[float] = None) -> None:
    """Moving atoms by whole lattice vectors (unwrapped positions, as MD produces them)
    changes neither energy, forces nor stress. ``atoms`` must be periodic in some direction.

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
    ref, out = evaluate(potential, atoms), evaluate(potential, unwrapped)
    what = "changed by unwrapping positions"
    check("energy", out["energy"], ref["energy"], rtol * max(1.0, abs(ref["energy"])), what)
    check("forces", out["forces"], ref["forces"], rtol * max(1.0, np.abs(ref["forces"]).max()),
          what)
    check("stress", out["stress"], ref["stress"], rtol * max(1e-3, np.abs(ref["stress"]).max()),
          what)
