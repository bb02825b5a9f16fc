"""Which implementation of the equivariant operations a model is built from."""
from __future__ import annotations

import functools
from typing import Optional

import torch

__all__ = ["OPS", "check_ops", "cueq_kernels_available", "cueq_methods", "default_ops",
           "resolve_ops"]

OPS = ("e3nn", "cueq")


def check_ops(ops: str) -> str:
    """``ops`` if it names a backend, else ValueError listing them."""
    if ops not in OPS:
        raise ValueError(f"unknown equivariant-ops backend {ops!r}; use one of {OPS}")
    return ops


@functools.lru_cache(maxsize=1)
def cueq_kernels_available() -> bool:
    """Whether cuEquivariance's CUDA kernels (``cuequivariance_ops_torch``) import and a
    CUDA device is present."""
    if not torch.cuda.is_available():
        return False
    try:
        import cuequivariance_ops_torch  # noqa: F401
    except ImportError:
        return False
    return True


def default_ops(device: Optional[torch.device | str]) -> str:
    """``"cueq"`` on a CUDA device where its kernels import, else ``"e3nn"``."""
    on_cuda = device is not None and torch.device(device).type == "cuda"
    return "cueq" if on_cuda and cueq_kernels_available() else "e3nn"


def resolve_ops(ops: Optional[str], device: Optional[torch.device | str]) -> str:
    """``ops`` checked, or the device's default when None."""
    return default_ops(device) if ops is None else check_ops(ops)


def cueq_methods(device: Optional[torch.device | str]) -> dict[str, str]:
    """cuEquivariance's method per block kind on ``device``: its CUDA kernels on a CUDA
    device where they import, the pure-torch ``"naive"`` method everywhere else."""
    from .nn._cueq import kernel_methods

    on_cuda = device is not None and torch.device(device).type == "cuda"
    return kernel_methods(on_cuda and cueq_kernels_available())
