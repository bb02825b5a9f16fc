"""Strict JSON for files users parse: NaN and infinity become null, never bare NaN."""
from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["strict_json"]


def strict_json(data: Any, indent: int | None = 2) -> str:
    """``data`` as RFC 8259 JSON; non-finite floats (NaN, inf) are written as ``null``."""
    return json.dumps(_finite(data), indent=indent, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy / torch scalars
        return _finite(value.item())
    return value
