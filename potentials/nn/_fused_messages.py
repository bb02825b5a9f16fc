"""Autograd wrapper of the compiled CPU edge kernel (see ``_kernels/edge_messages.c``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor

from ._edge_kernel import add_edges, edges_of, row_chunks
from ._native import native_library


@dataclass(frozen=True)
class KernelLayout:
    """The convolution's paths as the kernel reads them.

    Attributes:
        paths: (P, 5) int32 rows ``(a0, d_in, k0, d_out, q0)``: input slots
            ``a0:a0+d_in``, output slots ``k0:k0+d_out``, contraction columns
            ``q0:q0+d_out*d_in`` (row-major ``(d_out, d_in)``).
        dim_out: output slots ``K``.
    """

    paths: Tensor
    dim_out: int


def native_available(x: Tensor) -> bool:
    """True when the compiled kernel can run on ``x`` (CPU float32/float64)."""
    return (x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
            and native_library() is not None)


class FusedEdgeMessages(torch.autograd.Function):
    """``out[i, k, u] = sum_{e=(i<-j)} R[e, p(k), u] sum_a M[e, k, a] x[j, a, u]`` in C.

    Inputs: ``x`` (N, dim_in, U), ``contraction`` M (E, Q), ``radial`` R (E, P, U), or
    (E/2, P, U) for a mirrored edge list (edge ``h + E/2`` the reverse of edge ``h``, both
    weighted by row ``h``), ``centre``/``neighbour`` (E,) int64. Output (N, K, U).
    Gradients for ``x``, ``M`` and ``R`` (first order only: inference).
    """

    @staticmethod
    def forward(ctx, layout: KernelLayout, x: Tensor, contraction: Tensor, radial: Tensor,
                centre: Tensor, neighbour: Tensor) -> Tensor:
        x, contraction, radial, centre, neighbour = (
            t.contiguous() for t in (x, contraction, radial, centre, neighbour))
        threads = _threads(radial.shape[0])
        out = x.new_zeros((threads, x.shape[0], layout.dim_out, x.shape[2]))
        _call("equiforce_edge_forward", layout, x, contraction, radial, centre, neighbour,
              [out], threads)
        ctx.layout = layout
        ctx.save_for_backward(x, contraction, radial, centre, neighbour)
        return out.sum(0) if threads > 1 else out[0]

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        x, contraction, radial, centre, neighbour = ctx.saved_tensors
        threads = _threads(radial.shape[0])
        grad_x = x.new_zeros((threads,) + x.shape)
        grad_m, grad_r = torch.empty_like(contraction), torch.empty_like(radial)
        _call("equiforce_edge_backward", ctx.layout, x, contraction, radial, centre, neighbour,
              [grad_out.contiguous(), grad_x, grad_m, grad_r], threads)
        grad_x = grad_x.sum(0) if threads > 1 else grad_x[0]
        return None, grad_x, grad_m, grad_r, None, None


def _threads(num_rows: int) -> int:
    """torch's intra-op thread count, fewer for tiny graphs (thread start-up dominates)."""
    return max(1, min(torch.get_num_threads(), num_rows // 1024))


def _call(name: str, layout: KernelLayout, x: Tensor, contraction: Tensor, radial: Tensor,
          centre: Tensor, neighbour: Tensor, outputs: list[Tensor], threads: int) -> None:
    library = native_library()
    assert library is not None
    status = getattr(library, name)(
        int(x.dtype == torch.float64), centre.shape[0], radial.shape[0], x.shape[0],
        x.shape[2], x.shape[1],
        layout.dim_out, contraction.shape[1], layout.paths.shape[0], layout.paths.data_ptr(),
        x.data_ptr(), contraction.data_ptr(), radial.data_ptr(), centre.data_ptr(),
        neighbour.data_ptr(), *[t.data_ptr() for t in outputs], threads)
    if status != 0:
        raise RuntimeError(f"equiforce edge kernel {name} failed with status {status}")


def native_messages(layout: KernelLayout, radial_network: Callable[[Tensor], Tensor],
                    single_pass_rows: int, chunk_rows: int, x: Tensor, contraction: Tensor,
                    edge_radial: Tensor, centre: Tensor, neighbour: Tensor) -> Tensor:
    """The kernel's sum (N, K, U) with the radial network ``radial_network`` (rows, num_radial)
    -> (rows, P, U) applied to ``edge_radial``: in one pass for at most ``single_pass_rows``
    rows, else in chunks of ``chunk_rows`` (the network recomputed in the backward pass, so
    memory no longer grows with the edge count, and no per-chunk work of size N)."""
    if edge_radial.shape[0] <= single_pass_rows:
        return FusedEdgeMessages.apply(layout, x, contraction, radial_network(edge_radial),
                                       centre, neighbour)
    return _ChunkedFusedEdgeMessages.apply(layout, radial_network, chunk_rows, x, contraction,
                                           edge_radial, centre, neighbour)


class _ChunkedFusedEdgeMessages(torch.autograd.Function):
    """:class:`FusedEdgeMessages` over chunks of radial rows, accumulating in shared buffers."""

    @staticmethod
    def forward(ctx, layout: KernelLayout, radial_network: Callable[[Tensor], Tensor],
                chunk_rows: int, x: Tensor, contraction: Tensor, edge_radial: Tensor,
                centre: Tensor, neighbour: Tensor) -> Tensor:
        x, contraction, centre, neighbour = (
            t.contiguous() for t in (x, contraction, centre, neighbour))
        rows = edge_radial.shape[0]
        threads = _threads(rows)
        out = x.new_zeros((threads, x.shape[0], layout.dim_out, x.shape[2]))
        for part in row_chunks(rows, chunk_rows):
            with torch.no_grad():
                radial = radial_network(edge_radial[part]).contiguous()
            edges = [edges_of(t, part, rows) for t in (contraction, centre, neighbour)]
            _call("equiforce_edge_forward", layout, x, edges[0], radial, edges[1], edges[2],
                  [out], threads)
        ctx.layout, ctx.radial_network, ctx.chunk_rows = layout, radial_network, chunk_rows
        ctx.save_for_backward(x, contraction, edge_radial, centre, neighbour)
        return out.sum(0)

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        x, contraction, edge_radial, centre, neighbour = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        rows = edge_radial.shape[0]
        threads = _threads(rows)
        grad_x = x.new_zeros((threads,) + x.shape)
        grad_m, grad_radial = torch.zeros_like(contraction), torch.empty_like(edge_radial)
        for part in row_chunks(rows, ctx.chunk_rows):
            leaf = edge_radial[part].detach().requires_grad_(True)
            with torch.enable_grad():
                radial = ctx.radial_network(leaf)
            edges = [edges_of(t, part, rows) for t in (contraction, centre, neighbour)]
            grad_m_part, grad_r = torch.empty_like(edges[0]), torch.empty_like(radial)
            _call("equiforce_edge_backward", ctx.layout, x, edges[0], radial.detach(),
                  edges[1], edges[2], [grad_out, grad_x, grad_m_part, grad_r], threads)
            grad_radial[part] = torch.autograd.grad(radial, leaf, grad_r)[0]
            add_edges(grad_m, grad_m_part, part, rows)
        return None, None, None, grad_x.sum(0), grad_m, grad_radial, None, None
