"""equiforce MD drivers: the ASE calculator (single potential or committee), OpenMM forces,
and the long-MD runner (``md_drivers.runner``)."""
from .ase import EquiforceCalculator
from .committee import CommitteeCalculator
from .openmm import create_force

__all__ = ["CommitteeCalculator", "EquiforceCalculator", "create_force"]
