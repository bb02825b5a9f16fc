"""Training end to end on a tiny EMT data set: loss goes down, resume is exact, outputs exist."""
import importlib
from dataclasses import replace

import ase.io
import numpy as np
import pytest
import torch

from potentials import PotentialConfig, load
from potentials.datasets import EMTSettings, generate_emt, write_frames
from potentials.train import OptimSettings, TrainConfig, train
from potentials.train.config import DataSettings
from potentials.train.data import split_indices


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    frames = generate_emt(EMTSettings(frames_per_kind_and_temperature=2, temperatures=(300.0, 900.0),
                                      repeat=1, equilibration_steps=10, stride=5,
                                      isolated_atoms=False))   # least-squares references
    return write_frames(tmp_path_factory.mktemp("data") / "cu.extxyz", frames)


def tiny_config(data, output, epochs=4):
    model = PotentialConfig(species=(29,), cutoff=4.0, l_max=1, channels=4, correlation=2,
                            num_radial=4, radial_hidden=8, readout_hidden=4)
    return TrainConfig(data=DataSettings(str(data), split=(0.6, 0.2, 0.2)), model=model,
                       training=OptimSettings(epochs=epochs, batch_size=2, lr=1e-2),
                       output=str(output))


def test_training_lowers_the_loss_and_writes_everything(tiny_data, tmp_path):
    config = tiny_config(tiny_data, tmp_path / "run", epochs=12)
    # no stage two: its higher energy weight would change what the loss measures mid-run
    config = replace(config, training=replace(config.training, stage_two_fraction=0.0))
    result = train(config, progress=False)
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < 0.5 * losses[0], losses
    for name in ("last.pt", "best.pt", "log.csv", "parity_test.png", "metrics.json", "deployed.pt"):
        assert (tmp_path / "run" / name).is_file(), name
    deployed = load(result.deployed_path)
    assert deployed.metadata["provenance"]["data_sha256"]
    assert set(result.test_metrics) >= {"energy_mae", "forces_rmse", "stress_mae"}
    # the closest Cu-Cu distance of the training split, against all minimum-image pairs
    frames = ase.io.read(tiny_data, ":")
    train_idx = split_indices(len(frames), (0.6, 0.2, 0.2), 0)[0]
    expected = min(np.min(frames[i].get_all_distances(mic=True)[np.triu_indices(len(frames[i]), 1)])
                   for i in train_idx)
    recorded = deployed.metadata["provenance"]["closest_pairs_A"]
    assert list(recorded) == ["Cu-Cu"] and recorded["Cu-Cu"] == pytest.approx(expected, abs=1e-4)


def test_resume_reproduces_the_uninterrupted_run_exactly(tiny_data, tmp_path, monkeypatch):
    straight = train(tiny_config(tiny_data, tmp_path / "a"), progress=False)
    loop = importlib.import_module("potentials.train.loop")
    original = loop._train_epoch

    def crash_at_epoch_3(model, optimizer, ema, data, config, epoch, budget):
        if epoch == 3:
            raise KeyboardInterrupt
        return original(model, optimizer, ema, data, config, epoch, budget)

    monkeypatch.setattr(loop, "_train_epoch", crash_at_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tiny_data, tmp_path / "b"), progress=False)
    monkeypatch.setattr(loop, "_train_epoch", original)
    resumed = train(tiny_config(tiny_data, tmp_path / "b"), resume=True, progress=False)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]
    assert resumed.history[2]["train_loss"] == straight.history[2]["train_loss"]
    assert resumed.history[3] == straight.history[3]
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["model_state"]
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model_state"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_without_checkpoint_is_a_clear_error(tiny_data, tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume from"):
        train(tiny_config(tiny_data, tmp_path / "none"), resume=True, progress=False)


def test_an_existing_run_is_refused_untouched_then_overwritten_on_request(tiny_data, tmp_path):
    import yaml

    from md_drivers.cli import main

    run = tmp_path / "run"
    run.mkdir()
    precious = {"deployed.pt": b"a model the user trained", "log.csv": b"epoch,loss\n1,0.5\n"}
    for name, content in precious.items():
        (run / name).write_bytes(content)
    config = tiny_config(tiny_data, run, epochs=1)
    with pytest.raises(FileExistsError, match="--resume.*--overwrite"):
        train(config, progress=False)
    config_file = tmp_path / "train.yaml"
    config_file.write_text(yaml.safe_dump(config.to_dict()))
    assert main(["train", str(config_file)]) == 2            # the CLI says so and exits 2
    assert {name: (run / name).read_bytes() for name in precious} == precious
    result = train(config, progress=False, overwrite=True)
    assert load(result.deployed_path).config.species == (29,)
    assert (run / "log.csv").read_bytes() != precious["log.csv"]


def files_of(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.mark.parametrize("section, key, value, named", [
    ("model", "channels", 8, "model.channels: 4 in the checkpoint, 8 now"),
    ("training", "lr", 0.05, "training.lr: 0.01 in the checkpoint, 0.05 now"),
    ("data", "split", [0.5, 0.3, 0.2], "data.split")])
def test_resume_refuses_changed_settings_naming_them(tiny_data, tmp_path, capsys, section, key,
                                                     value, named):
    import yaml

    from md_drivers.cli import main

    run = tmp_path / "run"
    raw = tiny_config(tiny_data, run, epochs=1).to_dict()
    config_file = tmp_path / "train.yaml"
    config_file.write_text(yaml.safe_dump(raw))
    assert main(["train", str(config_file)]) == 0
    before = files_of(run)
    raw[section][key] = value
    raw["training"]["epochs"] = 2                       # more epochs alone would be fine
    config_file.write_text(yaml.safe_dump(raw))
    assert main(["train", str(config_file), "--resume"]) == 2
    err = capsys.readouterr().err
    assert named in err and "a resume cannot change" in err and "epochs" not in err, err
    assert files_of(run) == before


def test_without_a_test_split_the_errors_are_labelled_validation(tiny_data, tmp_path, capsys):
    import json

    import yaml

    from md_drivers.cli import main

    raw = tiny_config(tiny_data, tmp_path / "run", epochs=1).to_dict()
    raw["data"]["split"] = [0.8, 0.2, 0.0]
    config_file = tmp_path / "train.yaml"
    config_file.write_text(yaml.safe_dump(raw))
    assert main(["train", str(config_file)]) == 0
    out = capsys.readouterr().out
    assert "validation (no test split) MAE" in out and "test MAE" not in out
    assert "meV/atom (mean signed" in out          # the errors of each configuration kind
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test"] is None and metrics["valid"]["forces_mae"] > 0
    assert (tmp_path / "run" / "parity_valid.png").is_file()
    assert not (tmp_path / "run" / "parity_test.png").exists()
    assert load(tmp_path / "run" / "deployed.pt").metadata["provenance"]["test_metrics"] is None


def test_mace_style_data_trains_without_conversion(tmp_path):
    """REF_energy, REF_forces and a 9-number REF_stress, as MACE's files hold them."""
    from tests.potentials.train.test_data import _labelled_cu, _mace_style_extxyz

    path = tmp_path / "mace.extxyz"
    _mace_style_extxyz(path, [_labelled_cu(seed) for seed in range(5)])
    result = train(tiny_config(path, tmp_path / "run", epochs=1), progress=False)
    assert np.isfinite(result.test_metrics["stress_mae"]) and result.deployed_path.is_file()
