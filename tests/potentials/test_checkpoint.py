import pytest
import torch

from potentials import ModelFileError, atoms_to_graph
from potentials.checkpoint import load_checkpoint, model_from_file, save_checkpoint
from tests.structures import small_model, triclinic_cu_au


def test_checkpoint_round_trip_reproduces_the_model(tmp_path):
    model = small_model(seed=3)
    path = save_checkpoint(tmp_path / "ckpt.pt", model, epoch=7)
    loaded, payload = load_checkpoint(path)
    assert payload["epoch"] == 7 and loaded.config == model.config
    graph = atoms_to_graph(triclinic_cu_au(), model.cutoff, model.config.species)
    torch.testing.assert_close(loaded(*graph.model_inputs())["forces"],
                               model(*graph.model_inputs())["forces"], rtol=0, atol=0)


def test_damaged_and_foreign_checkpoints_are_named(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(ModelFileError, match="bad.pt: unreadable checkpoint"):
        load_checkpoint(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": 1}, foreign)
    with pytest.raises(ModelFileError, match="foreign.pt: not an equiforce checkpoint"):
        load_checkpoint(foreign)


def test_model_from_yaml_config(tmp_path):
    config = tmp_path / "model.yaml"
    config.write_text("model:\n  species: [29, 79]\n  cutoff: 4.5\n  l_max: 2\n")
    model = model_from_file(config)
    assert model.config.species == (29, 79) and model.config.l_max == 2
    config.write_text("species: [29]\nlmax: 2\n")
    with pytest.raises(ValueError, match="unknown PotentialConfig field.*lmax"):
        model_from_file(config)
