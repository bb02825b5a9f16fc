"""Per-species reference energies: from isolated-atom frames, or fitted by least squares.

A model's atomic energy is ``E_i = e_s + scale * network(features_i)``, and an atom with
no neighbours has zero features, so ``e_s`` *is* the model's free-atom energy. Taken from
isolated-atom frames (the reference calculator's single-atom energies, as MACE does), the
network learns binding: every atom's energy goes down monotonically as neighbours arrive,
and bulk and surface atoms differ in how much. Fitted by least squares over frames
(NequIP's default), ``e_s`` lands near the data's mean energy per atom, and the network
must learn a curve that is zero for a free atom, dips for bulk and rises for surface
atoms; on Cu-Au bulk + slab data it left every bulk frame 50 meV/atom too high and every
slab 29 meV/atom too low (docs/training.md#reference-energies).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

from .data import Frame, fit_reference_energies

__all__ = ["REFERENCE_METHODS", "ReferenceEnergies", "is_isolated_atom",
           "isolated_atom_energies", "reference_energies"]

REFERENCE_METHODS = ("auto", "isolated", "fit")


class ReferenceEnergies:
    """Per-species energies (eV, in ``species`` order) and how they were obtained
    (``"isolated"`` or ``"fit"``)."""

    def __init__(self, energies: np.ndarray, method: str) -> None:
        self.energies = np.asarray(energies, dtype=float)
        self.method = method


def is_isolated_atom(atoms: Atoms, cutoff: float) -> bool:
    """One atom and no periodic image of it within ``cutoff`` (A)."""
    if len(atoms) != 1:
        return False
    if not atoms.pbc.any():
        return True
    lengths = np.linalg.norm(atoms.cell.array[atoms.pbc], axis=1)
    return bool(np.all(lengths > cutoff))


def isolated_atom_energies(frames: Sequence[Frame], species: Sequence[int],
                           cutoff: float) -> dict[int, float]:
    """Energy (eV) of each species' isolated-atom frame; raises ValueError on two frames of
    one element that disagree (by more than 1 meV)."""
    found: dict[int, float] = {}
    for frame in frames:
        if not is_isolated_atom(frame.atoms, cutoff):
            continue
        z = int(frame.atoms.numbers[0])
        if z in found and abs(found[z] - frame.energy) > 1e-3:
            raise ValueError(f"two isolated {chemical_symbols[z]} atoms with different energies "
                             f"({found[z]} and {frame.energy} eV)")
        found[z] = frame.energy
    return {z: found[z] for z in species if z in found}


def reference_energies(frames: Sequence[Frame], species: Sequence[int], cutoff: float,
                       method: str = "auto",
                       fit_frames: Optional[Sequence[Frame]] = None) -> ReferenceEnergies:
    """The reference energies training puts into the model.

    Args:
        frames: every frame of the data set (isolated atoms are looked for among them).
        species: atomic numbers in the model's order.
        cutoff: the model's cutoff (A): a single atom with no image within it is isolated.
        method: ``"isolated"`` (every species needs an isolated-atom frame), ``"fit"``
            (least squares over ``fit_frames``), or ``"auto"``: isolated when every
            species has one, else fit.
        fit_frames: the frames of the least-squares fit (the training split).
    """
    if method not in REFERENCE_METHODS:
        raise ValueError(f"data.reference_energies must be one of {REFERENCE_METHODS}, "
                         f"got {method!r}")
    isolated = isolated_atom_energies(frames, species, cutoff) if method != "fit" else {}
    if method == "isolated" or (method == "auto" and len(isolated) == len(species)):
        missing = [chemical_symbols[z] for z in species if z not in isolated]
        if missing:
            raise ValueError(f"data.reference_energies is 'isolated' but the data has no "
                             f"isolated-atom frame (one atom, no neighbours) for "
                             f"{', '.join(missing)}")
        return ReferenceEnergies(np.array([isolated[z] for z in species]), "isolated")
    fit_on = [f for f in (fit_frames if fit_frames is not None else frames)
              if not is_isolated_atom(f.atoms, cutoff)]
    return ReferenceEnergies(fit_reference_energies(fit_on, species), "fit")
