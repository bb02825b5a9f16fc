"""learn's configuration and reference calculators: bad settings are named."""
import pytest
import yaml
from ase.build import bulk
from ase.calculators.emt import EMT

from md_drivers.learn import (ExploreRun, LabelSettings, LearnConfig, label_frame,
                              reference_calculator)


def _raw(tmp_path):
    return {"workdir": str(tmp_path / "work"), "test_path": "test.extxyz",
            "committee": {"train_config": "member.yaml", "seeds": [0, 1]},
            "explore": [{"structure": "fcc-Cu:2x2x2", "temperatures_K": [600, 900],
                         "strains": [0.0, 0.02], "md": {"steps": 20}}]}


def test_yaml_round_trip_and_conditions(tmp_path):
    path = tmp_path / "learn.yaml"
    path.write_text(yaml.safe_dump(_raw(tmp_path)))
    config = LearnConfig.from_yaml(path)
    assert config.rounds == 3 and config.select.threshold == 0.05
    assert config.explore[0].conditions() == [(600.0, 1.0, 0.0), (600.0, 1.0, 0.02),
                                              (900.0, 1.0, 0.0), (900.0, 1.0, 0.02)]
    md = config.explore[0].md_config(["a.pt", "b.pt"], 600.0, 1.0, 7)
    assert md.potential == ("a.pt", "b.pt") and md.seed == 7 and md.steps == 20
    omm = ExploreRun("fcc-Cu:2x2x2", md={"engine": "openmm", "ensemble": "nvt-langevin"})
    assert omm.md_config(["a.pt", "b.pt"], 300.0, 1.0, 0).potential == ("a.pt",)


@pytest.mark.parametrize("change, message", [
    ({"committee": {"train_config": "m.yaml", "seeds": [3, 3]}}, "two or more different seeds"),
    ({"explore": []}, "at least one exploration run"),
    ({"explore": [{"structure": "x", "md": {"potential": "y"}}]}, "md may not set potential"),
    ({"explore": [{"structure": "x", "md": {"ensemble": "npt-mc"}}]}, "npt-mc"),
    ({"explore": [{"structure": "x", "strains": [0.9]}]}, "strains"),
    ({"select": {"max_frames": 0}}, "select.max_frames"),
    ({"label": {"calculator": "dft"}}, "label.calculator"),
    ({"rounds": -1}, "rounds"),
    ({"selekt": {}}, "unknown key.*selekt"),
])
def test_bad_settings_are_named(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        LearnConfig.from_dict({**_raw(tmp_path), **change})


def test_reference_calculators_by_name_and_import_path():
    assert isinstance(reference_calculator(LabelSettings("emt")), EMT)
    by_path = reference_calculator(LabelSettings("ase.calculators.emt:EMT"))
    assert isinstance(by_path, EMT)
    with pytest.raises(ValueError, match="cannot import 'no_such_module'"):
        reference_calculator(LabelSettings("no_such_module:Calc"))
    with pytest.raises(ValueError, match="has no callable 'Nope'"):
        reference_calculator(LabelSettings("ase.calculators.emt:Nope"))


def test_label_frame_copies_the_reference_labels():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=1)
    atoms.info["config_type"] = "bulk"
    frame = label_frame(atoms, EMT())
    reference = atoms.copy()
    reference.calc = EMT()
    assert frame.get_potential_energy() == pytest.approx(reference.get_potential_energy())
    assert (frame.get_forces() == reference.get_forces()).all()
    assert frame.info["config_type"] == "bulk" and frame.get_stress().shape == (6,)


def test_member_configs_of_round_zero_and_later_rounds(tmp_path):
    from md_drivers.learn import member_config
    from potentials.train import TrainConfig

    base = TrainConfig.from_dict({"data": {"path": "d.extxyz", "split": [0.8, 0.1, 0.1]},
                                  "model": {"species": [29]},
                                  "training": {"epochs": 30, "lr": 0.01}})
    config = LearnConfig.from_dict({**_raw(tmp_path), "committee": {
        "train_config": "m.yaml", "seeds": [4, 5], "retrain_epochs": 7, "retrain_lr": 0.002}})
    first = member_config(config, base, 0, 1, tmp_path / "round-000/data.extxyz")
    assert first.training.seed == 5 and first.training.epochs == 30 and first.init_from is None
    assert first.data.split == pytest.approx((0.9, 0.1, 0.0))
    assert first.data.test_path == "test.extxyz"
    assert first.output == str(tmp_path / "work/round-000/member-1")
    later = member_config(config, base, 2, 0, tmp_path / "round-002/data.extxyz")
    assert (later.training.seed, later.training.epochs, later.training.lr) == (4, 7, 0.002)
    assert later.init_from == str(tmp_path / "work/round-001/member-0/best.pt")
