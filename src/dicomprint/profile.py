"""What a printer supports, as data: the printer profile.

One :class:`PrinterProfile` says which film sizes, display formats,
magnification types and densities a printer accepts, the defaults it applies
to optional attributes, its resolution, whether it prints colour, how strict
it is with attributes it does not support, and who it is (for Printer N-GET).
It loads from a TOML table (:meth:`PrinterProfile.from_mapping`).

The default profile meets PrintSCP's conformance statement and goes beyond it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen

from .film_sizes import FILM_SIZES_MM
from .layout import DisplayFormat
from .values import quoted

MAGNIFICATION_TYPES = ("REPLICATE", "BILINEAR", "CUBIC", "NONE")
PRESENTATION_LUT_SHAPES = ("IDENTITY", "LIN OD", "INVERSE")


@frozen
class PrinterIdentity:
    """Answers to Printer N-GET that describe the device."""

    PrinterName: str = "dicomprint"
    Manufacturer: str = "dicomprint"
    ManufacturerModelName: str = "dicomprint virtual printer"
    DeviceSerialNumber: str = "0"
    SoftwareVersions: str = "0.1.0"
    DateOfLastCalibration: str = ""
    TimeOfLastCalibration: str = ""


@frozen
class FilmBoxDefaults:
    """Values a film box takes when the SCU does not send them."""

    FilmOrientation: str = "PORTRAIT"
    FilmSizeID: str = "14INX17IN"
    MagnificationType: str = "BILINEAR"
    SmoothingType: str = ""
    BorderDensity: str = "BLACK"
    EmptyImageDensity: str = "BLACK"
    MinDensity: int = 0
    MaxDensity: int = 150
    Trim: str = "NO"
    ConfigurationInformation: str = ""
    Illumination: int = 150
    ReflectedAmbientLight: int = 0
    RequestedResolutionID: str = "STANDARD"
    AnnotationDisplayFormatID: str = ""


@frozen
class FilmSessionDefaults:
    """Values a film session takes when the SCU does not send them."""

    NumberOfCopies: int = 1
    PrintPriority: str = "MED"
    MediumType: str = "PAPER"
    FilmDestination: str = "MAGAZINE"


def _tuple(value: Any) -> tuple:
    return tuple(value)


@frozen
class PrinterProfile:
    """Capabilities, defaults and identity of one printer."""

    film_sizes: tuple[str, ...] = field(default=tuple(FILM_SIZES_MM), converter=_tuple)
    #: Largest STANDARD grid (columns, rows); ROW and COL obey the same limits.
    max_columns: int = 10
    max_rows: int = 10
    #: CUSTOM\i, SLIDE and SUPERSLIDE formats this printer defines, mapped to
    #: the STANDARD/ROW/COL layout they print as.
    custom_formats: Mapping[str, str] = field(factory=dict)
    magnification_types: tuple[str, ...] = field(default=MAGNIFICATION_TYPES, converter=_tuple)
    smoothing_types: tuple[str, ...] = field(default=("", "SMOOTH", "SHARP"), converter=_tuple)
    medium_types: tuple[str, ...] = field(
        default=("PAPER", "CLEAR FILM", "BLUE FILM", "MAMMO CLEAR FILM", "MAMMO BLUE FILM"),
        converter=_tuple,
    )
    #: Annotation Display Format ID -> number of annotation boxes it creates.
    annotation_formats: Mapping[str, int] = field(
        factory=lambda: {"BOTTOM": 1, "BOTTOM2": 2, "TOP_BOTTOM": 2}
    )
    presentation_lut_shapes: tuple[str, ...] = field(
        default=PRESENTATION_LUT_SHAPES, converter=_tuple
    )
    #: The printer's operating density range, in hundredths of OD; Min and
    #: Max Density outside it are clamped (warning B605). The default is
    #: PrintSCP's paper printer's range: its default film uses all of it, so
    #: the densest P-value prints black.
    min_density: int = 0
    max_density: int = 150
    #: Resolution in dots per inch for Requested Resolution ID STANDARD / HIGH.
    dpi_standard: int = 150
    dpi_high: int = 300
    color: bool = True
    #: Bits Stored accepted in grayscale image boxes (16 only where enabled).
    grayscale_bits_stored: tuple[int, ...] = field(default=(8, 10, 12), converter=_tuple)
    #: Largest Rows or Columns accepted in an image box.
    max_image_dimension: int = 16384
    max_copies: int = 32767
    #: Film session N-ACTION supported; when False, C616 guards unprinted boxes.
    film_session_print: bool = True
    collation: bool = True
    #: Reject what is not supported (0x0105 / 0x0106) instead of warning and
    #: defaulting (0x0107 / 0x0116).
    strict: bool = False
    #: Pixel bytes one session may hold before N-SET fails with 0x0213.
    max_session_pixel_bytes: int = 512 * 1024 * 1024
    #: Film boxes one film session may hold before N-CREATE fails with 0x0213.
    max_film_boxes: int = 100
    #: Its Min/Max Density are clamped into the range above when the profile
    #: is made, as the session clamps an SCU's: a film with nothing asked
    #: prints within what the printer can do.
    film_box: FilmBoxDefaults = field(factory=FilmBoxDefaults)
    film_session: FilmSessionDefaults = field(factory=FilmSessionDefaults)
    identity: PrinterIdentity = field(factory=PrinterIdentity)

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.min_density < self.max_density:
            raise ValueError(
                f"min_density {self.min_density} must be at least 0 and below"
                f" max_density {self.max_density}"
            )
        box = self.film_box
        fitted = attrs.evolve(
            box,
            MinDensity=self.clamp_density(box.MinDensity),
            MaxDensity=self.clamp_density(box.MaxDensity),
        )
        object.__setattr__(self, "film_box", fitted)  # frozen: set once, here

    def clamp_density(self, value: int) -> int:
        """``value`` (hundredths of OD) within ``min_density .. max_density``."""
        return min(max(value, self.min_density), self.max_density)

    def dpi(self, resolution_id: str) -> int:
        """Dots per inch for a Requested Resolution ID (STANDARD or HIGH)."""
        return self.dpi_high if resolution_id == "HIGH" else self.dpi_standard

    def display_format(self, text: str) -> DisplayFormat:
        """Parse and check an Image Display Format.

        Raises ValueError when the value is malformed or not supported here.
        """
        requested = DisplayFormat.parse(text)
        if requested.kind in ("STANDARD", "ROW", "COL"):
            layout = requested
        elif requested.text in self.custom_formats:
            layout = DisplayFormat.parse(self.custom_formats[requested.text])
        else:
            raise ValueError(f"{quoted(requested.text)} is not defined by this printer")
        lines = layout.lines
        per_line, line_count = (
            (self.max_rows, self.max_columns)
            if layout.kind == "COL"
            else (self.max_columns, self.max_rows)
        )
        if len(lines) > line_count or max(lines) > per_line:
            raise ValueError(
                f"{quoted(requested.text)} exceeds {self.max_columns} columns"
                f" x {self.max_rows} rows"
            )
        return DisplayFormat(layout.kind, layout.counts, requested.text)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PrinterProfile:
        """Build a profile from a TOML-style mapping; unknown keys raise ValueError.

        Nested tables ``film_box``, ``film_session`` and ``identity`` set the
        defaults and identity; everything else is a top-level field.
        """
        known = {f.name: f for f in attrs.fields(cls)}
        nested = {
            "film_box": FilmBoxDefaults,
            "film_session": FilmSessionDefaults,
            "identity": PrinterIdentity,
        }
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"unknown printer profile key: {key!r}")
            if key in nested:
                sub_fields = {f.name for f in attrs.fields(nested[key])}
                unknown = set(value) - sub_fields
                if unknown:
                    raise ValueError(f"unknown key in [{key}]: {sorted(unknown)[0]!r}")
                kwargs[key] = nested[key](**value)
            else:
                kwargs[key] = value
        profile = cls(**kwargs)
        unknown_sizes = set(profile.film_sizes) - set(FILM_SIZES_MM)
        if unknown_sizes:
            raise ValueError(f"film_sizes: unknown Film Size ID {sorted(unknown_sizes)[0]!r}")
        return profile

    @classmethod
    def from_toml(cls, path: str | Path) -> PrinterProfile:
        with open(path, "rb") as handle:
            return cls.from_mapping(tomllib.load(handle))


DEFAULT_PROFILE = PrinterProfile()
