"""Units of equiforce and conversions at the OpenMM boundary, in one place.

equiforce works in ASE's units: Angstrom, eV, eV/Angstrom, stress eV/Angstrom^3, time in
ASE's unit (``ase.units.fs`` = 0.0982 of it). OpenMM works in nm, kJ/mol, kJ/mol/nm and ps.
Every constant is derived from ``ase.units`` (CODATA 2014); OpenMM's own constants
(CODATA 2018) agree to 1e-8 relative, which ``tests/potentials/test_units.py`` checks.
"""
from __future__ import annotations

from ase import units as _ase

__all__ = ["NM_IN_ANGSTROM", "EV_IN_KJ_PER_MOL", "KJ_PER_MOL_IN_EV", "PS_IN_FS",
           "ASE_VELOCITY_IN_NM_PER_PS", "EV_PER_A_IN_KJ_PER_MOL_PER_NM"]

NM_IN_ANGSTROM: float = _ase.nm / _ase.Angstrom                 # 1 nm = 10 A
EV_IN_KJ_PER_MOL: float = _ase.eV / (_ase.kJ / _ase.mol)        # 1 eV = 96.485 kJ/mol
KJ_PER_MOL_IN_EV: float = 1.0 / EV_IN_KJ_PER_MOL
PS_IN_FS: float = 1000.0                                        # 1 ps = 1000 fs
# an ASE velocity (A per ASE time unit) in nm/ps
ASE_VELOCITY_IN_NM_PER_PS: float = PS_IN_FS * _ase.fs / NM_IN_ANGSTROM
# a force of 1 eV/A in kJ/mol/nm
EV_PER_A_IN_KJ_PER_MOL_PER_NM: float = EV_IN_KJ_PER_MOL * NM_IN_ANGSTROM
