"""One message-passing layer: convolution, many-body product, self-connection, gate."""
from __future__ import annotations

from typing import Optional

import torch
from e3nn import o3
from e3nn.nn import Gate
from torch import Tensor, nn

from ._cueq import cueq_fully_connected
from .interaction import convolution
from .product import ManyBodyProduct

__all__ = ["InteractionLayer"]


class InteractionLayer(nn.Module):
    """``h' = gate(Product(Conv(h)) + SelfConnection(h, species))``.

    The first layer has no self-connection (as in MACE): every term is then linear or
    gated in the neighbour sum, so an atom without neighbours has zero features in every
    layer and its energy is exactly its species' reference energy. The last layer (``last=True``) keeps only ``channels`` scalars and no gate: the
    energy readout only needs invariants, which saves the l > 0 work of that layer.

    Args:
        irreps_in: irreps of the incoming node features.
        irreps_sh: irreps of the edge spherical harmonics.
        irreps_hidden: ``channels x (l <= l_max)`` irreps of the convolution output.
        num_species, correlation, num_radial, radial_hidden, avg_num_neighbors: see
            :class:`~potentials.PotentialConfig`.
        methods: None for e3nn blocks, else cuEquivariance's method per block kind
            (:func:`~potentials.nn._cueq.kernel_methods`).
    """

    def __init__(self, irreps_in: o3.Irreps, irreps_sh: o3.Irreps, irreps_hidden: o3.Irreps,
                 num_species: int, correlation: int, num_radial: int, radial_hidden: int,
                 avg_num_neighbors: float, first: bool, last: bool,
                 methods: Optional[dict[str, str]] = None) -> None:
        super().__init__()
        scalars = o3.Irreps([(mul, ir) for mul, ir in irreps_hidden if ir.l == 0])
        gated = o3.Irreps([(mul, ir) for mul, ir in irreps_hidden if ir.l > 0])
        if last or len(gated) == 0:
            self.gate: nn.Module = _ScalarActivation(scalars, last)
            pre_gate = scalars
        else:
            gates = o3.Irreps([(gated.num_irreps, (0, 1))])
            self.gate = Gate(scalars, [torch.nn.functional.silu], gates, [torch.sigmoid], gated)
            pre_gate = self.gate.irreps_in
        self.num_species = num_species
        self.convolution = convolution(irreps_in, irreps_sh, irreps_hidden, num_radial,
                                       radial_hidden, avg_num_neighbors, methods)
        self.product = ManyBodyProduct(irreps_hidden, correlation, num_species, pre_gate,
                                       methods)
        # zero or one module: a ModuleList keeps the layer TorchScript-compatible
        species = o3.Irreps(f"{num_species}x0e")
        self.self_connection = nn.ModuleList([] if first else [
            o3.FullyConnectedTensorProduct(irreps_in, species, pre_gate) if methods is None
            else cueq_fully_connected(irreps_in, species, pre_gate, methods["fully_connected"])])
        self.irreps_out = self.gate.irreps_out

    def forward(self, node_features: Tensor, species_index: Tensor, edge_sh: Tensor,
                edge_radial: Tensor, edge_envelope: Tensor, edge_index: Tensor) -> Tensor:
        """Shapes: node_features (N, dim_in), species_index (N,) -> (N, dim_out)."""
        a = self.convolution(node_features, edge_sh, edge_radial, edge_envelope, edge_index)
        update = self.product(a, species_index)
        for self_connection in self.self_connection:
            one_hot = torch.nn.functional.one_hot(species_index, self.num_species).to(a.dtype)
            update = update + self_connection(node_features, one_hot)
        return self.gate(update)


class _ScalarActivation(nn.Module):
    """SiLU on scalar features (identity for the last layer, whose readout is an MLP)."""

    def __init__(self, irreps: o3.Irreps, identity: bool) -> None:
        super().__init__()
        self.irreps_in = irreps
        self.irreps_out = irreps
        self.identity = identity

    def forward(self, x: Tensor) -> Tensor:
        return x if self.identity else torch.nn.functional.silu(x)
