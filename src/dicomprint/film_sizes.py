"""Film Size ID (2010,0050) values and their physical size in millimetres.

The defined terms of PS3.3 C.13.5, plus the long-film sizes some printers
(and PrintSCP's conformance statement) offer. Sizes are (short side, long side).
"""

from __future__ import annotations

_INCH = 25.4

FILM_SIZES_MM: dict[str, tuple[float, float]] = {
    "8INX10IN": (8 * _INCH, 10 * _INCH),
    "8_5INX11IN": (8.5 * _INCH, 11 * _INCH),
    "10INX12IN": (10 * _INCH, 12 * _INCH),
    # PS3.3 states 10INX14IN "corresponds with 25.7CMX36.4CM".
    "10INX14IN": (257.0, 364.0),
    "11INX14IN": (11 * _INCH, 14 * _INCH),
    "11INX17IN": (11 * _INCH, 17 * _INCH),
    "14INX14IN": (14 * _INCH, 14 * _INCH),
    "14INX17IN": (14 * _INCH, 17 * _INCH),
    "24CMX24CM": (240.0, 240.0),
    "24CMX30CM": (240.0, 300.0),
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
    # Not defined terms of the standard; offered by long-film printers.
    "14INX36IN": (14 * _INCH, 36 * _INCH),
    "8_5INX28IN": (8.5 * _INCH, 28 * _INCH),
}

STANDARD_FILM_SIZES = tuple(list(FILM_SIZES_MM)[:12])


def film_size_mm(film_size_id: str, orientation: str = "PORTRAIT") -> tuple[float, float]:
    """(width, height) in mm of a film in the given orientation."""
    short, long = FILM_SIZES_MM[film_size_id]
    return (long, short) if orientation == "LANDSCAPE" else (short, long)


def film_size_px(film_size_id: str, orientation: str, dpi: int) -> tuple[int, int]:
    """(width, height) in pixels of a film at the given resolution."""
    width_mm, height_mm = film_size_mm(film_size_id, orientation)
    return round(width_mm / _INCH * dpi), round(height_mm / _INCH * dpi)
