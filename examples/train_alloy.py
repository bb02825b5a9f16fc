"""Train a Cu-Au potential on bulk and slab frames under a time budget; errors per kind.

    python examples/train_alloy.py [--minutes 5] [--structures 4] [--repeat 3]
        [--temperatures 300 600 900 1200] [--channels 32] [--out runs/alloy]

Generates EMT reference data (random Cu-Au alloys with 10-50% Au: strained bulk cells and
(111) slabs, 300-1200 K, one isolated atom per element for the reference energies) and a
held-out file from another seed, trains with ``training.max_time`` and prints the
reference energies (the isolated atoms' and the closing energy refit added to them, see
docs/training.md#the-closing-energy-refit) and the held-out errors per configuration
kind. A mean signed energy error near zero for both kinds means the bulk-surface energy
difference is right; the parity plot is ``OUT/parity_test.png``.
"""
import argparse
import logging
from pathlib import Path

from potentials import PotentialConfig, load
from potentials.datasets import EMTSettings, generate_emt, write_frames
from potentials.train import DataSettings, OptimSettings, TrainConfig, train


def alloy_data(path: Path, seed: int, args, isolated: bool) -> Path:
    structures = args.structures if isolated else max(1, args.structures // 2)
    settings = EMTSettings(elements=("Cu", "Au"), kinds=("strained", "surface"),
                           repeat=args.repeat, temperatures=tuple(args.temperatures),
                           frames_per_kind_and_temperature=2,
                           structures_per_kind_and_temperature=structures,
                           alloy_fraction=(0.1, 0.5), isolated_atoms=isolated, seed=seed)
    return write_frames(path, generate_emt(settings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="training time budget")
    parser.add_argument("--structures", type=int, default=4,
                        help="starting structures per kind and temperature (2 frames each)")
    parser.add_argument("--repeat", type=int, default=3, help="bulk cells: repeat^3 x 4 atoms")
    parser.add_argument("--temperatures", type=float, nargs="+",
                        default=[300.0, 600.0, 900.0, 1200.0], help="Langevin temperatures (K)")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("runs/alloy"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    args.out.mkdir(parents=True, exist_ok=True)
    data = alloy_data(args.out / "data.extxyz", 0, args, True)
    heldout = alloy_data(args.out / "heldout.extxyz", 1, args, False)
    config = TrainConfig(
        data=DataSettings(str(data), split=(0.9, 0.1, 0.0), test_path=str(heldout)),
        model=PotentialConfig(species=(29, 79), cutoff=5.0, l_max=1, channels=args.channels,
                              num_layers=2, correlation=3),
        training=OptimSettings(epochs=100_000, max_time=60 * args.minutes),
        output=str(args.out / "run"))
    result = train(config, overwrite=True)
    print(f"trained {result.epochs} epochs in {result.wall_seconds:.0f} s "
          f"(budget {60 * args.minutes:.0f} s of training)")
    reference = load(result.deployed_path).metadata["provenance"]["reference_energies"]
    for symbol, energy in reference["eV"].items():
        print(f"{symbol}: free-atom reference ({reference['method']}) {energy:.4f} eV, "
              f"closing energy refit {1e3 * reference['refit_eV'][symbol]:+.2f} meV")
    for kind, m in result.test_metrics_by_kind.items():
        print(f"held-out {kind:9s} energy MAE {m['energy_mae']:6.2f} meV/atom "
              f"(mean signed {m['energy_me']:+6.2f}), forces MAE {m['forces_mae']:5.1f} meV/A")
    print(f"parity plot: {result.output / 'parity_test.png'}")


if __name__ == "__main__":
    main()
