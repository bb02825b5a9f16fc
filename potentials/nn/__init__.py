"""Equivariant building blocks (e3nn-based): radial basis, convolution, product, layer."""
from .interaction import EquivariantConvolution
from .layer import InteractionLayer
from .product import ManyBodyProduct
from .radial import BesselBasis, PolynomialEnvelope

__all__ = ["BesselBasis", "EquivariantConvolution", "InteractionLayer", "ManyBodyProduct",
           "PolynomialEnvelope"]
