"""Irreps and path bookkeeping shared by the layers and both backends (construction time only)."""
from __future__ import annotations

from e3nn import o3


def spherical_irreps(l_max: int, parity: bool) -> o3.Irreps:
    """Irreps of the edge spherical harmonics ``Y_0 .. Y_lmax``.

    With ``parity`` the harmonics carry their natural parity (0e + 1o + 2e ...); without
    it every irrep is labelled even, which lets the model be sensitive to chirality.
    """
    return o3.Irreps([(1, (l, (-1) ** l if parity else 1)) for l in range(l_max + 1)])


def feature_irreps(channels: int, l_max: int, parity: bool) -> o3.Irreps:
    """Node features: ``channels`` copies of each harmonic irrep up to ``l_max``."""
    return o3.Irreps([(channels, ir) for _, ir in spherical_irreps(l_max, parity)])


def allowed_outputs(ir1: o3.Irrep, ir2: o3.Irrep, allowed: o3.Irreps) -> list[o3.Irrep]:
    """Irreps in ``ir1 x ir2`` that also appear in ``allowed`` (in their order)."""
    products = set(ir1 * ir2)
    return [ir for _, ir in allowed if ir in products]


def product_step_tensor_product(irreps_a: o3.Irreps, compile_code: bool) -> o3.TensorProduct:
    """e3nn's ``uuu`` product ``irreps_a x irreps_a -> irreps_a`` of one step, weights
    given per atom (one ``mul`` block per instruction)."""
    instructions = []
    for i1, (_, ir1) in enumerate(irreps_a):
        for i2, (_, ir2) in enumerate(irreps_a):
            for ir_out in allowed_outputs(ir1, ir2, irreps_a):
                i_out = [ir for _, ir in irreps_a].index(ir_out)
                instructions.append((i1, i2, i_out, "uuu", True))
    return o3.TensorProduct(irreps_a, irreps_a, irreps_a, instructions,
                            shared_weights=False, internal_weights=False,
                            compile_left_right=compile_code)

