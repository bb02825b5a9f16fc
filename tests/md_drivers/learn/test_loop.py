"""The active-learning loop on a tiny EMT copper system: labels, retraining, failures,
and an interrupted loop that ends where an uninterrupted one does."""
import json

import ase.io
import numpy as np
import pytest
import torch
import yaml
from ase.build import bulk
from ase.calculators.emt import EMT

import potentials.train.loop as train_loop
from md_drivers.cli import main
from md_drivers.learn import LearnConfig, learn
from potentials.datasets import EMTSettings, generate_emt, write_frames
from tests.md_drivers.learn._calculators import INTERRUPT

# one worker runs this module: its loop fixture is built once
pytestmark = pytest.mark.xdist_group("learn_loop")

MODEL = {"species": [29], "cutoff": 4.0, "channels": 4, "num_layers": 1, "correlation": 2,
         "num_radial": 4, "radial_hidden": 8, "readout_hidden": 4}


def _inputs(folder):
    write_frames(folder / "data.extxyz", generate_emt(EMTSettings(
        kinds=("bulk",), temperatures=(300.0, 600.0), frames_per_kind_and_temperature=3)))
    write_frames(folder / "test.extxyz", generate_emt(EMTSettings(
        kinds=("surface", "vacancy"), temperatures=(900.0,), frames_per_kind_and_temperature=1,
        seed=5, isolated_atoms=False)))
    ase.io.write(folder / "start.extxyz", bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2))
    (folder / "member.yaml").write_text(yaml.safe_dump({
        "data": {"path": str(folder / "data.extxyz"), "split": [0.7, 0.3, 0.0]},
        "model": MODEL, "training": {"epochs": 2, "batch_size": 2}}))


def _config(folder, workdir, **changes):
    raw = {"workdir": str(workdir), "rounds": 1, "test_path": str(folder / "test.extxyz"),
           "committee": {"train_config": str(folder / "member.yaml"), "seeds": [0, 1],
                         "retrain_epochs": 2},
           "explore": [{"structure": str(folder / "start.extxyz"), "temperatures_K": [1500],
                        "config_type": "hot",
                        "md": {"ensemble": "nvt-langevin", "steps": 50, "timestep_fs": 2.0}}],
           "select": {"threshold": 0.0, "max_frames": 5, "min_distance": 0.0},
           "label": {"calculator": "tests.md_drivers.learn._calculators:FlakyEMT"}, **changes}
    return LearnConfig.from_dict(raw)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """An uninterrupted loop: round 0 and one round of learning."""
    folder = tmp_path_factory.mktemp("learn")
    _inputs(folder)
    INTERRUPT.update(after=None, calls=0)
    config = _config(folder, folder / "work")
    return folder, config, learn(config, progress=False)


def _weights(path):
    return torch.load(path, weights_only=True)["model_state"]


def test_labels_are_the_reference_calculators(finished):
    folder, _, result = finished
    labelled = ase.io.read(result.workdir / "round-001" / "labelled.extxyz", index=":")
    assert len(labelled) == 3                      # five selected, two failed
    for frame in labelled:
        reference = frame.copy()
        reference.calc = EMT()
        np.testing.assert_allclose(frame.get_forces(), reference.get_forces(), atol=1e-6)
        assert frame.get_potential_energy() == pytest.approx(reference.get_potential_energy(),
                                                             abs=1e-6)
        np.testing.assert_allclose(frame.get_stress(), reference.get_stress(), atol=1e-6)
        assert frame.info["config_type"] == "hot" and frame.info["learn_round"] == 1
    start = ase.io.read(folder / "data.extxyz", index=":")
    data = ase.io.read(result.workdir / "round-001" / "data.extxyz", index=":")
    assert len(data) == len(start) + 3
    np.testing.assert_array_equal(data[-1].positions, labelled[-1].positions)


def test_failed_labels_are_reported_and_skipped(finished):
    _, _, result = finished
    row = result.rounds[1]
    assert row["label_failures"] == 2 and row["frames_added"] == 3
    reasons = {f["index"]: f["reason"] for f in row["failures"]}
    assert "non-finite forces" in reasons[1]
    assert "SCF did not converge" in reasons[2]
    saved = json.loads((result.workdir / "round-001" / "label_failures.json").read_text())
    assert [f["index"] for f in saved] == [1, 2]


def test_retrained_members_differ_and_warm_start(finished):
    _, _, result = finished
    for member in range(2):
        before = _weights(result.workdir / "round-000" / f"member-{member}" / "best.pt")
        after = _weights(result.workdir / "round-001" / f"member-{member}" / "best.pt")
        assert any(not torch.equal(before[k], after[k]) for k in before)
    payload = torch.load(result.workdir / "round-001" / "member-0" / "last.pt", weights_only=True)
    assert payload["train_config"]["init_from"].endswith("round-000/member-0/best.pt")
    assert result.members[0].name == "deployed.pt" and result.members[0].is_file()


