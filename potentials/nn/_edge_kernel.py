"""Edge chunking of the fast convolution: the chunk policy and the torch implementation's
chunked sum (the compiled kernel's chunking lives in ``_fused_messages``).

Memory: above ``EdgeChunking.single_pass_edges`` edges, the forward pass keeps nothing
per edge beyond its inputs, and the backward pass recomputes one chunk at a time
(gradient checkpointing by chunk), so peak memory grows with the chunk, not with the
edge count. Chunks are slices of radial rows: for a mirrored edge list (``E/2`` rows,
edge ``h + E/2`` the reverse of edge ``h``) a chunk holds both edges of each row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import torch
from torch import Tensor

EdgeFunction = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class EdgeChunking:
    """When and how the edge work is split to bound memory.

    Attributes:
        single_pass_edges: graphs with at most this many edges run in one piece (autograd
            keeps every intermediate; fastest). The default, 65,536, is ~1,500 atoms at
            42 neighbours each.
        chunk_size: edges per chunk above that; each chunk's intermediates are freed after
            its forward and recomputed in the backward pass (about a third more edge work
            for memory that no longer grows with the edge count).
    """

    single_pass_edges: int = 65536
    chunk_size: int = 16384

    def __post_init__(self) -> None:
        for name in ("single_pass_edges", "chunk_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"EdgeChunking.{name} must be an integer >= 1, got {value!r}")


def edge_sum(function: EdgeFunction, chunking: EdgeChunking, x: Tensor, edge_sh: Tensor,
             edge_radial: Tensor, edge_envelope: Tensor, centre: Tensor,
             neighbour: Tensor) -> Tensor:
    """``function`` over all edges, summed into centre atoms, in chunks for large graphs.

    ``function(x, sh, radial, envelope, centre, neighbour)`` returns the per-centre sum of
    the messages of the edges it is given, shape ``(N, ...)``. ``radial`` and ``envelope``
    may have one row per edge, or one per pair of a mirrored edge list (``E/2`` rows: edge
    ``h + E/2`` is the reverse of edge ``h``); chunks then keep both edges of a row.
    Inference only: gradients flow to ``x`` and the edge tensors, never to parameters
    inside ``function``.
    """
    if centre.shape[0] <= chunking.single_pass_edges:
        return function(x, edge_sh, edge_radial, edge_envelope, centre, neighbour)
    return _ChunkedEdgeSum.apply(function, chunking.chunk_size, x, edge_sh, edge_radial,
                                 edge_envelope, centre, neighbour)


def row_chunks(num_rows: int, chunk_size: int) -> List[slice]:
    """Consecutive slices of at most ``chunk_size`` radial rows."""
    return [slice(start, min(start + chunk_size, num_rows))
            for start in range(0, num_rows, chunk_size)]


def edges_of(tensor: Tensor, rows: slice, num_rows: int) -> Tensor:
    """The per-edge ``tensor`` rows of the edges weighted by radial ``rows``: the same
    rows, or for a mirrored list (``2 * num_rows`` edges) those and their reverses."""
    if tensor.shape[0] == num_rows:
        return tensor[rows]
    return torch.cat([tensor[rows], tensor[rows.start + num_rows:rows.stop + num_rows]])


def add_edges(total: Tensor, part: Tensor, rows: slice, num_rows: int) -> None:
    """Inverse of :func:`edges_of`: add a chunk's per-edge rows into ``total``."""
    if total.shape[0] == num_rows:
        total[rows] += part
        return
    size = rows.stop - rows.start
    total[rows] += part[:size]
    total[rows.start + num_rows:rows.stop + num_rows] += part[size:]


class _ChunkedEdgeSum(torch.autograd.Function):
    """Forward without saving per-edge intermediates; backward recomputes chunk by chunk."""

    @staticmethod
    def forward(ctx, function: EdgeFunction, chunk_size: int, x: Tensor, edge_sh: Tensor,
                edge_radial: Tensor, edge_envelope: Tensor, centre: Tensor,
                neighbour: Tensor) -> Tensor:
        ctx.function, ctx.chunk_size = function, chunk_size
        ctx.save_for_backward(x, edge_sh, edge_radial, edge_envelope, centre, neighbour)
        rows = edge_radial.shape[0]
        total: Optional[Tensor] = None
        for part in row_chunks(rows, chunk_size):
            out = function(x, edges_of(edge_sh, part, rows), edge_radial[part],
                           edge_envelope[part], edges_of(centre, part, rows),
                           edges_of(neighbour, part, rows))
            total = out if total is None else total.add_(out)
        assert total is not None
        return total

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        x, edge_sh, edge_radial, edge_envelope, centre, neighbour = ctx.saved_tensors
        need_x, need_sh, need_radial, need_envelope = ctx.needs_input_grad[2:6]
        rows = edge_radial.shape[0]
        grad_x = torch.zeros_like(x) if need_x else None
        grad_sh = torch.zeros_like(edge_sh) if need_sh else None
        grad_radial = torch.zeros_like(edge_radial) if need_radial else None
        grad_envelope = torch.zeros_like(edge_envelope) if need_envelope else None
        x_leaf = x.detach().requires_grad_(need_x)
        with torch.enable_grad():
            for part in row_chunks(rows, ctx.chunk_size):
                sh = edges_of(edge_sh, part, rows).detach().requires_grad_(need_sh)
                radial = edge_radial[part].detach().requires_grad_(need_radial)
                envelope = edge_envelope[part].detach().requires_grad_(need_envelope)
                out = ctx.function(x_leaf, sh, radial, envelope, edges_of(centre, part, rows),
                                   edges_of(neighbour, part, rows))
                leaves = [x_leaf, sh, radial, envelope]
                wanted = [leaf for leaf in leaves if leaf.requires_grad]
                grads = dict(zip(map(id, wanted), torch.autograd.grad(
                    [out], wanted, [grad_out], allow_unused=True)))
                _accumulate(grad_x, grads.get(id(x_leaf)), slice(None))
                if grad_sh is not None and id(sh) in grads and grads[id(sh)] is not None:
                    add_edges(grad_sh, grads[id(sh)], part, rows)
                _accumulate(grad_radial, grads.get(id(radial)), part)
                _accumulate(grad_envelope, grads.get(id(envelope)), part)
        return None, None, grad_x, grad_sh, grad_radial, grad_envelope, None, None


def _accumulate(total: Optional[Tensor], grad: Optional[Tensor], rows: slice) -> None:
    if total is not None and grad is not None:
        total[rows] += grad
