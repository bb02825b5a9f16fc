"""openmm-ml plug-in: ``openmmml.MLPotential("equiforce", modelPath=...)``.

Registered through the ``openmmml.potentials`` entry point in ``setup.py``, so that
openmm-ml's ``createSystem`` and ``createMixedSystem`` (mechanical embedding, link atoms,
interpolation) work with equiforce potentials unchanged. The force itself comes from
:func:`md_drivers.openmm.create_force`.
"""
from __future__ import annotations

from openmmml.mlpotential import MLPotentialImpl, MLPotentialImplFactory

from .openmm import create_force

__all__ = ["EquiforcePotentialImplFactory", "EquiforcePotentialImpl"]


class EquiforcePotentialImplFactory(MLPotentialImplFactory):
    """Creates :class:`EquiforcePotentialImpl` for ``MLPotential("equiforce", ...)``."""

    def createImpl(self, name: str, modelPath=None, **args) -> "EquiforcePotentialImpl":
        if modelPath is None:
            raise ValueError("MLPotential('equiforce') needs modelPath=: an exported .pt/.pt2 "
                             "file or a shipped potential name such as 'villin-amber14'")
        return EquiforcePotentialImpl(modelPath)


class EquiforcePotentialImpl(MLPotentialImpl):
    """Adds an equiforce force to an OpenMM System (see :func:`create_force`).

    ``createSystem``/``createMixedSystem`` keyword arguments understood here:
    ``backend`` ("auto", "python", "torch"), ``device``, ``precision`` ("single",
    "double"), ``skin`` (Angstrom). Others belong to openmm-ml or its embedding and are
    left to them.
    """

    def __init__(self, modelPath) -> None:
        self.modelPath = modelPath

    def addForces(self, topology, system, atoms, forceGroup: int, backend: str = "auto",
                  device: str = "cpu", precision=None, skin: float = 0.5, **args) -> None:
        periodic = (topology.getPeriodicBoxVectors() is not None
                    or system.usesPeriodicBoundaryConditions())
        force = create_force(self.modelPath, topology, atoms, backend=backend, device=device,
                             precision=precision, periodic=periodic, skin=skin)
        force.setForceGroup(forceGroup)
        system.addForce(force)

    def getMLLongRange(self) -> bool:
        """equiforce potentials are local (finite cutoff): no long-range interactions."""
        return False
