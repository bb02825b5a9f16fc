"""cuEquivariance building blocks with e3nn's conventions (construction and forward).

Every block takes and returns features in e3nn's layout (``mul_ir``: each ``mul x ir``
block stored as (mul, 2l+1), the same memory as e3nn) and uses e3nn's Clebsch-Gordan
conventions (``O3_e3nn``), so a block computes the same function as its e3nn twin with
converted weights (:mod:`potentials._ops_convert`). ``method`` is cuEquivariance's
execution method: ``"naive"`` is pure torch (any device); the others need the CUDA
kernels of ``cuequivariance-ops-torch-cu12`` (see :func:`kernel_methods`).
"""
from __future__ import annotations

import cuequivariance as cue
import cuequivariance_torch as cuet
import torch
from cuequivariance.group_theory.experimental.e3nn import O3_e3nn
from e3nn import o3
from torch import Tensor, nn

from ._irreps import product_step_tensor_product
from ._layout import wigner_block

__all__ = ["CueqEdgeProduct", "CueqProductStep", "CueqSphericalHarmonics", "cue_irreps",
           "cueq_fully_connected", "cueq_linear", "kernel_methods"]

# cuEquivariance's method per kind of block when its CUDA kernels are used (as MACE and
# nequip choose them); "naive" everywhere otherwise.
_CUDA_METHODS = {"spherical_harmonics": "uniform_1d", "edge_product": "uniform_1d",
                 "linear": "naive", "fully_connected": "naive", "product": "uniform_1d"}
KINDS = tuple(_CUDA_METHODS)
# the kinds that run a CUDA kernel when kernels are used
KERNEL_KINDS = tuple(kind for kind, method in _CUDA_METHODS.items() if method != "naive")


def kernel_methods(use_kernels: bool) -> dict[str, str]:
    """cuEquivariance method per block kind: CUDA kernels or the pure-torch ``"naive"``.

    Linears and the self-connection stay ``"naive"`` even with kernels: they are node-level
    matrix products, which torch already runs as one GEMM (MACE does the same for linears).
    """
    return dict(_CUDA_METHODS) if use_kernels else {kind: "naive" for kind in KINDS}


def cue_irreps(irreps: o3.Irreps) -> cue.Irreps:
    """The e3nn irreps ``irreps`` as cuEquivariance irreps of the group ``O3_e3nn``."""
    return cue.Irreps(O3_e3nn, str(irreps))


def cueq_linear(irreps_in: o3.Irreps, irreps_out: o3.Irreps, method: str) -> nn.Module:
    """Equivariant linear map (no bias), same function as ``o3.Linear(irreps_in, irreps_out)``.
    Weight (1, numel) = e3nn's (numel,) weight."""
    return cuet.Linear(cue_irreps(irreps_in), cue_irreps(irreps_out), layout=cue.mul_ir,
                       internal_weights=True, shared_weights=True, method=method)


def cueq_fully_connected(irreps_in1: o3.Irreps, irreps_in2: o3.Irreps, irreps_out: o3.Irreps,
                         method: str) -> nn.Module:
    """``o3.FullyConnectedTensorProduct`` twin; weight (1, numel) = e3nn's (numel,) weight."""
    return cuet.FullyConnectedTensorProduct(
        cue_irreps(irreps_in1), cue_irreps(irreps_in2), cue_irreps(irreps_out),
        layout=cue.mul_ir, internal_weights=True, shared_weights=True, method=method)


class CueqSphericalHarmonics(nn.Module):
    """Spherical harmonics ``Y_0 .. Y_lmax`` of edge vectors, normalised input, e3nn's
    ``"component"`` normalisation and order. Shapes: (E, 3) Angstrom -> (E, (l_max+1)^2).

    ``Y_0 = 1`` is written here and ``Y_1 .. Y_lmax`` come from cuEquivariance's
    descriptor: its constant ``l = 0`` term is an operation without inputs, which does not
    compile with TorchScript in 0.13 (nor does ``cuet.SphericalHarmonics``).
    """

    def __init__(self, l_max: int, method: str) -> None:
        super().__init__()
        self.method = method
        self.l_max = l_max
        degrees = list(range(1, max(l_max, 1) + 1))
        descriptor = cue.descriptors.spherical_harmonics(cue.SO3(1), degrees)
        self.f = cuet.SegmentedPolynomial(descriptor.polynomial, method=method)

    def forward(self, vectors: Tensor) -> Tensor:
        constant = torch.ones_like(vectors[:, :1])
        if self.l_max == 0:
            return constant
        harmonics = self.f([torch.nn.functional.normalize(vectors, dim=1)])[0]
        return torch.cat([constant, harmonics], dim=1)


