"""equiforce potentials as OpenMM forces.

:func:`create_force` returns an ``openmm.Force`` for a whole system or a subset of its
atoms (ML/MM). Two backends:

- ``"python"``: an ``openmm.PythonForce`` that calls the deployed potential (any torch
  version, any deployed format, any OpenMM platform);
- ``"torch"``: an openmm-torch ``TorchForce`` around a self-contained TorchScript module
  (neighbour list inside), for the environment where openmm-torch works
  (``make test-openmm-torch``).

Units are converted here and only here: OpenMM's nm and kJ/mol on the outside,
equiforce's Angstrom and eV inside (:data:`NM_IN_ANGSTROM`, :data:`EV_IN_KJ_PER_MOL`).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch

from potentials import DeployedPotential, EquivariantPotential, validate_structure

from ._evaluator import StructureEvaluator
from .ase import as_deployed
from potentials.units import EV_IN_KJ_PER_MOL, NM_IN_ANGSTROM

__all__ = ["create_force", "torch_force_problem", "EV_IN_KJ_PER_MOL", "NM_IN_ANGSTROM",
           "BACKENDS"]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "python", "torch")
PRECISIONS = {None: None, "single": torch.float32, "double": torch.float64}

ModelLike = Union[EquivariantPotential, DeployedPotential, str, Path]


def create_force(model: ModelLike, topology_or_atomic_numbers, atoms: Optional[Sequence[int]] = None,
                 backend: str = "auto", device: str | torch.device = "cpu",
                 precision: Optional[str] = None, periodic: Optional[bool] = None,
                 skin: float = 0.5, cuda_graphs: bool = False):
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
            A file is never converted: export it again in the other dtype.
        periodic: whether the force uses the periodic box; default: the topology has box
            vectors (False for atomic numbers). The box, triclinic included, is read
            from the Context at every step.
        skin: Verlet skin of the PythonForce's neighbour list, Angstrom.
        cuda_graphs: TorchForce only: set openmm-torch's ``useCUDAGraphs`` property.

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
    numbers, periodic = _particles(topology_or_atomic_numbers, periodic)
    selection = _selection(atoms, len(numbers))
    potential = as_deployed(model, device, PRECISIONS[precision])
    selected = numbers[selection] if selection is not None else numbers
    validate_structure(np.zeros((len(selected), 3)), selected, np.zeros((3, 3)),
                       np.zeros(3, dtype=bool), potential.species)
    backend = _choose_backend(backend)
    if backend == "torch":
        from ._torchforce import create_torch_force

        return create_torch_force(potential, numbers, selection, periodic, cuda_graphs)
    force = _python_force(potential, selected, periodic, skin)
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


def _particles(topology_or_numbers, periodic: Optional[bool]) -> tuple[np.ndarray, bool]:
    """Atomic numbers of every particle, and whether the force is periodic."""
    if hasattr(topology_or_numbers, "atoms"):
        atoms = list(topology_or_numbers.atoms())
        missing = [a.index for a in atoms if a.element is None]
        if missing:
            raise ValueError(f"topology atoms without an element (virtual sites?): {missing[:10]}")
        numbers = np.array([a.element.atomic_number for a in atoms], dtype=np.int64)
        if periodic is None:
            periodic = topology_or_numbers.getPeriodicBoxVectors() is not None
    else:
        numbers = np.asarray(topology_or_numbers, dtype=np.int64).reshape(-1)
    return numbers, bool(periodic)


def _selection(atoms: Optional[Sequence[int]], n_particles: int) -> Optional[np.ndarray]:
    if atoms is None:
        return None
    selection = np.asarray(list(atoms), dtype=np.int64).reshape(-1)
    if selection.size == 0:
        raise ValueError("atoms= selects no particle")
    bad = selection[(selection < 0) | (selection >= n_particles)]
    if bad.size:
        raise ValueError(f"atoms= has indices outside 0..{n_particles - 1}: {bad[:10].tolist()}")
    if np.unique(selection).size != selection.size:
        raise ValueError("atoms= has repeated indices")
    return selection


def _python_force(potential: DeployedPotential, numbers: np.ndarray, periodic: bool,
                  skin: float):
    import openmm

    force = openmm.PythonForce(PotentialComputation(potential, numbers, periodic, skin))
    force.setUsesPeriodicBoundaryConditions(periodic)
    force.setName("equiforce")
    return force


class PotentialComputation:
    """The PythonForce's function: OpenMM State (nm) -> (kJ/mol, kJ/mol/nm array).

    Picklable (a file-backed potential pickles as its path), so Systems holding the force
    can be copied and serialised with ``XmlSerializer``.
    """

    def __init__(self, potential: DeployedPotential, numbers: np.ndarray, periodic: bool,
                 skin: float = 0.5) -> None:
        self.potential = potential
        self.numbers = np.asarray(numbers, dtype=np.int64)
        self.periodic = periodic
        self.skin = skin
        self._evaluate = StructureEvaluator(potential, skin)

    def __getstate__(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "_evaluate"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._evaluate = StructureEvaluator(self.potential, self.skin)

    def __call__(self, state) -> tuple[float, np.ndarray]:
        import openmm.unit as unit

        positions = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
        positions = np.asarray(positions, dtype=np.float64) * NM_IN_ANGSTROM
        if self.periodic:
            box = state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer)
            cell, pbc = np.asarray(box, dtype=np.float64) * NM_IN_ANGSTROM, np.ones(3, bool)
        else:
            cell, pbc = np.zeros((3, 3)), np.zeros(3, bool)
        if not np.isfinite(positions).all():
            raise ValueError("equiforce force: OpenMM passed non-finite positions "
                             "(the simulation has blown up)")
        out = self._evaluate(positions, self.numbers, cell, pbc)
        energy = float(out["energy"][0]) * EV_IN_KJ_PER_MOL
        forces = out["forces"].numpy() * (EV_IN_KJ_PER_MOL * NM_IN_ANGSTROM)
        return energy, forces
