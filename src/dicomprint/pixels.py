"""The image an image box holds: Basic Grayscale / Color Image Sequence items.

The pixel module attributes are checked against the standard and the
printer profile, the Pixel Data length against Rows x Columns x Samples x
Bits Allocated, and the pixels are kept as a read-only numpy array:
``(Rows, Columns)`` for grayscale (uint8 or uint16, masked to Bits Stored;
the received bytes themselves when no bit above High Bit is set),
``(Rows, Columns, 3)`` for colour (a view; Planar Configuration 1 is not
copied).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from attrs import field, frozen
from pydicom.sequence import Sequence as DicomSequence

from .profile import PrinterProfile
from .status import PrintError, Status
from .values import pixel_aspect_ratio, quoted

_GRAYSCALE_PHOTOMETRIC = ("MONOCHROME1", "MONOCHROME2")


@frozen
class PixelImage:
    """One image of an image box, validated and decoded."""

    Rows: int
    Columns: int
    SamplesPerPixel: int
    PhotometricInterpretation: str
    BitsAllocated: int
    BitsStored: int
    HighBit: int
    PixelRepresentation: int
    pixels: np.ndarray = field(eq=False, repr=False)
    PlanarConfiguration: int | None = None
    PixelAspectRatio: tuple[int, int] = (1, 1)

    @property
    def is_color(self) -> bool:
        return self.SamplesPerPixel == 3

    @property
    def nbytes(self) -> int:
        return int(self.pixels.nbytes)

    @property
    def max_value(self) -> int:
        """The largest stored value: 2**BitsStored - 1."""
        return (1 << self.BitsStored) - 1


def _item_int(item: Any, keyword: str) -> int:
    if keyword not in item:
        raise PrintError(Status.MISSING_ATTRIBUTE, f"image sequence lacks {keyword}")
    try:
        value = item[keyword].value
    except Exception as exc:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{keyword}: {exc}") from exc
    if isinstance(value, bool) or not isinstance(value, int):
        raise PrintError(
            Status.INVALID_ATTRIBUTE_VALUE, f"{keyword}: {quoted(value)} is not a number"
        )
    return int(value)


def _invalid(comment: str) -> PrintError:
    return PrintError(Status.INVALID_ATTRIBUTE_VALUE, comment)


def parse_image_sequence(value: Any, profile: PrinterProfile, *, color: bool) -> PixelImage:
    """Validate one Basic Grayscale or Color Image Sequence; return its image."""
    if not isinstance(value, DicomSequence) or len(value) != 1:
        raise _invalid("image sequence must hold exactly one item")
    item = value[0]
    samples = _item_int(item, "SamplesPerPixel")
    rows = _item_int(item, "Rows")
    columns = _item_int(item, "Columns")
    allocated = _item_int(item, "BitsAllocated")
    stored = _item_int(item, "BitsStored")
    high_bit = _item_int(item, "HighBit")
    representation = _item_int(item, "PixelRepresentation")
    if "PhotometricInterpretation" not in item:
        raise PrintError(Status.MISSING_ATTRIBUTE, "image sequence lacks PhotometricInterpretation")
    photometric = str(item.PhotometricInterpretation).strip()
    if "PixelData" not in item:
        raise PrintError(Status.MISSING_ATTRIBUTE, "image sequence lacks PixelData")

    planar = None
    if color:
        if (samples, photometric) != (3, "RGB"):
            raise _invalid(f"colour images must be RGB with 3 samples, not {photometric}/{samples}")
        if (allocated, stored, high_bit) != (8, 8, 7):
            raise _invalid("colour images must have 8 bits allocated and stored, high bit 7")
        planar = _item_int(item, "PlanarConfiguration")
        if planar not in (0, 1):
            raise _invalid(f"Planar Configuration {planar} is not 0 or 1")
    else:
        if samples != 1 or photometric not in _GRAYSCALE_PHOTOMETRIC:
            raise _invalid(f"grayscale images must be MONOCHROME1/2, not {photometric}/{samples}")
        if allocated not in (8, 16) or stored > allocated:
            raise _invalid(f"Bits Allocated {allocated} with Bits Stored {stored}")
        if stored not in profile.grayscale_bits_stored:
            raise _invalid(f"Bits Stored {stored} is not supported by this printer")
        if high_bit != stored - 1:
            raise _invalid(f"High Bit {high_bit} must be Bits Stored - 1")
    if representation != 0:
        raise _invalid("Pixel Representation must be 0 (unsigned)")
    if rows < 1 or columns < 1:
        raise _invalid(f"image of {columns}x{rows} pixels is empty")
    limit = profile.max_image_dimension
    if rows > limit or columns > limit:
        # A legal image this printer cannot hold, like too many pixel bytes.
        raise PrintError(
            Status.RESOURCE_LIMITATION,
            f"image of {columns}x{rows} pixels: this printer takes at most {limit}x{limit}",
        )

    aspect = (1, 1)
    if "PixelAspectRatio" in item:
        try:
            aspect = pixel_aspect_ratio(item["PixelAspectRatio"].value)
        except (ValueError, TypeError) as exc:
            raise _invalid(f"PixelAspectRatio: {exc}") from exc

    try:
        data = item["PixelData"].value
    except Exception as exc:
        raise _invalid(f"PixelData: {exc}") from exc
    if not isinstance(data, bytes | bytearray):
        raise _invalid("PixelData must be native (uncompressed) bytes")
    expected = rows * columns * samples * allocated // 8
    if len(data) not in (expected, expected + 1) or (
        len(data) == expected + 1 and expected % 2 == 0
    ):
        raise _invalid(
            f"PixelData holds {len(data)} bytes; {columns}x{rows}x{samples} "
            f"at {allocated} bits needs {expected}"
        )
    pixels = _decode(bytes(data[:expected]), rows, columns, allocated, stored, planar)
    return PixelImage(
        Rows=rows,
        Columns=columns,
        SamplesPerPixel=samples,
        PhotometricInterpretation=photometric,
        BitsAllocated=allocated,
        BitsStored=stored,
        HighBit=high_bit,
        PixelRepresentation=representation,
        pixels=pixels,
        PlanarConfiguration=planar,
        PixelAspectRatio=aspect,
    )


def _decode(
    data: bytes, rows: int, columns: int, allocated: int, stored: int, planar: int | None
) -> np.ndarray:
    if planar is not None:
        flat = np.frombuffer(data, dtype=np.uint8)
        if planar == 0:
            return flat.reshape(rows, columns, 3)
        return flat.reshape(3, rows, columns).transpose(1, 2, 0)
    if allocated == 8:
        return np.frombuffer(data, dtype=np.uint8).reshape(rows, columns)
    pixels = np.frombuffer(data, dtype="<u2").reshape(rows, columns)
    # Bits above High Bit are not part of the value (PS3.5 8.1.1). Most
    # images have none set: then the received bytes serve as they are,
    # without a copy as large as the image.
    if stored < 16 and int(pixels.max()) >> stored:
        pixels = pixels & np.uint16((1 << stored) - 1)
        pixels.flags.writeable = False
    return pixels
