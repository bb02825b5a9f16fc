"""Fast inference form of :class:`EquivariantConvolution` (same function, same weights)."""
from __future__ import annotations

import math

import torch
from e3nn import o3
from torch import Tensor, nn

from ._edge_kernel import EdgeChunking, edge_sum
from ._fused_messages import KernelLayout, native_available, native_messages
from ._layout import channel_major, common_multiplicity, offsets, wigner_block
from .interaction import EquivariantConvolution

__all__ = ["EdgeChunking", "FastConvolution"]


class FastConvolution(nn.Module):
    """The convolution of an :class:`EquivariantConvolution` as gather-contract-scatter.

    For every edge ``e = (i <- j)``, path ``p`` and channel ``u``::

        A[i, k, u] += w[e, p, u] * sum_a M_e[k, a] * x[j, a, u],
        M_e = envelope_e * (Y_e @ C_p)

    with ``x`` the up-projected neighbour features in channel-major layout
    ``(N, dim_in / U, U)``, ``Y`` the edge harmonics, ``w`` the radial weights and ``C_p``
    the path's Wigner 3j block times e3nn's path weight (all paths' blocks are the columns
    of one ``(dim_sh, sum_p d_out * d_in)`` constant built at construction). On CPU the
    compiled kernel of :mod:`potentials.nn._native` computes the sum; elsewhere (or
    without a C compiler) torch operations do. Node-level parts (the two linears) are the
    original e3nn modules. Inference only (no parameter gradients).

    Args:
        conv: the convolution to copy (its submodules are shared, not copied).
        chunking: when edges are processed in chunks (memory bounded by the chunk).
    """

    def __init__(self, conv: EquivariantConvolution,
                 chunking: EdgeChunking = EdgeChunking()) -> None:
        super().__init__()
        tp = conv.tensor_product
        self.channels = common_multiplicity(tp.irreps_in1)
        self.chunking = chunking
        self.avg_num_neighbors = conv.avg_num_neighbors
        self.linear_up = conv.linear_up
        self.radial_mlp = conv.radial_mlp
        self.linear_out = conv.linear_out
        self.irreps_out = conv.irreps_out
        self.num_paths = len(tp.instructions)
        cg, self.paths, self.output_order = _contraction_constants(tp)
        self.register_buffer("cg", cg, persistent=False)   # (dim_sh, sum_p d_out * d_in)
        self.in_block_dims = [ir.dim for _, ir in tp.irreps_in1]
        starts = offsets(self.in_block_dims)
        self.in_blocks = list(zip(starts[:-1], starts[1:]))
        self.radial_scales, self.radial_activations = _folded_mlp_constants(conv.radial_mlp)
        self.kernel_layout = _kernel_layout(self.paths, self.in_blocks)

    def forward(self, node_features: Tensor, edge_sh: Tensor, edge_radial: Tensor,
                edge_envelope: Tensor, edge_index: Tensor) -> Tensor:
        """Same shapes and result as :meth:`EquivariantConvolution.forward`; ``edge_radial``
        and ``edge_envelope`` may have one row per pair of a mirrored edge list (``E/2``
        rows, see :meth:`~potentials.FastPotential.edge_features`)."""
        if self.training:
            raise RuntimeError("FastConvolution is for inference; train the e3nn model")
        h = self.linear_up(node_features)
        x = channel_major(h, self.channels, self.in_block_dims)  # (N, dim_in/U, U)
        centre, neighbour = edge_index[0], edge_index[1]
        if native_available(x):
            summed = self._native_messages(x, edge_sh, edge_radial, edge_envelope, centre,
                                           neighbour)
        else:
            summed = edge_sum(self._torch_messages, self.chunking, x, edge_sh, edge_radial,
                              edge_envelope, centre, neighbour)
        blocks = summed.split([path[2] for path in self.paths], dim=1)
        summed = torch.cat([blocks[p].transpose(1, 2).reshape(x.shape[0], -1)
                            for p in self.output_order], dim=1)
        return self.linear_out(summed / self.avg_num_neighbors)

    def _native_messages(self, x: Tensor, edge_sh: Tensor, edge_radial: Tensor,
                         edge_envelope: Tensor, centre: Tensor, neighbour: Tensor) -> Tensor:
        """Per-centre sum (N, dim_mid/U, U) by the compiled kernel (CPU)."""
        num_edges, rows = centre.shape[0], edge_radial.shape[0]
        envelope = edge_envelope if rows == num_edges else torch.cat([edge_envelope] * 2)
        contraction = (edge_sh @ self.cg) * envelope.unsqueeze(-1)            # (E, Q)
        edges_per_row = max(1, num_edges // max(rows, 1))  # 1 or 2 (mirrored); no edges: 1
        return native_messages(self.kernel_layout, self._radial_network,
                               self.chunking.single_pass_edges // edges_per_row,
                               max(1, self.chunking.chunk_size // edges_per_row), x,
                               contraction, edge_radial, centre, neighbour)

    def _radial_network(self, edge_radial: Tensor) -> Tensor:
        """Radial weights (rows, P, U) of radial basis rows (rows, num_radial)."""
        return self._radial_weights(edge_radial).view(-1, self.num_paths, self.channels)

    def _torch_messages(self, x: Tensor, edge_sh: Tensor, edge_radial: Tensor,
                        edge_envelope: Tensor, centre: Tensor, neighbour: Tensor) -> Tensor:
        """The same sum with torch operations (any device; one chunk of :func:`edge_sum`).

        Per path: contraction ``M = (Y @ C_p) * envelope`` (e, d_out, d_in), neighbour
        block ``x_j`` (e, d_in, U), radial weight ``w`` (e, 1, U); message ``M x_j w``,
        weighted on whichever side of the contraction is smaller.
        """
        num_edges = centre.shape[0]
        weights = self._radial_network(edge_radial)
        if weights.shape[0] != num_edges:           # mirrored list: one row per pair
            weights, edge_envelope = torch.cat([weights] * 2), torch.cat([edge_envelope] * 2)
        envelope = edge_envelope.unsqueeze(-1)
        gathered = [x[:, a0:a1, :].index_select(0, neighbour) for a0, a1 in self.in_blocks]
        messages = []
        for path, w in zip(self.paths, weights.unbind(1)):
            block_in, d_in, d_out, c0, c1 = path
            contraction = ((edge_sh @ self.cg[:, c0:c1]) * envelope).view(num_edges, d_out, d_in)
            x_j, w = gathered[block_in], w.unsqueeze(1)
            if d_in == 1:
                messages.append(contraction * (x_j * w))
            elif d_in <= d_out:
                messages.append(torch.bmm(contraction, x_j * w))
            else:
                messages.append(torch.bmm(contraction, x_j) * w)
        stacked = torch.cat(messages, dim=1)                          # (e, dim_mid/U, U)
        return torch.zeros((x.shape[0],) + stacked.shape[1:], dtype=stacked.dtype,
                           device=stacked.device).index_add_(0, centre, stacked)

    def _radial_weights(self, edge_radial: Tensor) -> Tensor:
        """The radial MLP (e, num_radial) -> (e, P*U), e3nn's constants folded into weights."""
        x = edge_radial
        for layer, scale, activation in zip(self.radial_mlp, self.radial_scales,
                                            self.radial_activations):
            x = x @ (layer.weight * scale)
            if activation is not None:
                x = activation(x)
        return x


def _contraction_constants(tp: o3.TensorProduct):
    """Clebsch-Gordan columns, per-path layout and e3nn output order of ``tp``'s paths.

    Returns ``cg`` (dim_sh, sum_p d_out*d_in): columns ``c0:c1`` of path ``p`` reshape to
    ``(d_out, d_in)`` after contraction with the harmonics (e3nn's Wigner 3j block times
    the path weight); ``paths``: per path ``(input block, d_in, d_out, c0, c1)``;
    ``output_order``: the paths in the order of e3nn's output blocks.
    """
    if sorted(ins.i_out for ins in tp.instructions) != list(range(len(tp.irreps_out))):
        raise ValueError("FastConvolution needs one output block per instruction")
    sh_offsets = offsets([ir.dim for _, ir in tp.irreps_in2])
    columns, paths, c0 = [], [], 0
    for ins in tp.instructions:
        w3j = wigner_block(tp, ins)                                   # (d_in, d_sh, d_out)
        d_in, _, d_out = w3j.shape
        block = torch.zeros(sh_offsets[-1], d_out, d_in, dtype=torch.float64)
        block[sh_offsets[ins.i_in2]:sh_offsets[ins.i_in2 + 1]] = w3j.permute(1, 2, 0)
        columns.append(block.reshape(sh_offsets[-1], -1))
        paths.append((ins.i_in1, d_in, d_out, c0, c0 + columns[-1].shape[1]))
        c0 += columns[-1].shape[1]
    order = sorted(range(len(paths)), key=lambda p: tp.instructions[p].i_out)
    return torch.cat(columns, dim=1), paths, order


def _kernel_layout(paths: list, in_blocks: list) -> KernelLayout:
    """The paths as the compiled kernel reads them (see :class:`KernelLayout`): the
    contraction columns ``c0:c1`` of each path are ``cg``'s, already (d_out, d_in)."""
    rows, k0 = [], 0
    for block_in, d_in, d_out, c0, _ in paths:
        rows.append([in_blocks[block_in][0], d_in, k0, d_out, c0])
        k0 += d_out
    return KernelLayout(torch.tensor(rows, dtype=torch.int32), k0)


def _folded_mlp_constants(mlp: nn.Module):
    """Per-layer weight scales and activations of an e3nn ``FullyConnectedNet``.

    e3nn computes ``act(x @ W / sqrt(h_in var_in)) * c`` per hidden layer (``c`` from
    ``normalize2mom`` times ``sqrt(var_out)``); here ``c`` moves into the next layer's
    scale, so each layer is one matmul with ``W * scale`` and a bare activation.
    """
    scales, activations, carried = [], [], 1.0
    for layer in mlp:
        if layer.act is None:
            scales.append(carried / math.sqrt(layer.h_in * layer.var_in / layer.var_out))
            activations.append(None)
            carried = 1.0
            continue
        scales.append(carried / math.sqrt(layer.h_in * layer.var_in))
        activations.append(layer.act.f)
        carried = (1.0 if layer.act._is_id else layer.act.cst) * math.sqrt(layer.var_out)
    if carried != 1.0:
        raise ValueError("FastConvolution: radial MLP must end without an activation")
    return scales, activations
