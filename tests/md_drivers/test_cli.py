"""The `equiforce` command: export and info."""
import json

from md_drivers.cli import main
from potentials import load
from potentials.checkpoint import save_checkpoint
from tests.structures import small_model


def test_export_from_config_then_info(tmp_path, capsys):
    config = tmp_path / "model.json"
    config.write_text(json.dumps({"species": [29, 79], "cutoff": 4.2, "channels": 4}))
    out = tmp_path / "model.pt"
    assert main(["export", str(config), str(out), "--dtype", "float32"]) == 0
    assert load(out).metadata["dtype"] == "float32"
    assert main(["info", str(out)]) == 0
    printed = capsys.readouterr().out
    assert '"Cu"' in printed and '"cutoff": 4.2' in printed


def test_export_from_checkpoint_keeps_the_weights(tmp_path):
    model = small_model(seed=5)
    checkpoint = save_checkpoint(tmp_path / "ckpt.pt", model)
    out = tmp_path / "model.pt"
    assert main(["export", str(checkpoint), str(out)]) == 0
    assert load(out).config == model.config


def test_export_with_cueq_ops_and_info_says_so(tmp_path, capsys):
    checkpoint = save_checkpoint(tmp_path / "ckpt.pt", small_model(seed=5, num_layers=1))
    out = tmp_path / "cueq.pt"
    assert main(["export", str(checkpoint), str(out), "--ops", "cueq"]) == 0
    assert "(cueq ops)" in capsys.readouterr().out
    assert main(["info", str(out)]) == 0
    assert '"ops": "cueq"' in capsys.readouterr().out


def test_errors_exit_2_with_the_problem(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt: no such model file" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    assert main(["info", str(bad)]) == 2
    assert "bad.pt: truncated or corrupted" in capsys.readouterr().err


def test_data_emt_writes_labelled_extxyz(tmp_path):
    from potentials.train import read_frames

    out = tmp_path / "cu.extxyz"
    assert main(["data", "emt", str(out), "--frames", "1", "--temperatures", "300",
                 "--repeat", "1", "--seed", "2"]) == 0
    frames = read_frames(out, species=(29,))
    assert [f.config_type for f in frames] == ["bulk", "vacancy", "surface", "strained",
                                               "isolated_atom"]
    assert sum(f.stress is not None for f in frames) == 3  # the surface has no stress label
    alloy = tmp_path / "cuau.extxyz"
    assert main(["data", "emt", str(alloy), "--elements", "Cu", "Au", "--frames", "1",
                 "--temperatures", "300", "--kinds", "surface", "--structures", "2",
                 "--alloy-fraction", "0.5", "0.5", "--no-isolated-atoms"]) == 0
    frames = read_frames(alloy, species=(29, 79))
    assert [f.config_type for f in frames] == ["surface", "surface"]
    assert all((f.atoms.numbers == 79).sum() == 18 for f in frames)   # half of 36 atoms


def test_data_xtb_writes_labelled_molecule_frames(tmp_path):
    from potentials.train import read_frames

    out = tmp_path / "ethanol.extxyz"
    assert main(["data", "xtb", str(out), "--frames", "2", "--temperatures", "300", "600"]) == 0
    frames = read_frames(out, species=(1, 6, 8))
    assert len(frames) == 4 and all(f.stress is None for f in frames)
    assert frames[0].energy < -300  # GFN2-xTB total energy of ethanol is about -310 eV


def test_md_then_resume_to_more_steps(tmp_path, capsys):
    import ase.io

    run = tmp_path / "run"
    assert main(["md", "fcc-Cu:2x2x2", "--potential", "cu-emt", "--ensemble", "nvt-langevin",
                 "--steps", "20", "--output-interval", "10", "--checkpoint-interval", "10",
                 "--out", str(run), "--no-progress"]) == 0
    assert "ns/day" in capsys.readouterr().out
    assert main(["md", "--resume", str(run), "--steps", "40", "--no-progress"]) == 0
    assert len(ase.io.read(run / "trajectory.extxyz", ":")) == 5


def test_md_watchdog_exits_3_naming_the_rule_and_atoms(tmp_path, capsys):
    from ase.build import bulk

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.positions[5] = atoms.positions[2] + [0.3, 0.0, 0.0]
    atoms.write(tmp_path / "bad.extxyz")
    code = main(["md", str(tmp_path / "bad.extxyz"), "--potential", "cu-emt", "--steps", "10",
                 "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 3
    assert "watchdog rule 'min_distance' tripped at step 0" in err and "atoms 2, 5" in err
    assert (tmp_path / "run" / "watchdog_frame.extxyz").is_file()
    assert not (tmp_path / "run" / "config.json").exists()   # a failed start blocks no retry


def test_md_needs_structure_and_potential(capsys):
    assert main(["md", "--no-progress"]) == 2
    assert "--potential" in capsys.readouterr().err


MD = ["md", "fcc-Cu:2x2x2", "--potential", "cu-emt", "--no-progress", "--output-interval", "5",
      "--checkpoint-interval", "10"]


def test_md_time_that_is_not_a_positive_number_of_steps_is_refused(tmp_path, capsys):
    import pytest

    for value in ("-1", "0", "0.0004", "nan", "inf"):
        out = tmp_path / f"run{value}"
        assert main(MD + ["--time", value, "--out", str(out)]) == 2, value
        assert "--time" in capsys.readouterr().err
        assert not out.exists()
    with pytest.raises(SystemExit):
        main(MD + ["--time", "soon"])


def test_md_failed_start_leaves_nothing_that_blocks_a_retry(tmp_path, capsys):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a model")
    out = tmp_path / "run"
    args = ["md", "fcc-Cu:2x2x2", "--potential", str(broken), "--no-progress", "--steps", "10",
            "--output-interval", "5", "--checkpoint-interval", "10"]
    assert main(args + ["--out", str(out)]) == 2
    assert "broken.pt" in capsys.readouterr().err and not out.exists()
    kept = tmp_path / "mine"                       # a folder with the user's own file
    kept.mkdir()
    (kept / "notes.txt").write_text("keep")
    assert main(args + ["--out", str(kept)]) == 2
    assert [p.name for p in kept.iterdir()] == ["notes.txt"]
    good = [arg if arg != str(broken) else "cu-emt" for arg in args]
    assert main(good + ["--out", str(out)]) == 0     # the retry is not blocked


def test_version_info_json_with_units_and_did_you_mean(capsys):
    import pytest

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.startswith("equiforce 0.")
    assert main(["info", "cu-emt", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)       # one strict JSON document
    assert info["units"]["forces"] == "eV/Angstrom" and info["symbols"] == ["Cu"]
    assert info["provenance"]["test_metrics"]["forces_mae"]["unit"] == "meV/Angstrom"
    assert info["provenance"]["test_metrics"]["energy_mae"]["unit"] == "meV/atom"
    assert main(["info", "cu_emt"]) == 2
    assert "did you mean 'cu-emt'?" in capsys.readouterr().err
