"""The ``python`` backend: an ``openmm.PythonForce`` calling a deployed potential."""
from __future__ import annotations

import numpy as np

from potentials import DeployedPotential
from potentials.units import EV_IN_KJ_PER_MOL, NM_IN_ANGSTROM

from .._evaluator import StructureEvaluator

__all__ = ["PotentialComputation", "python_force"]


def python_force(potential: DeployedPotential, numbers: np.ndarray, periodic: bool,
                 skin: float):
    """A named ``openmm.PythonForce`` evaluating ``potential`` on ``numbers``' particles."""
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
