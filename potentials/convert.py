"""Convert a model between equivariant-ops backends (e3nn <-> cuEquivariance)."""
from __future__ import annotations

from typing import Optional

import torch

from ._ops import resolve_ops
from ._ops_convert import transfer_weights
from .model import EquivariantPotential

__all__ = ["convert_ops"]


def convert_ops(model: EquivariantPotential, ops: Optional[str],
                device: Optional[torch.device | str] = None,
                dtype: Optional[torch.dtype] = None) -> EquivariantPotential:
    """A new model computing the same function as ``model`` with the ``ops`` backend.

    Args:
        model: an e3nn or cuEquivariance :class:`EquivariantPotential`; not modified.
        ops: ``"e3nn"`` or ``"cueq"`` (None: the default of ``device``, see
            :class:`EquivariantPotential`).
        device, dtype: of the new model (default: ``model``'s).

    The weights are converted exactly (a reshape and a column permutation of the radial
    network's last layer), so converting there and back gives the original weights
    bitwise; energies, forces and stress agree to round-off (~1e-15 relative in float64).
    The new model is in ``model``'s train/eval mode.
    """
    first = next(model.parameters())
    device = device if device is not None else first.device
    converted = EquivariantPotential(model.config, dtype or first.dtype, device,
                                     ops=resolve_ops(ops, device))
    transfer_weights(model.state_dict(), model.ops, converted)
    return converted.train(model.training)
