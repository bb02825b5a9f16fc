"""Neighbour lists for periodic, partially periodic and finite atomic systems.

Conventions (identical to ASE's ``neighbor_list("ijS", ...)``):

* full list: every pair appears as both i -> j and j -> i, in mirrored order: for ``E``
  edges, edge ``h + E/2`` is the reverse of edge ``h`` (atoms swapped, shift negated),
  which lets the fast path evaluate its radial network once per pair;
* ``edge_index`` is an int64 (2, E) tensor, row 0 the centre atom i, row 1 the
  neighbour j;
* ``shifts`` is an int64 (E, 3) tensor of integer cell shifts S such that the pair
  vector ``D = positions[j] - positions[i] + S @ cell`` has ``|D| < cutoff``
  (strictly), for the positions exactly as given, wrapped into the cell or not;
* the pair i == j with S == 0 is excluded; S is zero along non-periodic directions.

Lengths (positions, cell, cutoff, skin) are in Angstrom. ``cell`` rows are the
lattice vectors; the row of a non-periodic direction may be zero (molecule: zero
cell and ``pbc`` all False; slab: ``pbc = [True, True, False]`` with ``cell[2]``
zero or a vacuum vector). Results are on ``positions.device``.
"""

from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from ._cell_list import cell_list_neighbor_list, check_cell

__all__ = ["neighbor_list", "VerletNeighborList", "BACKENDS", "mirrored", "half_of",
           "cell_list_neighbor_list"]

BACKENDS = ("vesin", "torch")

PBC = Union[Tensor, Sequence[bool]]


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown neighbour-list backend {backend!r}; use one of {BACKENDS}")


def _as_inputs(positions: Tensor, cell, pbc: PBC,
               check_finite: bool = True) -> Tuple[Tensor, Tensor, Tensor]:
    """Validate shapes and return detached positions (N, 3), cell (3, 3) in the dtype and
    on the device of ``positions``, and pbc (3,) bool on that device. The finiteness
    check (a host synchronisation) can be left to the caller."""
    if positions.ndim != 2 or positions.shape[1] != 3 or not positions.is_floating_point():
        raise ValueError(
            f"positions must be a float tensor of shape (N, 3), got {positions.dtype} "
            f"{tuple(positions.shape)}"
        )
    positions = positions.detach()
    cell = torch.as_tensor(cell, dtype=positions.dtype, device=positions.device).detach()
    pbc = torch.as_tensor(pbc, dtype=torch.bool, device=positions.device)
    if cell.shape != (3, 3):
        raise ValueError(f"cell must have shape (3, 3), got {tuple(cell.shape)}")
    if pbc.shape != (3,):
        raise ValueError(f"pbc must have 3 entries, got shape {tuple(pbc.shape)}")
    if check_finite and not bool(torch.isfinite(positions).all() & torch.isfinite(cell).all()):
        raise ValueError("positions and cell must be finite (found NaN or inf)")
    return positions, cell, pbc


def _vesin_neighbor_list(
    positions: Tensor, cell: Tensor, pbc: Tensor, cutoff: float
) -> Tuple[Tensor, Tensor]:
    """Neighbour list from vesin (inputs already validated, see ``neighbor_list``).

    vesin 0.6.2 quirks handled here or by the callers:

    * a zero or linearly dependent *periodic* cell vector crashes the whole process
      (SIGFPE) or raises an obscure C++ error, hence ``check_cell`` beforehand;
    * an empty system raises ("points can not be a NULL pointer"): answered here;
    * NaN or inf coordinates raise a C++ RuntimeError: ``_as_inputs`` rejects them
      first with a ValueError;
    * shifts come back as int32: converted to int64;
    * the half list (``full_list=False``) is mirrored here into the full list, so each
      pair's two directions sit ``E/2`` apart;
    * ``points`` and ``box`` must share a dtype: ``_as_inputs`` casts the cell.

    Zero or degenerate *non-periodic* cell vectors, cells smaller than the cutoff and
    unwrapped positions are handled correctly by vesin (checked against ASE), so the
    cell is passed as given. The calculator is cheap to build (~10 us), so a fresh one
    per call keeps this function stateless and thread-safe.
    """
    # Imported lazily: vesin_torch loads a compiled TorchScript extension.
    # (``vesin.torch`` is a deprecated alias of the same package.)
    from vesin_torch import NeighborList

    if positions.shape[0] == 0:
        empty = torch.zeros((0,), dtype=torch.long, device=positions.device)
        return empty.reshape(2, 0), empty.reshape(0, 3)
    calculator = NeighborList(cutoff=cutoff, full_list=False)
    i, j, shifts = calculator.compute(positions, cell, periodic=pbc, quantities="ijS")
    return mirrored(torch.stack([i, j]).to(torch.long), shifts.to(torch.long))


