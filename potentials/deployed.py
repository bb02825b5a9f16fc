"""One call signature for every deployed potential: eager, TorchScript or AOTInductor."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import torch
from torch import Tensor

from ._metadata import METADATA_KEY, OUTPUT_NAMES, ModelFileError, validate_metadata
from ._mkl_vml import warm_up_vml
from .config import PotentialConfig
from .model import EquivariantPotential

__all__ = ["DeployedPotential", "load"]


class DeployedPotential:
    """A potential ready for MD, whatever its format.

    Call it like :meth:`EquivariantPotential.forward`: ``(positions (N,3), atomic_numbers
    (N,), edge_index (2,E), shifts (E,3), cell (B,3,3), batch (N,))`` -> dict with
    ``energy`` (B,) eV, ``atomic_energies`` (N,) eV, ``forces`` (N,3) eV/A, ``virial``
    (B,3,3) eV and ``stress`` (B,3,3) eV/A^3. Floating inputs are cast to its dtype.

    Attributes:
        metadata: the file's metadata (species, cutoff, dtype, config, provenance, ...).
        format: ``"eager"``, ``"torchscript"`` or ``"aotinductor"``.
        path: the file it was loaded from (None for an in-memory model).
        jit_optimize: whether TorchScript's graph executor may profile and re-optimise
            the module (TorchScript files only). Off by default on CPU: no profiling
            first calls (~0.3 s extra at 108 atoms here) and no re-specialisation as edge
            counts change; steady-state speed was within ~16% either way here
            (docs/export.md). Other devices keep TorchScript's default (on), untested.
    """

    def __init__(self, function: Callable[..., Any], metadata: dict[str, Any],
                 fmt: str, device: torch.device, path: Optional[Path] = None,
                 jit_optimize: Optional[bool] = None) -> None:
        warm_up_vml()  # else the first call can be ~1e-7 off (see _mkl_vml)
        self._function = function
        self.metadata = metadata
        self.format = fmt
        self.device = device
        self.path = path
        self.jit_optimize = device.type != "cpu" if jit_optimize is None else bool(jit_optimize)
        self.dtype: torch.dtype = getattr(torch, metadata["dtype"])
        self.cutoff = float(metadata["cutoff"])
        self.species = tuple(int(z) for z in metadata["species"])

    @classmethod
    def from_model(cls, model: EquivariantPotential, dtype: Optional[torch.dtype] = None,
                   device: str | torch.device = "cpu") -> "DeployedPotential":
        """Wrap a copy of an in-memory model (eval mode, in ``dtype`` on ``device``)."""
        from ._metadata import build_metadata

        dtype = dtype or next(model.parameters()).dtype
        device = torch.device(device)
        copied = model.clone(dtype, device).eval()
        metadata = build_metadata(model.config, "eager", dtype, str(device))
        return cls(copied, metadata, "eager", device)

    @property
    def module(self) -> Any:
        """What gets called: the eager module, the TorchScript module or the AOTI runner."""
        return self._function

    @property
    def config(self) -> PotentialConfig:
        return PotentialConfig.from_dict(self.metadata["config"])

    def __call__(self, positions: Tensor, atomic_numbers: Tensor, edge_index: Tensor,
                 shifts: Tensor, cell: Tensor, batch: Tensor) -> Dict[str, Tensor]:
        with torch.jit.optimized_execution(self.jit_optimize or self.format != "torchscript"):
            out = self._function(positions.to(self.dtype), atomic_numbers, edge_index,
                                 shifts.to(self.dtype), cell.to(self.dtype), batch)
        if isinstance(out, dict):
            return {name: out[name].detach() for name in OUTPUT_NAMES}
        return {name: value.detach() for name, value in zip(OUTPUT_NAMES, out)}

    def __reduce__(self):
        """Pickle a file-backed potential as its path (reloaded on unpickling), an
        in-memory one as its module. OpenMM pickles a PythonForce's function this way."""
        if self.path is not None:
            return load, (str(self.path), str(self.device), self.jit_optimize)
        state = {name: value.cpu() for name, value in self._function.state_dict().items()}
        return _unpickle_eager, (self.metadata, state, str(self.device))

    def __repr__(self) -> str:
        symbols = ",".join(self.metadata.get("symbols", []))
        return (f"DeployedPotential(format={self.format}, species={symbols}, "
                f"cutoff={self.cutoff}, dtype={self.metadata['dtype']}, path={self.path})")


