"""The EMT generator: kinds, alloy composition range, isolated atoms, config_type labels."""
import numpy as np
import pytest
from ase.calculators.emt import EMT

from potentials.datasets import EMTSettings, generate_emt


def small(**changes):
    base = dict(elements=("Cu", "Au"), kinds=("strained", "surface"), temperatures=(300.0,),
                frames_per_kind_and_temperature=1, structures_per_kind_and_temperature=3,
                repeat=1, equilibration_steps=2, stride=2, alloy_fraction=(0.1, 0.5), seed=3)
    return EMTSettings(**{**base, **changes})


def test_kinds_compositions_and_labels():
    frames = generate_emt(small(isolated_atoms=True))
    kinds = [f.info["config_type"] for f in frames]
    assert kinds == ["strained"] * 3 + ["surface"] * 3 + ["isolated_atom"] * 2
    for frame in frames[:6]:
        gold = np.count_nonzero(frame.numbers == 79) / len(frame)
        assert 0.1 - 0.5 / len(frame) <= gold <= 0.5 + 0.5 / len(frame), gold
    assert {tuple(f.pbc) for f in frames[3:6]} == {(True, True, False)}
    assert "stress" in frames[0].calc.results and "stress" not in frames[3].calc.results


def test_isolated_atoms_carry_emts_free_atom_energy():
    frames = generate_emt(small(isolated_atoms=True))[-2:]
    for frame, symbol in zip(frames, ("Cu", "Au")):
        alone = frame.copy()
        alone.calc = EMT()
        assert frame.get_chemical_symbols() == [symbol] and not frame.pbc.any()
        assert frame.get_potential_energy() == pytest.approx(alone.get_potential_energy(),
                                                             abs=1e-12)
        assert frame.get_potential_energy() > 3.0   # EMT's free atom: ~3.5 eV above bulk


@pytest.mark.parametrize("changes, message", [
    ({"kinds": ("liquid",)}, "kinds must be among"),
    ({"alloy_fraction": (0.6, 0.2)}, "alloy_fraction"),
    ({"elements": ("Cu",), "alloy_fraction": (0.1, 0.2)}, "two or more elements"),
    ({"structures_per_kind_and_temperature": 0}, "structures")])
def test_bad_settings_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        small(**changes)
