"""Loading weights between the e3nn model and the fast path (and TorchScript files)."""
from __future__ import annotations

from torch import Tensor, nn

from ._metadata import ModelFileError


def load_weights(model: nn.Module, state: dict[str, Tensor]) -> nn.Module:
    """Load ``state`` into ``model``. e3nn tensor-product entries (an empty weight, a
    constant mask, TorchScript's compiled constants) are rebuilt from the config, so they
    may be missing on either side; any other mismatch (a key, a shape) is a
    ``ModelFileError`` naming it."""
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:   # shape mismatches
        raise ModelFileError(f"weights do not fit the model: {error}") from error
    missing = [key for key in missing if ".tensor_product." not in key]
    unexpected = [key for key in unexpected if ".tensor_product." not in key]
    if missing or unexpected:
        raise ModelFileError(f"weights do not fit the model: missing {missing}, "
                             f"unexpected {unexpected}")
    return model
