"""Unit constants at the OpenMM boundary (OpenMM: nm, kJ/mol; equiforce: Angstrom, eV)."""

__all__ = ["EV_IN_KJ_PER_MOL", "NM_IN_ANGSTROM"]

EV_IN_KJ_PER_MOL = 96.485332      # 1 eV in kJ/mol
NM_IN_ANGSTROM = 10.0             # 1 nm in Angstrom
