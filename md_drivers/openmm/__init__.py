"""equiforce potentials as OpenMM forces, and OpenMM Systems built from ASE structures.

:func:`create_force` returns an ``openmm.Force`` for a whole system or a subset of its
atoms (ML/MM), from one module per backend:

- ``"python"`` (``_python_backend``): an ``openmm.PythonForce`` that calls the deployed
  potential (any torch version, any deployed format, any OpenMM platform);
- ``"torch"`` (``_torch_backend``): an openmm-torch ``TorchForce`` around a self-contained
  TorchScript module (neighbour list inside), for the environment where openmm-torch works
  (``make test-openmm-torch``); with ``cuda_graphs=True`` a graph-safe module with a fixed
  pair buffer, grown from the host by :class:`PairCapacityGuard`.

:func:`create_system` builds a whole ``openmm.System`` (masses, any periodic cell in
OpenMM's reduced form, the force) from ``ase.Atoms`` or an OpenMM ``Topology``.

Units are converted at this boundary only, with :mod:`potentials.units`: OpenMM's nm and
kJ/mol outside, equiforce's Angstrom and eV inside.
"""
from potentials.units import EV_IN_KJ_PER_MOL, NM_IN_ANGSTROM

from ._force import BACKENDS, create_force, torch_force_problem
from ._python_backend import PotentialComputation
from .capacity import PairCapacityGuard
from .system import OpenMMSystem, create_system

__all__ = ["create_force", "create_system", "OpenMMSystem", "PairCapacityGuard",
           "torch_force_problem", "PotentialComputation", "EV_IN_KJ_PER_MOL", "NM_IN_ANGSTROM", "BACKENDS"]
