"""The fast inference path: the same potential with the edge work in a fused, chunked kernel."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from ._ops_convert import transfer_weights
from .config import PotentialConfig
from .model import EquivariantPotential
from .nn.fast_interaction import EdgeChunking, FastConvolution
from .nn._native import kernel_status
from .nn._tensor_product_code import without_tensor_product_code
from .nn.fast_product import FastManyBodyProduct

__all__ = ["EdgeChunking", "FastPotential", "kernel_status"]


class FastPotential(EquivariantPotential):
    """An :class:`EquivariantPotential` for MD: same function and weights, faster, leaner.

    Every convolution runs as :class:`~potentials.nn.FastConvolution` (one contraction of
    neighbour features, edge harmonics and Clebsch-Gordan constants per edge chunk, summed
    into the centre atoms) and every many-body product as
    :class:`~potentials.nn.FastManyBodyProduct`; large graphs are processed in edge chunks
    so that memory does not grow with the edge count; all other parts are the e3nn modules
    of the model. Energy, forces and stress agree with the e3nn model to round-off.

    Inference only: parameters do not require gradients and ``train()`` raises; train the
    :class:`EquivariantPotential` and convert it with :meth:`from_model`.

    Args:
        config: hyper-parameters (as for :class:`EquivariantPotential`).
        dtype, device: where the model computes.
        chunking: when and how edges are split (:class:`EdgeChunking`).
    """

    def __init__(self, config: PotentialConfig, dtype: torch.dtype = torch.float64,
                 device: Optional[torch.device | str] = None,
                 chunking: EdgeChunking = EdgeChunking()) -> None:
        with without_tensor_product_code():  # replaced below, so never called
            super().__init__(config, dtype, device, ops="e3nn")
        self.chunking = chunking
        for layer in self.layers:
            layer.convolution = FastConvolution(layer.convolution, chunking)
            layer.product = FastManyBodyProduct(layer.product)
        self.to(dtype=dtype, device=device)
        self.requires_grad_(False)
        super().train(False)

    @classmethod
    def from_model(cls, model: EquivariantPotential, dtype: Optional[torch.dtype] = None,
                   device: Optional[torch.device | str] = None,
                   chunking: EdgeChunking = EdgeChunking()) -> "FastPotential":
        """A fast copy of ``model`` (its weights, in ``dtype`` on ``device``; default the
        model's own). ``model`` may use either backend (``ops``)."""
        first = next(model.parameters())
        fast = cls(model.config, dtype or first.dtype, device or first.device, chunking)
        transfer_weights(model.state_dict(), model.ops, fast)
        return fast

    def clone(self, dtype: Optional[torch.dtype] = None,
              device: Optional[torch.device | str] = None) -> "FastPotential":
        """A new fast model with the same weights (default: same dtype and device)."""
        return FastPotential.from_model(self, dtype, device, self.chunking)

    def edge_features(self, edge_index: Tensor,
                      edge_vectors: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """As :meth:`EquivariantPotential.edge_features`, but for a mirrored edge list (the
        second half the reverses of the first, as the neighbour lists here produce) the
        radial basis and envelope only of the first half: the radial MLP then runs once
        per pair. Detected by exact comparison, on CPU only (it needs a host check)."""
        edge_sh = self.spherical_harmonics(edge_vectors)
        half = _mirrored_half(edge_index, edge_vectors)
        lengths = torch.linalg.norm(edge_vectors[:half] if half else edge_vectors, dim=-1)
        return edge_sh, self.radial_basis(lengths), self.envelope(lengths)

    def train(self, mode: bool = True) -> "FastPotential":
        """Only ``train(False)`` (``eval()``) is allowed."""
        if mode:
            raise RuntimeError("FastPotential is for inference only; train the "
                               "EquivariantPotential and convert it with FastPotential.from_model")
        return super().train(False)


def _mirrored_half(edge_index: Tensor, edge_vectors: Tensor) -> int:
    """``E/2`` if edge ``h + E/2`` reverses edge ``h`` for every ``h`` (swapped atoms and
    a bitwise negated vector, so the same pair and cell shift), else 0."""
    num_edges = edge_index.shape[1]
    half = num_edges // 2
    if edge_index.device.type != "cpu" or half == 0 or num_edges % 2:
        return 0
    mirrored = (torch.equal(edge_index[0, :half], edge_index[1, half:])
                and torch.equal(edge_index[1, :half], edge_index[0, half:])
                and torch.equal(edge_vectors[:half].detach(), -edge_vectors[half:].detach()))
    return half if mirrored else 0