class CueqEdgeProduct(nn.Module):
    """The convolution's channel-wise (``uvu``) product, gathered and summed in one call.

    ``out[i] = sum_{e: centre_e = i} TP(h[neighbour_e], Y_e; w_e)``. Output blocks are
    sorted by irrep, as the e3nn convolution's; the weight blocks of one path (``mul``
    channels each) come in output order (e3nn's come in instruction order: see
    :func:`potentials._ops_convert.edge_weight_order`).

    Shapes: h (N, dim_in), Y (E, dim_sh), w (E, weight_numel), centre/neighbour (E,)
    -> (num_nodes, dim_out).
    """

    def __init__(self, irreps_in: o3.Irreps, irreps_sh: o3.Irreps, irreps_out: o3.Irreps,
                 method: str) -> None:
        super().__init__()
        self.tp = cuet.ChannelWiseTensorProduct(
            cue_irreps(irreps_in), cue_irreps(irreps_sh),
            [term.ir for term in cue_irreps(irreps_out)], layout=cue.mul_ir,
            shared_weights=False, internal_weights=False, method=method)
        self.weight_numel = int(self.tp.weight_numel)
        self.irreps_out = o3.Irreps(str(self.tp.irreps_out))

    def forward(self, h: Tensor, edge_sh: Tensor, weights: Tensor, centre: Tensor,
                neighbour: Tensor, num_nodes: int) -> Tensor:
        # The polynomial is called directly: ChannelWiseTensorProduct.forward makes its
        # output-size tensor on the CPU and copies it to the device on every call (a
        # blocking copy on CUDA, not allowed inside a captured CUDA graph).
        tp = self.tp
        output = tp.f([weights, tp.transpose_in1(h), tp.transpose_in2(edge_sh)],
                      input_indices={1: neighbour},
                      output_shapes={0: h.new_empty((num_nodes, 1))},
                      output_indices={0: centre})
        return tp.transpose_out(output[0])


class CueqProductStep(nn.Module):
    """``B_k = B_{k-1} (x) A`` channel-wise (``uuu``) with per-species path weights: the
    twin of :class:`potentials.nn.product._ProductStep`, as one segmented polynomial
    ``w[u], b[iu], a[ju] -> out[ku]`` with e3nn's Clebsch-Gordan blocks and path weights.
    The species weight table is gathered inside the polynomial (input indices).

    Shapes: b, a (N, dim_a) in e3nn's layout, species_index (N,) -> (N, dim_a).
    """

    def __init__(self, irreps_a: o3.Irreps, num_species: int, method: str) -> None:
        super().__init__()
        reference = product_step_tensor_product(irreps_a, compile_code=False)
        descriptor = cue.SegmentedTensorProduct.from_subscripts("u,iu,ju,ku+ijk")
        for operand in (1, 2, 3):
            for mul, ir in irreps_a:
                descriptor.add_segment(operand, (ir.dim, mul))
        for ins in reference.instructions:
            block = wigner_block(reference, ins).numpy()          # (d1, d2, d_out)
            descriptor.add_path(None, ins.i_in1, ins.i_in2, ins.i_out, c=block,
                                dims={"u": irreps_a[ins.i_in1].mul})
        polynomial = cue.SegmentedPolynomial.eval_last_operand(descriptor)
        if method == "uniform_1d":   # its kernel needs segments of one shape: (u,)
            polynomial = polynomial.flatten_coefficient_modes().squeeze_modes()
        self.method = method
        self.f = cuet.SegmentedPolynomial(polynomial, method=method)
        self.species_weights = nn.Embedding(num_species, reference.weight_numel)
        irreps = cue_irreps(irreps_a)
        self.to_ir_mul = cuet.TransposeIrrepsLayout(irreps, source=cue.mul_ir, target=cue.ir_mul)
        self.to_mul_ir = cuet.TransposeIrrepsLayout(irreps, source=cue.ir_mul, target=cue.mul_ir)

    def forward(self, b: Tensor, a: Tensor, species_index: Tensor) -> Tensor:
        out = self.f([self.species_weights.weight, self.to_ir_mul(b), self.to_ir_mul(a)],
                     input_indices={0: species_index})[0]
        return self.to_mul_ir(out)
