"""create_system: a whole ``openmm.System`` driven by an equiforce potential."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from ase import Atoms

from potentials.units import NM_IN_ANGSTROM

from .._reduced_cell import ReducedCell, reduce_cell
from ._force import ModelLike, create_force

__all__ = ["OpenMMSystem", "create_system"]


@dataclass
class OpenMMSystem:
    """What :func:`create_system` built.

    Attributes:
        system: the ``openmm.System`` (particles with masses, the box, the force).
        force: the equiforce force in it.
        positions: (N, 3) nm in OpenMM's frame (wrapped into the box when periodic), for
            ``Context.setPositions``; None for a Topology given without positions.
        box: (3, 3) nm, OpenMM's reduced box vectors as rows; None when not periodic.
        cell: the map between the user's frame and OpenMM's (rotation and lattice
            basis; :meth:`to_user` applies it); None when not periodic or for a Topology.
    """

    system: Any
    force: Any
    positions: Optional[np.ndarray]
    box: Optional[np.ndarray]
    cell: Optional[ReducedCell]

    def to_user(self, vectors: np.ndarray) -> np.ndarray:
        """Positions, velocities or forces (N, 3) from OpenMM's frame to the user's
        (unchanged without a cell). Lengths keep their unit."""
        return np.asarray(vectors) if self.cell is None else self.cell.vectors_from_reduced(vectors)


def create_system(structure, model: ModelLike, positions=None, wrap: bool = True,
                  **force_options) -> OpenMMSystem:
    """An ``openmm.System`` of ``structure`` with ``model`` as its only force.

    Args:
        structure: ``ase.Atoms`` (any periodic cell: it is rotated into OpenMM's reduced
            triclinic form and its lattice basis reduced, positions wrapped; the physics is
            unchanged), or an ``openmm.app.Topology`` (masses from its elements, its box).
        model: as for :func:`create_force` (a model, a deployed potential, a file or a
            shipped name).
        positions: for a Topology, its positions (nm, or an OpenMM Quantity); ignored
            for ``ase.Atoms``, whose positions (A) are used.
        wrap: wrap ``ase.Atoms`` positions into the reduced box (False keeps them
            continuous with the user's, only rotated).
        **force_options: passed to :func:`create_force` (``backend``, ``device``,
            ``precision``, ``skin``, ``atoms`` for ML/MM, ...).

    Raises:
        ValueError: a cell periodic in some directions only (OpenMM needs all or none), a
            degenerate cell, or anything :func:`create_force` refuses.
    """
    if isinstance(structure, Atoms):
        return _from_atoms(structure, model, wrap, force_options)
    return _from_topology(structure, model, positions, force_options)


def _from_atoms(atoms: Atoms, model: ModelLike, wrap: bool, force_options: dict) -> OpenMMSystem:
    import openmm

    if atoms.pbc.any() and not atoms.pbc.all():
        raise ValueError(f"OpenMM needs a cell periodic in all directions or none; pbc is "
                         f"{atoms.pbc.tolist()} (for a slab, add vacuum and make it fully "
                         "periodic, or use the ASE calculator)")
    periodic = bool(atoms.pbc.all())
    positions = atoms.positions / NM_IN_ANGSTROM
    cell = box = None
    if periodic:
        cell = reduce_cell(atoms.cell.array / NM_IN_ANGSTROM)
        box = cell.box
        positions = cell.vectors_to_reduced(positions)
        positions = _wrapped(positions, box) if wrap else positions
    system = openmm.System()
    for mass in atoms.get_masses():
        system.addParticle(float(mass))
    if periodic:
        system.setDefaultPeriodicBoxVectors(*box)
    force = create_force(model, atoms.numbers, periodic=periodic, **force_options)
    system.addForce(force)
    return OpenMMSystem(system, force, positions, box, cell)


def _from_topology(topology, model: ModelLike, positions, force_options: dict) -> OpenMMSystem:
    import openmm
    import openmm.unit as unit

    system = openmm.System()
    for atom in topology.atoms():
        system.addParticle(atom.element.mass if atom.element is not None else 0.0)
    vectors = topology.getPeriodicBoxVectors()
    box = None
    if vectors is not None:
        box = np.array([v.value_in_unit(unit.nanometer) for v in vectors]).reshape(3, 3)
        system.setDefaultPeriodicBoxVectors(*vectors)
    force = create_force(model, topology, **force_options)
    system.addForce(force)
    if positions is not None and unit.is_quantity(positions):
        positions = positions.value_in_unit(unit.nanometer)
    positions = None if positions is None else np.asarray(positions, dtype=float).reshape(-1, 3)
    return OpenMMSystem(system, force, positions, box, None)


def _wrapped(positions: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Positions (N, 3) wrapped into the parallelepiped of ``box`` (rows)."""
    fractional = np.linalg.solve(box.T, positions.T).T
    return (fractional - np.floor(fractional)) @ box
