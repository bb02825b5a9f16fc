"""Training end to end on a tiny EMT data set: loss goes down, resume is exact, outputs exist."""
import importlib

import pytest
import torch

from potentials import PotentialConfig, load
from potentials.datasets import EMTSettings, generate_emt, write_frames
from potentials.train import OptimSettings, TrainConfig, train
from potentials.train.config import DataSettings


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    frames = generate_emt(EMTSettings(frames_per_kind_and_temperature=2, temperatures=(300.0, 900.0),
                                      repeat=1, equilibration_steps=10, stride=5))
    return write_frames(tmp_path_factory.mktemp("data") / "cu.extxyz", frames)


def tiny_config(data, output, epochs=4):
    model = PotentialConfig(species=(29,), cutoff=4.0, l_max=1, channels=4, correlation=2,
                            num_radial=4, radial_hidden=8, readout_hidden=4)
    return TrainConfig(data=DataSettings(str(data), split=(0.6, 0.2, 0.2)), model=model,
                       training=OptimSettings(epochs=epochs, batch_size=2, lr=1e-2),
                       output=str(output))


def test_training_lowers_the_loss_and_writes_everything(tiny_data, tmp_path):
    result = train(tiny_config(tiny_data, tmp_path / "run", epochs=12), progress=False)
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < 0.5 * losses[0], losses
    for name in ("last.pt", "best.pt", "log.csv", "parity_test.png", "metrics.json", "deployed.pt"):
        assert (tmp_path / "run" / name).is_file(), name
    deployed = load(result.deployed_path)
    assert deployed.metadata["provenance"]["data_sha256"]
    assert set(result.test_metrics) >= {"energy_mae", "forces_rmse", "stress_mae"}


def test_resume_reproduces_the_uninterrupted_run_exactly(tiny_data, tmp_path, monkeypatch):
    straight = train(tiny_config(tiny_data, tmp_path / "a"), progress=False)
    loop = importlib.import_module("potentials.train.loop")
    original = loop._train_epoch

    def crash_at_epoch_3(model, optimizer, ema, data, config, epoch):
        if epoch == 3:
            raise KeyboardInterrupt
        return original(model, optimizer, ema, data, config, epoch)

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
