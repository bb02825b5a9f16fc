"""Pure-torch O(N) cell-list neighbour search (the ``"torch"`` backend).

Everything here is TorchScript-compatible and vectorised: there is no Python loop
over atoms, images or edges, and every tensor lives on the device of the inputs.
Lengths are in Angstrom.

Algorithm
---------
1. Wrap the atoms into the cell along the periodic directions and remember the
   integer wrap offset of every atom.
2. Replicate the wrapped atoms over the periodic images that can hold a neighbour
   (ceil(cutoff / d_k) images each way, d_k the distance between opposite faces:
   cells smaller than the cutoff get many images).
3. Bin the image atoms on a Cartesian grid of edge ``cutoff`` that covers only the
   bounding box of the real atoms expanded by ``cutoff`` (image atoms outside it
   are dropped), sort them by linear bin key and, for every real atom, find the
   range of image atoms in each neighbouring bin with ``torch.searchsorted``.
   No dense per-bin arrays are allocated, so huge vacuum regions cost nothing.
4. Expand the candidate pairs, keep those closer than ``cutoff`` and translate the
   image shifts back into shifts for the positions as given.
"""

from typing import List, Tuple

import torch
from torch import Tensor

__all__ = ["cell_list_neighbor_list", "check_cell"]


def check_cell(cell: Tensor, pbc: Tensor) -> None:
    """Raise ``ValueError`` unless the periodic cell vectors span a proper lattice.

    Args:
        cell: (3, 3) lattice vectors as rows, Angstrom.
        pbc: (3,) bool, periodicity along each cell vector.

    Non-periodic cell vectors are never used and may be zero or degenerate; the
    periodic ones must be non-zero and linearly independent.
    """
    for k in range(3):
        if bool(pbc[k]) and bool((cell[k] == 0).all()):
            raise ValueError(
                f"cell vector {k} is zero but pbc[{k}] is True: a periodic direction "
                f"needs a non-zero cell vector (use pbc[{k}]=False for a non-periodic one)"
            )
    periodic = cell[pbc]
    if periodic.shape[0] > 0:
        gram = periodic @ periodic.T
        scale = torch.diagonal(gram).prod()
        if bool(torch.linalg.det(gram).abs() <= 1e-10 * scale):
            raise ValueError("the periodic cell vectors are (nearly) linearly dependent")


def _dual_basis(cell: Tensor, pbc: Tensor) -> Tensor:
    """Dual vectors of the periodic lattice, as the columns of a (3, 3) matrix (1/Angstrom).

    Column k is the vector ``b_k`` in the span of the periodic cell vectors with
    ``a_m . b_k = delta_mk`` for periodic m, k; columns of non-periodic directions
    are zero. ``positions @ B`` therefore gives fractional coordinates along the
    periodic directions that ignore non-periodic cell vectors (which may be zero),
    and ``1 / |b_k|`` is the distance between lattice planes facing direction k
    (``V / |a_l x a_m|`` for a fully periodic cell).
    """
    mask = pbc.to(cell.dtype)
    periodic = cell * mask[:, None]
    # Identity on the non-periodic block makes the Gram matrix invertible.
    gram = periodic @ periodic.T + torch.diag(1.0 - mask)
    return periodic.T @ torch.linalg.inv(gram)


def _image_shifts(n_images: List[int], device: torch.device) -> Tensor:
    """All integer shifts in ``[-n_k, n_k]^3`` as an (M, 3) int64 tensor, zero shift at M // 2."""
    ranges = [torch.arange(-n, n + 1, dtype=torch.long, device=device) for n in n_images]
    grids = torch.meshgrid(ranges, indexing="ij")
    return torch.stack([g.reshape(-1) for g in grids], dim=1)


