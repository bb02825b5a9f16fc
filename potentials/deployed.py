"""One call signature for every deployed potential: eager, TorchScript or AOTInductor."""
from __future__ import annotations

import copy
import difflib
import functools
import json
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import torch
from torch import Tensor

from ._device import checked_device
from ._metadata import METADATA_KEY, OUTPUT_NAMES, ModelFileError, validate_metadata
from ._mkl_vml import warm_up_vml
from ._ops import resolve_ops
from ._ops_convert import transfer_weights
from ._weights import load_weights
from .config import PotentialConfig
from .fast import FastPotential
from .model import EquivariantPotential

__all__ = ["DeployedPotential", "load"]


class DeployedPotential:
    """A potential ready for MD, whatever its format.

    Call it like :meth:`EquivariantPotential.forward`: ``(positions (N,3), atomic_numbers
    (N,), edge_index (2,E), shifts (E,3), cell (B,3,3), batch (N,))`` -> dict with
    ``energy`` (B,) eV, ``atomic_energies`` (N,) eV, ``forces`` (N,3) eV/A, ``virial``
    (B,3,3) eV and ``stress`` (B,3,3) eV/A^3. Floating inputs are cast to its dtype.

    Attributes:
        metadata: the file's metadata (species, cutoff, dtype, config, provenance, ...);
            ``dtype`` is the one this potential computes in.
        format: what runs: ``"fast"`` (:class:`~potentials.FastPotential`, the default of
            :func:`load` and :meth:`from_model` with e3nn ops), ``"eager"`` (an
            :class:`~potentials.EquivariantPotential`: e3nn, or cuEquivariance with
            ``ops="cueq"``), ``"torchscript"`` or ``"aotinductor"`` (the file's own module).
        ops: the equivariant-ops backend that runs, ``"e3nn"`` or ``"cueq"``
            (``metadata["ops"]``).
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

    @property
    def ops(self) -> str:
        return self.metadata.get("ops", "e3nn")

    @classmethod
    def from_model(cls, model: EquivariantPotential, dtype: Optional[torch.dtype] = None,
                   device: str | torch.device = "cpu", fast: bool = True,
                   ops: Optional[str] = None) -> "DeployedPotential":
        """Wrap a copy of an in-memory model (eval mode, in ``dtype`` on ``device``).

        ``ops``: the backend to run (``"e3nn"``, ``"cueq"``; None: the device's default,
        e3nn on CPU), the weights converted from the model's. With e3nn, ``fast``
        (default) runs it as a :class:`~potentials.FastPotential` (same function, 2-3x
        faster, memory bounded for large systems); ``False``: the e3nn model itself. A
        cuEquivariance model always runs as itself (format ``"eager"``).
        """
        from ._metadata import build_metadata
        from .convert import convert_ops

        dtype = dtype or next(model.parameters()).dtype
        device = checked_device(device)
        ops = resolve_ops(ops, device)
        fast = fast and ops == "e3nn"
        copied = (FastPotential.from_model(model, dtype, device) if fast
                  else convert_ops(model, ops, device, dtype).eval())
        metadata = build_metadata(model.config, "eager", dtype, str(device), ops=ops,
                                  methods=getattr(copied, "cueq_methods", None))
        return cls(copied, metadata, "fast" if fast else "eager", device)

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

    def eager_model(self) -> EquivariantPotential:
        """The :class:`EquivariantPotential` with this potential's weights (for ``"fast"``
        and ``"eager"``; e3nn for ``"fast"``): what TorchScript needs."""
        if not isinstance(self._function, EquivariantPotential):
            raise ValueError(f"{self.path}: a {self.format} potential has no eager model")
        if not isinstance(self._function, FastPotential):
            return self._function
        model = EquivariantPotential(self._function.config, self.dtype, self.device, ops="e3nn")
        return load_weights(model, self._function.state_dict()).eval()

    def __reduce__(self):
        """Pickle a file-backed potential as its path (reloaded on unpickling), an
        in-memory one as its weights. OpenMM pickles a PythonForce's function this way."""
        if self.path is not None:
            dtype = None if self.format == "aotinductor" else self.metadata["dtype"]
            return load, (str(self.path), str(self.device), self.jit_optimize, dtype,
                          self.format in ("fast", "eager"), self.ops)
        state = {name: value.cpu() for name, value in self._function.state_dict().items()}
        return _unpickle_in_memory, (self.metadata, state, str(self.device), self.format)

    def __repr__(self) -> str:
        symbols = ",".join(self.metadata.get("symbols", []))
        return (f"DeployedPotential(format={self.format}, species={symbols}, "
                f"cutoff={self.cutoff}, dtype={self.metadata['dtype']}, path={self.path})")


def _unpickle_in_memory(metadata: dict[str, Any], state: dict[str, Tensor], device: str,
                        fmt: str) -> DeployedPotential:
    config, dtype = PotentialConfig.from_dict(metadata["config"]), getattr(torch, metadata["dtype"])
    ops = metadata.get("ops", "e3nn")
    function = (FastPotential(config, dtype, device) if fmt == "fast"
                else EquivariantPotential(config, dtype, device, ops=ops))
    transfer_weights(state, ops, function).eval()
    return DeployedPotential(function, metadata, fmt, torch.device(device))


