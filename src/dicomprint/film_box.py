"""Basic Film Box SOP Class (PS3.4 H.4.2): one sheet of film and its layout."""

from __future__ import annotations

from typing import Any

from attrs import define, field

from . import uids, values
from .annotation_box import AnnotationBox
from .attributes import Rule, UnsupportedValueError, referenced_uid
from .display_attributes import film_box_default, shared_rules
from .film_sizes import FILM_SIZES_MM
from .image_box import ImageBox
from .layout import DisplayFormat
from .profile import PrinterProfile
from .status import Status
from .values import quoted


def _display_format(value: Any, profile: PrinterProfile, warnings: list[Status]) -> DisplayFormat:
    try:
        return profile.display_format(value)
    except ValueError as exc:
        raise UnsupportedValueError(str(exc)) from exc


def _film_size(value: str, profile: PrinterProfile, warnings: list[Status]) -> str:
    if value not in FILM_SIZES_MM or value not in profile.film_sizes:
        raise UnsupportedValueError(f"film size {quoted(value)} is not supported by this printer")
    return value


def _annotation_format(value: str, profile: PrinterProfile, warnings: list[Status]) -> str:
    if value not in profile.annotation_formats:
        raise UnsupportedValueError(
            f"annotation display format {quoted(value)} is not defined here"
        )
    return value


_SETTABLE = (
    *shared_rules(film_box=True),
    Rule("BorderDensity", values.density),
    Rule("EmptyImageDensity", values.density),
    Rule("Trim", values.enumerated("YES", "NO")),
    Rule("Illumination", values.positive_unsigned_short),
    Rule("ReflectedAmbientLight", values.unsigned_short),
)

N_CREATE_RULES = (
    # No default: an unsupported layout cannot be replaced by another one.
    Rule("ImageDisplayFormat", values.short_text, mandatory=True, check=_display_format),
    Rule(
        "ReferencedFilmSessionSequence",
        referenced_uid([uids.BasicFilmSession]),
        mandatory=True,
        attribute="ReferencedFilmSession",
    ),
    Rule("FilmOrientation", values.enumerated("PORTRAIT", "LANDSCAPE")),
    Rule(
        "FilmSizeID",
        values.code_string,
        check=_film_size,
        default=film_box_default("FilmSizeID"),
    ),
    Rule(
        "AnnotationDisplayFormatID",
        values.code_string,
        check=_annotation_format,
        default=film_box_default("AnnotationDisplayFormatID"),
    ),
    Rule("RequestedResolutionID", values.enumerated("STANDARD", "HIGH")),
    *_SETTABLE,
)

N_SET_RULES = _SETTABLE

#: Film box attributes echoed in the N-CREATE response.
RESPONSE_KEYWORDS = (
    "ImageDisplayFormat",
    "FilmOrientation",
    "FilmSizeID",
    "MagnificationType",
    "SmoothingType",
    "BorderDensity",
    "EmptyImageDensity",
    "MinDensity",
    "MaxDensity",
    "Trim",
    "ConfigurationInformation",
    "Illumination",
    "ReflectedAmbientLight",
    "RequestedResolutionID",
)


@define
class FilmBox:
    """A film box: its attributes, the image boxes and annotation boxes it owns."""

    SOPInstanceUID: str
    ImageDisplayFormat: DisplayFormat
    FilmOrientation: str
    FilmSizeID: str
    MagnificationType: str
    SmoothingType: str
    BorderDensity: str
    EmptyImageDensity: str
    MinDensity: int
    MaxDensity: int
    Trim: str
    ConfigurationInformation: str
    Illumination: int
    ReflectedAmbientLight: int
    RequestedResolutionID: str
    AnnotationDisplayFormatID: str = ""
    ReferencedPresentationLUT: str | None = None
    image_boxes: list[ImageBox] = field(factory=list)
    annotation_boxes: list[AnnotationBox] = field(factory=list)
    printed: bool = False

    @classmethod
    def with_defaults(
        cls, uid: str, display_format: DisplayFormat, profile: PrinterProfile
    ) -> FilmBox:
        d = profile.film_box
        return cls(
            SOPInstanceUID=uid,
            ImageDisplayFormat=display_format,
            FilmOrientation=d.FilmOrientation,
            FilmSizeID=d.FilmSizeID,
            MagnificationType=d.MagnificationType,
            SmoothingType=d.SmoothingType,
            BorderDensity=d.BorderDensity,
            EmptyImageDensity=d.EmptyImageDensity,
            MinDensity=d.MinDensity,
            MaxDensity=d.MaxDensity,
            Trim=d.Trim,
            ConfigurationInformation=d.ConfigurationInformation,
            Illumination=d.Illumination,
            ReflectedAmbientLight=d.ReflectedAmbientLight,
            RequestedResolutionID=d.RequestedResolutionID,
            AnnotationDisplayFormatID=d.AnnotationDisplayFormatID,
        )

    @property
    def is_color(self) -> bool:
        return any(box.is_color for box in self.image_boxes)

    @property
    def has_images(self) -> bool:
        return any(box.image is not None for box in self.image_boxes)

    def image_box(self, uid: str) -> ImageBox | None:
        return next((box for box in self.image_boxes if box.SOPInstanceUID == uid), None)

    def annotation_box(self, uid: str) -> AnnotationBox | None:
        return next((box for box in self.annotation_boxes if box.SOPInstanceUID == uid), None)

    def referenced_luts(self) -> set[str]:
        refs = {box.ReferencedPresentationLUT for box in self.image_boxes}
        refs.add(self.ReferencedPresentationLUT)
        return {uid for uid in refs if uid}

    @property
    def pixel_bytes(self) -> int:
        return sum(box.image.nbytes for box in self.image_boxes if box.image is not None)
