"""potentials.units against OpenMM's own unit system (an independent definition)."""
import openmm.unit as unit
import pytest
from ase import units as ase_units

from potentials import units


def test_energy_length_force_and_velocity_conversions_agree_with_openmm():
    ev = (1.0 * unit.elementary_charge * unit.volt * unit.AVOGADRO_CONSTANT_NA)
    assert units.EV_IN_KJ_PER_MOL == pytest.approx(ev.value_in_unit(unit.kilojoule_per_mole),
                                                   rel=1e-8)
    assert units.NM_IN_ANGSTROM == (1.0 * unit.nanometer).value_in_unit(unit.angstrom)
    force = ev / unit.angstrom
    assert units.EV_PER_A_IN_KJ_PER_MOL_PER_NM == pytest.approx(
        force.value_in_unit(unit.kilojoule_per_mole / unit.nanometer), rel=1e-8)
    # 1 A/fs is 100 nm/ps; an ASE velocity of 1 is 1 A per ASE time unit
    assert units.ASE_VELOCITY_IN_NM_PER_PS * (1.0 / ase_units.fs) == pytest.approx(100.0)
    assert units.KJ_PER_MOL_IN_EV * units.EV_IN_KJ_PER_MOL == pytest.approx(1.0)
