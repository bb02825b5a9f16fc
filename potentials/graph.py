"""The model's input (:class:`AtomicGraph`) and converters from ASE and pymatgen."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
from ase.data import chemical_symbols
from torch import Tensor

from .neighbors import neighbor_list

__all__ = ["AtomicGraph", "atoms_to_graph", "structure_to_graph", "batch_graphs",
           "validate_structure"]


@dataclass(frozen=True)
class AtomicGraph:
    """A batch of ``B`` structures with ``N`` atoms and ``E`` directed edges.

    Attributes:
        positions: (N, 3) Angstrom.
        atomic_numbers: (N,) int64.
        cell: (B, 3, 3) Angstrom, lattice vectors as rows (zeros for molecules).
        pbc: (B, 3) bool.
        edge_index: (2, E) int64, [centre i, neighbour j].
        shifts: (E, 3) integer cell shifts, stored in the positions' dtype.
        batch: (N,) int64 structure index of each atom.
    """

    positions: Tensor
    atomic_numbers: Tensor
    cell: Tensor
    pbc: Tensor
    edge_index: Tensor
    shifts: Tensor
    batch: Tensor

    @property
    def num_graphs(self) -> int:
        return int(self.cell.shape[0])

    @property
    def num_atoms(self) -> int:
        return int(self.positions.shape[0])

    def model_inputs(self) -> tuple[Tensor, ...]:
        """Positional arguments of :meth:`EquivariantPotential.forward`."""
        return (self.positions, self.atomic_numbers, self.edge_index, self.shifts,
                self.cell, self.batch)

    def to(self, device: Optional[torch.device | str] = None,
           dtype: Optional[torch.dtype] = None) -> "AtomicGraph":
        """Move to ``device``; cast floating tensors to ``dtype``."""
        def move(t: Tensor) -> Tensor:
            return t.to(device=device, dtype=dtype if t.is_floating_point() else None)

        return AtomicGraph(*(move(getattr(self, name)) for name in _FIELDS))


_FIELDS = ("positions", "atomic_numbers", "cell", "pbc", "edge_index", "shifts", "batch")


def validate_structure(positions: np.ndarray, atomic_numbers: np.ndarray, cell: np.ndarray,
                       pbc: np.ndarray, species: Optional[Sequence[int]] = None) -> None:
    """Raise ``ValueError`` naming the problem with a structure.

    Checks: shapes, finite positions and cell, a non-zero cell vector for every periodic
    direction, linearly independent periodic vectors, and (if ``species`` is given)
    that every element is one the model knows.
    """
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError(f"positions must have shape (N, 3), got {positions.shape}")
    if atomic_numbers.shape != (positions.shape[0],):
        raise ValueError(f"{positions.shape[0]} positions but atomic numbers of shape "
                         f"{atomic_numbers.shape}")
    bad = np.flatnonzero(~np.isfinite(positions).all(axis=1))
    if bad.size:
        raise ValueError(f"positions contain NaN or inf (atoms {bad[:10].tolist()})")
    if not np.isfinite(cell).all():
        raise ValueError("cell contains NaN or inf")
    _check_periodic_cell(cell, pbc)
    if species is not None:
        _check_species(atomic_numbers, species)


def _check_periodic_cell(cell: np.ndarray, pbc: np.ndarray) -> None:
    periodic = np.flatnonzero(pbc)
    for k in periodic:
        if np.linalg.norm(cell[k]) < 1e-8:
            raise ValueError(f"direction {k} is periodic but cell vector {k} is zero")
    if periodic.size and np.linalg.matrix_rank(cell[periodic], tol=1e-6) < periodic.size:
        raise ValueError(f"the periodic cell vectors are linearly dependent (singular cell):\n"
                         f"{cell[periodic]}")


def _check_species(atomic_numbers: np.ndarray, species: Sequence[int]) -> None:
    unknown = sorted(set(atomic_numbers.tolist()) - set(int(z) for z in species))
    if unknown:
        names = ", ".join(_symbol(z) for z in unknown)
        supported = ", ".join(_symbol(z) for z in species)
        raise ValueError(f"element(s) {names} not supported by this model; "
                         f"it knows only: {supported}")


def _symbol(z: int) -> str:
    return chemical_symbols[z] if 0 < z < len(chemical_symbols) else f"Z={z}"


def _graph_from_arrays(positions: np.ndarray, atomic_numbers: np.ndarray, cell: np.ndarray,
                       pbc: np.ndarray, cutoff: float, species: Optional[Sequence[int]],
                       dtype: torch.dtype, device: Optional[torch.device | str],
                       neighbor_backend: str) -> AtomicGraph:
    validate_structure(positions, atomic_numbers, cell, pbc, species)
    pos = torch.tensor(positions, dtype=dtype, device=device)
    cell_t = torch.tensor(cell, dtype=dtype, device=device)
    pbc_t = torch.as_tensor(pbc, dtype=torch.bool, device=device)
    edge_index, shifts = neighbor_list(pos, cell_t, pbc_t, cutoff, backend=neighbor_backend)
    return AtomicGraph(
        positions=pos,
        atomic_numbers=torch.as_tensor(atomic_numbers, dtype=torch.long, device=device),
        cell=cell_t.unsqueeze(0),
        pbc=pbc_t.unsqueeze(0),
        edge_index=edge_index,
        shifts=shifts.to(dtype),
        batch=torch.zeros(len(positions), dtype=torch.long, device=device),
    )


def atoms_to_graph(atoms, cutoff: float, species: Optional[Sequence[int]] = None,
                   dtype: torch.dtype = torch.float64,
                   device: Optional[torch.device | str] = None,
                   neighbor_backend: str = "vesin") -> AtomicGraph:
    """Graph of an ``ase.Atoms`` with all pairs closer than ``cutoff`` (Angstrom).

    ``species`` (atomic numbers the model knows) enables the unknown-element check.
    """
    return _graph_from_arrays(
        np.asarray(atoms.positions, dtype=np.float64), np.asarray(atoms.numbers),
        np.asarray(atoms.cell.array, dtype=np.float64), np.asarray(atoms.pbc, dtype=bool),
        cutoff, species, dtype, device, neighbor_backend)


def structure_to_graph(structure, cutoff: float, species: Optional[Sequence[int]] = None,
                       dtype: torch.dtype = torch.float64,
                       device: Optional[torch.device | str] = None,
                       neighbor_backend: str = "vesin") -> AtomicGraph:
    """Graph of a pymatgen ``Structure`` (periodic along its lattice's pbc) or ``Molecule``."""
    numbers = np.array([site.specie.Z for site in structure], dtype=np.int64)
    positions = np.asarray(structure.cart_coords, dtype=np.float64)
    lattice = getattr(structure, "lattice", None)
    if lattice is None:
        cell, pbc = np.zeros((3, 3)), np.zeros(3, dtype=bool)
    else:
        cell, pbc = np.asarray(lattice.matrix, dtype=np.float64), np.asarray(lattice.pbc, dtype=bool)
    return _graph_from_arrays(positions, numbers, cell, pbc, cutoff, species, dtype, device,
                              neighbor_backend)


def batch_graphs(graphs: Sequence[AtomicGraph]) -> AtomicGraph:
    """Concatenate graphs into one batch (edge indices and batch indices offset)."""
    if not graphs:
        raise ValueError("batch_graphs needs at least one graph")
    atom_offsets = np.cumsum([0] + [g.num_atoms for g in graphs[:-1]])
    graph_offsets = np.cumsum([0] + [g.num_graphs for g in graphs[:-1]])
    return AtomicGraph(
        positions=torch.cat([g.positions for g in graphs]),
        atomic_numbers=torch.cat([g.atomic_numbers for g in graphs]),
        cell=torch.cat([g.cell for g in graphs]),
        pbc=torch.cat([g.pbc for g in graphs]),
        edge_index=torch.cat([g.edge_index + int(o) for g, o in zip(graphs, atom_offsets)], dim=1),
        shifts=torch.cat([g.shifts for g in graphs]),
        batch=torch.cat([g.batch + int(o) for g, o in zip(graphs, graph_offsets)]),
    )