def _unpickle_eager(metadata: dict[str, Any], state: dict[str, Tensor],
                    device: str) -> DeployedPotential:
    model = EquivariantPotential(PotentialConfig.from_dict(metadata["config"]),
                                 getattr(torch, metadata["dtype"]), device)
    model.load_state_dict(state)
    return DeployedPotential(model.eval(), metadata, "eager", torch.device(device))


def load(path: str | Path, device: str | torch.device = "cpu",
         jit_optimize: Optional[bool] = None) -> DeployedPotential:
    """Load a TorchScript (.pt) or AOTInductor (.pt2) file written by :func:`export`, or a
    shipped potential by name (``load("cu-emt")``, see :mod:`potentials.pretrained`).

    ``jit_optimize`` (TorchScript only): let TorchScript's executor profile and optimise;
    None means off on CPU, on elsewhere (see :class:`DeployedPotential`).

    Raises:
        FileNotFoundError: no file at ``path``.
        ModelFileError: truncated or corrupted file, a file that is not an equiforce
            potential, one written by a newer format version, or an AOTInductor package
            compiled for another device.
    """
    path = _resolve(path)
    names = _checked_archive(path)
    device = torch.device(device)
    if any(name.endswith(f"extra/{METADATA_KEY}") for name in names):
        return _load_torchscript(path, device, jit_optimize)
    if any("aotinductor" in name for name in names):
        return _load_aotinductor(path, device)
    raise ModelFileError(f"{path}: not an equiforce potential (a zip archive without "
                         f"equiforce metadata)")


def _resolve(path: str | Path) -> Path:
    """A file path, or the file of a shipped potential when ``path`` is a bare name."""
    from .pretrained import available, pretrained_path

    candidate = Path(path)
    if candidate.is_file():
        return candidate
    if str(path) in available():
        return pretrained_path(str(path))
    raise FileNotFoundError(f"{path}: no such model file (shipped potentials: "
                            f"{', '.join(available()) or 'none'})")


def _checked_archive(path: Path) -> list[str]:
    """Names in the zip archive, after a CRC check of every member."""
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            names = archive.namelist()
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ModelFileError(f"{path}: truncated or corrupted model file, or not a model "
                             f"file at all ({error})") from error
    if broken is not None:
        raise ModelFileError(f"{path}: corrupted model file (checksum mismatch in {broken})")
    return names


def _load_torchscript(path: Path, device: torch.device,
                      jit_optimize: Optional[bool]) -> DeployedPotential:
    extra = {METADATA_KEY: ""}
    try:
        module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except RuntimeError as error:
        raise ModelFileError(f"{path}: cannot load TorchScript module ({error})") from error
    metadata = validate_metadata(_parse(extra[METADATA_KEY], path), str(path))
    return DeployedPotential(module.eval(), metadata, "torchscript", device, path, jit_optimize)


def _load_aotinductor(path: Path, device: torch.device) -> DeployedPotential:
    try:
        package = torch._inductor.aoti_load_package(str(path))
        raw = package.get_metadata().get(METADATA_KEY)
    except Exception as error:  # the AOTI runtime raises several unrelated types
        raise ModelFileError(f"{path}: cannot load AOTInductor package ({error})") from error
    metadata = validate_metadata(_parse(raw, path), str(path))
    if torch.device(metadata["device"]).type != device.type:
        raise ModelFileError(f"{path}: AOTInductor package compiled for {metadata['device']}, "
                             f"cannot run on {device}; export it again with device={device}")
    return DeployedPotential(package, metadata, "aotinductor", device, path)


def _parse(raw: Any, path: Path) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path}: unreadable equiforce metadata ({error})") from error
