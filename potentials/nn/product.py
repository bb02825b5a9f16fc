"""Many-body product of aggregated neighbour features (MACE-style correlation order)."""
from __future__ import annotations

from typing import Optional

import torch
from e3nn import o3
from torch import Tensor, nn

from ._cueq import CueqProductStep, cueq_linear
from ._irreps import product_step_tensor_product
from ._tensor_product_code import generates_tensor_product_code

__all__ = ["ManyBodyProduct"]


class ManyBodyProduct(nn.Module):
    """Equivariant polynomial of degree ``correlation`` in the atomic features ``A``.

    ``B_1 = A`` and ``B_k = (B_{k-1} (x) A)`` channel-wise (``uuu``) with weights that
    depend on the species of the centre atom; the output is a linear mix of
    ``B_1 .. B_nu``. Each channel of ``B_k`` is a product of ``k`` copies of the same
    channel of ``A``, i.e. a ``(k+1)``-body feature, as in MACE's symmetric contraction.
    Unlike MACE, intermediate products are truncated to ``irreps_a`` (l <= l_max).

    ``methods`` (cuEquivariance method per block kind, :func:`~potentials.nn._cueq.kernel_methods`)
    builds the same function from cuEquivariance blocks; None (default) from e3nn's.

    Shapes: ``a`` (N, dim_a), ``species_index`` (N,) -> (N, dim_out).
    """

    def __init__(self, irreps_a: o3.Irreps, correlation: int, num_species: int,
                 irreps_out: o3.Irreps, methods: Optional[dict[str, str]] = None) -> None:
        super().__init__()
        self.steps = nn.ModuleList([
            _ProductStep(irreps_a, num_species) if methods is None
            else CueqProductStep(irreps_a, num_species, methods["product"])
            for _ in range(correlation - 1)])
        irreps_terms = o3.Irreps(irreps_a * correlation)
        self.linear = (o3.Linear(irreps_terms, irreps_out) if methods is None
                       else cueq_linear(irreps_terms, irreps_out, methods["linear"]))

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
        self.tensor_product = product_step_tensor_product(irreps_a,
                                                          generates_tensor_product_code())
        self.species_weights = nn.Embedding(num_species, self.tensor_product.weight_numel)

    def forward(self, b: Tensor, a: Tensor, species_index: Tensor) -> Tensor:
        return self.tensor_product(b, a, self.species_weights(species_index))

