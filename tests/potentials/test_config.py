import pytest

from potentials import PotentialConfig


def test_json_round_trip_preserves_every_field():
    config = PotentialConfig(species=(8, 1), cutoff=4.5, l_max=3, channels=16, num_layers=3,
                             correlation=2, parity=False, avg_num_neighbors=12.5,
                             atomic_energy_shifts=(-2.0, -0.5), energy_scale=0.3)
    assert PotentialConfig.from_json(config.to_json()) == config
    assert config.symbols == ("O", "H")


@pytest.mark.parametrize("changes, message", [
    (dict(species=()), "at least one element"),
    (dict(species=(1, 1)), "duplicates"),
    (dict(species=(0,)), "not an atomic number"),
    (dict(cutoff=-1.0), "cutoff"),
    (dict(cutoff=float("nan")), "cutoff"),
    (dict(l_max=4), "l_max"),
    (dict(channels=0), "channels"),
    (dict(correlation=0), "correlation"),
    (dict(num_layers=1.5), "num_layers"),
    (dict(envelope_exponent=1), "envelope_exponent"),
    (dict(avg_num_neighbors=0.0), "avg_num_neighbors"),
    (dict(atomic_energy_shifts=(1.0, 2.0)), "atomic_energy_shifts"),
    (dict(parity="yes"), "parity"),
])
def test_invalid_values_are_rejected_with_the_field_named(changes, message):
    fields = dict(species=(29,))
    fields.update(changes)
    with pytest.raises(ValueError, match=message):
        PotentialConfig(**fields)


def test_unknown_json_key_is_named():
    with pytest.raises(ValueError, match="l_maks"):
        PotentialConfig.from_dict({"species": [29], "l_maks": 2})
