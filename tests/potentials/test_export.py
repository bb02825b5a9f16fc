"""Export (TorchScript, AOTInductor) and loading: agreement with eager, metadata, bad files."""
import importlib
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch

from potentials import FORMAT_VERSION, ModelFileError, atoms_to_graph, export, load
from potentials._metadata import METADATA_KEY
from potentials.testing import assert_potentials_agree, evaluate
from tests.structures import cu_slab, ethanol, small_model, triclinic_cu_au

STRUCTURES = {"triclinic": triclinic_cu_au, "slab": cu_slab, "molecule": ethanol}
# Smallest model that still has every kind of layer (one interaction, product and
# readout): an AOTInductor compile takes about a minute here.
AOTI_MODEL = dict(l_max=1, channels=4, correlation=2, num_radial=4, radial_hidden=8,
                  readout_hidden=4, num_layers=1)


def assert_same_outputs(deployed, model, rtol):
    assert_potentials_agree(deployed, model, [make() for make in STRUCTURES.values()], rtol=rtol)


# float32 AOTInductor compiles in `make test-slow` (~1 min each; not the default MD path).
# One test uses the compile (agreement with eager, then the ASE calculator on every format),
# so under pytest-xdist no second worker compiles it again or waits for it.
@pytest.fixture(ids=["float64", "float32"],
                params=[torch.float64, pytest.param(torch.float32, marks=pytest.mark.slow)])
def aoti_case(request, tmp_path):
    model = small_model(dtype=request.param, **AOTI_MODEL)
    path = export(model, tmp_path / "model.pt2", format="aotinductor")
    return model, path


def tolerance(dtype):
    return 1e-10 if dtype == torch.float64 else 2e-5


# float32 with the optimising executor runs in `make test-slow` (~15 s; float64 covers it)
@pytest.mark.parametrize("dtype, jit_optimize", [
    (torch.float64, None), (torch.float64, True), (torch.float32, None),
    pytest.param(torch.float32, True, marks=pytest.mark.slow)],
    ids=["float64-default", "float64-jit-optimised", "float32-default", "float32-jit-optimised"])
def test_torchscript_matches_eager(tmp_path, dtype, jit_optimize):
    model = small_model(dtype=dtype, correlation=3)
    deployed = load(export(model, tmp_path / "model.pt"), jit_optimize=jit_optimize, fast=False)
    assert deployed.format == "torchscript" and deployed.dtype == dtype
    assert deployed.jit_optimize is bool(jit_optimize)  # default on CPU: off
    for _ in range(3):  # the optimising executor profiles first, then specialises per shape
        assert_same_outputs(deployed, model, tolerance(dtype))
    assert pickle.loads(pickle.dumps(deployed)).jit_optimize is bool(jit_optimize)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_torchscript_file_runs_fast_by_default_and_pickles(tmp_path, dtype):
    model = small_model(dtype=dtype, correlation=3)
    deployed = load(export(model, tmp_path / "model.pt"))
    assert deployed.format == "fast" and deployed.dtype == dtype
    assert_same_outputs(deployed, model, tolerance(dtype))
    again = pickle.loads(pickle.dumps(deployed))
    assert again.format == "fast" and again.dtype == dtype
    assert_same_outputs(again, model, tolerance(dtype))


def test_aotinductor_matches_eager_and_every_format_runs_in_the_calculator(aoti_case, tmp_path):
    model, path = aoti_case
    deployed = load(path)
    assert deployed.format == "aotinductor"
    assert_same_outputs(deployed, model, tolerance(next(model.parameters()).dtype))
    assert_calculator_runs_every_format(model, path, tmp_path)


def test_torchscript_file_needs_only_torch_jit_load(tmp_path):
    model = small_model()
    path = export(model, tmp_path / "model.pt")
    module = torch.jit.load(str(path))
    atoms = triclinic_cu_au()
    graph = atoms_to_graph(atoms, model.cutoff, model.config.species)
    out = module(*graph.model_inputs())
    np.testing.assert_allclose(out["forces"].detach().numpy(), evaluate(model, atoms)["forces"],
                               rtol=0, atol=1e-12)


def test_metadata_describes_the_model(tmp_path):
    model = small_model(cutoff=4.5)
    deployed = load(export(model, tmp_path / "m.pt", dtype=torch.float32,
                           provenance={"data_sha256": "abc"}))
    meta = deployed.metadata
    assert meta["format_version"] == 1 and meta["ops"] == "e3nn"  # readable by older releases
    assert meta["species"] == [1, 6, 8, 29, 79] and meta["symbols"][3] == "Cu"
    assert meta["cutoff"] == 4.5 and meta["dtype"] == "float32"
    assert meta["units"]["energy"] == "eV" and meta["provenance"] == {"data_sha256": "abc"}
    assert {"torch", "e3nn", "equiforce"} <= set(meta["versions"])
    assert deployed.config == model.config


