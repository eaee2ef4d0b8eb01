"""Basic Grayscale and Color Image Box SOP Classes (PS3.4 H.4.3, H.4.4).

The SCP creates one image box per position of the film box's Image Display
Format; the SCU fills them with N-SET. An N-SET replaces the image, and a
zero-length image sequence erases it.
"""

from __future__ import annotations

from functools import partial

from attrs import define

from . import uids, values
from .attributes import Rule
from .display_attributes import shared_rules
from .pixels import PixelImage, parse_image_sequence
from .profile import PrinterProfile


def n_set_rules(profile: PrinterProfile, *, color: bool) -> tuple[Rule, ...]:
    """The N-SET rules of a grayscale or colour image box."""
    common = (
        Rule("ImageBoxPosition", values.unsigned_short, mandatory=True),
        Rule("Polarity", values.enumerated("NORMAL", "REVERSE")),
        Rule("RequestedImageSize", values.positive_decimal),
        Rule(
            "RequestedDecimateCropBehavior",
            values.enumerated("DECIMATE", "CROP", "FAIL"),
        ),
    )
    shared = shared_rules(film_box=False)
    if color:
        image = Rule(
            "BasicColorImageSequence",
            partial(parse_image_sequence, profile=profile, color=True),
            attribute="image",
            empty=None,
        )
        # Min/Max Density, Configuration Information and the Presentation
        # LUT apply to grayscale only.
        shared = tuple(r for r in shared if r.keyword in ("MagnificationType", "SmoothingType"))
    else:
        image = Rule(
            "BasicGrayscaleImageSequence",
            partial(parse_image_sequence, profile=profile, color=False),
            attribute="image",
            empty=None,
        )
    return (*common, *shared, image)


@define
class ImageBox:
    """One image box: its position, its overrides and its image (or None)."""

    SOPInstanceUID: str
    SOPClassUID: str
    ImageBoxPosition: int
    Polarity: str = "NORMAL"
    MagnificationType: str | None = None
    SmoothingType: str | None = None
    MinDensity: int | None = None
    MaxDensity: int | None = None
    ConfigurationInformation: str | None = None
    RequestedImageSize: float | None = None
    RequestedDecimateCropBehavior: str | None = None
    ReferencedPresentationLUT: str | None = None
    image: PixelImage | None = None

    @property
    def is_color(self) -> bool:
        return self.SOPClassUID == uids.BasicColorImageBox
