"""The closest pair distance per element pair in a set of structures (training data).

Recorded in a trained potential's provenance (``closest_pairs_A``) so that drivers can
warn when a simulation brings two atoms closer than the training data ever did.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

__all__ = ["closest_pairs", "pair_key"]


def pair_key(z_a: int, z_b: int) -> str:
    """``"H-O"``: the element symbols of a pair, lower atomic number first."""
    low, high = sorted((int(z_a), int(z_b)))
    return f"{chemical_symbols[low]}-{chemical_symbols[high]}"


def closest_pairs(structures: Iterable[Atoms], cutoff: float) -> dict[str, float]:
    """Shortest distance (A) seen for each element pair within ``cutoff`` (A), over all
    ``structures`` (periodic images included). Pairs never closer than ``cutoff`` are
    absent."""
    from ase.neighborlist import neighbor_list

    closest: dict[str, float] = {}
    for atoms in structures:
        first, second, distance = neighbor_list("ijd", atoms, cutoff)
        numbers = atoms.numbers
        for z_a, z_b in {tuple(sorted(p)) for p in zip(numbers[first], numbers[second])}:
            mask = ((numbers[first] == z_a) & (numbers[second] == z_b))
            shortest = float(np.min(distance[mask]))
            key = pair_key(z_a, z_b)
            closest[key] = min(closest.get(key, np.inf), shortest)
    return {key: round(value, 4) for key, value in sorted(closest.items())}
