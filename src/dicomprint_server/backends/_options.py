"""Backend options from a TOML table: known keys, right types, clear messages.

A built-in backend is an attrs class whose fields are its options. Its
``from_options`` passes the table through :func:`build`, which refuses
unknown keys and values of the wrong type with a message naming the key;
the fields' own validators check ranges and choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

T = TypeVar("T")


class OptionError(ValueError):
    """A backend option that cannot be used; the message names the key."""


def build(cls: type[T], options: Mapping[str, Any]) -> T:
    """``cls(**options)`` after checking keys and value types against its fields."""
    fields = {f.name: f for f in attrs.fields(cls) if f.init}
    for key, value in options.items():
        field = fields.get(key)
        if field is None:
            known = ", ".join(sorted(fields))
            raise OptionError(f"unknown option {key!r} (known: {known})")
        expected = field.metadata.get("type") or _type_of_default(field)
        if expected is not None and not _is_instance(value, expected):
            raise OptionError(f"{key} = {value!r}: expected {_type_name(expected)}")
    missing = [
        name
        for name, field in fields.items()
        if field.default is attrs.NOTHING and name not in options
    ]
    if missing:
        raise OptionError(f"option {missing[0]!r} is required")
    try:
        return cls(**options)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, OptionError):
            raise
        raise OptionError(str(exc)) from exc


def normalized(instance: Any) -> dict[str, Any]:
    """The options of a built backend, after its converters ran."""
    return {f.name: getattr(instance, f.name) for f in attrs.fields(type(instance)) if f.init}


def _type_of_default(field: attrs.Attribute) -> type | None:
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()
    if default is attrs.NOTHING or default is None:
        return None
    if isinstance(default, bool):
        return bool
    if isinstance(default, float):
        return float
    if isinstance(default, Path):
        return Path
    if isinstance(default, Mapping):
        return dict
    if isinstance(default, list | tuple):
        return list
    return type(default)


def _is_instance(value: Any, expected: type) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is Path:
        return isinstance(value, str | Path)
    if expected is dict:
        return isinstance(value, Mapping)
    if expected is list:
        return isinstance(value, list | tuple)
    return isinstance(value, expected)


def _type_name(expected: type) -> str:
    return {
        bool: "true or false",
        float: "a number",
        int: "an integer",
        str: "a string",
        Path: "a path (string)",
        dict: "a table",
        list: "an array",
    }.get(expected, expected.__name__)


def one_of(*choices: str):
    """attrs validator: the value is one of ``choices``."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise OptionError(f"{attribute.name} = {value!r}: one of {', '.join(choices)}")

    return check


def in_range(low: float, high: float):
    """attrs validator: ``low <= value <= high``."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if isinstance(value, bool) or not low <= value <= high:
            raise OptionError(f"{attribute.name} = {value!r}: must be in {low}..{high}")

    return check