def _bin_index(points: Tensor, origin: Tensor, bin_size: Tensor) -> Tensor:
    """(P, 3) int64 Cartesian bin indices of ``points``; bin 1 starts at ``origin``.

    ``points`` (P, 3), ``origin`` (3,) and the scalar ``bin_size`` in Angstrom. Bin 0
    is the layer below ``origin``; indices are clamped to [-1, 2**40] so that far-away
    image atoms cannot overflow int64 (-1 marks "below the grid").
    """
    index = torch.floor((points - origin) / bin_size) + 1.0
    return index.clamp(-1.0, 2.0**40).to(torch.long)


def _expand_ranges(start: Tensor, count: Tensor) -> Tensor:
    """Concatenate the half-open integer ranges ``[start[r], start[r] + count[r])``.

    Args:
        start, count: (R,) int64.

    Returns:
        (sum(count),) int64, the ranges in order.
    """
    first = torch.cumsum(count, 0) - count  # position of each range in the output
    total = int(count.sum())
    return torch.arange(total, device=count.device) + torch.repeat_interleave(
        start - first, count, output_size=total
    )


def _wrap(positions: Tensor, cell: Tensor, pbc: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Wrap positions into the cell along the periodic directions.

    Returns:
        wrapped: (N, 3) Angstrom, ``positions - offset @ cell``, fractional
            coordinates in [0, 1) along periodic directions.
        offset: (N, 3) int64 wrap offsets, zero along non-periodic directions.
        dual: (3, 3) dual basis of the periodic lattice (see ``_dual_basis``).
    """
    dual = _dual_basis(cell, pbc)
    offset = torch.floor(positions @ dual)
    return positions - offset @ cell, offset.to(torch.long), dual


def _periodic_images(
    wrapped: Tensor, cell: Tensor, dual: Tensor, cutoff: float
) -> Tuple[Tensor, Tensor]:
    """Replicate the wrapped atoms over every image that can hold a neighbour.

    Wrapped fractional coordinates lie in [0, 1), and atoms closer than ``cutoff``
    differ by less than ``cutoff * |b_k|`` in fractional coordinate k, so shifts up to
    ``n_k = ceil(cutoff * |b_k|) = ceil(cutoff / d_k)`` suffice (d_k: distance between
    opposite faces; n_k = 0 along non-periodic directions). The relative margin of
    1e-8 guards ``cutoff == d_k`` against round-off.

    Returns:
        image_pos: (M * N, 3) Angstrom; image atom ``m * N + a`` is atom a shifted
            by ``image_shift[m] @ cell``.
        image_shift: (M, 3) int64, the zero shift at index M // 2.
    """
    n_images_t = torch.ceil(cutoff * torch.linalg.vector_norm(dual, dim=0) * (1.0 + 1e-8))
    n_images: List[int] = n_images_t.to(torch.long).tolist()
    image_shift = _image_shifts(n_images, wrapped.device)
    translation = image_shift.to(cell.dtype) @ cell
    return (wrapped[None, :, :] + translation[:, None, :]).reshape(-1, 3), image_shift


def _candidate_pairs(
    wrapped: Tensor, image_pos: Tensor, cutoff: float
) -> Tuple[Tensor, Tensor, Tensor]:
    """Pairs (centre atom, image atom) in neighbouring Cartesian bins of edge ``cutoff``.

    Bin indices are offset so that the centres (the wrapped real atoms) occupy bins
    1..n_bins-2 along each axis: all 27 neighbouring bins of a centre lie inside the
    grid, and image atoms outside it are dropped. Image atoms are sorted by linear
    bin key; since the 27 neighbouring bins form 9 columns of 3 consecutive keys along
    the last axis, 9 ``searchsorted`` ranges per centre cover them.

    Returns:
        sorted_id: (P,) int64 indices into ``image_pos`` of the kept image atoms, in
            bin order.
        candidate: (C,) int64 indices into ``sorted_id``, grouped by centre atom.
        per_centre: (N,) int64 number of candidates of each centre atom.
    """
    origin = wrapped.amin(dim=0)
    # Bins grow beyond cutoff only for absurd extents (> 2**20 cutoffs), to keep the
    # linear keys far from int64 overflow.
    bin_size = torch.clamp_min((wrapped.amax(dim=0) - origin).amax() / 2.0**20, cutoff)
    centre_bin = _bin_index(wrapped, origin, bin_size)
    n_bins = centre_bin.amax(dim=0) + 2
    image_bin = _bin_index(image_pos, origin, bin_size)
    inside = ((image_bin >= 0) & (image_bin < n_bins)).all(dim=1)
    sorted_id = torch.nonzero(inside).squeeze(1)
    strides = torch.stack([n_bins[1] * n_bins[2], n_bins[2], torch.ones_like(n_bins[2])])
    image_key, order = torch.sort((image_bin.index_select(0, sorted_id) * strides).sum(dim=1))
    sorted_id = sorted_id.index_select(0, order)

    column = _image_shifts([1, 1, 0], wrapped.device)  # (9, 3), last component 0
    column_key = ((centre_bin[:, None, :] + column[None, :, :]) * strides).sum(dim=2)
    start = torch.searchsorted(image_key, column_key - 1, right=False)
    count = torch.searchsorted(image_key, column_key + 1, right=True) - start  # (N, 9)
    candidate = _expand_ranges(start.reshape(-1), count.reshape(-1))
    return sorted_id, candidate, count.sum(dim=1)


def cell_list_neighbor_list(
    positions: Tensor, cell: Tensor, pbc: Tensor, cutoff: float
) -> Tuple[Tensor, Tensor]:
    """Full neighbour list by a vectorised cell list.

    Args:
        positions: (N, 3) float, Angstrom; wrapped or not.
        cell: (3, 3) lattice vectors as rows, Angstrom, same dtype/device as
            ``positions``; rows of non-periodic directions may be zero.
        pbc: (3,) bool, same device as ``positions``.
        cutoff: Angstrom, > 0.

    Returns:
        edge_index: (2, E) int64, rows (centre i, neighbour j), sorted by i.
        shifts: (E, 3) int64 cell shifts S with
            ``|positions[j] - positions[i] + S @ cell| < cutoff``; S is zero along
            non-periodic directions, and the pair i == j with S == 0 is excluded.
    """
    if not cutoff > 0.0:
        raise ValueError("cutoff must be positive")
    check_cell(cell, pbc)
    positions, cell = positions.detach(), cell.detach()
    n_atoms = positions.shape[0]
    if n_atoms == 0:
        empty = torch.zeros((0,), dtype=torch.long, device=positions.device)
        return empty.reshape(2, 0), empty.reshape(0, 3)

    wrapped, offset, dual = _wrap(positions, cell, pbc)
    image_pos, image_shift = _periodic_images(wrapped, cell, dual, cutoff)
    sorted_id, candidate, per_centre = _candidate_pairs(wrapped, image_pos, cutoff)

    # Gathering from bin-sorted image positions and repeating the centres (instead of
    # indexing them) keeps memory access sequential: this is the hot loop.
    sorted_pos = image_pos.index_select(0, sorted_id)
    vector = sorted_pos.index_select(0, candidate) - wrapped.repeat_interleave(per_centre, dim=0)
    keep = torch.nonzero(torch.linalg.vector_norm(vector, dim=1) < cutoff).squeeze(1)
    centre = torch.arange(n_atoms, device=positions.device)
    i = torch.repeat_interleave(centre, per_centre).index_select(0, keep)
    image_id = sorted_id.index_select(0, candidate.index_select(0, keep))
    self_image = (image_shift.shape[0] // 2) * n_atoms + i  # same atom, zero shift
    not_self = torch.nonzero(image_id != self_image).squeeze(1)
    i, image_id = i.index_select(0, not_self), image_id.index_select(0, not_self)
    j = image_id % n_atoms
    # D = wrapped[j] + S_image @ cell - wrapped[i] = positions[j] - positions[i] + S @ cell
    shifts = image_shift.index_select(0, image_id // n_atoms) + offset[i] - offset[j]
    return torch.stack([i, j]), shifts
