"""Basic Annotation Box SOP Class (PS3.4 H.4.5): a line of text on the film."""

from __future__ import annotations

from attrs import define

from . import values
from .attributes import Rule

N_SET_RULES = (
    Rule("AnnotationPosition", values.unsigned_short, mandatory=True),
    Rule("TextString", values.long_string, empty=""),
)


@define
class AnnotationBox:
    """One annotation box of a film box: its position and its line of text."""

    SOPInstanceUID: str
    AnnotationPosition: int
    TextString: str = ""
