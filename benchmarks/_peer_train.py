"""Train a peer code (MACE or NequIP) on given data under a wall-clock budget, inside its venv.

    python benchmarks/_peer_train.py --code {mace,nequip} --train TRAIN.extxyz \
        --valid VALID.extxyz --test TEST.extxyz --budget SECONDS --workdir DIR \
        --output PRED.json [--threads 2] [--seed 0] [--e0 Cu=3.51 Au=3.80]

Protocol. The input extxyz frames carry SinglePointCalculator labels: ``energy`` (eV),
``forces`` (eV/A) and, only for fully periodic frames, ``stress`` (eV/A^3, ASE sign, Voigt);
``info["config_type"]`` names the kind of frame. The elements are those of the training
data. The labels are rewritten into DIR in the form the peer reads, the peer trains with
its own training loop, and training stops at the first batch boundary after ``--budget``
seconds of training (the clock starts when the peer's training loop starts: data reading,
neighbour lists and dataset statistics come before it and are reported as
``setup_seconds``; validation passes inside the loop count against the budget). The
batch that was running when the budget ran out is finished and the peer's validation of
that partial epoch runs, so ``train_seconds`` exceeds the budget by at most one batch plus
one validation pass (``stop_seconds`` is when the last optimiser step ended). The model
used is the best-validation checkpoint, with EMA weights for both codes; each code
validates after every epoch and after the final partial one, so such a checkpoint always
exists. Every TEST frame is then evaluated with the peer's own ASE calculator and the
predictions are written to ``--output`` as JSON (atomically). Logs go to stderr.

Shared model size: cutoff 5.0 A, 32 channels, l_max 1, float64, batch size 4, seed given.

MACE (0.3.16): ``mace.cli.run_train.run`` in this process, with the arguments of
``mace_arguments`` (model "MACE", i.e. ScaleShiftMACE with zero shift and RMS-force scale;
hidden irreps 32x0e+32x1o, max_L 1, max_ell 1, 2 interactions, correlation 3, 8 Bessel
and 5 polynomial-cutoff functions, radial MLP [64,64,64]; E0s from ``--e0`` or "average";
loss "stress" = energy 1, forces 100, stress 1; Adam with AMSGrad, lr 0.01, weight decay
5e-7, ReduceLROnPlateau (factor 0.8, patience 50), EMA 0.99, gradient clipping 10; no
Stage Two/SWA; epoch cap and patience 100000). Frames without stress have no
``REF_stress``, which MACE turns into a zero stress with stress weight 0. The budget is
enforced by wrapping ``mace.tools.train.train_one_epoch`` (a batch iterator that ends at
the deadline) and ``mace.tools.train`` (the next epoch after the deadline raises, caught
here), so run_train goes on to load its best checkpoint and save ``mace.model``.

NequIP (0.19): ``nequip-train``'s hydra entry point in this process, with the config of
``nequip_config`` after the tutorial config (configs/tutorial.yaml): ASEDataModule,
NequIPGNNModel (3 layers, l_max 1, parity, 32 features, r_max 5, 8 Bessel, p 6, radial MLP
depth 1 x width 128 = the model defaults, as in _peer_cases.py; no ZBL, as MACE has none),
avg_num_neighbors from the data, per-type energy scales = per-type force RMS, per-type
shifts = ``--e0`` (isolated atoms) or else the per-atom energy mean, both frozen;
EMALightningModule (decay 0.999), Adam lr 0.01, ReduceLROnPlateau (0.6, patience 5,
threshold 0.2, min_lr 1e-6) on val weighted sum; loss = MSE of per-atom energy, forces and
stress with coefficients 1:1:1; validation metric = total-energy MAE + force MAE (+ stress
MAE); checkpoint on the best validation metric. Frames without stress get NaN stress
labels and the stress terms use ``ignore_nan`` (NequIP's documented way for partial
stress labels); since nequip's MSE of an all-NaN batch is 0/0 = NaN, the stress loss term
is nequip's MeanSquaredError returning 0 for a batch with no stress label (the MACE
behaviour). The budget is a Lightning callback that sets ``trainer.should_stop`` at the
first batch end past the deadline (Lightning then ends the epoch early and validates).
Prediction uses ``NequIPCalculator`` on the eager model from the best checkpoint.

Fairness notes: MACE builds every graph (neighbour list) before its loop, NequIP builds
them in its data loader on every batch, inside the budget; MACE validates once before the
first epoch (inside the budget), NequIP's sanity validation is off; MACE drops the last
incomplete batch of an epoch, NequIP does not; MACE's EMA decay warms up
(min(0.99, (1+n)/(10+n))), NequIP's 0.999 does not, so its EMA lags on short budgets.

This file imports nothing from equiforce: the peer venvs do not have it.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import atomic_numbers
from ase.io import read, write

CUTOFF = 5.0
CHANNELS = 32
L_MAX = 1
BATCH_SIZE = 4
MAX_EPOCHS = 100_000
log = logging.getLogger("peer_train")


# --- data ------------------------------------------------------------------------------------


def read_frames(path: Path) -> list[Atoms]:
    return read(str(path), index=":")


def frame_stress(atoms: Atoms) -> np.ndarray | None:
    """The stress label (Voigt, eV/A^3) of a fully periodic frame, else None."""
    results = atoms.calc.results if atoms.calc is not None else {}
    if atoms.pbc.all() and results.get("stress") is not None:
        return np.asarray(results["stress"], dtype=float).reshape(-1)
    return None


def species(frames: list[Atoms]) -> list[str]:
    """Chemical symbols of the training data, ordered by atomic number."""
    symbols = {s for atoms in frames for s in atoms.get_chemical_symbols()}
    return sorted(symbols, key=lambda s: atomic_numbers[s])


def bare_copy(atoms: Atoms) -> Atoms:
    """Numbers, positions, cell, pbc and config_type only; no calculator."""
    copy = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell,
                 pbc=atoms.pbc)
    copy.info["config_type"] = atoms.info.get("config_type", "Default")
    return copy


def write_mace_data(frames: list[Atoms], path: Path) -> None:
    """REF_energy/REF_forces/REF_stress; no REF_stress -> MACE uses stress weight 0."""
    out = []
    for atoms in frames:
        copy = bare_copy(atoms)
        copy.info["REF_energy"] = float(atoms.get_potential_energy())
        copy.arrays["REF_forces"] = np.array(atoms.get_forces())
        stress = frame_stress(atoms)
        if stress is not None:
            copy.info["REF_stress"] = stress
        out.append(copy)
    write(str(path), out, format="extxyz")


def write_nequip_data(frames: list[Atoms], path: Path, with_stress: bool) -> None:
    """Calculator labels; missing stress becomes NaN (masked by ``ignore_nan``)."""
    out = []
    for atoms in frames:
        copy = bare_copy(atoms)
        labels = {"energy": float(atoms.get_potential_energy()),
                  "forces": np.array(atoms.get_forces())}
        if with_stress:
            stress = frame_stress(atoms)
            labels["stress"] = stress if stress is not None else np.full(6, np.nan)
        copy.calc = SinglePointCalculator(copy, **labels)
        out.append(copy)
    write(str(path), out, format="extxyz")


def parse_e0(items: list[str] | None, types: list[str]) -> dict[str, float] | None:
    if not items:
        return None
    e0 = {}
    for item in items:
        symbol, _, value = item.partition("=")
        e0[symbol.strip()] = float(value)
    missing = [t for t in types if t not in e0]
    if missing:
        raise SystemExit(f"--e0 lacks {missing}")
    return {t: e0[t] for t in types}


# --- the budget ------------------------------------------------------------------------------


class BudgetSpent(Exception):
    """Raised by the MACE epoch wrapper when an epoch would start after the deadline."""


class Budget:
    """Wall-clock training budget, checked between batches."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = self.stop = self.end = None
        self.batches = 0
        self.batches_per_epoch = None

    def begin(self) -> None:
        self.start = time.monotonic()
        log.info("training clock started, budget %.1f s", self.seconds)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def spent(self) -> bool:
        """True once the budget is used up; the first True records the stop time."""
        if self.stop is None and self.elapsed() >= self.seconds:
            self.stop = self.elapsed()
            log.info("budget spent after %d batches (%.2f s): stopping", self.batches, self.stop)
        return self.stop is not None

    def finish(self) -> None:
        self.end = self.elapsed()

    def report(self) -> dict:
        per_epoch = self.batches_per_epoch
        return {"train_seconds": self.end, "stop_seconds": self.stop,
                "budget_seconds": self.seconds, "batches": self.batches,
                "batches_per_epoch": per_epoch,
                "epochs": round(self.batches / per_epoch, 4) if per_epoch else 0.0}


