"""Warm starts: a training run that begins from an earlier run's weights."""
from __future__ import annotations

import logging

from ..model import EquivariantPotential
from .config import TrainConfig

log = logging.getLogger(__name__)

# fields training sets from the data: a warm start keeps the checkpoint's
FITTED_FIELDS = ("avg_num_neighbors", "atomic_energy_shifts", "energy_scale")


def warm_start_model(config: TrainConfig) -> EquivariantPotential:
    """The model in ``config.init_from`` (e3nn ops, on the CPU), checked to have the
    architecture ``config.model`` asks for.

    Raises:
        ValueError: naming every architecture setting that differs.
    """
    from ..checkpoint import load_checkpoint

    model, payload = load_checkpoint(config.init_from, ops="e3nn")
    wanted, found = config.model.to_dict(), model.config.to_dict()
    changes = [f"{key}: {found.get(key)!r} in the checkpoint, {wanted[key]!r} in the config"
               for key in sorted(wanted) if key not in FITTED_FIELDS
               and wanted[key] != found.get(key)]
    if changes:
        raise ValueError(f"init_from {config.init_from} has another architecture than "
                         f"model: {'; '.join(changes)}")
    log.info("warm start from %s (epoch %s of that run)", config.init_from,
             payload.get("epoch", "?"))
    return model
