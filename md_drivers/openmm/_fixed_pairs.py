"""Neighbour pairs in a buffer of fixed size, with no host synchronisation (CUDA graphs).

A captured CUDA graph replays the same kernels on tensors of the same sizes, so the
neighbour list inside it must not depend on the host: here every pair ``i < j`` of the
selected atoms is tested (brute force, minimum image in OpenMM's reduced box) and the
pairs within the cutoff are written into ``capacity`` slots by ``torch.nonzero_static``.
Unused slots become *padding edges* (atom 0 to itself, shifted 10,000 cell vectors away;
molecules get a unit cell for it): far beyond the cutoff, where the potential's envelope
and its gradient are exactly zero, so padding adds nothing to energy or forces.

The pair count is returned too (-1 when the box is too small for the minimum image: a width
below twice the cutoff). When it exceeds the capacity or is -1, the caller poisons the
outputs (NaN) and reports the count, and the host grows the buffer outside the graph
(:class:`~md_drivers.openmm.PairCapacityGuard`).

Lengths in Angstrom. Memory and work grow as N^2 / 2 pairs: meant for ML regions up to a
few thousand atoms.
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor

__all__ = ["PADDING_SHIFT", "PAIR_COUNT_PARAMETER", "all_pairs", "fixed_capacity_pairs"]

PADDING_SHIFT = 10000
# A global parameter (always 0) whose energy derivative is the module's pair count: the
# host reads it from the State (getParameterDerivatives) without touching the graph.
PAIR_COUNT_PARAMETER = "equiforce_pair_count"


def all_pairs(n_atoms: int, device: torch.device) -> Tensor:
    """Every pair ``i < j`` of ``n_atoms`` atoms, (2, n(n-1)/2) int64; a single atom gets
    the one pair (0, 0), which :func:`fixed_capacity_pairs` never counts."""
    if n_atoms < 2:
        return torch.zeros((2, 1), dtype=torch.long, device=device)
    return torch.triu_indices(n_atoms, n_atoms, offset=1, device=device)


def fixed_capacity_pairs(positions: Tensor, box: Tensor, periodic: bool, cutoff: float,
                         capacity: int, pairs: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Mirrored edges within ``cutoff`` in ``2 * capacity`` slots.

    Args:
        positions: (N, 3) Angstrom.
        box: (3, 3) OpenMM's reduced box vectors as rows (a along x, b in the xy plane),
            Angstrom; ignored unless ``periodic``.
        periodic: minimum image in ``box``.
        cutoff: Angstrom.
        capacity: slots for pairs (each pair gives two edges).
        pairs: (2, P) the candidate pairs, :func:`all_pairs`.

    Returns:
        edge_index (2, 2C) int64, shifts (2C, 3) float (cell shifts, in the dtype of the
        positions), the cell the shifts refer to (3, 3) (``box``, or the unit cell for
        molecules), and ``count``: the number of pairs within the cutoff (int64 scalar),
        or -1 when the periodic box is narrower than twice the cutoff.
    """
    i, j = pairs[0], pairs[1]
    vectors = positions.index_select(0, j) - positions.index_select(0, i)
    shifts = torch.zeros_like(vectors)
    cell = torch.eye(3, dtype=positions.dtype, device=positions.device)
    too_small = torch.zeros((), dtype=torch.bool, device=positions.device)
    if periodic:
        cell = box
        for axis in [2, 1, 0]:       # c, then b, then a: the reduced form's order
            n = torch.round(vectors[:, axis] / box[axis, axis])
            vectors = vectors - n.unsqueeze(1) * box[axis]
            shifts[:, axis] = -n
        too_small = (torch.diagonal(box) < 2.0 * cutoff).any()
    within = ((vectors * vectors).sum(dim=1) < cutoff * cutoff) & (i != j)
    count = within.sum()
    count = torch.where(too_small, torch.full_like(count, -1), count)
    slot = torch.nonzero_static(within, size=capacity, fill_value=-1).squeeze(1)
    used = slot >= 0
    safe = slot.clamp_min(0)
    zero = torch.zeros_like(safe)
    first = torch.where(used, i.index_select(0, safe), zero)
    second = torch.where(used, j.index_select(0, safe), zero)
    padding = torch.zeros(3, dtype=positions.dtype, device=positions.device)
    padding[0] = 10000.0   # PADDING_SHIFT (TorchScript reads no module constants)
    kept = torch.where(used.unsqueeze(1), shifts.index_select(0, safe), padding)
    edge_index = torch.stack([torch.cat([first, second]), torch.cat([second, first])])
    return edge_index, torch.cat([kept, -kept]), cell, count
