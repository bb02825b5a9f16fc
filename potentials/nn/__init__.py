"""Equivariant building blocks (e3nn-based): radial basis, convolution, product, layer."""
from ._edge_kernel import EdgeChunking
from .fast_interaction import FastConvolution
from .fast_product import FastManyBodyProduct
from .interaction import EquivariantConvolution
from .layer import InteractionLayer
from .product import ManyBodyProduct
from .radial import BesselBasis, PolynomialEnvelope

__all__ = ["BesselBasis", "EdgeChunking", "EquivariantConvolution", "FastConvolution",
           "FastManyBodyProduct", "InteractionLayer", "ManyBodyProduct", "PolynomialEnvelope"]
