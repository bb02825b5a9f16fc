"""Checks of a run's start that name the problem before anything is written."""
from __future__ import annotations

import numpy as np
from ase import Atoms

from potentials import validate_structure

from .config import MDConfig

__all__ = ["check_start", "check_velocities"]

_AXES = "xyz"


def check_start(config: MDConfig, atoms: Atoms) -> None:
    """Refuse a structure the configured run cannot honour.

    Raises:
        ValueError: what :func:`potentials.validate_structure` refuses (non-finite
            positions, a singular periodic cell), a barostat on a cell that is not
            periodic in every direction it would scale, or thermal velocities for a
            single atom.
    """
    validate_structure(atoms.positions, atoms.numbers, atoms.cell.array, atoms.pbc)
    if config.is_npt and not atoms.pbc.all():
        open_axes = ", ".join(_AXES[i] for i in np.flatnonzero(~atoms.pbc))
        raise ValueError(f"ensemble {config.ensemble} barostats the cell along x, y and z, but "
                         f"the structure is not periodic along {open_axes} (pbc "
                         f"{atoms.pbc.tolist()}), so it would scale the vacuum; use nve or "
                         "an nvt ensemble for a slab, wire or molecule")
    if config.maxwell_boltzmann and len(atoms) == 1 and config.temperature_K > 0:
        raise ValueError(f"a single atom has no velocity left once its centre-of-mass motion "
                         f"is removed, so it cannot start at {config.temperature_K:g} K; "
                         "use --temperature 0")


def check_velocities(atoms: Atoms, config: MDConfig) -> None:
    """Raise ValueError naming the atoms whose initial velocities are not finite."""
    bad = np.flatnonzero(~np.isfinite(atoms.get_momenta()).all(axis=1))
    if len(bad):
        source = (f"drawn at {config.temperature_K:g} K" if config.maxwell_boltzmann
                  else "from the structure's momenta")
        raise ValueError(f"initial velocities ({source}) contain NaN or inf "
                         f"(atoms {_shown(bad)})")


def _shown(indices: np.ndarray) -> str:
    return ", ".join(map(str, indices[:10])) + (" ..." if len(indices) > 10 else "")
