"""Metadata carried by every deployed equiforce potential file."""
from __future__ import annotations

import datetime
from typing import Any, Optional

import torch

from ._ops import OPS
from .config import PotentialConfig

# The newest format this equiforce reads. Version 2 added ``ops`` (the equivariant-ops
# backend); a file is written with the lowest version that describes it (1 for e3nn
# weights), so older releases still read e3nn files and refuse cueq ones by version.
FORMAT_VERSION = 2
FORMATS = ("torchscript", "aotinductor")
METADATA_KEY = "equiforce_metadata.json"
OUTPUT_NAMES = ("energy", "atomic_energies", "forces", "virial", "stress")
UNITS = {"length": "Angstrom", "energy": "eV", "forces": "eV/Angstrom",
         "stress": "eV/Angstrom^3 (ASE sign)", "virial": "eV"}
_REQUIRED = ("kind", "format_version", "format", "species", "cutoff", "dtype", "config")


class ModelFileError(ValueError):
    """A model file that is missing, corrupted, foreign or from a newer equiforce."""


def build_metadata(config: PotentialConfig, fmt: str, dtype: torch.dtype, device: str,
                   provenance: Optional[dict[str, Any]] = None, ops: str = "e3nn",
                   methods: Optional[dict[str, str]] = None) -> dict[str, Any]:
    """Everything a consumer needs to use the file without the Python package.

    ``ops`` is the backend whose weights the file holds; ``methods`` cuEquivariance's
    method per block kind (cueq files only).
    """
    return {
        "kind": "equiforce-potential",
        "format_version": 1 if ops == "e3nn" else 2,
        "format": fmt,
        "ops": ops,
        "cueq_methods": dict(methods or {}),
        "species": list(config.species),
        "symbols": list(config.symbols),
        "cutoff": config.cutoff,
        "dtype": str(dtype).replace("torch.", ""),
        "device": device,
        "units": UNITS,
        "inputs": ["positions (N,3)", "atomic_numbers (N,) int64", "edge_index (2,E) int64",
                   "shifts (E,3)", "cell (B,3,3)", "batch (N,) int64"],
        "outputs": list(OUTPUT_NAMES),
        "config": config.to_dict(),
        "provenance": provenance or {},
        "versions": _versions(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def validate_metadata(metadata: Any, path: str) -> dict[str, Any]:
    """Check a file's metadata; raise :class:`ModelFileError` naming the path and problem."""
    if not isinstance(metadata, dict) or metadata.get("kind") != "equiforce-potential":
        raise ModelFileError(f"{path}: not an equiforce potential (no equiforce metadata)")
    missing = [key for key in _REQUIRED if key not in metadata]
    if missing:
        raise ModelFileError(f"{path}: metadata lacks {', '.join(missing)}")
    version = metadata["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written in format version {version}, newer than this equiforce reads "
            f"(up to {FORMAT_VERSION}); upgrade equiforce to load it")
    if metadata["format"] not in FORMATS:
        raise ModelFileError(f"{path}: unknown format {metadata['format']!r}")
    metadata.setdefault("ops", "e3nn")   # version 1 files are e3nn
    if metadata["ops"] not in OPS:
        raise ModelFileError(f"{path}: unknown equivariant-ops backend {metadata['ops']!r} "
                             f"(this equiforce knows {', '.join(OPS)})")
    return metadata


def _versions() -> dict[str, str]:
    from importlib import metadata as importlib_metadata

    versions = {"torch": torch.__version__}
    for package in ("equiforce", "e3nn", "cuequivariance", "cuequivariance-torch"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions
