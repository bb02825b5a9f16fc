"""``learn``: rounds of explore -> select -> label -> retrain, resumable at any point.

A work directory holds ``config.json`` and one folder per round::

    round-000/  data.extxyz (the starting data), member-K/ (equiforce train outputs),
                round.json (the round's report row: written last, the round is complete)
    round-001/  explore/RUN/ (equiforce md runs driven by round 0's committee),
                candidates.extxyz (every visited frame with the committee's spread),
                selected.extxyz, labelled.extxyz (appended one frame at a time, atomically),
                label_failures.json, data.extxyz (round 0's data + labelled frames),
                member-K/ (warm-started from round 0's member K), round.json
    report.json, report.md, learning_curve.png, calibration-round-NNN.png

Every stage's output is written atomically and a stage whose output exists is not run
again, so interrupting ``learn`` anywhere and calling it again ends with the same data and
weights as an uninterrupted run (training resumes exactly from ``last.pt``).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ase import Atoms

from potentials.datasets import write_frames
from potentials.files import atomic_path, strict_json
from potentials.train import TrainConfig, train
from potentials.train.reference import is_isolated_atom

from ._files import append_frame, read_frames, read_json, scalar_info, write_json
from .config import LearnConfig
from .evaluate import calibration, committee_errors
from .explore import explore, score_frames
from .fingerprint import fingerprint
from .label import label_frame, reference_calculator
from .report import markdown_table, plot_calibration, plot_learning_curve
from .select import select_frames

__all__ = ["LearnResult", "learn", "member_config"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnResult:
    """``rounds``: one report row per round (see ``report.json``); ``members``: the last
    round's deployed committee files."""

    workdir: Path
    rounds: list[dict]
    members: list[Path]


def learn(config: LearnConfig, progress: bool = True) -> LearnResult:
    """Run (or continue) the loop in ``config.workdir``; see the module docstring.

    Raises:
        ValueError: ``config.workdir`` holds a loop with other settings (only ``rounds``
            may change, to add rounds).
    """
    work = Path(config.workdir)
    _claim(work, config)
    test_frames = read_frames(Path(config.test_path))
    if not test_frames:
        raise ValueError(f"test_path {config.test_path}: no labelled frames")
    rows = []
    for number in range(config.rounds + 1):
        rows.append(_Round(config, number, test_frames, progress).run())
        _write_report(work, rows)
    return LearnResult(work, rows, _members(work, number, len(config.committee.seeds)))


def member_config(config: LearnConfig, base: TrainConfig, number: int, member: int,
                  data: Path) -> TrainConfig:
    """The training config of committee member ``member`` in round ``number``: round 0
    trains from scratch for the base config's epochs, later rounds warm-start from the
    previous round's ``best.pt`` for ``retrain_epochs``. Validation keeps the base
    split's fraction; the test set is ``config.test_path``."""
    settings = config.committee
    total = sum(base.data.split)
    valid = base.data.split[1] / total
    training = dataclasses.replace(base.training, seed=settings.seeds[member])
    init_from = None
    if number > 0:
        training = dataclasses.replace(
            training, epochs=settings.retrain_epochs, max_time=settings.retrain_max_time,
            lr=settings.retrain_lr or training.lr)
        init_from = str(_round_dir(Path(config.workdir), number - 1) / f"member-{member}" / "best.pt")
    return dataclasses.replace(
        base, data=dataclasses.replace(base.data, path=str(data), split=(1 - valid, valid, 0.0),
                                       test_path=config.test_path),
        training=training, init_from=init_from,
        output=str(_round_dir(Path(config.workdir), number) / f"member-{member}"))