def test_export_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'onnx'"):
        export(small_model(), tmp_path / "m.onnx", format="onnx")


# --- bad files ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    return export(small_model(), tmp_path_factory.mktemp("good") / "model.pt")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt: no such model file"):
        load(tmp_path / "nope.pt")


def test_truncated_file(tmp_path, good_file):
    data = good_file.read_bytes()
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated.pt: truncated or corrupted"):
        load(bad)


def test_corrupted_file(tmp_path, good_file):
    data = bytearray(good_file.read_bytes())
    with zipfile.ZipFile(good_file) as archive:
        info = max(archive.infolist(), key=lambda i: i.compress_size)
    middle = info.header_offset + len(info.filename) + 30 + info.compress_size // 2
    data[middle:middle + 16] = bytes(16)
    bad = tmp_path / "corrupted.pt"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupted.pt: corrupted model file"):
        load(bad)


def test_text_file_is_not_a_model(tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("hello")
    with pytest.raises(ModelFileError, match="notes.pt: truncated or corrupted model file, or not a model"):
        load(bad)


def test_foreign_torchscript_file_is_not_an_equiforce_potential(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(foreign))
    with pytest.raises(ModelFileError, match="foreign.pt: not an equiforce potential"):
        load(foreign)


def test_newer_format_version_is_refused(tmp_path, good_file):
    extra = {METADATA_KEY: ""}
    module = torch.jit.load(str(good_file), _extra_files=extra)
    metadata = json.loads(extra[METADATA_KEY])
    metadata["format_version"] = FORMAT_VERSION + 1
    newer = tmp_path / "newer.pt"
    torch.jit.save(module, str(newer), _extra_files={METADATA_KEY: json.dumps(metadata)})
    with pytest.raises(ModelFileError, match=f"newer.pt: written in format version {FORMAT_VERSION + 1}"):
        load(newer)


def test_interrupted_export_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    path.write_bytes(b"the user's previous model")

    def write_half_then_die(model, target, metadata):
        target.write_bytes(b"half a model")
        raise KeyboardInterrupt

    # the package re-exports the function `export`, which hides the module of that name
    export_module = importlib.import_module("potentials.export")
    monkeypatch.setattr(export_module, "_write_torchscript", write_half_then_die)
    with pytest.raises(KeyboardInterrupt):
        export(small_model(), path)
    assert path.read_bytes() == b"the user's previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"], "temporary file left behind"
    fresh = tmp_path / "fresh.pt"
    with pytest.raises(KeyboardInterrupt):
        export(small_model(), fresh)
    assert not fresh.exists()


def assert_calculator_runs_every_format(model, aoti_path, tmp_path):
    from md_drivers import EquiforceCalculator

    ts_path = export(model, tmp_path / "m.pt")
    atoms = triclinic_cu_au()
    results = []
    for source in (model, ts_path, aoti_path):
        atoms.calc = EquiforceCalculator(source)
        results.append((atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()))
    rtol = tolerance(next(model.parameters()).dtype)
    for energy, forces, stress in results[1:]:
        assert energy == pytest.approx(results[0][0], rel=rtol)
        np.testing.assert_allclose(forces, results[0][1], atol=rtol * np.abs(results[0][1]).max())
        np.testing.assert_allclose(stress, results[0][2], atol=rtol * np.abs(results[0][2]).max())


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    path = export(small_model(), tmp_path / "m.pt")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_a_file_read_again_is_not_shared_and_a_changed_file_is_read_again(tmp_path):
    path = export(small_model(seed=0, **AOTI_MODEL), tmp_path / "m.pt")
    first, second = load(path), load(path)
    assert first.module is not second.module
    first.metadata["config"]["cutoff"] = -1.0
    assert second.metadata["config"]["cutoff"] == load(path).metadata["config"]["cutoff"] > 0
    next(first.module.parameters()).data.zero_()
    assert next(load(path).module.parameters()).abs().sum() > 0
    export(small_model(seed=1, **AOTI_MODEL), path)   # replaced in place: new weights are read
    changed = next(load(path).module.parameters())
    assert not torch.equal(changed, next(second.module.parameters()))
