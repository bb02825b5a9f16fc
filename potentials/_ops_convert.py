"""Weights between the e3nn and cuEquivariance forms of a model (same function).

Both forms have the same parameter names. Three things differ:

* linears and the self-connection hold their weights as (numel,) in e3nn and (1, numel) in
  cuEquivariance (same order);
* the convolution's radial MLP ends in one column block (``mul`` columns) per path; e3nn
  orders the blocks by instruction, cuEquivariance by output irrep;
* each backend has its own constant buffers (Clebsch-Gordan tables), which are rebuilt
  from the config and never copied.

Every conversion is a reshape or a column permutation, so it is exact both ways.
"""
from __future__ import annotations

from typing import Mapping

import torch
from e3nn import o3
from torch import Tensor, nn

from ._metadata import ModelFileError
from ._ops import check_ops
from .config import PotentialConfig
from .nn._irreps import feature_irreps, spherical_irreps
from .nn.interaction import _uvu_paths

__all__ = ["edge_weight_order", "transfer_weights"]

# Buffers of the model itself (not of a backend's blocks): copied like parameters.
_MODEL_BUFFERS = ("type_of_z", "energy_shifts", "radial_basis.frequencies")


def edge_weight_order(config: PotentialConfig, layer: int) -> Tensor:
    """Column order of layer ``layer``'s radial-MLP output in cuEquivariance's form:
    ``cueq_columns = e3nn_columns[:, order]`` ((weight_numel,) int64)."""
    irreps_in = o3.Irreps(f"{config.channels}x0e") if layer == 0 else feature_irreps(
        config.channels, config.l_max, config.parity)
    irreps_sh = spherical_irreps(config.l_max, config.parity)
    hidden = feature_irreps(config.channels, config.l_max, config.parity)
    mid, instructions = _uvu_paths(irreps_in, irreps_sh, hidden)
    starts, start = [], 0
    for i_in1, *_ in instructions:
        starts.append((start, irreps_in[i_in1].mul))
        start += irreps_in[i_in1].mul
    by_output = sorted(range(len(instructions)), key=lambda k: instructions[k][2])
    return torch.cat([torch.arange(starts[k][0], starts[k][0] + starts[k][1])
                      for k in by_output])


def transfer_weights(state: Mapping[str, Tensor], source_ops: str, target: nn.Module) -> nn.Module:
    """Load ``state`` (weights of a ``source_ops`` model with ``target``'s config) into
    ``target`` (an :class:`~potentials.EquivariantPotential` of either backend, or a
    :class:`~potentials.FastPotential`), converting the weights to ``target.ops``.

    Raises:
        ModelFileError: a parameter of ``target`` has no counterpart in ``state``, one
            whose size differs, or a weight in ``state`` that ``target`` has no place for
            (the weights belong to another model), each named.
    """
    source_ops, target_ops = check_ops(source_ops), check_ops(target.ops)
    own = target.state_dict()
    wanted = [name for name, _ in target.named_parameters()]
    wanted += [name for name in _MODEL_BUFFERS if name in own]
    converted, missing = {}, []
    for name in wanted:
        if name not in state:
            missing.append(name)
            continue
        value = state[name]
        if value.numel() != own[name].numel():
            raise ModelFileError(f"weights do not fit the model: {name} has "
                                 f"{tuple(value.shape)}, the model {tuple(own[name].shape)}")
        converted[name] = value.reshape(own[name].shape)
    unexpected = [name for name, value in state.items()
                  if name not in own and value.numel() > 0 and not _backend_constant(name)]
    if missing or unexpected:
        raise ModelFileError(f"weights do not fit the model: missing {missing}, "
                             f"unexpected {unexpected}")
    if source_ops != target_ops:
        _reorder_edge_weights(converted, target.config, to_cueq=target_ops == "cueq")
    target.load_state_dict(converted, strict=False)
    return target


# constant buffers of one backend's blocks (e3nn tensor products and masks, cuEquivariance
# polynomial tables): rebuilt from the config, never compared
_CONSTANT_MARKERS = (".tensor_product.", ".f.m.", "output_mask")


def _backend_constant(name: str) -> bool:
    return any(marker in name for marker in _CONSTANT_MARKERS)


def _reorder_edge_weights(state: dict[str, Tensor], config: PotentialConfig,
                          to_cueq: bool) -> None:
    for layer in range(config.num_layers):
        prefix = f"layers.{layer}.convolution.radial_mlp."
        last = max((name for name in state if name.startswith(prefix)),
                   key=lambda name: int(name[len(prefix):].split(".")[0].removeprefix("layer")))
        order = edge_weight_order(config, layer)
        if not to_cueq:
            order = torch.argsort(order)
        state[last] = state[last][:, order.to(state[last].device)]
