"""Scoped default dtype for building e3nn modules with float64 constants."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def building_in_float64() -> Iterator[None]:
    """Build modules with float64 Clebsch-Gordan constants, then restore the default.

    e3nn computes its constants in the default dtype at construction; building in
    float32 and casting to float64 later leaves ~1e-7 equivariance errors. The previous
    default dtype is restored on exit, even on error.
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)