# --- MACE ------------------------------------------------------------------------------------


def mace_arguments(args, files: dict, e0: dict | None, run_dir: Path) -> list[str]:
    e0s = str({atomic_numbers[s]: v for s, v in e0.items()}) if e0 else "average"
    return [
        "--name", "mace", "--seed", str(args.seed), "--work_dir", str(run_dir),
        "--train_file", str(files["train"]), "--valid_file", str(files["valid"]),
        "--energy_key", "REF_energy", "--forces_key", "REF_forces",
        "--stress_key", "REF_stress", "--E0s", e0s,
        "--model", "MACE", "--r_max", str(CUTOFF), "--num_radial_basis", "8",
        "--num_cutoff_basis", "5", "--max_ell", str(L_MAX),
        "--hidden_irreps", f"{CHANNELS}x0e + {CHANNELS}x1o", "--max_L", str(L_MAX),
        "--num_interactions", "2", "--correlation", "3", "--radial_MLP", "[64, 64, 64]",
        "--loss", "stress", "--batch_size", str(BATCH_SIZE),
        "--valid_batch_size", str(BATCH_SIZE), "--ema", "--ema_decay", "0.99", "--amsgrad",
        "--max_num_epochs", str(MAX_EPOCHS), "--patience", str(MAX_EPOCHS),
        "--default_dtype", "float64", "--device", "cpu", "--plot", "False",
    ]


