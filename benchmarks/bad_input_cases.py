"""Feed about forty bad or unusual inputs (issue 15) to a checkout of equiforce and record
what each does: exit code, the message, whether files that existed were kept.

    python benchmarks/bad_input_cases.py SRC WORKDIR   # rows printed and in WORKDIR.json

SRC is a source tree (this one, or an older commit checked out with `git worktree`), run
with this interpreter and PYTHONPATH=SRC, so that two versions can be compared case by
case. The tests asserting the intended behaviour are tests/md_drivers/test_cli_md.py and
its neighbours; this script produced the before/after table in issue 15's closing note.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

SRC = Path(sys.argv[1]).resolve()
WORK = Path(sys.argv[2]).resolve()
ENV = {**os.environ, "PYTHONPATH": str(SRC)}
CLI = ["-c", "import sys; from md_drivers.cli import main; sys.exit(main())"]
MD = ["md", "--potential", "cu-emt", "--no-progress", "--steps", "20", "--output-interval",
      "10", "--checkpoint-interval", "10"]
TRAIN = """data: {path: cu.extxyz, split: [0.6, 0.2, 0.2]}
model: {species: [29], cutoff: 4.0, channels: 4, correlation: 2, num_radial: 4,
        radial_hidden: 8, readout_hidden: 4}
training:
  epochs: 1
  batch_size: 2
  lr: 0.01
output: train_run
"""
FILES = {
    "one.xyz": "1\n\nCu 0 0 0\n",
    "short.xyz": "3\n\nCu 0 0 0\nCu 1.8 1.8 0\n",
    "flat.extxyz": '2\nLattice="3 0 0 6 0 0 0 0 3" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
                   "Cu 0 0 0\nCu 1.5 0 1.5\n",
    "broken.pt": "not a model",
    "lr.yaml": TRAIN.replace("lr: 0.01", 'lr: "0.01"').replace("train_run", "lr_run"),
    "bad.yaml": TRAIN.replace("channels: 4", "channels: [4"),
    "arch.yaml": TRAIN.replace("channels: 4", "channels: 8").replace("epochs: 1", "epochs: 2"),
    "lr2.yaml": TRAIN.replace("lr: 0.01", "lr: 0.05").replace("epochs: 1", "epochs: 2"),
    "nosplit.yaml": TRAIN.replace("[0.6, 0.2, 0.2]", "[0.8, 0.2, 0.0]")
                         .replace("train_run", "nosplit_run"),
    "t.yaml": TRAIN,
}
SETUP = """
from ase.build import bulk, fcc111
from potentials.datasets import EMTSettings, generate_emt, write_frames
write_frames("cu.extxyz", generate_emt(EMTSettings(frames_per_kind_and_temperature=2,
             temperatures=(300.0,), repeat=1, equilibration_steps=5, stride=2)))
