"""equiforce MD drivers: the ASE calculator (single potential or committee), OpenMM forces,
the long-MD runner (``md_drivers.runner``) and LAMMPS under MPI (``md_drivers.lammps``)."""
from .ase import EquiforceCalculator
from .committee import CommitteeCalculator
from .openmm import create_force

__all__ = ["CommitteeCalculator", "EquiforceCalculator", "create_force"]
