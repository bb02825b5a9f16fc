"""The fast path builds its e3nn tensor products without forward code; the model keeps it."""
import pytest
import torch

from potentials import EquivariantPotential, FastPotential
from potentials.nn._tensor_product_code import (generates_tensor_product_code,
                                                without_tensor_product_code)
from tests.structures import small_config


def test_fast_potential_skips_the_code_the_e3nn_model_needs():
    eager = EquivariantPotential(small_config())
    fast = FastPotential.from_model(eager)
    tp = eager.layers[0].convolution.tensor_product
    x = torch.zeros(1, tp.irreps_in1.dim, dtype=torch.float64)
    y = torch.zeros(1, tp.irreps_in2.dim, dtype=torch.float64)
    w = torch.zeros(1, tp.weight_numel, dtype=torch.float64)
    assert tp(x, y, w).shape == (1, tp.irreps_out.dim)
    with without_tensor_product_code():
        bare = EquivariantPotential(small_config())
    with pytest.raises(Exception, match="not compiled"):
        bare.layers[0].convolution.tensor_product(x, y, w)
    atoms_energy = fast(torch.zeros(1, 3, dtype=torch.float64), torch.tensor([29]),
                        torch.zeros(2, 0, dtype=torch.long), torch.zeros(0, 3),
                        torch.zeros(1, 3, 3, dtype=torch.float64),
                        torch.zeros(1, dtype=torch.long))["energy"]
    assert torch.isfinite(atoms_energy).all()  # the fast model runs without that code


def test_the_switch_is_restored_even_on_error():
    with pytest.raises(RuntimeError):
        with without_tensor_product_code():
            assert not generates_tensor_product_code()
            raise RuntimeError
    assert generates_tensor_product_code()
