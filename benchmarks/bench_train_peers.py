"""Benchmark: training equiforce, NequIP and MACE on the same Cu-Au bulk + slab data under the
same wall-clock budget, errors per configuration kind on held-out frames.

    make bench-train-peers               # creates the peer venvs, then runs this script
    .venv/bin/python benchmarks/bench_train_peers.py [--budget 720] [--codes equiforce nequip mace]
        [--system cuau|cu] [--recipe default|fit|no-refit|isolated-only|previous] [--frames-per-structure 4]
        [--structures 8] [--heldout-structures 3] [--threads 2]
        [--workdir runs/bench-train-peers] [--output results/train-peers.json] [--write-docs]
        [--peers-from results/train-peers.json]

Data (``equiforce``'s own EMT generator, ASE 3.29 EMT labels): random fcc Cu-Au alloys with
10-50% Au at 300, 600, 900 and 1200 K, two kinds: ``strained`` (108-atom bulk cells under a
random symmetric strain of up to 4%, with stress) and ``surface`` (36-atom (111) slabs, 6 A
of vacuum each side, pbc [T, T, F], no stress); plus one isolated atom per element (its
EMT energy is every code's reference energy). Training file: seed 0, ``--structures``
starting structures per kind and temperature, ``--frames-per-structure`` frames each
(8 x 4 -> 256 frames); 90/10 train/validation split (seed 0), the same frames for every
code. Held-out file: seed 1 (other structures, compositions and trajectories), 96 frames.
``--system cu`` makes the single-phase copper set instead (108-atom fcc Cu bulk, same
temperatures and counts); ``--recipe previous`` trains equiforce as it was before
issue 16 (least-squares reference energies, forces 10 x energy, lr 0.005, no stage two),
``--recipe isolated-only`` with isolated-atom references and otherwise the same, and
``--recipe fit`` today's recipe with least-squares reference energies, ``--recipe
no-refit`` today's without the closing energy refit, for A/Bs on the same data.

Every code trains in its own venv (``_peer_train.py`` for the peers, ``equiforce train``
for equiforce) at the same model size (cutoff 5 A, 32 channels, l_max 1, float64, batch 4,
2 threads) until ``--budget`` seconds of training have passed, one code after the other
(nothing else running), then predicts the held-out frames; the errors are computed here,
by one function for all codes, from those predictions and the EMT labels: energy MAE and
mean signed error (meV/atom), force MAE (meV/A), stress MAE (meV/A^3), per kind.

``--peers-from`` takes the other codes' entries from an earlier results file of the same
system and budget instead of training them again (marked in the table). The data files
of an earlier run in ``--workdir`` with the same settings are reused.

Outputs: ``benchmarks/results/train-peers.json``, a parity plot per code
(``docs/images/train-peers-<system>-<code>.png``) and a markdown table, printed and, with
``--write-docs``, written into docs/benchmarks.md between the train-peers markers.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from ase.data import atomic_numbers

from _common import RESULTS, save_results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs" / "benchmarks.md"
IMAGES = ROOT / "docs" / "images"
CODES = ("equiforce", "nequip", "mace")
LABELS = {"equiforce": "equiforce", "nequip": "NequIP 0.19.1", "mace": "MACE 0.3.16"}
START, END = "<!-- train-peers-table:start -->", "<!-- train-peers-table:end -->"
MODEL = {"cutoff": 5.0, "l_max": 1, "channels": 32, "num_layers": 2, "correlation": 3}


# ``cuau``: the two-element bulk + slab set; ``cu``: single-phase fcc Cu (108-atom bulk).
SYSTEMS = {"cuau": {"elements": ("Cu", "Au"), "kinds": ("strained", "surface"),
                    "alloy_fraction": (0.1, 0.5)},
           "cu": {"elements": ("Cu",), "kinds": ("bulk",), "alloy_fraction": None}}
# equiforce's training recipes for A/B: today's default; "fit", the same with least-squares
# reference energies; "no-refit", the default without the closing energy refit;
# "isolated-only", the first fix of issue 16 (isolated-atom references; forces 10 x
# energy, lr 0.005, no stage two, no refit); and "previous", the recipe before issue 16
# (also least-squares reference energies)
FIRST_FIX = {"forces_weight": 10.0, "lr": 0.005, "stage_two_fraction": 0.0,
             "energy_refit": False}
RECIPES = {"default": {}, "fit": {"data": {"reference_energies": "fit"}},
           "no-refit": {"training": {"energy_refit": False}},
           "isolated-only": {"training": FIRST_FIX},
           "previous": {"data": {"reference_energies": "fit"}, "training": FIRST_FIX}}


def make_data(workdir: Path, system: str, structures: int, frames: int,
              heldout_structures: int) -> dict:
    """The training, validation and held-out files (see the module docstring), reused
    from ``workdir/data.json`` when an earlier run made them with the same settings (the
    generator is deterministic for its seeds)."""
    from potentials.datasets import EMTSettings, generate_emt, write_frames
    from potentials.train import split_indices

    request = {"system": system, "structures": structures, "frames": frames,
               "heldout_structures": heldout_structures}
    record = workdir / "data.json"
    if record.is_file():
        saved = json.loads(record.read_text())
        if saved.get("request") == request and all(Path(f).is_file()
                                                    for f in saved["files"].values()):
            print(f"data: reusing {record} ({request})", flush=True)
            return {k: saved[k] for k in ("files", "e0")}

    def settings(seed, count, isolated):
        return EMTSettings(**SYSTEMS[system], repeat=3,
                           temperatures=(300.0, 600.0, 900.0, 1200.0),
                           frames_per_kind_and_temperature=frames,
                           structures_per_kind_and_temperature=count,
                           isolated_atoms=isolated, seed=seed)

    started = time.perf_counter()
    everything = generate_emt(settings(0, structures, True))
    isolated = [f for f in everything if f.info["config_type"] == "isolated_atom"]
    labelled = [f for f in everything if f.info["config_type"] != "isolated_atom"]
    train_idx, valid_idx, _ = split_indices(len(labelled), (0.9, 0.1, 0.0), 0)
    files = {"all": write_frames(workdir / "train-all.extxyz", everything),
             "train": write_frames(workdir / "train.extxyz", [labelled[i] for i in train_idx]),
             "valid": write_frames(workdir / "valid.extxyz", [labelled[i] for i in valid_idx]),
             "test": write_frames(workdir / "heldout.extxyz",
                                  generate_emt(settings(1, heldout_structures, False)))}
    e0 = {f.get_chemical_symbols()[0]: f.get_potential_energy() for f in isolated}
    print(f"data: {len(train_idx)} train, {len(valid_idx)} valid frames, isolated atoms {e0} "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    data = {"files": {k: str(v) for k, v in files.items()}, "e0": e0}
    record.write_text(json.dumps({"request": request, **data}))
    return data


def run_equiforce(workdir: Path, data: dict, budget: float, threads: int, species: list[int],
                  recipe: str) -> Path:
    """``equiforce train`` on the full training file (its split gives the same train and
    validation frames), then predictions of the held-out frames."""
    import yaml

    changes = RECIPES[recipe]
    config = {"data": {"path": data["files"]["all"], "split": [0.9, 0.1, 0.0],
                       "test_path": data["files"]["test"], **changes.get("data", {})},
              "model": {"species": species, **MODEL},
              "training": {"max_time": budget, "epochs": 100000, **changes.get("training", {})},
              "output": str(workdir / "equiforce")}
    path = workdir / "equiforce.yaml"
    path.write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    _run([str(ROOT / ".venv" / "bin" / "equiforce"), "-v", "train", str(path), "--overwrite"],
         threads, workdir / "equiforce.log")
    output = workdir / "equiforce-predictions.json"
    _write_equiforce_predictions(workdir / "equiforce", data["files"]["test"], output,
                                 time.perf_counter() - started)
    return output


def _write_equiforce_predictions(run: Path, test_file: str, output: Path, wall: float) -> None:
    import csv

    from ase.io import read
    from ase.stress import full_3x3_to_voigt_6_stress

    from potentials import load
    from potentials.files import atomic_path, strict_json
    from potentials.testing import evaluate

    model = load(run / "deployed.pt")
    rows = list(csv.DictReader(open(run / "log.csv")))
    frames = []
    for index, atoms in enumerate(read(test_file, ":")):
        out = evaluate(model, atoms)
        stress = full_3x3_to_voigt_6_stress(out["stress"]).tolist()
        frames.append({"index": index, "config_type": atoms.info["config_type"],
                       "energy": out["energy"], "forces": out["forces"].tolist(),
                       "stress": stress if atoms.pbc.all() else None})
    provenance = model.metadata["provenance"]
    payload = {"code": "equiforce", "settings": provenance["train_config"],
               "train_seconds": float(provenance["training_seconds"]),
               "epochs": len(rows), "best_epoch": provenance["best_epoch"],
               "wall_seconds_total": wall, "frames": frames}
    with atomic_path(output) as tmp:
        tmp.write_text(strict_json(payload))


def run_peer(code: str, workdir: Path, data: dict, budget: float, threads: int,
             seed: int) -> Path:
    output = workdir / f"{code}-predictions.json"
    python = ROOT / f".venv-peers-{code}" / "bin" / "python"
    files = data["files"]
    _run([str(python), str(HERE / "_peer_train.py"), "--code", code, "--train", files["train"],
          "--valid", files["valid"], "--test", files["test"], "--budget", str(budget),
          "--workdir", str(workdir / code), "--output", str(output), "--threads", str(threads),
          "--seed", str(seed), "--e0", *[f"{k}={v}" for k, v in data["e0"].items()]],
         threads, workdir / f"{code}.log")
    return output


def _run(command: list[str], threads: int, log: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    print("running", " ".join(command), flush=True)
    with open(log, "w") as handle:
        subprocess.run(command, check=True, env=env, stdout=handle, stderr=subprocess.STDOUT)


def errors(predictions: dict, test_file: str) -> dict:
    """Per kind and overall: energy MAE and mean signed error (meV/atom), force MAE (meV/A),
    stress MAE (meV/A^3), from a code's predictions and the labels of ``test_file``."""
    from ase.io import read

    labels = read(test_file, ":")
    rows: dict[str, dict[str, list]] = {}
    for frame in predictions["frames"]:
        atoms = labels[frame["index"]]
        for kind in (atoms.info["config_type"], "all"):
            row = rows.setdefault(kind, {"e": [], "f": [], "s": []})
            row["e"].append((frame["energy"] - atoms.get_potential_energy()) / len(atoms))
            row["f"].append(np.ravel(np.array(frame["forces"]) - atoms.get_forces()))
            if frame["stress"] is not None and "stress" in atoms.calc.results:
                row["s"].append(np.array(frame["stress"]) - atoms.get_stress())
    return {kind: _summary(row) for kind, row in sorted(rows.items())}