def patch_mace_training(budget: Budget) -> None:
    """Make MACE's epoch loop end at the first batch boundary after the deadline."""
    import mace.tools

    module = sys.modules["mace.tools.train"]
    run_epoch, run_training = module.train_one_epoch, mace.tools.train

    def until_deadline(loader):
        budget.batches_per_epoch = len(loader)
        for batch in loader:
            if budget.spent():
                return
            yield batch
            budget.batches += 1     # resumed after the optimiser step on this batch

    def train_one_epoch(*pos, **kwargs):
        if budget.spent():
            raise BudgetSpent       # the previous (partial) epoch was already validated
        kwargs["data_loader"] = until_deadline(kwargs["data_loader"])
        return run_epoch(*pos, **kwargs)

    def train(*pos, **kwargs):
        budget.begin()
        try:
            run_training(*pos, **kwargs)
        except BudgetSpent:
            log.info("MACE epoch loop left at the budget")
        budget.finish()

    module.train_one_epoch = train_one_epoch
    mace.tools.train = train


def train_mace(args, train: list[Atoms], valid: list[Atoms], e0, workdir: Path, budget):
    import mace
    from mace import tools
    from mace.calculators import MACECalculator
    from mace.cli import run_train

    run_dir = fresh_dir(workdir / "mace_run")
    files = {"train": run_dir / "train.extxyz", "valid": run_dir / "valid.extxyz"}
    write_mace_data(train, files["train"])
    write_mace_data(valid, files["valid"])
    argv = mace_arguments(args, files, e0, run_dir)
    log.info("mace_run_train %s", " ".join(argv))
    mace_args = tools.build_default_arg_parser().parse_args(argv)
    patch_mace_training(budget)
    run_train.run(mace_args)
    checkpoints = sorted(p.name for p in (run_dir / "checkpoints").glob("*.pt"))
    model_path = run_dir / "mace.model"
    settings = {"command": ["mace_run_train", *argv], "run_train_args": jsonable(vars(mace_args)),
                "checkpoints_left": checkpoints,
                "model_used": "best-validation checkpoint (EMA weights) loaded by run_train, "
                              f"saved as {model_path.name}",
                "missing_stress": "no REF_stress -> MACE stress weight 0, zero stress label",
                "budget_mechanism": "wrapped mace.tools.train.train_one_epoch (batch iterator "
                                    "ending at the deadline) and mace.tools.train"}
    calc = MACECalculator(model_paths=str(model_path), device="cpu", default_dtype="float64")
    return mace.__version__, settings, calc


