"""Warm starts (``init_from``): training begins at a checkpoint's weights and keeps its
data statistics; another architecture is refused, naming the difference."""
import dataclasses

import pytest
import torch

from potentials.checkpoint import load_checkpoint
from potentials.datasets import EMTSettings, generate_emt, write_frames
from potentials.train import OptimSettings, train
from tests.potentials.train.test_loop import tiny_config, tiny_data  # noqa: F401 (fixture)


# one worker builds the module-scoped fixture, once (pytest-xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("warm_start")


@pytest.fixture(scope="module")
def first_run(tiny_data, tmp_path_factory):  # noqa: F811
    output = tmp_path_factory.mktemp("first") / "run"
    train(tiny_config(tiny_data, output, epochs=3), progress=False)
    return output / "best.pt"


def _other_data(folder):
    """Hotter frames of another seed: other statistics than the first run's data."""
    frames = generate_emt(EMTSettings(frames_per_kind_and_temperature=2, temperatures=(1500.0,),
                                      repeat=1, seed=7, isolated_atoms=False))
    return write_frames(folder / "other.extxyz", frames)


def test_warm_start_begins_at_the_checkpoint_and_keeps_its_statistics(first_run, tmp_path):
    start, _ = load_checkpoint(first_run)
    config = dataclasses.replace(
        tiny_config(_other_data(tmp_path), tmp_path / "warm", epochs=1),
        training=OptimSettings(epochs=1, batch_size=2, lr=1e-12, ema_decay=0.0,
                               energy_refit=False),
        init_from=str(first_run))
    train(config, progress=False)
    warm, payload = load_checkpoint(tmp_path / "warm" / "best.pt")
    assert warm.config == start.config            # shifts, neighbour count, scale kept
    # (the refit would move the shifts to fit the new data: see test_energy_refit)
    for name, value in start.state_dict().items():
        torch.testing.assert_close(warm.state_dict()[name], value, atol=1e-9, rtol=0)
    # from scratch on the same data: other statistics and other weights
    cold = dataclasses.replace(config, init_from=None, output=str(tmp_path / "cold"))
    train(cold, progress=False)
    fresh, _ = load_checkpoint(tmp_path / "cold" / "best.pt")
    assert fresh.config.atomic_energy_shifts != start.config.atomic_energy_shifts


def test_warm_start_from_another_architecture_is_refused(first_run, tiny_data, tmp_path):  # noqa: F811
    config = tiny_config(tiny_data, tmp_path / "bad", epochs=1)
    config = dataclasses.replace(config, model=config.model.replace(channels=8),
                                 init_from=str(first_run))
    with pytest.raises(ValueError, match="channels: 4 in the checkpoint, 8 in the config"):
        train(config, progress=False)
