"""equiforce MD drivers: the ASE calculator (OpenMM and the MD runner build on it)."""
from .ase import EquiforceCalculator

__all__ = ["EquiforceCalculator"]