# --- NequIP ----------------------------------------------------------------------------------

_NEQUIP_BUDGET: Budget | None = None   # read by budget_callback(), which hydra instantiates


def budget_callback():
    """Lightning callback: stop at the first batch end after the deadline (hydra target)."""
    from lightning.pytorch.callbacks import Callback

    budget = _NEQUIP_BUDGET

    class BudgetCallback(Callback):
        def on_train_start(self, trainer, pl_module):
            budget.batches_per_epoch = trainer.num_training_batches
            budget.begin()

        def on_train_batch_end(self, trainer, *args, **kwargs):
            budget.batches += 1
            if budget.spent():
                trainer.should_stop = True

        def on_train_end(self, trainer, pl_module):
            budget.finish()

    return BudgetCallback()


def empty_safe_mse():
    """nequip's MeanSquaredError, but 0 for a batch with no (non-NaN) label (hydra target)."""
    from nequip.train import MeanSquaredError

    class EmptySafeMSE(MeanSquaredError):
        def compute(self):
            if int(self.count) == 0:
                return torch.zeros((), dtype=torch.float64)
            return super().compute()

    return EmptySafeMSE()


def nequip_loss(stress: bool) -> dict:
    mse = {"_target_": "nequip.train.MeanSquaredError"}
    entries = [
        {"name": "per_atom_energy_mse", "coeff": 1.0, "metric": mse,
         "field": {"_target_": "nequip.data.PerAtomModifier", "field": "total_energy"}},
        {"name": "forces_mse", "field": "forces", "coeff": 1.0, "metric": mse},
    ]
    if stress:
        entries.append({"name": "stress_mse", "field": "stress", "coeff": 1.0,
                        "ignore_nan": True, "metric": {"_target_": f"{__name__}.empty_safe_mse"}})
    return {"_target_": "nequip.train.MetricsManager", "metrics": entries}


def nequip_metrics(stress: bool) -> dict:
    coeffs = {"total_energy_mae": 1.0, "forces_mae": 1.0}
    if not stress:
        return {"_target_": "nequip.train.EnergyForceMetrics", "coeffs": coeffs}
    return {"_target_": "nequip.train.EnergyForceStressMetrics",
            "coeffs": {**coeffs, "stress_mae": 1.0}, "ignore_nan": {"stress": True}}


def nequip_model(args, types: list[str], e0: dict | None) -> dict:
    return {
        "_target_": "nequip.model.NequIPGNNModel", "seed": args.seed, "model_dtype": "float64",
        "type_names": types, "r_max": CUTOFF, "num_layers": 3, "l_max": L_MAX, "parity": True,
        "num_features": CHANNELS, "num_bessels": 8, "bessel_trainable": False,
        "polynomial_cutoff_p": 6, "radial_mlp_depth": 1, "radial_mlp_width": 128,
        "avg_num_neighbors": "${training_data_stats:num_neighbors_mean}",
        "per_type_energy_scales": "${training_data_stats:per_type_forces_rms}",
        "per_type_energy_shifts": dict(e0) if e0 else "${training_data_stats:per_atom_energy_mean}",
        "per_type_energy_scales_trainable": False, "per_type_energy_shifts_trainable": False,
    }


