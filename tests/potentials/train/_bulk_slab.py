"""A tiny Cu-Au bulk + slab data set with isolated atoms, and a tiny model to train on it."""
from potentials import PotentialConfig
from potentials.datasets import EMTSettings, generate_emt, write_frames
from potentials.train import DataSettings, OptimSettings, TrainConfig


def write_bulk_slab(path, seed=0, isolated_atoms=True, structures=1):
    frames = generate_emt(EMTSettings(
        elements=("Cu", "Au"), kinds=("strained", "surface"), temperatures=(300.0, 900.0),
        frames_per_kind_and_temperature=2, structures_per_kind_and_temperature=structures,
        repeat=1, equilibration_steps=5, stride=3, alloy_fraction=(0.1, 0.5),
        isolated_atoms=isolated_atoms, seed=seed))
    return write_frames(path, frames)


def bulk_slab_config(data, output, test_path=None, **training):
    model = PotentialConfig(species=(29, 79), cutoff=4.0, l_max=1, channels=4, correlation=2,
                            num_radial=4, radial_hidden=8, readout_hidden=4)
    split = (0.8, 0.2, 0.0) if test_path else (0.6, 0.2, 0.2)
    return TrainConfig(data=DataSettings(str(data), split=split,
                                         test_path=None if test_path is None else str(test_path)),
                       model=model,
                       training=OptimSettings(**{"epochs": 2, "batch_size": 4, "lr": 1e-2,
                                                 **training}),
                       output=str(output))
