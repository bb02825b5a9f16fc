"""The interface every MD engine of the runner implements."""
from __future__ import annotations

from typing import Any, Optional, Protocol, runtime_checkable

import numpy as np
from ase import Atoms

__all__ = ["Engine"]


@runtime_checkable
class Engine(Protocol):
    """An MD engine driving ``atoms`` (which it owns and keeps current after each step).

    Units: positions A, energies eV, forces eV/A, stress eV/A^3 (ASE sign, Voigt order).
    Implementations: ``AseEngine`` (ASE integrators, any equiforce calculator or
    committee) and ``OpenMMEngine`` (an OpenMM Context with the potential as a force).
    """

    atoms: Atoms

    @property
    def step_count(self) -> int:
        """Steps done since the run started (restored by :meth:`restore`)."""

    def step(self, n: int) -> None:
        """Advance ``n`` steps and update ``atoms``."""

    def forces(self) -> np.ndarray:
        """(N, 3) eV/A at the current positions."""

    def potential_energy(self) -> float:
        """eV at the current positions."""

    def stress(self) -> Optional[np.ndarray]:
        """(6,) eV/A^3 with the kinetic part; None without a periodic 3D cell."""

    def force_spread(self) -> Optional[np.ndarray]:
        """(N,) eV/A: a committee's per-atom force spread; None for a single potential."""

    def reset_neighbors(self) -> None:
        """Start neighbour lists afresh (at checkpoints, so that a resumed run sees the
        same numbers as an uninterrupted one)."""

    def state(self) -> dict[str, Any]:
        """Everything needed to continue exactly (picklable)."""

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state`'s output."""
