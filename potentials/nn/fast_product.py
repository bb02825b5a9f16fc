"""Fast inference form of :class:`ManyBodyProduct` (same function, same weights)."""
from __future__ import annotations

import torch
from e3nn import o3
from torch import Tensor, nn

from ._layout import channel_major, common_multiplicity, e3nn_layout, offsets, wigner_block
from .product import ManyBodyProduct

__all__ = ["FastManyBodyProduct"]


class FastManyBodyProduct(nn.Module):
    """:class:`ManyBodyProduct` with each ``uuu`` step as three dense operations.

    For atom ``n``, channel ``u``, the step ``B_k = B_{k-1} (x) A`` is::

        B_k[n, c, u] = sum_s S[c, s] W[n, path(s), u] sum_ab C[s, ab] B_{k-1}[n, a, u] A[n, b, u]

    with ``C`` every path's Wigner 3j block times its path weight (slots ``s`` run over the
    paths' outputs) and ``S`` the 0/1 matrix adding paths into output irreps, both built
    once. The species weights and the final linear are the original modules.

    Shapes: ``a`` (N, dim_a) in e3nn's layout, ``species_index`` (N,) -> (N, dim_out).
    """

    def __init__(self, product: ManyBodyProduct) -> None:
        super().__init__()
        self.linear = product.linear
        self.steps = nn.ModuleList([_Step(step.species_weights) for step in product.steps])
        terms = len(product.steps) + 1               # the linear reads B_1 .. B_nu
        irreps_a = product.linear.irreps_in[:len(product.linear.irreps_in) // terms]
        self.channels = common_multiplicity(irreps_a)
        self.block_dims = [ir.dim for _, ir in irreps_a]
        self.num_paths = []
        for k, step in enumerate(product.steps):
            cg, gather, scatter = _step_constants(step.tensor_product)
            self.register_buffer(f"cg_{k}", cg, persistent=False)         # (slots, d_a * d_a)
            self.register_buffer(f"path_of_slot_{k}", gather, persistent=False)  # (slots,)
            self.register_buffer(f"scatter_{k}", scatter, persistent=False)  # (d_a, slots)
            self.num_paths.append(len(step.tensor_product.instructions))

    def forward(self, a: Tensor, species_index: Tensor) -> Tensor:
        x = channel_major(a, self.channels, self.block_dims)       # (N, d_a, U)
        num_atoms, dim = x.shape[0], x.shape[1]
        b, terms = x, [a]
        for k, step in enumerate(self.steps):
            weights = step.species_weights(species_index).view(
                num_atoms, self.num_paths[k], self.channels)
            outer = (b.unsqueeze(2) * x.unsqueeze(1)).reshape(num_atoms, dim * dim, self.channels)
            slots = torch.matmul(getattr(self, f"cg_{k}"), outer)     # (N, slots, U)
            slots = slots * weights.index_select(1, getattr(self, f"path_of_slot_{k}"))
            b = torch.matmul(getattr(self, f"scatter_{k}"), slots)    # (N, d_a, U)
            terms.append(e3nn_layout(b, self.block_dims))
        return self.linear(torch.cat(terms, dim=-1))


class _Step(nn.Module):
    """Holds a step's species weights under the e3nn module's parameter name."""

    def __init__(self, species_weights: nn.Embedding) -> None:
        super().__init__()
        self.species_weights = species_weights


def _step_constants(tp: o3.TensorProduct):
    """``C`` (slots, d_a*d_a), slot-to-path index (slots,) and ``S`` (d_a, slots)."""
    starts = offsets([ir.dim for _, ir in tp.irreps_in1])
    dim = starts[-1]
    blocks, path_of_slot, targets = [], [], []
    for p, ins in enumerate(tp.instructions):
        w3j = wigner_block(tp, ins)                                  # (d1, d2, d_out)
        d1, d2, d_out = w3j.shape
        block = torch.zeros(d_out, dim, dim, dtype=torch.float64)
        block[:, starts[ins.i_in1]:starts[ins.i_in1] + d1,
              starts[ins.i_in2]:starts[ins.i_in2] + d2] = w3j.permute(2, 0, 1)
        blocks.append(block.reshape(d_out, dim * dim))
        path_of_slot.extend([p] * d_out)
        targets.extend(range(starts[ins.i_out], starts[ins.i_out] + d_out))
    scatter = torch.zeros(dim, len(targets), dtype=torch.float64)
    scatter[targets, list(range(len(targets)))] = 1.0
    return torch.cat(blocks), torch.tensor(path_of_slot, dtype=torch.long), scatter
