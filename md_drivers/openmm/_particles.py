"""Which particles an equiforce force acts on: atomic numbers from a Topology or a list,
and an optional ML/MM selection, checked."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

__all__ = ["particles", "selection_of"]


def particles(topology_or_numbers, periodic: Optional[bool]) -> tuple[np.ndarray, bool]:
    """Atomic numbers of every particle, and whether the force is periodic."""
    if hasattr(topology_or_numbers, "atoms"):
        atoms = list(topology_or_numbers.atoms())
        missing = [a.index for a in atoms if a.element is None]
        if missing:
            raise ValueError(f"topology atoms without an element (virtual sites?): {missing[:10]}")
        numbers = np.array([a.element.atomic_number for a in atoms], dtype=np.int64)
        if periodic is None:
            periodic = topology_or_numbers.getPeriodicBoxVectors() is not None
    else:
        numbers = np.asarray(topology_or_numbers, dtype=np.int64).reshape(-1)
    return numbers, bool(periodic)


def selection_of(atoms: Optional[Sequence[int]], n_particles: int) -> Optional[np.ndarray]:
    if atoms is None:
        return None
    selection = np.asarray(list(atoms), dtype=np.int64).reshape(-1)
    if selection.size == 0:
        raise ValueError("atoms= selects no particle")
    bad = selection[(selection < 0) | (selection >= n_particles)]
    if bad.size:
        raise ValueError(f"atoms= has indices outside 0..{n_particles - 1}: {bad[:10].tolist()}")
    if np.unique(selection).size != selection.size:
        raise ValueError("atoms= has repeated indices")
    return selection
