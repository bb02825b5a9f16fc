"""Active learning on copper: a committee trained on bulk frames learns surfaces, a
vacancy cluster and the melt, round by round (``equiforce learn``).

    python examples/learn_cu.py [--rounds 3] [--out runs/learn-cu] [--quick]

1. Starting data: the bulk and strained-bulk frames of the shipped ``cu-emt`` data set
   (``equiforce data emt ... --seed 0``: 32-atom fcc cells, 300-1500 K, EMT labels) and
   its isolated Cu atom, which sets the reference energy.
2. Held-out, out-of-distribution test set, labelled by EMT from other seeds: a (111) slab
   at 600 and 1000 K, a tri-vacancy in a 108-atom cell at 600 and 1000 K, and the melt
   (108 atoms, 1500 K).
3. ``equiforce learn``: members trained with the default recipe (docs/training.md) at
   cu-emt's architecture, 30 epochs; every round, committee MD (3 members) of
   the slab, the vacancy cluster and the melt; frames with a large force spread, no two
   alike, are labelled by EMT and the members are retrained from their last weights.

Writes ``OUT/learn.yaml`` (rerun it with ``equiforce learn OUT/learn.yaml``), and prints
the per-round table (``OUT/work/report.md``), the held-out force error after the last
round against round 0, the labelled-frame growth and the spread/error rank correlation.
``--quick`` shrinks everything to a smoke run (tiny model, one round, seconds).
"""
import argparse
import json
import logging
from pathlib import Path

import ase.io
import numpy as np
import yaml
from ase import Atoms, units
from ase.build import bulk, fcc111
from ase.calculators.emt import EMT
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import thermalize_momenta

from md_drivers.learn import LearnConfig, label_frame, learn
from potentials.datasets import EMTSettings, generate_emt, write_frames

A_CU = 3.61


def slab() -> Atoms:
    atoms = fcc111("Cu", size=(3, 3, 4), a=A_CU, vacuum=6.0)
    atoms.pbc = [True, True, False]
    return atoms


def vacancy_cluster() -> Atoms:
    """108-atom fcc cell with three nearest-neighbour vacancies (a tri-vacancy)."""
    atoms = bulk("Cu", "fcc", a=A_CU, cubic=True).repeat(3)
    centre = np.argmin(np.linalg.norm(atoms.positions - atoms.cell.sum(axis=0) / 2, axis=1))
    distances = atoms.get_distances(centre, range(len(atoms)), mic=True)
    del atoms[sorted(np.argsort(distances)[:3], reverse=True)]
    return atoms


def melt(seed: int, steps: int) -> Atoms:
    """108 Cu atoms melted by EMT Langevin MD at 3000 K, then held at 1500 K."""
    atoms = bulk("Cu", "fcc", a=A_CU, cubic=True).repeat(3)
    _emt_md(atoms, 3000.0, steps, seed)
    _emt_md(atoms, 1500.0, steps // 2, seed + 1)
    return Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=True)


def _emt_md(atoms: Atoms, temperature: float, steps: int, seed: int) -> Langevin:
    atoms.calc = EMT()
    rng = np.random.default_rng(seed)
    thermalize_momenta(atoms, temperature_K=temperature, rng=rng)
    dyn = Langevin(atoms, 2 * units.fs, temperature_K=temperature, friction=0.02 / units.fs,
                   fixcm=False, rng=rng)
    dyn.run(steps)
    return dyn


def emt_frames(start: Atoms, kind: str, temperature: float, count: int, seed: int,
               stride: int = 50, equilibration: int = 100) -> list[Atoms]:
    """``count`` EMT-labelled frames of Langevin MD from ``start`` (2 fs steps)."""
    atoms = start.copy()
    dyn = _emt_md(atoms, temperature, equilibration, seed)
    frames = []
    for _ in range(count):
        dyn.run(stride)
        frames.append(label_frame(atoms, EMT()))
        frames[-1].info["config_type"] = kind
    return frames