atoms = bulk("Cu", "fcc", a=3.61).repeat(3); atoms.rattle(0.02, seed=1)
atoms.write("prim.extxyz")
fcc111("Cu", (2, 2, 3), vacuum=6.0).write("slab.extxyz")
"""
CLOSE = """
import logging; logging.basicConfig(level=logging.WARNING)
from ase.build import bulk
from md_drivers import EquiforceCalculator
atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
atoms.positions[1] = atoms.positions[0] + [{offset}, 0, 0]
atoms.calc = EquiforceCalculator("cu-emt")
print("energy", atoms.get_potential_energy())
"""


def python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=WORK,
                          env=ENV, timeout=900)


def files(directory: str) -> dict:
    root = WORK / directory
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()
             and "UserWarning" not in line and "warnings.warn" not in line]
    return lines[-1][:160] if lines else ""


def leftovers(directory: str) -> str:
    root = WORK / directory
    return f"left: {sorted(p.name for p in root.iterdir()) if root.exists() else 'nothing'}"


def case(name: str, args: list, watch: str = None, note=None, script: bool = False) -> dict:
    before = files(watch) if watch else None
    result = python(*args) if script else python(*CLI, *args)
    row = {"case": name, "exit": result.returncode, "stderr": last_line(result.stderr),
           "stdout": last_line(result.stdout),
           "kept": None if watch is None else files(watch) == before,
           "note": note(result) if note else ""}
    print(json.dumps(row), flush=True)
    return row


def training_cases() -> list:
    python(*CLI, "train", "t.yaml")
    metrics = WORK / "nosplit_run" / "metrics.json"
    return [
        case("train into a directory holding a run", ["train", "t.yaml"], watch="train_run"),
        case('train with lr: "0.01"', ["train", "lr.yaml"]),
        case("train with malformed YAML", ["train", "bad.yaml"]),
        case("train --resume after changing the architecture", ["train", "arch.yaml", "--resume"],
             watch="train_run"),
        case("train --resume with a changed lr", ["train", "lr2.yaml", "--resume"],
             watch="train_run"),
        case("train with split [0.8, 0.2, 0]", ["train", "nosplit.yaml"],
             note=lambda r: "metrics.json test: " + json.dumps(
                 json.loads(metrics.read_text())["test"])[:40] if metrics.exists() else ""),
    ]


def structure_cases() -> list:
    (WORK / "mine").mkdir()
    (WORK / "mine" / "notes.txt").write_text("keep")
    rows = [case("examples/nve_cu.py --out DIR holding notes.txt",
                 [str(SRC / "examples" / "nve_cu.py"), "--repeat", "2", "--steps", "20", "--out",
                  "mine"], script=True,
                 note=lambda r: f"notes.txt kept: {(WORK / 'mine' / 'notes.txt').exists()}")]
    for engine, ensemble in (("ase", "nve"), ("openmm", "nvt-langevin")):
        for fmt in ("dcd", "xtc", "h5"):
            rows.append(case(f"primitive fcc cell, {engine} {fmt}",
                             MD + ["prim.extxyz", "--engine", engine, "--ensemble", ensemble,
                                   "--format", fmt, "--out", f"tri-{engine}-{fmt}"]))
    rows += [case("built-in bcc-Cu:2x2x2", MD + ["bcc-Cu:2x2x2", "--out", "bcc1"]),
             case("built-in bcc-Cu:2x2x2:a=2.87", MD + ["bcc-Cu:2x2x2:a=2.87", "--out", "bcc2"]),
             case("molecule-CH3CH2OH with ethanol-xtb",
                  ["md", "molecule-CH3CH2OH", "--potential", "ethanol-xtb", "--no-progress",
                   "--steps", "20", "--ensemble", "nvt-langevin", "--out", "mol"]),
             case("xyz file one line short", MD + ["short.xyz", "--out", "short"]),
             case("npt-iso on a slab (pbc T,T,F)", MD + ["slab.extxyz", "--ensemble", "npt-iso",
                                                        "--out", "slab"])]
    return rows


def failed_start_cases() -> list:
    starts = {"bad model file": ["fcc-Cu:2x2x2", "--potential", "broken.pt"],
              "--device cuda": ["fcc-Cu:2x2x2", "--device", "cuda"],
              "--dtype float32 (shipped float64 file)": ["fcc-Cu:2x2x2", "--dtype", "float32"],
              "--temperature nan": ["fcc-Cu:2x2x2", "--temperature", "nan"],
              "a single atom": ["one.xyz"], "a degenerate cell": ["flat.extxyz"]}
    rows = []
    for index, (name, args) in enumerate(starts.items()):
        out = f"start{index}"
        rows.append(case(f"failed start: {name}", MD + args + ["--out", out],
                         note=lambda r, out=out: leftovers(out)[:100]))
    for value in ("-1", "0", "0.0004", "nan", "inf"):
        rows.append(case(f"--time {value}", ["md", "fcc-Cu:2x2x2", "--potential", "cu-emt",
                                             "--no-progress", "--time", value, "--out",
                                             f"time{value}"]))
    return rows


def resume_cases() -> list:
    python(*CLI, *MD, "fcc-Cu:2x2x2", "--steps", "60", "--out", "r60")
    rows = [case("--resume RUN --temperature 900",
                 ["md", "--resume", "r60", "--temperature", "900", "--steps", "80"], watch="r60"),
            case("--resume RUN with a structure argument",
                 ["md", "fcc-Cu:3x3x3", "--resume", "r60", "--steps", "80"], watch="r60"),
            case("--resume --steps 30 on a 60-step run", ["md", "--resume", "r60", "--steps", "30"],
                 watch="r60"),
            case("--resume --steps 80", ["md", "--resume", "r60", "--steps", "80", "--no-progress"],
                 note=lambda r: f"dcdplugin on stdout: {'dcdplugin' in r.stdout}; summary.json "
                                f"bare NaN: {'NaN' in (WORK / 'r60/summary.json').read_text()}"),
            case("--temperature 600 with nve", MD + ["fcc-Cu:2x2x2", "--temperature", "600",
                                                    "--out", "t600"]),
            case("md --help", ["md", "--help"],
                 note=lambda r: f"shows '(default: nve)': {'(default: nve)' in r.stdout}")]
    return rows


def small_cases() -> list:
    rows = [case(f"Cu atoms {offset} A apart (ASE calculator)",
                 ["-c", CLOSE.format(offset=offset)], script=True) for offset in (0.0, 0.1)]
    readme = (SRC / "README.md").read_text().split("```python")[1]
    shipped_first = 'EquiforceCalculator("cu-emt")' in readme
    return rows + [
        case("equiforce --version", ["--version"]),
        case("equiforce info cu-emt --json", ["info", "cu-emt", "--json"],
             note=lambda r: f"stdout is one JSON document: {_is_json(r.stdout)}"),
        case("mistyped shipped name cu_emt", ["info", "cu_emt"],
             note=lambda r: f"README's first snippet uses a shipped potential: {shipped_first}")]


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def main() -> None:
    marker = WORK / ".bad_input_cases"
    if WORK.exists() and any(WORK.iterdir()) and not marker.exists():
        sys.exit(f"{WORK} holds files this script did not write; name an empty or new folder")
    shutil.rmtree(WORK, ignore_errors=True)  # only a folder of an earlier run of this script
    WORK.mkdir(parents=True)
    marker.write_text("written by benchmarks/bad_input_cases.py\n")
    for name, text in FILES.items():
        (WORK / name).write_text(text)
    python("-c", SETUP)
    rows = training_cases() + structure_cases() + failed_start_cases() + resume_cases() + \
        small_cases()
    (WORK.parent / f"{WORK.name}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
