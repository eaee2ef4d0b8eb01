"""Attributes the Film Box and the Image Box share.

An image box value overrides its film box's (PS3.3 C.13.5): magnification,
smoothing, Min/Max Density, Configuration Information and the referenced
Presentation LUT. The film box falls back to the printer's defaults for
unsupported values; an image box falls back to its film box's value (None).
"""

from __future__ import annotations

from typing import Any

from . import uids, values
from .attributes import Rule, referenced_uid, supported_in
from .profile import PrinterProfile
from .status import Status


def film_box_default(keyword: str):
    return lambda profile: getattr(profile.film_box, keyword)


def _no_override(profile: PrinterProfile) -> None:
    return None


def clamp_density(value: int, profile: PrinterProfile, warnings: list[Status]) -> int:
    """Clamp Min/Max Density to the printer's range, warning B605."""
    clamped = profile.clamp_density(value)
    if clamped != value:
        warnings.append(Status.DENSITY_CLAMPED)
    return clamped


def shared_rules(*, film_box: bool) -> tuple[Rule, ...]:
    """The shared rules, with film box or image box fallbacks."""

    def fallback(keyword: str) -> Any:
        return film_box_default(keyword) if film_box else _no_override

    return (
        Rule(
            "MagnificationType",
            values.code_string,
            check=supported_in(lambda p: p.magnification_types),
            default=fallback("MagnificationType"),
        ),
        Rule(
            "SmoothingType",
            values.code_string,
            check=supported_in(lambda p: p.smoothing_types),
            default=fallback("SmoothingType"),
        ),
        Rule("MinDensity", values.unsigned_short, check=clamp_density),
        Rule("MaxDensity", values.unsigned_short, check=clamp_density),
        Rule("ConfigurationInformation", values.short_text),
        Rule(
            "ReferencedPresentationLUTSequence",
            referenced_uid([uids.PresentationLUT]),
            attribute="ReferencedPresentationLUT",
        ),
    )
