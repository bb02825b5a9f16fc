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


def test_errors_exit_2_with_the_problem(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt: no such model file" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    assert main(["info", str(bad)]) == 2
    assert "bad.pt: truncated or corrupted" in capsys.readouterr().err
