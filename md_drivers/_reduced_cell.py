"""Any periodic cell in OpenMM's reduced triclinic form, and back.

OpenMM (its Context and its DCD/XTC/PDB writers) accepts only box vectors with ``a``
along x, ``b`` in the xy plane, a positive diagonal and ``|b_x|, |c_x| <= a_x/2``,
``|c_y| <= b_y/2``. A user's cell (a primitive fcc cell, most CIF and POSCAR files) is
brought there by a rotation of space and a change of lattice basis (same lattice, same
crystal); nothing about the physics changes. :class:`ReducedCell` maps vectors of the
user's frame to OpenMM's and back, so that results are reported in the user's frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ReducedCell", "reduce_cell", "is_reduced"]


@dataclass(frozen=True)
class ReducedCell:
    """A user cell and its reduced form.

    Attributes:
        rotation: (3, 3) orthogonal, det +1: a row vector ``r`` of the user's frame is
            ``r @ rotation`` in OpenMM's frame.
        basis: (3, 3) integer, det +-1: ``box = basis @ cell @ rotation``.
        box: (3, 3) reduced box vectors as rows, in the cell's length unit.
    """

    rotation: np.ndarray
    basis: np.ndarray
    box: np.ndarray

    def vectors_to_reduced(self, vectors: np.ndarray) -> np.ndarray:
        """Positions, velocities or forces, shape (N, 3), into OpenMM's frame."""
        return np.asarray(vectors) @ self.rotation

    def vectors_from_reduced(self, vectors: np.ndarray) -> np.ndarray:
        """Positions, velocities or forces, shape (N, 3), back to the user's frame."""
        return np.asarray(vectors) @ self.rotation.T

    def cell_from_reduced(self, box: np.ndarray) -> np.ndarray:
        """A box of OpenMM's frame (e.g. after a barostat move), shape (3, 3), as the
        user's cell (the user's lattice basis, the user's orientation)."""
        return np.linalg.solve(self.basis, np.asarray(box) @ self.rotation.T)


def reduce_cell(cell: np.ndarray) -> ReducedCell:
    """The reduced form of ``cell`` (rows a, b, c; any length unit).

    Raises:
        ValueError: a degenerate cell (zero volume).
    """
    cell = np.asarray(cell, dtype=float)
    volume = np.linalg.det(cell)
    if not np.isfinite(volume) or abs(volume) < 1e-9 * max(np.abs(cell).max(), 1.0) ** 3:
        raise ValueError(f"degenerate cell (volume {volume:g}): {cell.tolist()}")
    basis = np.eye(3, dtype=np.int64)
    if is_reduced(cell):
        return ReducedCell(rotation=np.eye(3), basis=basis, box=cell.copy())
    if volume < 0:  # a left-handed basis: -c spans the same lattice, right-handed
        basis[2, 2] = -1
    rotation = _rotation_to_lower_triangular(basis @ cell)
    box = basis @ cell @ rotation
    box[0, 1:] = 0.0
    box[1, 2] = 0.0
    for row, along, axis in ((2, 1, 1), (2, 0, 0), (1, 0, 0)):
        shift = round(box[row, axis] / box[along, axis])
        box[row] -= shift * box[along]
        basis[row] -= shift * basis[along]
    return ReducedCell(rotation=rotation, basis=basis, box=box)


def is_reduced(box: np.ndarray, tol: float = 1e-12) -> bool:
    """Whether ``box`` (rows) is already in OpenMM's reduced form."""
    (ax, ay, az), (bx, by, bz), (cx, cy, cz) = np.asarray(box, dtype=float)
    return (ay == az == bz == 0 and ax > 0 and by > 0 and cz > 0
            and abs(bx) <= 0.5 * ax + tol and abs(cx) <= 0.5 * ax + tol
            and abs(cy) <= 0.5 * by + tol)


def _rotation_to_lower_triangular(cell: np.ndarray) -> np.ndarray:
    """The proper rotation ``Q`` with ``cell @ Q`` lower triangular, positive diagonal
    (``cell`` right-handed)."""
    q, r = np.linalg.qr(cell.T)  # cell.T = q r  ->  cell @ q = r.T (lower triangular)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return q * signs  # flip columns so the diagonal is positive; det stays +1