def _summary(row: dict) -> dict:
    energy, forces = 1e3 * np.array(row["e"]), 1e3 * np.concatenate(row["f"])
    result = {"frames": len(energy), "energy_mae": float(np.mean(np.abs(energy))),
              "energy_me": float(np.mean(energy)), "forces_mae": float(np.mean(np.abs(forces)))}
    if row["s"]:
        result["stress_mae"] = float(1e3 * np.mean(np.abs(np.concatenate(row["s"]))))
    return result


def parity_plot(code: str, predictions: dict, test_file: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from ase.io import read

    labels = read(test_file, ":")
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.4))
    for kind in sorted({f["config_type"] for f in predictions["frames"]}):
        chosen = [f for f in predictions["frames"] if f["config_type"] == kind]
        ref = [labels[f["index"]] for f in chosen]
        e_ref = np.array([a.get_potential_energy() / len(a) for a in ref])
        e_pred = np.array([f["energy"] / len(a) for f, a in zip(chosen, ref)])
        f_ref = np.concatenate([a.get_forces().ravel() for a in ref])
        f_pred = np.concatenate([np.ravel(f["forces"]) for f in chosen])
        axes[0].scatter(e_ref, e_pred, s=8, alpha=0.7,
                        label=f"{kind}: MAE {1e3 * np.mean(np.abs(e_pred - e_ref)):.1f} meV/atom")
        axes[1].scatter(f_ref, f_pred, s=3, alpha=0.3,
                        label=f"{kind}: MAE {1e3 * np.mean(np.abs(f_pred - f_ref)):.1f} meV/Å")
    for ax, what in zip(axes, ("energy (eV/atom)", "force component (eV/Å)")):
        low, high = ax.get_xlim()
        ax.plot([low, high], [low, high], color="0.6", lw=1)
        ax.set_xlabel(f"EMT {what}")
        ax.set_ylabel(f"{LABELS[code]} {what}")
        ax.legend(fontsize=8, markerscale=2)
    fig.suptitle(f"{LABELS[code]}: held-out Cu-Au frames", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(results: dict, budget: float, system: str) -> str:
    kinds = [k for k in next(iter(results.values()))["errors"] if k != "all"]
    names = " / ".join(kinds)
    lines = [f"`{system}` data, {budget / 60:.0f} min of training per code, 2 threads, float64; "
             "held-out frames (seed 1); mean signed energy error in brackets.", "",
             f"| code | epochs in budget | energy MAE [ME] {names} (meV/atom) | "
             f"force MAE {names} (meV/A) | stress MAE (meV/A^3) |",
             "|---|---|---|---|---|"]
    for code, entry in results.items():
        errors = entry["errors"]
        energy = " / ".join(f"{errors[k]['energy_mae']:.2f} [{errors[k]['energy_me']:+.2f}]"
                            for k in kinds)
        forces = " / ".join(f"{errors[k]['forces_mae']:.1f}" for k in kinds)
        stress = errors["all"].get("stress_mae")
        label = LABELS[code] + (" (earlier run, same data)" if entry.get("from") else "")
        lines.append(f"| {label} | {entry['epochs']:.1f} | {energy} | {forces} | "
                     f"{'-' if stress is None else f'{stress:.3f}'} |")
    return "\n".join(lines)


def earlier_results(path: Path, args) -> dict:
    """The entries of an earlier results file for the codes not run now, each marked with
    the file it came from; the earlier run must have had the same system and budget."""
    earlier = json.loads(path.read_text())
    for key, now in (("system", args.system), ("budget_seconds", args.budget)):
        if earlier.get(key) != now:
            raise SystemExit(f"--peers-from {path}: {key} {earlier.get(key)!r} is not this "
                             f"run's {now!r}")
    return {code: {**entry, "from": str(path)} for code, entry in earlier["results"].items()
            if code not in args.codes}


def write_docs(table: str) -> None:
    text = DOCS.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    DOCS.write_text(text[:start] + "\n" + table + "\n" + text[end:])
    print(f"wrote the table into {DOCS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=720.0, help="training seconds per code")
    parser.add_argument("--codes", nargs="+", choices=CODES, default=list(CODES))
    parser.add_argument("--system", choices=sorted(SYSTEMS), default="cuau")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="default",
                        help="equiforce's training recipe: today's, today's with least-squares "
                             "references, today's without the energy refit, the isolated-atom "
                             "references alone, or the one before issue 16")
    parser.add_argument("--structures", type=int, default=8)
    parser.add_argument("--frames-per-structure", type=int, default=4)
    parser.add_argument("--heldout-structures", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=ROOT / "runs" / "bench-train-peers")
    parser.add_argument("--output", type=Path, default=RESULTS / "train-peers.json")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--peers-from", type=Path, default=None,
                        help="an earlier results file of this bench: its entries for codes "
                             "not in --codes join the table (same system and budget required)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    data = make_data(args.workdir, args.system, args.structures, args.frames_per_structure,
                     args.heldout_structures)
    species = [atomic_numbers[e] for e in SYSTEMS[args.system]["elements"]]
    results = earlier_results(args.peers_from, args) if args.peers_from else {}
    for code in args.codes:
        if code == "equiforce":
            predictions_path = run_equiforce(args.workdir, data, args.budget, args.threads,
                                             species, args.recipe)
        else:
            predictions_path = run_peer(code, args.workdir, data, args.budget, args.threads,
                                        args.seed)
        predictions = json.loads(predictions_path.read_text())
        results[code] = {"errors": errors(predictions, data["files"]["test"]),
                         **{k: predictions.get(k) for k in ("settings", "train_seconds", "epochs",
                                                           "batches", "wall_seconds_total")}}
        recipe = "" if code != "equiforce" or args.recipe == "default" else f"-{args.recipe}"
        parity_plot(code, predictions, data["files"]["test"],
                    IMAGES / f"train-peers-{args.system}-{code}{recipe}.png")
        print(code, json.dumps(results[code]["errors"]), flush=True)
        save_results("train-peers", {"budget_seconds": args.budget, "system": args.system,
                                     "recipe": args.recipe, "data": data, "results": results},
                     args.output)
    results = {code: results[code] for code in CODES if code in results}
    table = markdown(results, args.budget, args.system)
    print(table)
    if args.write_docs:
        write_docs(table)


if __name__ == "__main__":
    main()
