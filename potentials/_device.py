"""A torch device the user named, checked before anything is loaded onto it."""
from __future__ import annotations

import torch

__all__ = ["checked_device"]


def checked_device(device: str | torch.device) -> torch.device:
    """``torch.device(device)``, or ValueError naming the device and why it cannot be used
    here (an unknown name, no CUDA/MPS in this torch build or on this machine)."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device {device!r} is not a torch device ({error}); use e.g. "
                         "'cpu' or 'cuda'") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        build = torch.version.cuda or "none (this torch is built for CPU only)"
        raise ValueError(f"device {str(device)!r}: CUDA is not available here (torch "
                         f"{torch.__version__}, CUDA build {build}); use --device cpu")
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"device {str(device)!r}: only {torch.cuda.device_count()} CUDA "
                         "device(s) here")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {str(device)!r}: MPS is not available here; use --device cpu")
    return resolved