def mirrored(pairs: Tensor, shifts: Tensor) -> Tuple[Tensor, Tensor]:
    """Full list from a half list (each pair once): the pairs, then their reverses."""
    return torch.cat([pairs, pairs.flip(0)], dim=1), torch.cat([shifts, -shifts])


def half_of(edge_index: Tensor, shifts: Tensor) -> Tuple[Tensor, Tensor]:
    """Each pair of a full list once: i < j, or i == j with the first non-zero shift > 0."""
    i, j = edge_index[0], edge_index[1]
    sign = torch.sign(shifts)
    first_nonzero = torch.where(sign[:, 0] != 0, sign[:, 0],
                                torch.where(sign[:, 1] != 0, sign[:, 1], sign[:, 2]))
    keep = (i < j) | ((i == j) & (first_nonzero > 0))
    return edge_index[:, keep], shifts[keep]


def neighbor_list(
    positions: Tensor, cell, pbc: PBC, cutoff: float, backend: str = "vesin"
) -> Tuple[Tensor, Tensor]:
    """Full neighbour list within ``cutoff``.

    Args:
        positions: (N, 3) float tensor, Angstrom, wrapped into the cell or not.
            Gradients do not flow through the search.
        cell: (3, 3) lattice vectors as rows, Angstrom (tensor or array-like; cast to
            the dtype/device of ``positions``). Non-periodic rows may be zero.
        pbc: (3,) bool tensor or sequence, periodicity along each cell vector.
        cutoff: Angstrom, > 0; pairs with ``|D| < cutoff`` are returned.
        backend: ``"vesin"`` (compiled, fastest) or ``"torch"`` (pure-torch cell list).

    Returns:
        edge_index: (2, E) int64, rows (centre i, neighbour j).
        shifts: (E, 3) int64 cell shifts S with ``D = positions[j] - positions[i] + S @ cell``.
        Both on ``positions.device``.

    Raises:
        ValueError: non-positive cutoff, unknown backend, bad shapes, NaN or inf in
            positions or cell, or a periodic direction whose cell vector is zero (or
            periodic cell vectors that are linearly dependent).
    """
    _check_backend(backend)
    if not cutoff > 0:
        raise ValueError(f"cutoff must be positive, got {cutoff}")
    positions, cell, pbc = _as_inputs(positions, cell, pbc)
    check_cell(cell, pbc)
    if backend == "vesin":
        return _vesin_neighbor_list(positions, cell, pbc, float(cutoff))
    return mirrored(*half_of(*cell_list_neighbor_list(positions, cell, pbc, float(cutoff))))


