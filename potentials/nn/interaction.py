"""Equivariant convolution: neighbour features x edge harmonics, radial weights."""
from __future__ import annotations

from typing import Optional

import torch
from e3nn import o3
from e3nn.nn import FullyConnectedNet
from torch import Tensor, nn

from ._cueq import CueqEdgeProduct, cueq_linear
from ._irreps import allowed_outputs
from ._tensor_product_code import generates_tensor_product_code

__all__ = ["CueqConvolution", "EquivariantConvolution", "convolution"]


class EquivariantConvolution(nn.Module):
    """Message passing ``A_i = W sum_j R(r_ij) (h_j (x) Y(r_ij)) / avg_num_neighbors``.

    The tensor product is channel-wise (``uvu``) with one weight per path and channel,
    produced for every edge by an MLP of the radial basis and multiplied by the smooth
    envelope, so messages vanish with two continuous derivatives at the cutoff.

    Args:
        irreps_in: irreps of the node features ``h``.
        irreps_sh: irreps of the edge spherical harmonics ``Y``.
        irreps_out: irreps of the aggregated output ``A`` (after a linear mix).
        num_radial: size of the radial basis.
        radial_hidden: width of the two hidden layers of the radial MLP.
        avg_num_neighbors: normalisation of the neighbour sum.
    """

    def __init__(self, irreps_in: o3.Irreps, irreps_sh: o3.Irreps, irreps_out: o3.Irreps,
                 num_radial: int, radial_hidden: int, avg_num_neighbors: float) -> None:
        super().__init__()
        self.avg_num_neighbors = float(avg_num_neighbors)
        self.linear_up = o3.Linear(irreps_in, irreps_in)
        mid, instructions = _uvu_paths(irreps_in, irreps_sh, irreps_out)
        self.tensor_product = o3.TensorProduct(
            irreps_in, irreps_sh, mid, instructions, shared_weights=False, internal_weights=False,
            compile_left_right=generates_tensor_product_code())
        self.radial_mlp = radial_network(num_radial, radial_hidden,
                                         self.tensor_product.weight_numel)
        self.linear_out = o3.Linear(mid.simplify(), irreps_out)
        self.irreps_out = irreps_out
        self.irreps_mid = mid

    def forward(self, node_features: Tensor, edge_sh: Tensor, edge_radial: Tensor,
                edge_envelope: Tensor, edge_index: Tensor) -> Tensor:
        """Shapes: node_features (N, dim_in), edge_sh (E, dim_sh), edge_radial (E, num_radial),
        edge_envelope (E,), edge_index (2, E) [centre, neighbour] -> (N, dim_out)."""
        centre, neighbour = edge_index[0], edge_index[1]
        h = self.linear_up(node_features)
        weights = self.radial_mlp(edge_radial) * edge_envelope.unsqueeze(-1)
        messages = self.tensor_product(h[neighbour], edge_sh, weights)
        summed = torch.zeros(node_features.shape[0], messages.shape[1],
                             dtype=messages.dtype, device=messages.device)
        summed = summed.index_add(0, centre, messages)
        return self.linear_out(summed / self.avg_num_neighbors)


def radial_network(num_radial: int, radial_hidden: int, num_weights: int) -> nn.Module:
    """The radial MLP: (E, num_radial) -> (E, num_weights), two SiLU hidden layers."""
    return FullyConnectedNet([num_radial, radial_hidden, radial_hidden, num_weights],
                             torch.nn.functional.silu)


def _uvu_paths(irreps_in: o3.Irreps, irreps_sh: o3.Irreps, irreps_out: o3.Irreps):
    """Output irreps (sorted, not simplified) and ``uvu`` instructions of the convolution."""
    mid: list[tuple[int, o3.Irrep]] = []
    raw: list[tuple[int, int, o3.Irrep]] = []
    for i1, (mul, ir1) in enumerate(irreps_in):
        for i2, (_, ir2) in enumerate(irreps_sh):
            for ir_out in allowed_outputs(ir1, ir2, irreps_out):
                raw.append((i1, i2, ir_out))
                mid.append((mul, ir_out))
    mid_irreps = o3.Irreps(mid)
    sorted_irreps, permutation, _ = mid_irreps.sort()
    instructions = [(i1, i2, permutation[k], "uvu", True) for k, (i1, i2, _) in enumerate(raw)]
    return sorted_irreps, instructions


class CueqConvolution(EquivariantConvolution):
    """:class:`EquivariantConvolution` built from cuEquivariance blocks (same function,
    same parameter names; the radial MLP's output columns come in the edge product's
    weight order, see :mod:`potentials._ops_convert`). Gather, product and neighbour sum
    are one :class:`~potentials.nn._cueq.CueqEdgeProduct` call: no (E, dim) message
    tensor is formed.

    Args: as :class:`EquivariantConvolution`, plus ``methods`` (cuEquivariance method per
    block kind, :func:`~potentials.nn._cueq.kernel_methods`).
    """

    def __init__(self, irreps_in: o3.Irreps, irreps_sh: o3.Irreps, irreps_out: o3.Irreps,
                 num_radial: int, radial_hidden: int, avg_num_neighbors: float,
                 methods: dict[str, str]) -> None:
        nn.Module.__init__(self)
        self.avg_num_neighbors = float(avg_num_neighbors)
        mid, _ = _uvu_paths(irreps_in, irreps_sh, irreps_out)
        self.linear_up = cueq_linear(irreps_in, irreps_in, methods["linear"])
        self.tensor_product = CueqEdgeProduct(irreps_in, irreps_sh, irreps_out,
                                              methods["edge_product"])
        if self.tensor_product.irreps_out != mid:
            raise ValueError(f"cuEquivariance's edge product gives {self.tensor_product.irreps_out}, "
                             f"the e3nn convolution {mid}")
        self.radial_mlp = radial_network(num_radial, radial_hidden,
                                         self.tensor_product.weight_numel)
        self.linear_out = cueq_linear(mid.simplify(), irreps_out, methods["linear"])
        self.irreps_out = irreps_out
        self.irreps_mid = mid

    def forward(self, node_features: Tensor, edge_sh: Tensor, edge_radial: Tensor,
                edge_envelope: Tensor, edge_index: Tensor) -> Tensor:
        """Shapes as :meth:`EquivariantConvolution.forward`."""
        h = self.linear_up(node_features)
        weights = self.radial_mlp(edge_radial) * edge_envelope.unsqueeze(-1)
        summed = self.tensor_product(h, edge_sh, weights, edge_index[0], edge_index[1],
                                     node_features.shape[0])
        return self.linear_out(summed / self.avg_num_neighbors)


def convolution(irreps_in: o3.Irreps, irreps_sh: o3.Irreps, irreps_out: o3.Irreps,
                num_radial: int, radial_hidden: int, avg_num_neighbors: float,
                methods: Optional[dict[str, str]] = None) -> EquivariantConvolution:
    """The e3nn convolution (``methods`` None) or its cuEquivariance twin."""
    if methods is None:
        return EquivariantConvolution(irreps_in, irreps_sh, irreps_out, num_radial,
                                      radial_hidden, avg_num_neighbors)
    return CueqConvolution(irreps_in, irreps_sh, irreps_out, num_radial, radial_hidden,
                           avg_num_neighbors, methods)
