"""Guard against oneMKL's first-call dispatch race in PyTorch's CPU unary ops.

PyTorch hands contiguous float unary ops (``sin``, ``exp``, ``sqrt``, ...) to MKL VML,
one chunk per intra-op thread. oneMKL picks each VML function's kernel lazily on its
first call; when that first call runs on several threads at once, one thread can use a
low-accuracy kernel for its whole chunk (pytorch/pytorch issue 188792, fix proposed in
pull request 188791). Here, with torch 2.13 on 2 threads, the first ``torch.sin`` of a
fresh process returned half its values with ~7e-9 relative error in about one process in
six, and the first evaluation of ``cu-emt`` gave an energy 4e-7 (relative) off.

Calling every function once on a one-element tensor (no threads involved) settles the
dispatch before any parallel call. Done once per process, when a model is built or
loaded; it costs well under a millisecond.
"""
from __future__ import annotations

import functools

import torch

__all__ = ["warm_up_vml"]

# Unary ops PyTorch may route to MKL VML (aten/src/ATen/cpu/vml.h), and a few neighbours.
_UNARY_OPS = ("abs", "acos", "asin", "atan", "atanh", "ceil", "cos", "cosh", "erf", "erfc",
              "erfinv", "exp", "expm1", "floor", "lgamma", "log", "log10", "log1p", "log2",
              "neg", "reciprocal", "round", "rsqrt", "sigmoid", "sin", "sinh", "sqrt", "tan",
              "tanh", "trunc")


@functools.cache
def warm_up_vml() -> None:
    """Call each VML-backed unary op once, single-threaded, in float32 and float64."""
    if not torch.backends.mkl.is_available():
        return
    with torch.no_grad():
        for dtype in (torch.float32, torch.float64):
            one = torch.full((1,), 0.5, dtype=dtype)
            for name in _UNARY_OPS:
                getattr(torch, name)(one)
