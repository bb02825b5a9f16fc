"""Checks for any equiforce-compatible potential: symmetry and finite differences.

Use them to test your own trained or modified models::

    from potentials.testing import assert_equivariant, finite_difference_forces
    assert_equivariant(model, atoms)

All functions take an ``ase.Atoms`` and evaluate the model in its own dtype.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from .graph import atoms_to_graph
from .model import EquivariantPotential

__all__ = ["evaluate", "random_orthogonal", "transform_atoms", "assert_equivariant",
           "finite_difference_forces"]


def evaluate(model: EquivariantPotential, atoms, neighbor_backend: str = "vesin") -> dict:
    """Energy (float, eV), atomic energies (N,), forces (N, 3) and stress (3, 3) as numpy."""
    dtype = next(model.parameters()).dtype
    graph = atoms_to_graph(atoms, model.cutoff, model.config.species, dtype=dtype,
                           device=next(model.parameters()).device,
                           neighbor_backend=neighbor_backend)
    out = model(*graph.model_inputs())
    return {
        "energy": float(out["energy"][0].detach()),
        "atomic_energies": out["atomic_energies"].detach().cpu().double().numpy(),
        "forces": out["forces"].detach().cpu().double().numpy(),
        "stress": out["stress"][0].detach().cpu().double().numpy(),
    }


def random_orthogonal(seed: int, reflect: bool = False) -> np.ndarray:
    """A random 3x3 rotation (Haar-distributed); with ``reflect``, times -1 (improper)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return -q if reflect else q


def transform_atoms(atoms, rotation: np.ndarray, translation: Optional[np.ndarray] = None,
                    permutation: Optional[np.ndarray] = None):
    """Copy of ``atoms`` with ``r -> R r + t`` applied to positions and cell vectors,
    atoms reordered by ``permutation``."""
    out = atoms.copy()
    out.positions = atoms.positions @ rotation.T + (0.0 if translation is None else translation)
    out.set_cell(atoms.cell.array @ rotation.T, scale_atoms=False)
    if permutation is not None:
        out = out[permutation]
    return out


def assert_equivariant(model: EquivariantPotential, atoms, seed: int = 0,
                       rtol: float = 1e-9, reflect: bool = True) -> None:
    """Energy invariant, forces equivariant and stress ``R s R^T`` under a random
    rotation (times a reflection if ``reflect``), translation and permutation.

    Raises ``AssertionError`` with the largest deviation. Use ``rtol`` ~1e-4 in float32.
    """
    rng = np.random.default_rng(seed)
    rotation = random_orthogonal(seed, reflect)
    translation = rng.normal(size=3) * 3.0
    permutation = rng.permutation(len(atoms))
    ref = evaluate(model, atoms)
    out = evaluate(model, transform_atoms(atoms, rotation, translation, permutation))
    scale = max(1.0, np.abs(ref["forces"]).max())
    _close("energy", out["energy"], ref["energy"], rtol * max(1.0, abs(ref["energy"])))
    _close("forces", out["forces"], (ref["forces"] @ rotation.T)[permutation], rtol * scale)
    _close("stress", out["stress"], rotation @ ref["stress"] @ rotation.T,
           rtol * max(1e-3, np.abs(ref["stress"]).max()))


def finite_difference_forces(model: EquivariantPotential, atoms, delta: float = 1e-4) -> np.ndarray:
    """Central finite differences ``-dE/dr`` (N, 3) in eV/A with step ``delta`` (A)."""
    forces = np.zeros((len(atoms), 3))
    for index in range(len(atoms)):
        for axis in range(3):
            energies = []
            for sign in (1.0, -1.0):
                displaced = atoms.copy()
                displaced.positions[index, axis] += sign * delta
                energies.append(evaluate(model, displaced)["energy"])
            forces[index, axis] = -(energies[0] - energies[1]) / (2 * delta)
    return forces


def _close(name: str, actual, expected, atol: float) -> None:
    error = float(np.max(np.abs(np.asarray(actual) - np.asarray(expected))))
    if not error <= atol:
        raise AssertionError(f"{name} not equivariant: max deviation {error:.3e} > {atol:.3e}")
