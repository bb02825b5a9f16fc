"""A structure fingerprint for telling near-identical frames apart.

For every atom, a Gaussian-smeared histogram of its neighbour distances per neighbour
element (a two-body, SOAP-like radial density) within ``cutoff``; a frame's fingerprint
is, per central element, the mean and the standard deviation of its atoms' histograms.
It is invariant to rotation, translation, permutation of atoms and the choice of cell,
and it separates bulk, surface, defect and melt configurations (the standard deviation
sees heterogeneous environments).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

__all__ = ["fingerprint", "fingerprint_distance"]


def fingerprint(atoms: Atoms, species: Sequence[int], cutoff: float, bins: int = 24,
                width: float = 0.15) -> np.ndarray:
    """The fingerprint of ``atoms``: shape ``(2 * S * S * bins,)`` for ``S`` species.

    Args:
        species: atomic numbers, the order of the blocks.
        cutoff: neighbour distance limit, A (a cosine taper brings weights to 0 there).
        bins: histogram centres, evenly spaced on (0, cutoff].
        width: Gaussian width of the smearing, A.
    """
    species = [int(z) for z in species]
    index = {z: k for k, z in enumerate(species)}
    types = np.array([index[int(z)] for z in atoms.numbers])
    centres = np.linspace(cutoff / bins, cutoff, bins)
    first, second, distance = neighbor_list("ijd", atoms, cutoff)
    taper = 0.5 * (np.cos(np.pi * distance / cutoff) + 1.0)
    smeared = taper[:, None] * np.exp(-0.5 * ((distance[:, None] - centres) / width) ** 2)
    per_atom = np.zeros((len(atoms), len(species), bins))
    np.add.at(per_atom, (first, types[second]), smeared)
    per_atom = per_atom.reshape(len(atoms), -1)
    blocks = []
    for kind in range(len(species)):
        mine = per_atom[types == kind]
        if len(mine):
            blocks += [mine.mean(axis=0), mine.std(axis=0)]
        else:
            blocks += [np.zeros(per_atom.shape[1])] * 2
    return np.concatenate(blocks)


def fingerprint_distance(first: np.ndarray, second: np.ndarray) -> float:
    """Relative distance ``|a - b| / mean(|a|, |b|)``: 0 for identical structures, about
    0.01 for MD frames a few femtoseconds apart, 0.1 and more between phases."""
    scale = 0.5 * (np.linalg.norm(first) + np.linalg.norm(second))
    return float(np.linalg.norm(first - second) / scale) if scale > 0 else 0.0
