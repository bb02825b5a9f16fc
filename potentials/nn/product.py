"""Many-body product of aggregated neighbour features (MACE-style correlation order)."""
from __future__ import annotations

import torch
from e3nn import o3
from torch import Tensor, nn

from ._irreps import allowed_outputs
from ._tensor_product_code import generates_tensor_product_code

__all__ = ["ManyBodyProduct"]


class ManyBodyProduct(nn.Module):
    """Equivariant polynomial of degree ``correlation`` in the atomic features ``A``.

    ``B_1 = A`` and ``B_k = (B_{k-1} (x) A)`` channel-wise (``uuu``) with weights that
    depend on the species of the centre atom; the output is a linear mix of
    ``B_1 .. B_nu``. Each channel of ``B_k`` is a product of ``k`` copies of the same
    channel of ``A``, i.e. a ``(k+1)``-body feature, as in MACE's symmetric contraction.
    Unlike MACE, intermediate products are truncated to ``irreps_a`` (l <= l_max).

    Shapes: ``a`` (N, dim_a), ``species_index`` (N,) -> (N, dim_out).
    """

    def __init__(self, irreps_a: o3.Irreps, correlation: int, num_species: int,
                 irreps_out: o3.Irreps) -> None:
        super().__init__()
        self.steps = nn.ModuleList(
            [_ProductStep(irreps_a, num_species) for _ in range(correlation - 1)])
        self.linear = o3.Linear(o3.Irreps(irreps_a * correlation), irreps_out)

    def forward(self, a: Tensor, species_index: Tensor) -> Tensor:
        b = a
        terms = [a]
        for step in self.steps:
            b = step(b, a, species_index)
            terms.append(b)
        return self.linear(torch.cat(terms, dim=-1))


class _ProductStep(nn.Module):
    """``B_k = B_{k-1} (x) A`` (channel-wise) with per-species path weights."""

    def __init__(self, irreps_a: o3.Irreps, num_species: int) -> None:
        super().__init__()
        instructions = []
        for i1, (_, ir1) in enumerate(irreps_a):
            for i2, (_, ir2) in enumerate(irreps_a):
                for ir_out in allowed_outputs(ir1, ir2, irreps_a):
                    i_out = [ir for _, ir in irreps_a].index(ir_out)
                    instructions.append((i1, i2, i_out, "uuu", True))
        self.tensor_product = o3.TensorProduct(
            irreps_a, irreps_a, irreps_a, instructions,
            shared_weights=False, internal_weights=False,
            compile_left_right=generates_tensor_product_code())
        self.species_weights = nn.Embedding(num_species, self.tensor_product.weight_numel)

    def forward(self, b: Tensor, a: Tensor, species_index: Tensor) -> Tensor:
        return self.tensor_product(b, a, self.species_weights(species_index))