def write_inputs(out: Path, args) -> Path:
    """Data, test set, start structures and the two configs; returns learn.yaml."""
    out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    per_kind = 2 if quick else 10
    cu_emt = generate_emt(EMTSettings(elements=("Cu",), frames_per_kind_and_temperature=per_kind,
                                      temperatures=(300.0, 900.0) if quick else
                                      (300.0, 600.0, 900.0, 1200.0, 1500.0),
                                      seed=0,
                                      **({"equilibration_steps": 10, "stride": 5} if quick
                                         else {})))
    # the isolated atom gives the reference energy (docs/training.md#reference-energies)
    write_frames(out / "bulk.extxyz", [f for f in cu_emt if f.info["config_type"]
                                       in ("bulk", "strained", "isolated_atom")])
    melt_steps = 20 if quick else 1000
    liquid = melt(seed=11, steps=melt_steps)
    starts = {"slab": slab(), "vacancy_cluster": vacancy_cluster(), "melt": liquid}
    for name, atoms in starts.items():
        ase.io.write(out / f"start-{name}.extxyz", atoms)
    count, md = (1, {"stride": 10, "equilibration": 10}) if quick else (6, {})
    test = (emt_frames(starts["slab"], "slab", 600.0, count, 21, **md)
            + emt_frames(starts["slab"], "slab", 1000.0, count, 22, **md)
            + emt_frames(starts["vacancy_cluster"], "vacancy_cluster", 600.0, count, 23, **md)
            + emt_frames(starts["vacancy_cluster"], "vacancy_cluster", 1000.0, count, 24, **md)
            + emt_frames(melt(seed=31, steps=melt_steps), "melt", 1500.0, 2 * count, 25, **md))
    write_frames(out / "heldout-ood.extxyz", test)
    model = ({"channels": 4, "num_layers": 1, "correlation": 2, "num_radial": 4,
              "radial_hidden": 8, "readout_hidden": 4} if quick else
             {"channels": 16, "num_layers": 2, "correlation": 3, "num_radial": 8,
              "radial_hidden": 32})
    member = {"data": {"path": str(out / "bulk.extxyz"), "split": [0.9, 0.1, 0.0]},
              "model": {"species": [29], "cutoff": 4.5, "l_max": 1, **model},
              "training": {"epochs": 2 if quick else 30, "batch_size": 4,
                           "stress_weight": 100.0, "dtype": "float64"},
              "output": str(out / "unused")}
    (out / "member.yaml").write_text(yaml.safe_dump(member, sort_keys=False))
    steps = 20 if quick else 300
    md = {"ensemble": "nvt-langevin", "steps": steps, "timestep_fs": 2.0,
          "output_interval": 10, "friction_per_ps": 5.0}
    learn_config = {
        "workdir": str(out / "work"), "rounds": 1 if quick else args.rounds,
        "test_path": str(out / "heldout-ood.extxyz"), "seed": 0,
        "committee": {"train_config": str(out / "member.yaml"),
                      "seeds": [0, 1] if quick else [0, 1, 2],
                      "retrain_epochs": 1 if quick else 20, "retrain_lr": 0.003},
        "explore": [{"structure": str(out / f"start-{name}.extxyz"), "config_type": name,
                     "temperatures_K": [temperature], "md": md}
                    for name, temperature in (("slab", 800.0), ("vacancy_cluster", 900.0),
                                              ("melt", 1500.0))],
        "select": {"threshold": 0.0 if quick else args.threshold, "max_frames": 16,
                   "min_distance": 0.02, "max_per_run": 6},
        "label": {"calculator": "emt"},
    }
    path = out / "learn.yaml"
    path.write_text(yaml.safe_dump(learn_config, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=0.05,
                        help="committee force spread (eV/A) above which frames are candidates")
    parser.add_argument("--out", type=Path, default=Path("runs/learn-cu"))
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config_path = args.out / "learn.yaml"
    if not config_path.is_file():
        write_inputs(args.out, args)
    result = learn(LearnConfig.from_yaml(config_path), progress=not args.quick)
    rows = result.rounds
    print((result.workdir / "report.md").read_text())
    first, last = rows[0], rows[-1]
    ratio = first["test"]["forces_mae"] / last["test"]["forces_mae"]
    growth = (last["frames_total"] - first["frames_total"]) / first["frames_total"]
    spearman = [row["calibration"]["spearman_mean"] for row in rows[1:]
                if row["calibration"] and row["calibration"]["spearman_mean"] is not None]
    print(f"held-out OOD force MAE: round 0 {first['test']['forces_mae']:.1f} meV/A, round "
          f"{last['round']} {last['test']['forces_mae']:.1f} meV/A ({ratio:.2f}x lower)")
    print(f"labelled frames: {first['frames_total']} -> {last['frames_total']} "
          f"(+{100 * growth:.0f}%)")
    print("Spearman(mean spread, force RMSE) per round:", json.dumps(
        [round(s, 2) for s in spearman]))


if __name__ == "__main__":
    main()