class _Round:
    """One round's stages, each skipped when its output already exists."""

    def __init__(self, config: LearnConfig, number: int, test_frames: Sequence[Atoms],
                 progress: bool) -> None:
        self.config, self.number, self.test_frames, self.progress = (config, number,
                                                                     test_frames, progress)
        self.work = Path(config.workdir)
        self.dir = _round_dir(self.work, number)
        self.timings_path = self.dir / "timings.json"

    def run(self) -> dict:
        finished = read_json(self.dir / "round.json")
        if finished is not None:
            return finished
        self.dir.mkdir(parents=True, exist_ok=True)
        log.info("active learning: round %d in %s", self.number, self.dir)
        if self.number == 0:
            data, labelled, failures, calib = self._starting_data(), [], [], None
        else:
            selected = self._timed("explore", self._explore_and_select)
            labelled, failures = self._timed("label", lambda: self._label(selected))
            calib = calibration([selected[int(f.info["selected_index"])] for f in labelled],
                                labelled)
            data = self._grow(labelled)
        members = self._timed("train", lambda: self._train(data))
        test = self._timed("evaluate", lambda: committee_errors(
            members, self.test_frames, self.config.device))
        row = self._row(data, labelled, failures, calib, test)
        write_json(self.dir / "round.json", row)
        return row

    # -- stages ---------------------------------------------------------------------------
    def _starting_data(self) -> Path:
        data = self.dir / "data.extxyz"
        if not data.is_file():
            with atomic_path(data) as tmp:
                shutil.copyfile(self.config.committee.base().data.path, tmp)
        return data

    def _explore_and_select(self) -> list[Atoms]:
        selected_path = self.dir / "selected.extxyz"
        if selected_path.is_file():
            return read_frames(selected_path)
        candidates = self._candidates()
        settings, species = self.config.select, self._species()
        cutoff = self._base().model.cutoff
        chosen = select_frames([c.info["max_forces_std"] for c in candidates],
                               [fingerprint(c, species, cutoff) for c in candidates], settings,
                               [c.info["explore_run"] for c in candidates])
        selected = [candidates[k] for k in chosen]
        for index, frame in enumerate(selected):
            frame.info["selected_index"] = index
        log.info("round %d: %d of %d explored frames above %.3f eV/A spread; %d selected",
                 self.number, sum(c.info["max_forces_std"] > settings.threshold
                                  for c in candidates), len(candidates), settings.threshold,
                 len(selected))
        write_frames(selected_path, selected)
        return selected

    def _candidates(self) -> list[Atoms]:
        path = self.dir / "candidates.extxyz"
        if path.is_file():
            return read_frames(path)
        previous = [str(p) for p in self._previous_members()]
        visited = explore(self.config.explore, previous, self.dir / "explore",
                          self.config.seed + 1000 * self.number, self.progress)
        scored = score_frames(visited, previous, self.config.device)
        write_frames(path, scored)
        return scored

    def _label(self, selected: Sequence[Atoms]) -> tuple[list[Atoms], list[dict]]:
        labelled_path, failures_path = self.dir / "labelled.extxyz", self.dir / "label_failures.json"
        labelled = read_frames(labelled_path)
        failures = read_json(failures_path, [])
        done = {int(f.info["selected_index"]) for f in labelled} | {f["index"] for f in failures}
        todo = [frame for frame in selected if int(frame.info["selected_index"]) not in done]
        calculator = reference_calculator(self.config.label) if todo else None
        for frame in todo:
            try:
                result = label_frame(_bare(frame, self.number), calculator)
            except Exception as error:  # the calculator failed on this frame: report, go on
                failures.append({"index": int(frame.info["selected_index"]),
                                 "explore_run": str(frame.info["explore_run"]),
                                 "reason": f"{type(error).__name__}: {error}"})
                log.warning("round %d: frame %d not labelled (%s); skipped", self.number,
                            frame.info["selected_index"], failures[-1]["reason"])
                write_json(failures_path, failures)
                continue
            append_frame(labelled_path, result)
            labelled.append(result)
        return labelled, failures

    def _grow(self, labelled: Sequence[Atoms]) -> Path:
        data = self.dir / "data.extxyz"
        if not data.is_file():
            previous = _round_dir(self.work, self.number - 1) / "data.extxyz"
            with atomic_path(data) as tmp:
                shutil.copyfile(previous, tmp)
                if labelled:
                    labelled_bytes = (self.dir / "labelled.extxyz").read_bytes()
                    with open(tmp, "ab") as handle:
                        handle.write(labelled_bytes)
        return data

    def _train(self, data: Path) -> list[Path]:
        base = self._base()
        members = []
        for member in range(len(self.config.committee.seeds)):
            settings = member_config(self.config, base, self.number, member, data)
            out = Path(settings.output)
            if not ((out / "metrics.json").is_file() and (out / "deployed.pt").is_file()):
                resume = (out / "last.pt").is_file()
                log.info("round %d: %s member %d (seed %d)", self.number,
                         "resuming" if resume else "training", member, settings.training.seed)
                train(settings, resume=resume, overwrite=not resume, progress=self.progress)
            members.append(out / "deployed.pt")
        return members

    # -- helpers --------------------------------------------------------------------------
    def _timed(self, stage: str, work):
        timings = read_json(self.timings_path, {})
        start = time.perf_counter()
        result = work()
        if stage not in timings:
            timings[stage] = time.perf_counter() - start
            write_json(self.timings_path, timings)
        return result

    def _row(self, data: Path, labelled, failures, calib: Optional[dict], test: dict) -> dict:
        timings = read_json(self.timings_path, {})
        if calib is not None and calib["rmse"]:
            plot_calibration(calib, self.work / f"calibration-round-{self.number:03d}.png",
                             f"round {self.number}: {len(calib['rmse'])} freshly labelled frames")
        return {"round": self.number, "frames_added": len(labelled),
                "frames_total": self._training_frames(data), "label_failures": len(failures),
                "failures": failures, "wall_seconds": sum(timings.values()),
                "stage_seconds": timings, "test": test, "calibration": calib}

    def _training_frames(self, data: Path) -> int:
        """Frames of ``data`` training learns from (isolated atoms only set references)."""
        cutoff = self._base().model.cutoff
        return sum(not is_isolated_atom(atoms, cutoff) for atoms in read_frames(data))

    def _base(self) -> TrainConfig:
        return self.config.committee.base()

    def _species(self) -> tuple[int, ...]:
        return self._base().model.species

    def _previous_members(self) -> list[Path]:
        return _members(self.work, self.number - 1, len(self.config.committee.seeds))