class VerletNeighborList:
    """Neighbour list with a Verlet skin, for MD, on the device of the positions.

    Keeps the pairs within ``cutoff + skin`` and rebuilds them only when some atom has
    moved by more than ``skin / 2`` since the last build (raw displacement of the
    positions as given, so wrapping an atom back into the box forces a rebuild), or
    when the cell, pbc, atom count or atomic numbers change. Until then no pair can
    enter the cutoff sphere unnoticed. The cache holds each pair once and lives on the
    device of the positions.

    With ``compact=True`` each call keeps the cached pairs with ``|D| < cutoff`` for the
    current positions, so the result equals a fresh ``neighbor_list`` exactly (as a set of
    (i, j, S), in mirrored order); finding them needs the host (a data-dependent size).
    With ``compact=False`` every cached pair is returned (``|D| < cutoff + skin``):
    equiforce potentials give exactly the same energies, forces and stress from it, since
    their smooth envelope is exactly zero (with a zero gradient) beyond the cutoff. Then a
    call that does not rebuild synchronises with the host once, for the rebuild decision
    (one boolean). The default compacts on the CPU, where it is cheap, and not elsewhere
    (a GPU). ``skin = 0`` rebuilds every call.

    Attributes:
        n_builds: number of full rebuilds so far.
    """

    def __init__(self, cutoff: float, skin: float = 0.5, backend: str = "vesin",
                 compact: Optional[bool] = None):
        """
        Args:
            cutoff: Angstrom, > 0.
            skin: Angstrom, >= 0.
            backend: one of ``BACKENDS``, used for the rebuilds.
            compact: filter the cached pairs to the cutoff on every call (None: on the
                CPU only).
        """
        _check_backend(backend)
        if not cutoff > 0:
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        if not skin >= 0:
            raise ValueError(f"skin must be non-negative, got {skin}")
        self.cutoff = float(cutoff)
        self.skin = float(skin)
        self.backend = backend
        self.compact = compact
        self.n_builds = 0
        self.reset()

    def reset(self) -> None:
        """Drop the cached list; the next call rebuilds. ``n_builds`` is kept."""
        self._positions: Optional[Tensor] = None  # (N, 3) positions at the last build
        self._cell: Optional[Tensor] = None
        self._pbc: Optional[Tensor] = None
        self._numbers: Optional[Tensor] = None
        self._pairs: Optional[Tensor] = None  # (2, E/2) each pair within cutoff + skin once
        self._shifts: Optional[Tensor] = None  # (E/2, 3)
        self._shift_vectors: Optional[Tensor] = None  # (E/2, 3) shifts @ cell, Angstrom

    def __call__(
        self, positions: Tensor, cell, pbc: PBC, atomic_numbers: Tensor
    ) -> Tuple[Tensor, Tensor]:
        """Neighbour list within ``cutoff``, same arguments and result as ``neighbor_list``
        plus ``atomic_numbers`` ((N,) int tensor), which only serves to detect a change
        of system. (With ``compact=False``: the pairs within ``cutoff + skin``.)"""
        positions, cell, pbc = _as_inputs(positions, cell, pbc, check_finite=False)
        atomic_numbers = torch.as_tensor(atomic_numbers, device=positions.device)
        if atomic_numbers.shape != positions.shape[:1]:
            raise ValueError(
                f"atomic_numbers must have shape ({positions.shape[0]},), "
                f"got {tuple(atomic_numbers.shape)}"
            )
        if self._needs_rebuild(positions, cell, pbc, atomic_numbers):
            self._build(positions, cell, pbc, atomic_numbers)  # validates finiteness
        pairs, shifts, shift_vectors = self._pairs, self._shifts, self._shift_vectors
        assert pairs is not None and shifts is not None and shift_vectors is not None
        compact = positions.device.type == "cpu" if self.compact is None else self.compact
        if self.skin == 0.0 or not compact:  # nothing to filter, or not filtered
            return mirrored(pairs, shifts)
        vectors = (
            positions.index_select(0, pairs[1])
            - positions.index_select(0, pairs[0])
            + shift_vectors
        )
        keep = torch.nonzero(torch.linalg.vector_norm(vectors, dim=1) < self.cutoff).squeeze(1)
        return mirrored(pairs.index_select(1, keep), shifts.index_select(0, keep))

    def _build(self, positions: Tensor, cell: Tensor, pbc: Tensor, atomic_numbers: Tensor) -> None:
        edge_index, shifts = neighbor_list(
            positions, cell, pbc, self.cutoff + self.skin, self.backend
        )
        half = edge_index.shape[1] // 2  # neighbor_list returns pairs, then their reverses
        self._pairs, self._shifts = edge_index[:, :half], shifts[:half]
        # The cell is fixed until the next build, so the shift vectors are too.
        self._shift_vectors = self._shifts.to(cell.dtype) @ cell
        self._positions, self._cell, self._pbc = positions.clone(), cell.clone(), pbc.clone()
        self._numbers = atomic_numbers.clone()
        self.n_builds += 1

    def _needs_rebuild(
        self, positions: Tensor, cell: Tensor, pbc: Tensor, atomic_numbers: Tensor
    ) -> bool:
        """Whether to rebuild: host-side checks first, then one device boolean (a change
        of cell, pbc or species, a displacement beyond ``skin / 2``, or a non-finite
        position, which the rebuild then reports) read with one synchronisation."""
        reference = self._positions
        if (
            reference is None
            or self.skin == 0.0
            or positions.shape[0] == 0
            or reference.shape != positions.shape
            or reference.dtype != positions.dtype
            or reference.device != positions.device
        ):
            return True
        assert self._cell is not None and self._pbc is not None and self._numbers is not None
        displacement = torch.linalg.vector_norm(positions - reference, dim=1).max()
        changed = ((cell != self._cell).any() | (pbc != self._pbc).any()
                   | (atomic_numbers != self._numbers).any()
                   | ~(displacement <= 0.5 * self.skin))  # NaN positions: True
        return bool(changed)
