"""Radial basis and smooth cutoff envelope for edge lengths (Angstrom)."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["BesselBasis", "PolynomialEnvelope"]


class BesselBasis(nn.Module):
    """Spherical Bessel functions of order zero on ``[0, cutoff]``.

    ``b_n(r) = sqrt(2 / r_c) * sin(n * pi * r / r_c) / r`` for ``n = 1..num_basis``.
    Each basis function is zero at the cutoff and finite as ``r -> 0``.

    Shapes: ``r`` (E,) in Angstrom -> (E, num_basis).
    """

    def __init__(self, cutoff: float, num_basis: int) -> None:
        super().__init__()
        self.cutoff = float(cutoff)
        self.prefactor = math.sqrt(2.0 / cutoff)
        self.register_buffer("frequencies", torch.arange(1, num_basis + 1) * math.pi / cutoff)

    def forward(self, r: Tensor) -> Tensor:
        r = r.unsqueeze(-1)
        return self.prefactor * torch.sin(self.frequencies * r) / r


class PolynomialEnvelope(nn.Module):
    """Smooth cutoff ``u(x)``, ``x = r / r_c`` (DimeNet form with exponent ``p``).

    ``u(x) = 1 - (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) - p(p+1)/2 x^(p+2)`` for ``x < 1``
    and 0 beyond, so ``u``, ``u'`` and ``u''`` all vanish at the cutoff: energies are
    continuous and forces are continuous and finite when a neighbour crosses it.

    Shapes: ``r`` (E,) in Angstrom -> (E,).
    """

    def __init__(self, cutoff: float, exponent: int = 6) -> None:
        super().__init__()
        self.cutoff = float(cutoff)
        p = float(exponent)
        self.p = p
        self.a = -(p + 1.0) * (p + 2.0) / 2.0
        self.b = p * (p + 2.0)
        self.c = -p * (p + 1.0) / 2.0

    def forward(self, r: Tensor) -> Tensor:
        x = r / self.cutoff
        xp = torch.pow(x, self.p)
        value = 1.0 + xp * (self.a + x * (self.b + x * self.c))
        return torch.where(x < 1.0, value, torch.zeros_like(x))
