"""Any potential a user holds, as one callable; one structure or a batch through it."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence, Union

import numpy as np
import torch

from .._metadata import build_metadata
from ..deployed import DeployedPotential, load
from ..fast import FastPotential
from ..graph import atoms_to_graph, batch_graphs
from ..model import EquivariantPotential

PotentialLike = Union[EquivariantPotential, DeployedPotential, str, Path]

__all__ = ["PotentialLike", "as_potential", "evaluate", "evaluate_batch"]


def as_potential(potential: PotentialLike) -> DeployedPotential:
    """The potential as a :class:`~potentials.DeployedPotential`, without copying it.

    Accepts an in-memory model (:class:`~potentials.EquivariantPotential` or
    :class:`~potentials.FastPotential`, evaluated in its own dtype and device), a
    deployed potential (returned as is), or a file path / shipped name (loaded with
    :func:`~potentials.load`, in the file's dtype).
    """
    if isinstance(potential, DeployedPotential):
        return potential
    if isinstance(potential, EquivariantPotential):
        parameter = next(potential.parameters())
        fmt = "fast" if isinstance(potential, FastPotential) else "eager"
        metadata = build_metadata(potential.config, fmt, parameter.dtype, str(parameter.device),
                                  ops=potential.ops, methods=potential.cueq_methods)
        return DeployedPotential(potential, metadata, fmt, parameter.device)
    if isinstance(potential, (str, Path)):
        return load(potential)
    raise TypeError(f"expected a model, a DeployedPotential or a model file, got "
                    f"{type(potential).__name__}")


def evaluate(potential: PotentialLike, atoms, neighbor_backend: str = "vesin") -> dict:
    """One ``ase.Atoms`` through the potential (neighbour list built afresh).

    Returns numpy float64: ``energy`` (float, eV), ``atomic_energies`` (N,) eV,
    ``forces`` (N, 3) eV/A, ``stress`` (3, 3) eV/A^3 (ASE's sign; zero without a cell).
    """
    return evaluate_batch(potential, [atoms], neighbor_backend)[0]


def evaluate_batch(potential: PotentialLike, structures: Sequence,
                   neighbor_backend: str = "vesin") -> list[dict]:
    """Several ``ase.Atoms`` in one call of the potential (one batched graph); one dict
    per structure, as :func:`evaluate` returns."""
    potential = as_potential(potential)
    graphs = [atoms_to_graph(atoms, potential.cutoff, potential.species, dtype=potential.dtype,
                             device=potential.device, neighbor_backend=neighbor_backend)
              for atoms in structures]
    out = {key: value.detach().cpu().double().numpy()
           for key, value in potential(*batch_graphs(graphs).model_inputs()).items()}
    results, start = [], 0
    for index, atoms in enumerate(structures):
        stop = start + len(atoms)
        results.append({"energy": float(out["energy"][index]),
                        "atomic_energies": out["atomic_energies"][start:stop],
                        "forces": out["forces"][start:stop],
                        "stress": out["stress"][index]})
        start = stop
    return results


def max_deviation(actual, expected) -> float:
    """Largest absolute elementwise difference (0 for empty arrays)."""
    difference = np.abs(np.asarray(actual, dtype=float) - np.asarray(expected, dtype=float))
    return float(difference.max()) if difference.size else 0.0


def check(name: str, actual, expected, atol: float, what: str) -> None:
    """Raise ``AssertionError`` naming the quantity when it deviates by more than ``atol``."""
    error = max_deviation(actual, expected)
    if not error <= atol:
        raise AssertionError(f"{name} {what}: max deviation {error:.3e} > {atol:.3e}")


def assert_same_outputs(out: dict, expected: dict, rtol: float, what: str) -> None:
    """Energy, atomic energies (when both have them), forces and stress of ``out`` within
    ``rtol`` of ``expected``, scaled by the largest magnitude of each (at least 1 eV,
    1 eV/A, 1e-3 eV/A^3)."""
    check("energy", out["energy"], expected["energy"], rtol * max(1.0, abs(expected["energy"])),
          what)
    if "atomic_energies" in out and "atomic_energies" in expected:
        check("atomic energies", out["atomic_energies"], expected["atomic_energies"],
              rtol * max(1.0, np.abs(expected["atomic_energies"]).max(initial=0.0)), what)
    check("forces", out["forces"], expected["forces"],
          rtol * max(1.0, np.abs(expected["forces"]).max(initial=0.0)), what)
    check("stress", out["stress"], expected["stress"],
          rtol * max(1e-3, np.abs(expected["stress"]).max()), what)


def same_dtype_tolerance(potential: DeployedPotential, rtol: float | None) -> float:
    """The given relative tolerance, or one for the potential's precision."""
    if rtol is not None:
        return rtol
    return 1e-9 if potential.dtype == torch.float64 else 2e-4
