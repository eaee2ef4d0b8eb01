"""Basic Film Session SOP Class (PS3.4 H.4.1): the root of one print job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import define, field

from . import values
from .attributes import Rule, UnsupportedValueError, supported_in
from .profile import PrinterProfile
from .status import Status

if TYPE_CHECKING:
    from .film_box import FilmBox


def _copies_supported(value: int, profile: PrinterProfile, warnings: list[Status]) -> int:
    if value > profile.max_copies:
        raise UnsupportedValueError(f"{value} copies exceeds this printer's {profile.max_copies}")
    return value


def _session_default(keyword: str):
    return lambda profile: getattr(profile.film_session, keyword)


#: N-CREATE and N-SET take the same attributes.
RULES = (
    Rule(
        "NumberOfCopies",
        values.integer_string(1),
        check=_copies_supported,
        default=_session_default("NumberOfCopies"),
    ),
    Rule("PrintPriority", values.enumerated("HIGH", "MED", "LOW")),
    Rule(
        "MediumType",
        values.code_string,
        check=supported_in(lambda p: p.medium_types),
        default=_session_default("MediumType"),
    ),
    Rule("FilmDestination", values.film_destination),
    Rule("FilmSessionLabel", values.long_string),
    Rule("MemoryAllocation", values.integer_string(0)),
    Rule("OwnerID", values.short_string),
)

#: Attributes returned in the N-CREATE response.
RESPONSE_KEYWORDS = (
    "NumberOfCopies",
    "PrintPriority",
    "MediumType",
    "FilmDestination",
    "FilmSessionLabel",
    "MemoryAllocation",
    "OwnerID",
)


@define
class FilmSession:
    """A film session and the film boxes created in it, oldest first."""

    SOPInstanceUID: str
    NumberOfCopies: int = 1
    PrintPriority: str = "MED"
    MediumType: str = "PAPER"
    FilmDestination: str = "MAGAZINE"
    FilmSessionLabel: str = ""
    MemoryAllocation: int | None = None
    OwnerID: str = ""
    film_boxes: list[FilmBox] = field(factory=list)

    @classmethod
    def with_defaults(cls, uid: str, profile: PrinterProfile) -> FilmSession:
        d = profile.film_session
        return cls(
            SOPInstanceUID=uid,
            NumberOfCopies=d.NumberOfCopies,
            PrintPriority=d.PrintPriority,
            MediumType=d.MediumType,
            FilmDestination=d.FilmDestination,
        )