def test_report_has_a_row_per_round_with_calibration(finished):
    _, _, result = finished
    report = json.loads((result.workdir / "report.json").read_text())
    assert [row["round"] for row in report["rounds"]] == [0, 1]
    for row in report["rounds"]:
        assert set(row["test"]["by_kind"]) == {"surface", "vacancy"}
        assert row["test"]["forces_mae"] > 0
    calib = report["rounds"][1]["calibration"]
    assert len(calib["mean_spread"]) == 3 and calib["spearman_mean"] is not None
    assert (result.workdir / "calibration-round-001.png").is_file()
    assert (result.workdir / "learning_curve.png").is_file()
    assert "| 1 | 3 |" in (result.workdir / "report.md").read_text()


def test_interrupted_loop_ends_like_an_uninterrupted_one(finished, monkeypatch):
    folder, _, result = finished
    config = _config(folder, folder / "killed")
    # killed while labelling the second selected frame
    INTERRUPT.update(after=1, calls=0)
    with pytest.raises(KeyboardInterrupt):
        learn(config, progress=False)
    assert len(ase.io.read(folder / "killed/round-001/labelled.extxyz", index=":")) == 1
    INTERRUPT.update(after=None)
    # killed in round 1's training of member 0, after its first epoch
    write_csv = train_loop._write_csv

    def killed_after_epoch(path, history):
        write_csv(path, history)
        if "round-001/member-0" in str(path):
            raise KeyboardInterrupt("killed while training")

    monkeypatch.setattr(train_loop, "_write_csv", killed_after_epoch)
    with pytest.raises(KeyboardInterrupt):
        learn(config, progress=False)
    monkeypatch.setattr(train_loop, "_write_csv", write_csv)
    assert not (folder / "killed/round-001/member-0/deployed.pt").exists()
    resumed = learn(config, progress=False)
    for name in ("labelled.extxyz", "data.extxyz"):
        assert ((folder / "killed/round-001" / name).read_bytes()
                == (result.workdir / "round-001" / name).read_bytes())
    for member in range(2):
        done = _weights(result.workdir / "round-001" / f"member-{member}" / "best.pt")
        again = _weights(folder / "killed/round-001" / f"member-{member}" / "best.pt")
        assert all(torch.equal(done[k], again[k]) for k in done)
    assert resumed.rounds[1]["test"] == result.rounds[1]["test"]


def test_a_changed_config_is_refused_and_the_cli_continues(finished, capsys):
    folder, config, result = finished
    changed = _config(folder, result.workdir, select={"threshold": 0.5})
    with pytest.raises(ValueError, match="select"):
        learn(changed, progress=False)
    path = folder / "learn.yaml"
    path.write_text(yaml.safe_dump({**config.to_dict(), "explore": [
        {**run, "temperatures_K": list(run["temperatures_K"]),
         "pressures_bar": list(run["pressures_bar"]), "strains": list(run["strains"])}
        for run in config.to_dict()["explore"]]}))
    assert main(["learn", str(path), "--no-progress"]) == 0     # finished: nothing to rerun
    assert "| 1 | 3 |" in capsys.readouterr().out


def test_a_run_stopped_by_the_watchdog_gives_its_frames_and_is_not_rerun(finished, tmp_path):
    from md_drivers.learn import ExploreRun, explore

    folder, _, result = finished
    members = [str(p) for p in result.members]
    run = ExploreRun(structure=str(folder / "start.extxyz"), temperatures_K=(1500.0,),
                     md={"ensemble": "nvt-langevin", "steps": 400, "timestep_fs": 2.0,
                         "output_interval": 5, "watchdog": {"min_distance": 2.3}})
    frames = explore([run], members, tmp_path, seed=0, progress=False)
    (run_dir,) = tmp_path.iterdir()
    trip = json.loads((run_dir / "tripped.json").read_text())
    assert trip["rule"] == "min_distance" and 0 < trip["step"] < 400
    assert len(frames) == trip["step"] // 5           # the frames before the trip
    assert all(f.info["explore_run"] == run_dir.name for f in frames)
    again = explore([run], members, tmp_path, seed=0, progress=False)
    assert len(again) == len(frames)


def test_openmm_exploration_is_scored_by_the_whole_committee(finished, tmp_path):
    from md_drivers.learn import ExploreRun, explore, score_frames

    folder, _, result = finished
    members = [str(p) for p in result.members]
    run = ExploreRun(structure=str(folder / "start.extxyz"), temperatures_K=(600.0,),
                     strains=(0.01,), md={"engine": "openmm", "ensemble": "nvt-langevin",
                                          "steps": 20, "output_interval": 10})
    frames = explore([run], members, tmp_path, seed=0, progress=False)
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "config.json").read_text())["potential"] == members[:1]
    assert len(frames) == 3
    # the strain stretched the cell by 1% before the run
    np.testing.assert_allclose(frames[0].cell.lengths(), 1.01 * 2 * 3.61, rtol=1e-9)
    scored = score_frames(frames, members)
    assert all(f.info["max_forces_std"] > 0 for f in scored)
    assert scored[0].arrays["committee_forces"].shape == (len(frames[0]), 3)
