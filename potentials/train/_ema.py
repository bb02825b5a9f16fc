"""Exponential moving average of model parameters, matched by name."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


class ParameterEMA:
    """``shadow <- decay * shadow + (1 - decay) * parameter`` after every optimizer step.

    Parameters are matched by name (not by iteration order, which deep copies of e3nn's
    code-generated modules do not preserve). The first update copies the parameters.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = float(decay)
        self.num_updates = 0
        self.shadow = {name: p.detach().clone() for name, p in model.named_parameters()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        weight = 1.0 if self.num_updates == 0 else 1.0 - self.decay
        for name, parameter in model.named_parameters():
            self.shadow[name].lerp_(parameter.detach(), weight)
        self.num_updates += 1

    def averaged_into(self, model: nn.Module, target: nn.Module) -> nn.Module:
        """Load ``model``'s buffers and the averaged parameters into ``target``."""
        state = model.state_dict()
        state.update(self.shadow)
        target.load_state_dict(state)
        return target

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "num_updates": self.num_updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.decay = state["decay"]
        self.num_updates = state["num_updates"]
        self.shadow = {name: value.clone() for name, value in state["shadow"].items()}