def nequip_config(args, types, e0, files: dict, run_dir: Path, stress: dict) -> dict:
    monitored = "val0_epoch/weighted_sum"
    loader = {"_target_": "torch.utils.data.DataLoader", "batch_size": BATCH_SIZE,
              "num_workers": 0}
    data = {
        "_target_": "nequip.data.datamodule.ASEDataModule", "seed": args.seed,
        "train_file_path": str(files["train"]), "val_file_path": str(files["valid"]),
        "transforms": [
            {"_target_": "nequip.data.transforms.ChemicalSpeciesToAtomTypeMapper",
             "model_type_names": types},
            {"_target_": "nequip.data.transforms.NeighborListTransform", "r_max": CUTOFF}],
        "train_dataloader": {**loader, "shuffle": True}, "val_dataloader": loader,
        "stats_manager": {"_target_": "nequip.data.CommonDataStatisticsManager",
                          "dataloader_kwargs": {"batch_size": BATCH_SIZE}, "type_names": types},
    }
    trainer = {
        "_target_": "lightning.Trainer", "accelerator": "cpu", "devices": 1,
        "max_epochs": MAX_EPOCHS, "enable_checkpointing": True, "enable_progress_bar": False,
        "num_sanity_val_steps": 0, "log_every_n_steps": 20,
        "logger": {"_target_": "lightning.pytorch.loggers.CSVLogger", "save_dir": str(run_dir)},
        "callbacks": [
            {"_target_": f"{__name__}.budget_callback"},
            {"_target_": "lightning.pytorch.callbacks.ModelCheckpoint", "monitor": monitored,
             "dirpath": str(run_dir / "checkpoints"), "filename": "best",
             "save_last": True}],
    }
    module = {
        "_target_": "nequip.train.EMALightningModule", "ema_decay": 0.999,
        "loss": nequip_loss(stress["train"]), "val_metrics": nequip_metrics(stress["valid"]),
        "optimizer": {"_target_": "torch.optim.Adam", "lr": 0.01},
        "lr_scheduler": {
            "scheduler": {"_target_": "torch.optim.lr_scheduler.ReduceLROnPlateau",
                          "factor": 0.6, "patience": 5, "threshold": 0.2, "min_lr": 1e-6},
            "monitor": monitored, "interval": "epoch", "frequency": 1},
        "model": nequip_model(args, types, e0),
    }
    return {"run": ["train"], "data": data, "trainer": trainer, "training_module": module}


def train_nequip(args, train: list[Atoms], valid: list[Atoms], e0, workdir: Path, budget):
    global _NEQUIP_BUDGET
    import nequip
    from nequip.integrations.ase import NequIPCalculator
    from nequip.scripts.train import main as nequip_train
    from omegaconf import OmegaConf

    types = species(train)
    run_dir = fresh_dir(workdir / "nequip_run")
    stress = {"train": any(frame_stress(a) is not None for a in train),
              "valid": any(frame_stress(a) is not None for a in valid)}
    files = {"train": run_dir / "train.extxyz", "valid": run_dir / "valid.extxyz"}
    write_nequip_data(train, files["train"], stress["train"] or stress["valid"])
    write_nequip_data(valid, files["valid"], stress["train"] or stress["valid"])
    config = nequip_config(args, types, e0, files, run_dir, stress)
    OmegaConf.save(OmegaConf.create(config), run_dir / "config.yaml")
    _NEQUIP_BUDGET = budget
    argv = ["nequip-train", "--config-path", str(run_dir), "--config-name", "config",
            f"hydra.run.dir={run_dir / 'hydra'}"]
    log.info("%s", " ".join(argv))
    with patched_argv(argv):
        try:
            nequip_train()
        except SystemExit as exc:           # hydra exits on errors after printing them
            if exc.code not in (0, None):
                raise RuntimeError(f"nequip-train failed (exit {exc.code})") from exc
    best = run_dir / "checkpoints" / "best.ckpt"
    ckpt = torch.load(best, map_location="cpu", weights_only=False)
    resolved = ckpt["hyper_parameters"]["info_dict"]["training_module"]["model"]
    settings = {"command": argv, "config": config, "resolved_model": jsonable(resolved),
                "model_used": f"best-validation checkpoint {best.name} (EMA weights), epoch "
                              f"{ckpt['epoch']}, global step {ckpt['global_step']}",
                "stress_in_loss": stress["train"],
                "missing_stress": "NaN stress labels + ignore_nan; stress MSE of a batch with "
                                  "no stress label is 0 (nequip's would be NaN)",
                "energy_shifts": "isolated-atom E0 from --e0" if e0 else "per_atom_energy_mean",
                "energy_scales": "per_type_forces_rms",
                "calculator": "NequIPCalculator._from_saved_model(best.ckpt) (eager model; "
                              "TorchScript is unsupported with torch>=2.10, AOTInductor "
                              "compilation skipped)",
                "budget_mechanism": "Lightning callback setting trainer.should_stop at the "
                                    "first train batch end after the deadline"}
    calc = NequIPCalculator._from_saved_model(str(best), device="cpu",
                                              chemical_species_to_atom_type_map=True)
    return nequip.__version__, settings, calc


