"""Type checks of a YAML training config and the line each key is on."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

import yaml

__all__ = ["check_types", "key_lines", "line_of_error"]

_WHAT = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}
_PLURAL = {"int": "integers", "float": "numbers", "str": "strings", "bool": "booleans"}


def check_types(section: str, cls: type, values: dict[str, Any]) -> None:
    """Raise ValueError naming ``section.key`` for a value of the wrong type (a number
    written as a string, a list where a number belongs, ...), before ``cls(**values)``."""
    annotations = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    for key, value in values.items():
        expected = annotations.get(key, "")
        if not _matches(expected, value):
            raise ValueError(f"{section}.{key} must be {_described(expected)}, got "
                             f"{_shown(value)}")


def _matches(annotation: str, value: Any) -> bool:
    annotation = annotation.replace(" ", "")
    optional = annotation.endswith("|None") or annotation.startswith("Optional[")
    base = re.sub(r"^Optional\[(.*)\]$", r"\1", annotation).removesuffix("|None")
    if value is None:
        return optional
    if base.startswith("tuple["):
        item = base[6:].split(",")[0].rstrip("]")
        return isinstance(value, (list, tuple)) and all(_matches(item, v) for v in value)
    if base == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if base == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base == "str":
        return isinstance(value, str)
    if base == "bool":
        return isinstance(value, bool)
    return True  # nested settings are checked by their own class


def _described(annotation: str) -> str:
    base = re.sub(r"^Optional\[(.*)\]$", r"\1", annotation.replace(" ", "")).removesuffix("|None")
    if base.startswith("tuple["):
        return f"a list of {_PLURAL.get(base[6:].split(',')[0].rstrip(']'), 'values')}"
    return _WHAT.get(base, base)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r} (numbers are written without quotes)"
    return f"{value!r} ({type(value).__name__})"


def key_lines(text: str) -> dict[str, int]:
    """1-based line of every key down to two levels (``"training.lr"`` -> 14)."""
    lines: dict[str, int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines
    for key, value in getattr(root, "value", []) if isinstance(root, yaml.MappingNode) else []:
        lines[key.value] = key.start_mark.line + 1
        if isinstance(value, yaml.MappingNode):
            for sub_key, _ in value.value:
                lines[f"{key.value}.{sub_key.value}"] = sub_key.start_mark.line + 1
    return lines


def line_of_error(message: str, lines: dict[str, int]) -> int | None:
    """The line of the first ``section.key`` (or section) the message names."""
    for name in sorted(lines, key=len, reverse=True):
        if re.search(rf"(^|[\s(]){re.escape(name)}\b", message):
            return lines[name]
    return None
