"""Presentation LUT SOP Class (PS3.4 H.4.9): input values to P-values.

A LUT is either a shape (IDENTITY, LIN OD and, as PrintSCP accepts,
INVERSE) or an explicit table whose LUT Descriptor is checked against its
LUT Data. A shape the printer does not know is invalid (0x0106): there is no
sensible default to fall back to.
"""

from __future__ import annotations

from collections.abc import Sequence as AbcSequence
from typing import Any

import numpy as np
from attrs import field, frozen
from pydicom import Dataset
from pydicom.sequence import Sequence as DicomSequence

from .attributes import Rule, supported_in
from .status import PrintError, Status
from .values import code_string, long_string


@frozen
class PresentationLUT:
    """A Presentation LUT instance: a shape, or a table of P-values."""

    SOPInstanceUID: str
    PresentationLUTShape: str | None = None
    #: (number of entries, first input value mapped, bits per entry)
    LUTDescriptor: tuple[int, int, int] | None = None
    LUTExplanation: str = ""
    LUTData: np.ndarray | None = field(default=None, eq=False, repr=False)

    @classmethod
    def from_attributes(cls, uid: str, values: dict[str, Any]) -> PresentationLUT:
        """Build from validated N-CREATE values (see :data:`N_CREATE_RULES`)."""
        shape = values.get("PresentationLUTShape")
        table = values.get("PresentationLUTSequence")
        if shape is not None and table is not None:
            raise PrintError(
                Status.INVALID_ATTRIBUTE_VALUE,
                "Presentation LUT Shape and Presentation LUT Sequence are mutually exclusive",
            )
        if shape is not None:
            return cls(uid, PresentationLUTShape=shape)
        if table is not None:
            descriptor, explanation, data = table
            return cls(uid, LUTDescriptor=descriptor, LUTExplanation=explanation, LUTData=data)
        raise PrintError(
            Status.MISSING_ATTRIBUTE,
            "either Presentation LUT Shape or Presentation LUT Sequence is required",
        )

    def to_dataset(self) -> Dataset:
        ds = Dataset()
        if self.PresentationLUTShape is not None:
            ds.PresentationLUTShape = self.PresentationLUTShape
        return ds


def _parse_table(sequence: Any) -> tuple[tuple[int, int, int], str, np.ndarray]:
    if not isinstance(sequence, DicomSequence) or len(sequence) != 1:
        raise ValueError("Presentation LUT Sequence must hold exactly one item")
    item = sequence[0]
    for keyword in ("LUTDescriptor", "LUTData"):
        if keyword not in item:
            raise PrintError(Status.MISSING_ATTRIBUTE, f"Presentation LUT item lacks {keyword}")
    descriptor = item["LUTDescriptor"].value
    if isinstance(descriptor, str | bytes) or not isinstance(descriptor, AbcSequence):
        raise ValueError("LUT Descriptor must have three values")
    if len(descriptor) != 3:
        raise ValueError("LUT Descriptor must have three values")
    entries, first, bits = (int(v) for v in descriptor)
    entries = entries or 65536  # 0 stands for 2**16 (PS3.3 C.11.1.1)
    if not 2 <= entries <= 65536:
        raise ValueError(f"LUT Descriptor has {entries} entries")
    if not 8 <= bits <= 16:
        raise ValueError(f"LUT Descriptor gives {bits} bits per entry, not 8..16")
    data = _lut_data(item["LUTData"].value)
    if data.size != entries:
        raise ValueError(f"LUT Data holds {data.size} entries; the descriptor says {entries}")
    if int(data.max()) >= 1 << bits:
        raise ValueError(f"LUT Data has entries above {bits} bits")
    explanation = long_string(item.get("LUTExplanation", "") or "")
    data.flags.writeable = False
    return (entries, first, bits), explanation, data


def _lut_data(value: Any) -> np.ndarray:
    if isinstance(value, bytes | bytearray):
        if len(value) % 2:
            raise ValueError("LUT Data has an odd number of bytes")
        return np.frombuffer(bytes(value), dtype="<u2").astype(np.uint16)
    if isinstance(value, int):
        value = [value]
    array = np.asarray(list(value), dtype=np.int64)
    if array.size and (array.min() < 0 or array.max() > 0xFFFF):
        raise ValueError("LUT Data entries must be 0..65535")
    return array.astype(np.uint16)


N_CREATE_RULES = (
    Rule(
        "PresentationLUTShape",
        code_string,
        check=supported_in(lambda profile: profile.presentation_lut_shapes),
    ),
    Rule("PresentationLUTSequence", _parse_table),
)
