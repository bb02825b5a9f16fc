"""Whether e3nn tensor products built now generate their forward code.

e3nn generates (and einsum-optimises) each ``TensorProduct``'s forward when it is built:
about half of a model's construction time. The fast path replaces every convolution and
product tensor product by its own kernel and reads only their instructions, so it builds
them without that code.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

__all__ = ["generates_tensor_product_code", "without_tensor_product_code"]

_GENERATE = contextvars.ContextVar("equiforce_generate_tensor_product_code", default=True)


def generates_tensor_product_code() -> bool:
    """False inside :func:`without_tensor_product_code`, else True."""
    return _GENERATE.get()


@contextlib.contextmanager
def without_tensor_product_code() -> Iterator[None]:
    """Build the convolution and product tensor products without their e3nn forward code
    (calling them then raises); restored on exit, even on error."""
    token = _GENERATE.set(False)
    try:
        yield
    finally:
        _GENERATE.reset(token)
