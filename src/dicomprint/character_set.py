"""Specific Character Set (0008,0005) for the text a data set sends.

Text read off the wire is Unicode, whatever character set it came in:
pydicom decodes each request with the Specific Character Set it names. A data
set sent without one is encoded in the default repertoire (ASCII), and
pydicom replaces whatever lies outside it with ``?``: a Film Session Label
of ``山田`` would come back as ``??``. So a data set with any text beyond
ASCII is declared ISO_IR 192 (UTF-8, PS3.3 C.12.1.1.2), which encodes every
character; an all-ASCII one is sent as before, without the attribute, which
every peer reads.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

__all__ = ["UTF8", "declare_character_set", "has_non_ascii_text"]

#: The Specific Character Set term for UTF-8.
UTF8 = "ISO_IR 192"

# Value representations whose text may use a Specific Character Set (PS3.5 6.1.2.3).
_TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UC", "UT", "PN"})


def has_non_ascii_text(dataset: Dataset) -> bool:
    """Whether any text value of ``dataset`` or its sequence items is not ASCII."""
    for element in dataset:
        if element.VR == "SQ":
            if any(has_non_ascii_text(item) for item in element.value or ()):
                return True
        elif element.VR in _TEXT_VRS and not _is_ascii(element.value):
            return True
    return False


def declare_character_set(dataset: Dataset) -> Dataset:
    """``dataset``, given Specific Character Set UTF-8 if its text needs one.

    A data set that already names a character set is left as it is: whoever
    made it chose its encoding. Sequence items inherit the top level's.
    """
    if "SpecificCharacterSet" not in dataset and has_non_ascii_text(dataset):
        dataset.SpecificCharacterSet = UTF8
    return dataset


def _is_ascii(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str | PersonName):
        return str(value).isascii()
    if isinstance(value, bytes):  # not decoded: its own character set already
        return True
    try:
        return all(_is_ascii(v) for v in value)  # type: ignore[attr-defined]
    except TypeError:
        return True