def load(path: str | Path, device: str | torch.device = "cpu",
         jit_optimize: Optional[bool] = None, dtype: Optional[torch.dtype | str] = None,
         fast: bool = True, ops: Optional[str] = None) -> DeployedPotential:
    """Load a TorchScript (.pt) or AOTInductor (.pt2) file written by :func:`export`, or a
    shipped potential by name (``load("cu-emt")``, see :mod:`potentials.pretrained`).

    Args:
        path: a file, or the name of a shipped potential.
        device: where it runs.
        jit_optimize: TorchScript's profiling executor (only with ``fast=False``); None
            means off on CPU, on elsewhere (see :class:`DeployedPotential`).
        dtype: ``torch.float32``/``"float32"`` or float64 (default: the file's). A
            TorchScript file's weights run in either precision; an AOTInductor package
            only in the one it was compiled for.
        fast: for TorchScript files (the default): run the weights as a
            :class:`~potentials.FastPotential` (same function, 2-3x faster, bounded
            memory); ``False`` runs the file's TorchScript module itself. AOTInductor
            packages always run as compiled. ``fast`` applies to e3nn ops only. A file
            loaded again in the same process
            (same path, inode, size and modification time) reuses the weights read the
            first time; each call still returns its own model and metadata.
        ops: the equivariant-ops backend to run the weights with, ``"e3nn"`` or
            ``"cueq"``, whichever the file holds (converted, :func:`potentials.convert_ops`);
            None: the device's default (e3nn on CPU; cueq on CUDA where its kernels import).
            With ``fast=False`` or an AOTInductor package the file's own backend runs, and
            naming another one is an error.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: ``device`` is unknown or not available here (CUDA on a CPU machine).
        ModelFileError: truncated or corrupted file, a file that is not an equiforce
            potential, one written by a newer format version, an AOTInductor package
            compiled for another device or dtype, or a dtype or ops change without ``fast``.
    """
    device = checked_device(device)
    path = _resolve(path)
    names = _checked_archive(path)
    dtype = _as_dtype(dtype)
    if any(name.endswith(f"extra/{METADATA_KEY}") for name in names):
        if fast:
            return _weights_from_file(path, device, jit_optimize, dtype, resolve_ops(ops, device))
        return _as_stored(_load_torchscript(path, device, jit_optimize), dtype, ops)
    if any("aotinductor" in name for name in names):
        return _as_stored(_load_aotinductor(path, device), dtype, ops)
    raise ModelFileError(f"{path}: not an equiforce potential (a zip archive without "
                         f"equiforce metadata)")


def _as_dtype(dtype: Optional[torch.dtype | str]) -> Optional[torch.dtype]:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return getattr(torch, dtype)


def _weights_from_file(path: Path, device: torch.device, jit_optimize: Optional[bool],
                       dtype: Optional[torch.dtype], ops: str) -> DeployedPotential:
    """A TorchScript file's weights, converted to ``ops``, in a new :class:`FastPotential`
    (e3nn) or cuEquivariance :class:`EquivariantPotential` (built with float64 constants,
    then cast; one model build)."""
    state, metadata = _torchscript_weights(path, device)
    metadata = copy.deepcopy(metadata)   # the cached one stays as read
    dtype = dtype or getattr(torch, metadata["dtype"])
    metadata["dtype"] = str(dtype).replace("torch.", "")
    config = PotentialConfig.from_dict(metadata["config"])
    model = (FastPotential(config, dtype, device) if ops == "e3nn"
             else EquivariantPotential(config, dtype, device, ops=ops).eval())
    transfer_weights(state, metadata["ops"], model)  # copies: cached tensors are never shared
    metadata["ops"], metadata["cueq_methods"] = ops, dict(model.cueq_methods)
    metadata["format_version"] = 1 if ops == "e3nn" else 2   # of what runs, as dtype is
    fmt = "fast" if ops == "e3nn" else "eager"
    return DeployedPotential(model, metadata, fmt, device, path, jit_optimize)


def _torchscript_weights(path: Path, device: torch.device) -> tuple[dict[str, Tensor], dict]:
    """The weights and metadata of a TorchScript file, read once per process and version
    of the file (path, inode, size, modification time): a run that loads the same file
    again (a committee, a resume, a test suite) skips ``torch.jit.load`` (~0.5 s)."""
    stat = path.stat()
    return _read_torchscript_weights(str(path.resolve()), stat.st_ino, stat.st_size,
                                     stat.st_mtime_ns, str(device))


@functools.lru_cache(maxsize=16)
def _read_torchscript_weights(path: str, inode: int, size: int, mtime_ns: int,
                              device: str) -> tuple[dict[str, Tensor], dict]:
    deployed = _load_torchscript(Path(path), torch.device(device), None)
    state = {key: value.detach().clone() for key, value in deployed.module.state_dict().items()}
    return state, deployed.metadata


def _as_stored(deployed: DeployedPotential, dtype: Optional[torch.dtype],
               ops: Optional[str]) -> DeployedPotential:
    """``deployed`` (a file's own module), or ModelFileError if the caller asked for a
    dtype or ops backend other than the one the file was exported with."""
    wanted = {"dtype": (dtype, deployed.dtype, deployed.metadata["dtype"]),
              "ops": (ops, deployed.ops, deployed.ops)}
    for name, (asked, held, shown) in wanted.items():
        if asked is not None and asked != held:
            raise ModelFileError(
                f"{deployed.path}: the {deployed.format} file holds a {shown} model; "
                f"load it with fast=True (TorchScript files: weights converted) or export "
                f"it again with {name}={asked!r}")
    return deployed


def _resolve(path: str | Path) -> Path:
    """A file path, or the file of a shipped potential when ``path`` is a bare name."""
    from .pretrained import available, pretrained_path

    candidate = Path(path)
    if candidate.is_file():
        return candidate
    if str(path) in available():
        return pretrained_path(str(path))
    close = difflib.get_close_matches(str(path), available(), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise FileNotFoundError(f"{path}: no such model file ({hint}shipped potentials: "
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
