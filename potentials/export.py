"""Write a model to one deployable file: TorchScript (.pt) or AOTInductor (.pt2)."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Optional

import torch

from .files import atomic_path
from ._metadata import FORMATS, METADATA_KEY, build_metadata
from ._ops import resolve_ops
from .convert import convert_ops
from .nn._cueq import KERNEL_KINDS
from .model import EquivariantPotential

__all__ = ["export"]

log = logging.getLogger(__name__)


def export(model: EquivariantPotential, path: str | Path, format: str = "torchscript",
           dtype: Optional[torch.dtype] = None, device: str | torch.device = "cpu",
           provenance: Optional[dict[str, Any]] = None, ops: Optional[str] = None) -> Path:
    """Export ``model`` (energy, forces, virial and stress in one call) to ``path``.

    Args:
        model: the potential; it is copied, not modified.
        path: output file; written atomically (an interrupted export leaves nothing there).
        format: ``"torchscript"`` (loadable with ``torch.jit.load`` alone, e.g. from C++)
            or ``"aotinductor"`` (``torch.export`` + AOTInductor, compiled to C++ for
            ``device``; takes minutes on CPU).
        dtype: dtype of the deployed file (default: the model's).
        device: device the file is prepared for.
        provenance: training information stored in the metadata (data hash, metrics, ...).
        ops: the equivariant-ops backend of the file, ``"e3nn"`` or ``"cueq"`` (default:
            the model's own); the weights are converted (:func:`potentials.convert_ops`)
            and the metadata records the backend (``ops``) and cuEquivariance's methods.
            AOTInductor packages of cueq models need its CUDA kernels (untested): with the
            pure-torch method the compile fails, so that combination raises ValueError.

    Returns:
        The path written. Load it with :func:`potentials.load`.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; use one of {FORMATS}")
    dtype = dtype or next(model.parameters()).dtype
    device_name = str(torch.device(device))
    ops = model.ops if ops is None else resolve_ops(ops, device)
    prepared = convert_ops(model, ops, device, dtype).eval()
    if format == "aotinductor" and any(prepared.cueq_methods.get(kind) == "naive"
                                       for kind in KERNEL_KINDS):
        raise ValueError("AOTInductor cannot compile cuEquivariance's pure-torch ('naive') "
                         "method in torch 2.13 (an Inductor lowering error on its constants); "
                         "export the e3nn form (ops='e3nn') or a TorchScript file")
    metadata = json.dumps(build_metadata(model.config, format, dtype, device_name, provenance,
                                         prepared.ops, prepared.cueq_methods))
    log.info("exporting %s model (%s ops, %s, %s) to %s", format, prepared.ops, dtype,
             device_name, path)
    with atomic_path(path) as tmp:
        if format == "torchscript":
            _write_torchscript(prepared, tmp, metadata)
        else:
            from ._aoti import write_aotinductor

            write_aotinductor(prepared, tmp, metadata)
    return Path(path)


def _write_torchscript(model: EquivariantPotential, path: Path, metadata: str) -> None:
    from e3nn.util import jit

    scripted = jit.script(model)
    torch.jit.save(scripted, str(path), _extra_files={METADATA_KEY: metadata})