def _bare(frame: Atoms, number: int) -> Atoms:
    """The selected frame without the committee's arrays, tagged with its round."""
    atoms = Atoms(frame.numbers, positions=frame.positions, cell=frame.cell, pbc=frame.pbc)
    info = scalar_info(frame)
    atoms.info.update({key: info[key] for key in ("config_type", "explore_run",
                                                  "selected_index", "max_forces_std")})
    atoms.info["learn_round"] = number
    return atoms


def _round_dir(work: Path, number: int) -> Path:
    return work / f"round-{number:03d}"


def _members(work: Path, number: int, count: int) -> list[Path]:
    return [_round_dir(work, number) / f"member-{k}" / "deployed.pt" for k in range(count)]


def _claim(work: Path, config: LearnConfig) -> None:
    """Record the settings, or check that a continued loop keeps them (rounds may grow)."""
    path = work / "config.json"
    saved, now = read_json(path), json.loads(strict_json(config.to_dict()))  # as stored
    if saved is not None:
        changed = sorted(key for key in set(saved) | set(now)
                         if key != "rounds" and saved.get(key) != now.get(key))
        if changed:
            raise ValueError(f"{work} holds an active-learning run with other settings "
                             f"({', '.join(changed)}); continue it with the same config "
                             f"(only rounds may change) or choose another workdir")
    work.mkdir(parents=True, exist_ok=True)
    write_json(path, now)


def _write_report(work: Path, rows: list[dict]) -> None:
    write_json(work / "report.json", {"rounds": rows})
    with atomic_path(work / "report.md") as tmp:
        tmp.write_text(markdown_table(rows))
    plot_learning_curve(rows, work / "learning_curve.png")
