"""create_force: an equiforce potential as an ``openmm.Force`` (either backend)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch

from potentials import DeployedPotential, EquivariantPotential, validate_structure

from ..ase import as_deployed
from ._particles import particles, selection_of
from ._python_backend import python_force

__all__ = ["create_force", "torch_force_problem", "BACKENDS", "ModelLike"]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "python", "torch")
PRECISIONS = {None: None, "single": torch.float32, "double": torch.float64}

ModelLike = Union[EquivariantPotential, DeployedPotential, str, Path]


def create_force(model: ModelLike, topology_or_atomic_numbers, atoms: Optional[Sequence[int]] = None,
                 backend: str = "auto", device: str | torch.device = "cpu",
                 precision: Optional[str] = None, periodic: Optional[bool] = None,
                 skin: float = 0.5, cuda_graphs: bool = False,
                 pair_capacity: Optional[int] = None):
    """An ``openmm.Force`` that adds an equiforce potential's energy and forces.

    Args:
        model: an :class:`EquivariantPotential`, a :class:`DeployedPotential`, an exported
            file (.pt or .pt2) or a shipped name (``"villin-amber14"``).
        topology_or_atomic_numbers: an ``openmm.app.Topology``, or the atomic numbers of
            every particle of the System (length = number of particles).
        atoms: particle indices the potential acts on (ML/MM); None for all particles.
        backend: ``"python"`` (PythonForce), ``"torch"`` (openmm-torch TorchForce) or
            ``"auto"`` (TorchForce when openmm-torch is usable, else PythonForce; the choice
            is logged at INFO level).
        device: torch device of the computation.
        precision: ``"single"`` or ``"double"`` (float32/float64); None keeps the model's.
            A TorchScript file or shipped name runs in either; an AOTInductor package
            only in the dtype it was compiled for; a DeployedPotential must already be
            in it.
        periodic: whether the force uses the periodic box; default: the topology has box
            vectors (False for atomic numbers). The box, triclinic included, is read
            from the Context at every step.
        skin: Verlet skin of the PythonForce's neighbour list, Angstrom.
        cuda_graphs: TorchForce only: set openmm-torch's ``useCUDAGraphs`` property and
            use the graph-safe module (fixed pair buffer, no host synchronisation; see
            :class:`~md_drivers.openmm.PairCapacityGuard`).
        pair_capacity: TorchForce only: pair slots of the fixed buffer (default with
            ``cuda_graphs``: 40 per selected atom); also usable without CUDA graphs.

    Returns:
        ``openmm.PythonForce`` or ``openmmtorch.TorchForce``; energy in kJ/mol, forces in
        kJ/mol/nm, positions read in nm.

    Raises:
        ValueError: unknown backend or precision, an element the potential does not
            know, atom indices out of range or repeated.
        RuntimeError: ``backend="torch"`` when openmm-torch cannot be used (the message
            says why and what to do).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'single', 'double' or None, got {precision!r}")
    numbers, periodic = particles(topology_or_atomic_numbers, periodic)
    selection = selection_of(atoms, len(numbers))
    potential = as_deployed(model, device, PRECISIONS[precision])
    selected = numbers[selection] if selection is not None else numbers
    validate_structure(np.zeros((len(selected), 3)), selected, np.zeros((3, 3)),
                       np.zeros(3, dtype=bool), potential.species)
    backend = _choose_backend(backend)
    if backend == "torch":
        from ._torch_backend import create_torch_force

        return create_torch_force(potential, numbers, selection, periodic, cuda_graphs,
                                  pair_capacity)
    if pair_capacity is not None or cuda_graphs:
        raise ValueError("cuda_graphs and pair_capacity need backend='torch' (openmm-torch)")
    force = python_force(potential, selected, periodic, skin)
    if selection is not None:
        force.setParticles([int(i) for i in selection])
    return force


def torch_force_problem() -> Optional[str]:
    """Why openmm-torch's TorchForce cannot be used here, or None when it can."""
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    if (major, minor) >= (2, 10):
        return (f"openmm-torch 1.5 fails with torch >= 2.10 (installed: {torch.__version__}; "
                "openmm-torch issue 175, 'set_stride is not allowed on a Tensor created from "
                ".data or .detach()'). Use backend='python', or the torch 2.9.1 environment "
                "that `make test-openmm-torch` builds (.venv-openmm-torch)")
    try:
        import openmmtorch  # noqa: F401
    except ImportError as error:
        return (f"openmm-torch is not installed ({error}); `pip install openmmtorch==1.5` "
                "beside torch==2.9.1 (see constraints-openmm-torch.txt), or use "
                "backend='python'")
    return None


def _choose_backend(backend: str) -> str:
    problem = torch_force_problem() if backend != "python" else None
    if backend == "torch" and problem:
        raise RuntimeError(f"backend='torch' is not usable: {problem}")
    if backend == "auto":
        backend = "python" if problem else "torch"
        log.info("equiforce OpenMM force: using the %s backend%s", backend,
                 f" ({problem})" if problem else "")
    return backend
