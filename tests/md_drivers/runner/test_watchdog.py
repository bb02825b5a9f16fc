"""Each watchdog rule trips on a crafted bad frame, names itself, and stays quiet otherwise."""
import numpy as np
import pytest
from ase.build import bulk
from ase.md.velocitydistribution import thermalize_momenta

from md_drivers.runner import WatchdogConfig, WatchdogTripped, check_frame

CONFIG = WatchdogConfig(max_force=10.0, min_distance=0.7, max_temperature_factor=3.0,
                        max_temperature=2000.0)


def normal_frame():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=0)
    thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(0))
    forces = np.random.default_rng(1).normal(scale=0.5, size=(len(atoms), 3))
    return atoms, forces


def check(atoms, forces, energy=-10.0, reference=300.0):
    check_frame(CONFIG, atoms, forces, energy, float(atoms.get_temperature()), reference, step=40)


def test_normal_frame_passes():
    check(*normal_frame())


def test_close_atoms_trip_min_distance():
    atoms, forces = normal_frame()
    atoms.positions[7] = atoms.positions[3] + [0.3, 0.0, 0.0]
    with pytest.raises(WatchdogTripped, match="min_distance.*step 40") as trip:
        check(atoms, forces)
    assert trip.value.rule == "min_distance" and trip.value.atoms == [3, 7]


def test_close_periodic_images_trip_min_distance():
    atoms, forces = normal_frame()
    atoms.positions[0] = [0.1, 0.1, 0.1]
    atoms.positions[5] = atoms.cell[0] + [-0.15, 0.1, 0.1]  # 0.25 A away through the boundary
    with pytest.raises(WatchdogTripped, match="min_distance") as trip:
        check(atoms, forces)
    assert trip.value.atoms == [0, 5]


def test_large_force_trips_max_force():
    atoms, forces = normal_frame()
    forces[12] = [30.0, 0.0, 0.0]
    with pytest.raises(WatchdogTripped, match="max_force") as trip:
        check(atoms, forces)
    assert trip.value.atoms == [12]


@pytest.mark.parametrize("where", ["positions", "forces", "energy"])
def test_nan_trips_non_finite(where):
    atoms, forces = normal_frame()
    energy = -10.0
    if where == "positions":
        atoms.positions[4, 1] = np.nan
    elif where == "forces":
        forces[4, 2] = np.inf
    else:
        energy = np.nan
    with pytest.raises(WatchdogTripped, match="non_finite") as trip:
        check(atoms, forces, energy)
    assert trip.value.atoms == ([] if where == "energy" else [4])


def test_hot_frame_trips_temperature_runaway():
    atoms, forces = normal_frame()
    momenta = atoms.get_momenta()
    momenta[9] *= 40.0
    atoms.set_momenta(momenta)
    with pytest.raises(WatchdogTripped, match="temperature_runaway") as trip:
        check(atoms, forces)
    assert trip.value.atoms[0] == 9  # the hottest atom is named first


def test_absolute_temperature_ceiling():
    atoms, forces = normal_frame()
    atoms.set_momenta(atoms.get_momenta() * 3.0)  # ~2700 K, below 3 x a 1000 K target
    with pytest.raises(WatchdogTripped, match="> 2000 K"):
        check(atoms, forces, reference=1000.0)


def test_bad_limits_are_rejected():
    with pytest.raises(ValueError, match="min_distance"):
        WatchdogConfig(min_distance=-1.0)
