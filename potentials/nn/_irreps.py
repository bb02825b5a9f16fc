"""Irreps bookkeeping shared by the layers (construction time only)."""
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
