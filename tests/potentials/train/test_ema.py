import copy

import torch

from potentials.train._ema import ParameterEMA
from tests.structures import small_model


def test_ema_follows_the_recurrence_and_matches_by_name():
    model = small_model()
    ema = ParameterEMA(model, decay=0.9)
    history = []
    for step in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1 * (step + 1))
        history.append({n: p.detach().clone() for n, p in model.named_parameters()})
        ema.update(model)
    name = next(iter(history[0]))
    expected = history[0][name]
    for snapshot in history[1:]:
        expected = 0.9 * expected + 0.1 * snapshot[name]
    torch.testing.assert_close(ema.shadow[name], expected)
    target = ema.averaged_into(model, copy.deepcopy(model))
    torch.testing.assert_close(dict(target.named_parameters())[name], expected)
    buffer_name, buffer = next(iter(model.named_buffers()))
    torch.testing.assert_close(dict(target.named_buffers())[buffer_name], buffer)
