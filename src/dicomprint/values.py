"""Parsers for single attribute values, by value representation and meaning.

Each parser takes the value pydicom decoded and returns a clean Python value,
or raises ValueError when the value is not a legal value of the attribute
(the caller answers 0x0106). Whether a legal value is *supported* by a printer
is a separate question, answered by the profile checks in ``attributes``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Parser = Callable[[Any], Any]


def quoted(value: Any) -> str:
    """``value`` for a message, as repr() shows it but with each backslash once.

    DICOM separates values with a backslash (``STANDARD\\2,2``); repr()
    doubles it in every log line and Error Comment. Other characters that
    do not print are still escaped.
    """
    if not isinstance(value, str):
        return repr(value)
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in value) + "'"


_MAX_LENGTH = {"CS": 16, "SH": 16, "LO": 64, "ST": 1024, "AE": 16}
#: Control characters a value may hold (PS3.5 6.2): ESC for character set
#: escapes, and in text values line and page breaks.
_CONTROLS_ALLOWED = {"ST": "\n\f\r\x1b"}


def _text(value: Any, vr: str) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ValueError("not ASCII text") from exc
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    text = value.strip(" \x00")
    if len(text) > _MAX_LENGTH[vr]:
        raise ValueError(f"longer than {_MAX_LENGTH[vr]} characters")
    controls = _CONTROLS_ALLOWED.get(vr, "\x1b")
    if any(ord(c) < 0x20 and c not in controls for c in text):
        raise ValueError("holds a control character")
    if vr == "CS" and any(not (c.isupper() or c.isdigit() or c in " _") for c in text):
        raise ValueError(f"{quoted(text)} is not a code string")
    return text


def code_string(value: Any) -> str:
    return _text(value, "CS")


def short_string(value: Any) -> str:
    return _text(value, "SH")


def long_string(value: Any) -> str:
    return _text(value, "LO")


def short_text(value: Any) -> str:
    return _text(value, "ST")


def enumerated(*allowed: str) -> Parser:
    """A CS with Enumerated Values: anything else is invalid."""

    def parse(value: Any) -> str:
        text = code_string(value)
        if text not in allowed:
            raise ValueError(f"{quoted(text)} is not one of {', '.join(allowed)}")
        return text

    return parse


def integer_string(low: int, high: int = 2**31 - 1) -> Parser:
    """An IS in [low, high]."""

    def parse(value: Any) -> int:
        if isinstance(value, bool | float):
            raise ValueError("not an integer string")
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise ValueError(f"{quoted(value)} is not an integer") from exc
        if not low <= number <= high:
            raise ValueError(f"{number} is outside {low}..{high}")
        return number

    return parse


def unsigned_short(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{quoted(value)} is not an unsigned short")
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{value} is outside 0..65535")
    return int(value)


def positive_unsigned_short(value: Any) -> int:
    number = unsigned_short(value)
    if number == 0:
        raise ValueError("must be greater than 0")
    return number


def positive_decimal(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{quoted(value)} is not a decimal string") from exc
    if not 0 < number < 1e6:
        raise ValueError(f"{number} is not a positive size in mm")
    return number


def density(value: Any) -> str:
    """Border / Empty Image Density: BLACK, WHITE, or hundredths of OD."""
    text = code_string(value)
    if text in ("BLACK", "WHITE"):
        return text
    if text.isdigit() and int(text) <= 10000:
        return str(int(text))
    raise ValueError(f"{quoted(text)} is not BLACK, WHITE or a density in hundredths of OD")


def film_destination(value: Any) -> str:
    text = code_string(value)
    if text in ("MAGAZINE", "PROCESSOR"):
        return text
    if text.startswith("BIN_") and text[4:].isdigit() and text[4] != "0":
        return text
    raise ValueError(f"{quoted(text)} is not MAGAZINE, PROCESSOR or BIN_i")


def pixel_aspect_ratio(value: Any) -> tuple[int, int]:
    items = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else None
    if items is None and isinstance(value, str):
        items = value.split("\\")
    if not items or len(items) != 2:
        raise ValueError(f"{quoted(value)} is not a ratio of two integers")
    ratio = tuple(integer_string(1)(item) for item in items)
    return ratio[0], ratio[1]