# --- helpers ---------------------------------------------------------------------------------


def fresh_dir(path: Path) -> Path:
    """An empty run directory of this script (old checkpoints would be picked up)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


@contextlib.contextmanager
def patched_argv(argv: list[str]):
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


def jsonable(value):
    """A JSON-safe copy (str() for anything that is not a plain value)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return jsonable(value.tolist())
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def predict(calc, frames: list[Atoms]) -> list[dict]:
    rows = []
    for index, atoms in enumerate(frames):
        copy = bare_copy(atoms)
        copy.calc = calc
        rows.append({"index": index, "config_type": copy.info["config_type"],
                     "energy": float(copy.get_potential_energy()),
                     "forces": np.asarray(copy.get_forces()).tolist(),
                     "stress": (np.asarray(copy.get_stress()).tolist()
                                if copy.pbc.all() else None)})
    return rows


def log_test_errors(frames: list[Atoms], rows: list[dict]) -> None:
    e = [abs(r["energy"] - a.get_potential_energy()) / len(a) for a, r in zip(frames, rows)]
    f = np.concatenate([np.ravel(np.asarray(r["forces"]) - a.get_forces())
                        for a, r in zip(frames, rows)])
    log.info("test: energy MAE %.4f eV/atom, force RMSE %.4f eV/A over %d frames",
             float(np.mean(e)), float(np.sqrt(np.mean(f ** 2))), len(rows))


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)


# --- main ------------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", choices=["mace", "nequip"], required=True)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--valid", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--budget", type=float, required=True, help="training seconds")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--e0", nargs="*", help="isolated-atom energies, e.g. Cu=3.51 Au=3.80")
    return parser.parse_args()


def main() -> None:
    started = time.monotonic()
    args = parse_args()
    handler = logging.StreamHandler(sys.stderr)      # own handler: the peers set up root
    handler.setFormatter(logging.Formatter("%(asctime)s peer_train %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, valid, test = (read_frames(p) for p in (args.train, args.valid, args.test))
    e0 = parse_e0(args.e0, species(train))
    args.workdir.mkdir(parents=True, exist_ok=True)
    budget = Budget(args.budget)
    trainer = {"mace": train_mace, "nequip": train_nequip}[args.code]
    with contextlib.redirect_stdout(sys.stderr):     # the peers log to stdout
        version, settings, calc = trainer(args, train, valid, e0, args.workdir, budget)
        frames = predict(calc, test)
    log_test_errors(test, frames)
    report = budget.report()
    settings.update({"cutoff": CUTOFF, "channels": CHANNELS, "l_max": L_MAX,
                     "dtype": "float64", "batch_size": BATCH_SIZE, "seed": args.seed,
                     "threads": torch.get_num_threads(), "species": species(train),
                     "e0": e0, "max_epochs": MAX_EPOCHS, **report,
                     "setup_seconds": budget.start - started if budget.start else None,
                     "data_files": {"train": str(args.train), "valid": str(args.valid),
                                     "test": str(args.test)},
                     "num_frames": {"train": len(train), "valid": len(valid), "test": len(test)},
                     "torch": torch.__version__})
    payload = {"code": args.code, "version": version, "settings": settings,
               "train_seconds": report["train_seconds"], "epochs": report["epochs"],
               "batches": report["batches"], "wall_seconds_total": time.monotonic() - started,
               "frames": frames}
    write_json(args.output, payload)
    log.info("%s: %d batches (%.3g epochs) in %.1f s of a %.1f s budget -> %s", args.code,
             report["batches"], report["epochs"], report["train_seconds"] or 0.0,
             args.budget, args.output)


if __name__ == "__main__":
    main()
