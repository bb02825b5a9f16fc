"""Feature layouts and Clebsch-Gordan blocks shared by the fast modules (construction time,
plus two cheap per-node layout conversions)."""
from __future__ import annotations

import torch
from e3nn import o3
from torch import Tensor


def offsets(dims: list[int]) -> list[int]:
    """Running sums ``[0, d0, d0 + d1, ...]``."""
    result = [0]
    for dim in dims:
        result.append(result[-1] + dim)
    return result


def common_multiplicity(irreps: o3.Irreps) -> int:
    """The one multiplicity ``U`` of every irrep in ``irreps`` (else ValueError)."""
    multiplicities = {mul for mul, _ in irreps}
    if len(multiplicities) != 1:
        raise ValueError(f"the fast path needs one multiplicity for all irreps, got {irreps}")
    return multiplicities.pop()


def channel_major(h: Tensor, channels: int, block_dims: list[int]) -> Tensor:
    """e3nn layout (N, sum_l U*(2l+1)), each block (U, 2l+1) -> (N, sum_l (2l+1), U)."""
    blocks, start = [], 0
    for dim in block_dims:
        width = channels * dim
        blocks.append(h[:, start:start + width].reshape(h.shape[0], channels, dim).transpose(1, 2))
        start += width
    return torch.cat(blocks, dim=1)


def e3nn_layout(x: Tensor, block_dims: list[int]) -> Tensor:
    """Inverse of :func:`channel_major`: (N, sum_l (2l+1), U) -> (N, sum_l U*(2l+1))."""
    blocks = x.split(block_dims, dim=1)
    return torch.cat([b.transpose(1, 2).reshape(x.shape[0], -1) for b in blocks], dim=1)


def wigner_block(tp: o3.TensorProduct, instruction) -> Tensor:
    """e3nn's constant of one instruction: path weight times Wigner 3j, (d1, d2, d_out)."""
    l1 = tp.irreps_in1[instruction.i_in1].ir.l
    l2 = tp.irreps_in2[instruction.i_in2].ir.l
    l3 = tp.irreps_out[instruction.i_out].ir.l
    return instruction.path_weight * o3.wigner_3j(l1, l2, l3, dtype=torch.float64)
