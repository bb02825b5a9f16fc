"""The equivariant-ops backends: cuEquivariance (pure-torch method) against e3nn, weight
conversion both ways, export and loading of a cueq model, backend selection."""
import json
import zipfile

import numpy as np
import pytest
import torch

from potentials import (ModelFileError, PotentialConfig, EquivariantPotential, convert_ops,
                        export, load)
from potentials._metadata import METADATA_KEY, build_metadata, validate_metadata
from potentials._ops import default_ops
from potentials.checkpoint import load_checkpoint, save_checkpoint
from potentials.testing import assert_equivariant, assert_potentials_agree, evaluate
from tests.structures import cu_slab, ethanol, small_model, triclinic_cu_au

STRUCTURES = {"triclinic": triclinic_cu_au, "slab": cu_slab, "molecule": ethanol}
# every kind of block: l = 0..2 features, a product with two steps, three layers
# (the first without self-connection, the middle one gated, the last scalar-only)
RICH = dict(l_max=2, correlation=3, num_layers=3)


@pytest.fixture(scope="module")
def pair():
    """An e3nn model with random weights and its cuEquivariance twin."""
    model = small_model(seed=3, **RICH)
    return model, convert_ops(model, "cueq")


def relative_error(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


@pytest.mark.parametrize("name", STRUCTURES)
def test_cueq_model_equals_e3nn_model_to_1e12(pair, name):
    e3nn_model, cueq_model = pair
    assert cueq_model.ops == "cueq" and set(cueq_model.cueq_methods.values()) == {"naive"}
    atoms = STRUCTURES[name]()
    expected, actual = evaluate(e3nn_model, atoms), evaluate(cueq_model, atoms)
    for key in ("energy", "atomic_energies", "forces", "stress"):
        if key == "stress" and name == "molecule":
            continue
        assert relative_error(actual[key], expected[key]) < 1e-12, key
    assert abs(expected["energy"]) > 1e-3 and np.abs(expected["forces"]).max() > 1e-3


def test_every_block_of_the_cueq_model_equals_its_e3nn_twin(pair):
    e3nn_model, cueq_model = pair
    torch.manual_seed(0)
    vectors = torch.randn(40, 3, dtype=torch.float64)
    np.testing.assert_allclose(cueq_model.spherical_harmonics(vectors),
                               e3nn_model.spherical_harmonics(vectors), rtol=0, atol=1e-14)
    edge_index = torch.randint(0, 9, (2, 40))
    species = torch.randint(0, 5, (9,))
    radial, envelope = torch.rand(40, 6, dtype=torch.float64), torch.rand(40, dtype=torch.float64)
    sh = e3nn_model.spherical_harmonics(vectors)
    features = torch.randn(9, 8, dtype=torch.float64)
    for index, (ours, theirs) in enumerate(zip(cueq_model.layers, e3nn_model.layers)):
        a_ours = ours.convolution(features, sh, radial, envelope, edge_index)
        a_theirs = theirs.convolution(features, sh, radial, envelope, edge_index)
        np.testing.assert_allclose(a_ours.detach(), a_theirs.detach(), rtol=0, atol=1e-13,
                                   err_msg=f"convolution of layer {index}")
        np.testing.assert_allclose(ours.product(a_theirs, species).detach(),
                                   theirs.product(a_theirs, species).detach(), rtol=0,
                                   atol=1e-13, err_msg=f"product of layer {index}")
        np.testing.assert_allclose(ours(features, species, sh, radial, envelope, edge_index).detach(),
                                   theirs(features, species, sh, radial, envelope, edge_index).detach(),
                                   rtol=0, atol=1e-13, err_msg=f"layer {index}")
        features = theirs(features, species, sh, radial, envelope, edge_index)
    for index, (ours, theirs) in enumerate(zip(cueq_model.readouts[:-1], e3nn_model.readouts)):
        x = torch.randn(5, ours.irreps_in.dim, dtype=torch.float64)
        np.testing.assert_allclose(ours(x).detach(), theirs(x).detach(), rtol=0, atol=1e-14,
                                   err_msg=f"readout {index}")


@pytest.mark.parametrize("name", ["triclinic", "slab"])
def test_cueq_model_is_rotation_and_reflection_equivariant(pair, name):
    assert_equivariant(pair[1], STRUCTURES[name](), seed=2, reflect=True)


def test_weights_round_trip_e3nn_cueq_e3nn_exactly(pair):
    e3nn_model, cueq_model = pair
    back = convert_ops(cueq_model, "e3nn")
    assert back.ops == "e3nn"
    for name, value in e3nn_model.state_dict().items():
        assert torch.equal(back.state_dict()[name], value), name
    # the conversion really permutes: the radial network's last layer differs in order
    last = "layers.1.convolution.radial_mlp.layer2.weight"
    assert not torch.equal(cueq_model.state_dict()[last], e3nn_model.state_dict()[last])
    assert torch.equal(cueq_model.state_dict()[last].sort(dim=1).values,
                       e3nn_model.state_dict()[last].sort(dim=1).values)


def test_gradients_of_a_loss_agree_between_backends(pair):
    """Training through the cueq backend sees the same loss surface (forces' parameter
    gradients, i.e. double backward, included)."""
    e3nn_model, _ = pair
    from potentials.graph import atoms_to_graph

    graph = atoms_to_graph(triclinic_cu_au(), e3nn_model.cutoff, e3nn_model.config.species)
    losses = {}
    for ops in ("e3nn", "cueq"):
        model = convert_ops(e3nn_model, ops).train()
        out = model(*graph.model_inputs())
        loss = out["energy"].sum() ** 2 + out["forces"].pow(2).sum()
        loss.backward()
        losses[ops] = (loss.item(), model.embedding.weight.grad.clone(),
                       model.layers[0].convolution.radial_mlp.layer0.weight.grad.clone())
    assert losses["cueq"][0] == pytest.approx(losses["e3nn"][0], rel=1e-12)
    for ours, theirs in zip(losses["cueq"][1:], losses["e3nn"][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


def test_exported_cueq_model_records_its_backend_and_agrees(tmp_path):
    e3nn_model = small_model(seed=5, l_max=1, correlation=3)
    path = export(e3nn_model, tmp_path / "cueq.pt", ops="cueq")
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(METADATA_KEY))
        metadata = json.loads(archive.read(name))
    assert metadata["ops"] == "cueq" and metadata["format_version"] == 2
    assert metadata["cueq_methods"]["edge_product"] == "naive"
    structures = [make() for make in STRUCTURES.values()]
    as_file = load(path, fast=False)                  # the file's TorchScript module
    assert as_file.format == "torchscript" and as_file.ops == "cueq"
    assert_potentials_agree(as_file, e3nn_model, structures, rtol=1e-12)
    as_cueq = load(path, ops="cueq")                  # weights into a cueq model
    assert as_cueq.ops == "cueq" and as_cueq.format == "eager"
    assert_potentials_agree(as_cueq, e3nn_model, structures, rtol=1e-12)
    as_fast = load(path)                              # CPU default: e3nn fast path
    assert as_fast.ops == "e3nn" and as_fast.format == "fast"
    assert_potentials_agree(as_fast, e3nn_model, structures, rtol=1e-12)
    with pytest.raises(ModelFileError, match="torchscript file holds a cueq model; load it with fast=True"):
        load(path, fast=False, ops="e3nn")


def test_an_e3nn_file_runs_with_the_cueq_backend(tmp_path):
    model = small_model(seed=4, num_layers=1)
    deployed = load(export(model, tmp_path / "e3nn.pt"), ops="cueq", dtype="float32")
    assert deployed.ops == "cueq" and deployed.dtype == torch.float32
    assert_potentials_agree(deployed, model, [triclinic_cu_au()], rtol=2e-5)


def test_checkpoint_keeps_the_backend_and_converts_on_request(tmp_path):
    cueq_model = convert_ops(small_model(seed=6, num_layers=1), "cueq")
    path = save_checkpoint(tmp_path / "c.pt", cueq_model)
    restored, payload = load_checkpoint(path)
    assert payload["ops"] == "cueq" and restored.ops == "cueq"
    as_e3nn, _ = load_checkpoint(path, ops="e3nn")
    assert_potentials_agree(as_e3nn, cueq_model, [cu_slab()], rtol=1e-12)
    # stored in e3nn's form, which any equiforce release reads
    reference = convert_ops(cueq_model, "e3nn").state_dict()
    for name, value in torch.load(path, weights_only=True)["model_state"].items():
        assert torch.equal(value, reference[name]), name


def test_weights_of_another_model_are_refused_naming_the_extra_keys():
    from potentials._ops_convert import transfer_weights

    one_layer = convert_ops(small_model(num_layers=1), "cueq")
    state = dict(one_layer.state_dict())
    state["layers.1.convolution.linear_up.weight"] = torch.ones(1, 64)   # a second layer's
    with pytest.raises(ModelFileError, match=r"unexpected \['layers.1.convolution.linear_up.weight"):
        transfer_weights(state, "cueq", one_layer)


def test_unknown_backend_in_a_file_is_named(pair):
    metadata = build_metadata(pair[0].config, "torchscript", torch.float64, "cpu")
    assert validate_metadata(dict(metadata), "m.pt")["ops"] == "e3nn"
    metadata["ops"] = "tensorflow"
    with pytest.raises(ModelFileError, match="m.pt: unknown equivariant-ops backend 'tensorflow'"):
        validate_metadata(metadata, "m.pt")
    del metadata["ops"]     # a version-1 file: e3nn
    assert validate_metadata(metadata, "m.pt")["ops"] == "e3nn"


def test_backend_selection():
    assert default_ops("cpu") == "e3nn" and default_ops(None) == "e3nn"
    config = PotentialConfig(species=(29,), channels=4)
    assert EquivariantPotential(config).ops == "e3nn"
    with pytest.raises(ValueError, match="unknown equivariant-ops backend 'jax'"):
        EquivariantPotential(config, ops="jax")


def test_aotinductor_export_of_the_naive_cueq_form_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ValueError, match="AOTInductor cannot compile cuEquivariance's pure-torch"):
        export(small_model(num_layers=1), tmp_path / "m.pt2", format="aotinductor", ops="cueq")
    assert not (tmp_path / "m.pt2").exists()
