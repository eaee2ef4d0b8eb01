"""Specific Character Set (0008,0005) for the text a data set sends.

Text read off the wire is Unicode, whatever character set it came in:
pydicom decodes each request with the Specific Character Set it names. A data
set sent without one is for the default repertoire (ASCII): pydicom writes
Latin-1 bytes the peer may read as something else, and ``?`` for anything
beyond Latin-1, so a Film Session Label of ``山田`` came back as ``??``.
A data set whose text goes beyond ASCII therefore names a character set:
ISO_IR 100 (Latin-1) when every character is in it, as most devices read
that one; ISO_IR 192 (UTF-8, PS3.3 C.12.1.1.2) otherwise, which encodes
every character. An all-ASCII data set is sent as before, without the
attribute, which every peer reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

__all__ = [
    "LATIN1",
    "UTF8",
    "character_set_for",
    "declare_character_set",
]

#: The Specific Character Set terms for ISO 8859-1 and for UTF-8.
LATIN1 = "ISO_IR 100"
UTF8 = "ISO_IR 192"

# Value representations whose text may use a Specific Character Set (PS3.5 6.1.2.3).
_TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UC", "UT", "PN"})


def character_set_for(dataset: Dataset) -> str | None:
    """The character set ``dataset``'s text needs: None (ASCII), LATIN1 or UTF8.

    Sequence items count too; a Specific Character Set already there does not.
    """
    beyond = [text for text in _texts(dataset) if not text.isascii()]
    if not beyond:
        return None
    return LATIN1 if all(_fits_latin1(text) for text in beyond) else UTF8


def declare_character_set(dataset: Dataset) -> Dataset:
    """``dataset``, naming Latin-1 or UTF-8 if its text needs a character set.

    A data set that already names one is left as it is: whoever made it
    chose its encoding. Sequence items inherit the top level's.
    """
    if "SpecificCharacterSet" not in dataset:
        needed = character_set_for(dataset)
        if needed is not None:
            dataset.SpecificCharacterSet = needed
    return dataset


def _texts(dataset: Dataset) -> Iterator[str]:
    """Every decoded text value of ``dataset`` and its sequence items."""
    for element in dataset:
        if element.VR == "SQ":
            for item in element.value or ():
                yield from _texts(item)
        elif element.VR in _TEXT_VRS:
            yield from _strings(element.value)


def _strings(value: object) -> Iterator[str]:
    if value is None or isinstance(value, bytes):  # not decoded: its own character set
        return
    if isinstance(value, str | PersonName):
        yield str(value)
        return
    try:
        items = iter(value)  # type: ignore[call-overload]
    except TypeError:
        return
    for item in items:
        yield from _strings(item)


def _fits_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
