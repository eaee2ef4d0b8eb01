"""Print-ready pixels from any image: what a print SCU must do before N-SET.

PS3.4 H.2.1.2 leaves the first steps of the print pipeline to the SCU: it
applies the Modality LUT and the VOI LUT and sends the result as P-values
(8 or 12 bits, MONOCHROME1/2) or as 8-bit RGB. :func:`prepare_image` does
that for a pydicom :class:`~pydicom.dataset.Dataset` (or a file path) or a
numpy array, and :meth:`PreparedImage.image_sequence_item` builds the Basic
Grayscale or Color Image Sequence item for the image box N-SET.

Grayscale, step by step:

1. Decode one frame (the first by default); signed pixels stay signed.
2. Modality LUT: Rescale Slope/Intercept or the Modality LUT Sequence
   (also from the functional groups of enhanced multi-frame images).
3. VOI to the range 0..1: an explicit ``window``; else the dataset's first
   VOI LUT Sequence item or first Window Center/Width (LINEAR, LINEAR_EXACT
   or SIGMOID); else the full range for 8-bit unsigned images (already
   display-ready); else an automatic window from the 0.5 and 99.5
   percentiles, ignoring Pixel Padding Value.
4. MONOCHROME1 is inverted, so the output is always MONOCHROME2.
5. Images larger than ``max_size`` are reduced (area averaging).
6. Quantised to ``bits`` (8 or 12) unsigned P-values.

Colour: YBR_FULL and YBR_FULL_422 are converted to RGB, PALETTE COLOR is
looked up, more than 8 bits per sample are scaled to 8; any Planar
Configuration is read. ``color=True`` turns a grayscale image into RGB after
its VOI, ``color=False`` a colour image into grayscale (ITU-R BT.601 luma).

The Modality and VOI transforms live in :mod:`dicomprint.voi`. Values
between the steps are float32 where that is exact for the input (integers
of up to 16 bits, float32) and float64 otherwise, in as few full-size arrays
as the steps allow: a 2048x2500 12-bit image peaks at about 60 MB (it was
174 MB all in float64); the output is within one step of exact double
precision (most values equal it).
"""

from __future__ import annotations

import os

import cv2
import numpy as np
from attrs import field, frozen
from pydicom import Dataset, dcmread
from pydicom.pixels import apply_color_lut, convert_color_space, get_decoder
from pydicom.uid import UID, ExplicitVRLittleEndian

from .voi import (
    FLOAT,
    Window,
    float_type,
    frame_view,
    modality_values,
    voi_unit,
    window_or_auto,
)

#: Grayscale P-value depths a Basic Grayscale Image Box takes (PS3.4 H.4.3).
GRAYSCALE_BITS = (8, 12)
_YBR = ("YBR_FULL", "YBR_FULL_422")
_GRAYSCALE = ("MONOCHROME1", "MONOCHROME2")
#: ITU-R BT.601 luma weights (R, G, B).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=FLOAT)

ImageSource = Dataset | np.ndarray | str | os.PathLike


@frozen
class PreparedImage:
    """Pixels ready for an image box, with the attributes that describe them.

    ``pixels`` is read-only: ``(Rows, Columns)`` uint8 (8 bits) or uint16
    (12 bits) MONOCHROME2 P-values, or ``(Rows, Columns, 3)`` uint8 RGB.
    ``window`` is the (center, width) applied, None when a VOI LUT table or
    the full range was used; ``scale`` the reduction factor (1.0: none).
    """

    pixels: np.ndarray = field(eq=False, repr=False)
    PhotometricInterpretation: str
    BitsStored: int
    PixelAspectRatio: tuple[int, int] = (1, 1)
    window: Window | None = None
    scale: float = 1.0

    @property
    def Rows(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def Columns(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def SamplesPerPixel(self) -> int:
        return 3 if self.is_color else 1

    @property
    def BitsAllocated(self) -> int:
        return 8 if self.BitsStored <= 8 else 16

    @property
    def is_color(self) -> bool:
        return self.pixels.ndim == 3

    def image_sequence_item(self, *, planar_configuration: int = 1) -> Dataset:
        """The one item of the Basic Grayscale or Color Image Sequence.

        Colour goes colour-by-plane (Planar Configuration 1) unless asked
        otherwise: the value PS3.3 C.13.5 gives the Basic Color Image
        Sequence as fo-dicom and ClearCanvas read it; printers that follow
        the general Image Pixel module accept 0 as well.
        """
        item = Dataset()
        item.SamplesPerPixel = self.SamplesPerPixel
        item.PhotometricInterpretation = self.PhotometricInterpretation
        item.Rows = self.Rows
        item.Columns = self.Columns
        item.BitsAllocated = self.BitsAllocated
        item.BitsStored = self.BitsStored
        item.HighBit = self.BitsStored - 1
        item.PixelRepresentation = 0
        if self.PixelAspectRatio != (1, 1):
            item.PixelAspectRatio = list(self.PixelAspectRatio)
        if self.is_color:
            if planar_configuration not in (0, 1):
                raise ValueError("Planar Configuration must be 0 or 1")
            item.PlanarConfiguration = planar_configuration
            data = self.pixels.transpose(2, 0, 1) if planar_configuration else self.pixels
            item.PixelData = np.ascontiguousarray(data, dtype=np.uint8).tobytes()
        elif self.BitsAllocated == 8:
            item.PixelData = np.ascontiguousarray(self.pixels, dtype=np.uint8).tobytes()
        else:
            item.PixelData = np.ascontiguousarray(self.pixels, dtype="<u2").tobytes()
        # OB for 8 bits allocated, OW for 16 (PS3.5 A.1/A.2, explicit VR).
        item["PixelData"].VR = "OW" if self.BitsAllocated == 16 else "OB"
        return item


def prepare_image(
    source: ImageSource | PreparedImage,
    *,
    bits: int = 12,
    color: bool | None = None,
    max_size: int | None = None,
    frame: int = 0,
    window: Window | str | None = None,
) -> PreparedImage:
    """Turn an image into print-ready pixels (see the module documentation).

    ``source``: a Dataset with Pixel Data, the path of a DICOM file, a numpy
    array (``(rows, columns)`` grayscale, ``(rows, columns, 3|4)`` RGB(A),
    with a leading frame axis for several frames) or an image already
    prepared (then only re-quantised, converted or reduced as asked).
    ``bits``: 8 or 12, for grayscale output; colour is always 8 bits.
    ``color``: None keeps the source's kind; True gives RGB; False grayscale.
    ``max_size``: largest Rows or Columns sent; larger images are reduced,
    keeping their aspect ratio.
    ``frame``: index of the frame of a multi-frame image, from 0.
    ``window``: (center, width) to use instead of the dataset's, ``"auto"``
    for the percentile window or ``"full"`` for the full range of values.

    Raises ValueError for images it cannot prepare (unsupported photometric
    interpretation, frame out of range, no pixel data).
    """
    if bits not in GRAYSCALE_BITS:
        raise ValueError(f"bits must be one of {GRAYSCALE_BITS}, not {bits!r}")
    if max_size is not None and max_size < 1:
        raise ValueError("max_size must be a positive number of pixels")
    if isinstance(source, PreparedImage):
        return _from_prepared(source, bits=bits, color=color, max_size=max_size)
    if isinstance(source, str | os.PathLike):
        source = dcmread(source)
    if isinstance(source, Dataset):
        return _from_dataset(
            source, bits=bits, color=color, max_size=max_size, frame=frame, window=window
        )
    if isinstance(source, np.ndarray):
        return _from_array(
            source, bits=bits, color=color, max_size=max_size, frame=frame, window=window
        )
    raise TypeError(f"cannot prepare a {type(source).__name__}: give a Dataset, path or array")


# -- Sources ------------------------------------------------------------------


def _from_dataset(
    ds: Dataset,
    *,
    bits: int,
    color: bool | None,
    max_size: int | None,
    frame: int,
    window: Window | str | None,
) -> PreparedImage:
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        raise ValueError("the dataset has no Pixel Data")
    frames = int(ds.get("NumberOfFrames") or 1)
    if not 0 <= frame < frames:
        raise ValueError(f"frame {frame} is outside 0..{frames - 1}")
    pixels, photometric = _decode(ds, frame)
    aspect = _pixel_aspect_ratio(ds)
    if photometric in _GRAYSCALE:
        view = frame_view(ds, frame)
        # No name keeps the modality values alive once the 0..1 image exists.
        unit, used = voi_unit(modality_values(pixels, view), view, pixels, window)
        if photometric == "MONOCHROME1":
            # VOI output 0 is white for MONOCHROME1 (PS3.3 C.7.6.3.1.2).
            np.subtract(FLOAT(1.0), unit, out=unit)
        return _finish_gray(unit, bits, color, max_size, aspect, used)
    rgb = _to_rgb(pixels, photometric, ds)
    return _finish_color(rgb, bits, color, max_size, aspect)


def _from_array(
    array: np.ndarray,
    *,
    bits: int,
    color: bool | None,
    max_size: int | None,
    frame: int,
    window: Window | str | None,
) -> PreparedImage:
    if array.dtype == bool:
        array = array.astype(np.uint8) * np.uint8(255)
    is_rgb = array.ndim >= 3 and array.shape[-1] in (3, 4)
    frame_axes = array.ndim - (3 if is_rgb else 2)
    if frame_axes not in (0, 1) or 0 in array.shape:
        raise ValueError(f"cannot print an array of shape {array.shape}")
    if frame_axes:
        if not 0 <= frame < array.shape[0]:
            raise ValueError(f"frame {frame} is outside 0..{array.shape[0] - 1}")
        array = array[frame]
    elif frame != 0:
        raise ValueError("a single image has only frame 0")
    if is_rgb:
        rgb = _unit_from_dtype(array[..., :3])
        return _finish_color(rgb, bits, color, max_size, (1, 1))
    values = array.astype(float_type(array.dtype))
    if window is None and array.dtype == np.uint8:
        window = "full"  # display-ready already
    unit, used = window_or_auto(values, window, _dtype_range(array.dtype), None)
    return _finish_gray(unit, bits, color, max_size, (1, 1), used)


def _from_prepared(
    image: PreparedImage, *, bits: int, color: bool | None, max_size: int | None
) -> PreparedImage:
    if image.is_color:
        rgb = _scaled(image.pixels, 255)
        return _finish_color(rgb, bits, color, max_size, image.PixelAspectRatio)
    unit = _scaled(image.pixels, (1 << image.BitsStored) - 1)
    if image.PhotometricInterpretation == "MONOCHROME1":
        np.subtract(FLOAT(1.0), unit, out=unit)
    return _finish_gray(unit, bits, color, max_size, image.PixelAspectRatio, image.window)


# -- Decoding -----------------------------------------------------------------


def _decode(ds: Dataset, frame: int) -> tuple[np.ndarray, str]:
    """One frame's pixels and the photometric interpretation they are in."""
    file_meta = getattr(ds, "file_meta", None)
    syntax = file_meta.get("TransferSyntaxUID") if file_meta is not None else None
    # A dataset built in memory has no transfer syntax; its native pixel
    # data is little endian like anything pydicom builds.
    decoder = get_decoder(UID(syntax) if syntax else ExplicitVRLittleEndian)
    try:
        # Not raw: the decoder converts YBR to RGB where it knows how, and
        # reports what it returns.
        pixels, meta = decoder.as_array(ds, index=frame)
    except (RuntimeError, NotImplementedError) as exc:
        raise ValueError(f"cannot decode the pixel data: {exc}") from exc
    photometric = str(meta.get("photometric_interpretation") or ds.PhotometricInterpretation)
    return pixels, photometric.strip()


def _to_rgb(pixels: np.ndarray, photometric: str, ds: Dataset) -> np.ndarray:
    """Colour pixels as RGB in 0..1."""
    if photometric == "PALETTE COLOR":
        depth = int(ds.RedPaletteColorLookupTableDescriptor[2])
        rgb = _scaled(apply_color_lut(pixels, ds), (1 << depth) - 1)
        return np.clip(rgb, 0.0, 1.0, out=rgb)
    stored = int(ds.get("BitsStored") or 8)
    if photometric in _YBR:
        if stored != 8:
            raise ValueError(f"{photometric} with {stored} bits per sample is not supported")
        pixels = convert_color_space(pixels, photometric, "RGB")
    elif photometric != "RGB":
        raise ValueError(f"cannot print Photometric Interpretation {photometric!r}")
    if pixels.ndim != 3 or pixels.shape[-1] != 3:
        raise ValueError(f"colour pixels of shape {pixels.shape}")
    return _scaled(pixels, (1 << stored) - 1)


def _pixel_aspect_ratio(ds: Dataset) -> tuple[int, int]:
    """Pixel Aspect Ratio (row spacing, column spacing) when not square."""
    value = ds.get("PixelAspectRatio")
    if value is not None:
        try:
            vertical, horizontal = (int(v) for v in value)
        except (TypeError, ValueError):
            return (1, 1)
        if vertical > 0 and horizontal > 0 and vertical != horizontal:
            return (vertical, horizontal)
    return (1, 1)


# -- Output -------------------------------------------------------------------------


def _finish_gray(
    unit: np.ndarray,
    bits: int,
    color: bool | None,
    max_size: int | None,
    aspect: tuple[int, int],
    window: Window | None,
) -> PreparedImage:
    unit, scale = _reduce(unit, max_size)
    if color:
        rgb = np.repeat(_quantise(unit, 8)[..., np.newaxis], 3, axis=2)
        return _prepared(rgb, "RGB", 8, aspect, window, scale)
    return _prepared(_quantise(unit, bits), "MONOCHROME2", bits, aspect, window, scale)


def _finish_color(
    rgb: np.ndarray,
    bits: int,
    color: bool | None,
    max_size: int | None,
    aspect: tuple[int, int],
) -> PreparedImage:
    rgb, scale = _reduce(rgb, max_size)
    if color is False:
        luma = rgb @ _LUMA
        np.clip(luma, 0.0, 1.0, out=luma)
        return _prepared(_quantise(luma, bits), "MONOCHROME2", bits, aspect, None, scale)
    return _prepared(_quantise(rgb, 8), "RGB", 8, aspect, None, scale)


def _prepared(
    pixels: np.ndarray,
    photometric: str,
    bits: int,
    aspect: tuple[int, int],
    window: Window | None,
    scale: float,
) -> PreparedImage:
    pixels = np.ascontiguousarray(pixels)
    pixels.flags.writeable = False
    return PreparedImage(pixels, photometric, bits, aspect, window, scale)


def _quantise(unit: np.ndarray, bits: int) -> np.ndarray:
    """0..1 to unsigned integers 0..2**bits - 1, rounding half up."""
    top = (1 << bits) - 1
    values = np.multiply(unit, top, dtype=FLOAT)
    np.clip(values, 0.0, top, out=values)
    values += FLOAT(0.5)
    np.floor(values, out=values)
    return values.astype(np.uint8 if bits <= 8 else np.uint16)


def _reduce(image: np.ndarray, max_size: int | None) -> tuple[np.ndarray, float]:
    """Shrink so that neither side exceeds ``max_size``; (image, factor)."""
    rows, columns = image.shape[:2]
    if max_size is None or max(rows, columns) <= max_size:
        return image, 1.0
    factor = max_size / max(rows, columns)
    size = (max(1, round(columns * factor)), max(1, round(rows * factor)))
    # Area averaging: every source pixel counts, no aliasing of fine detail.
    reduced = cv2.resize(image.astype(FLOAT, copy=False), size, interpolation=cv2.INTER_AREA)
    return reduced, factor


def _unit_from_dtype(array: np.ndarray) -> np.ndarray:
    """Colour samples to 0..1: integers by their type's range, floats as given."""
    if np.issubdtype(array.dtype, np.integer):
        unit = _scaled(array, np.iinfo(array.dtype).max)
    else:
        unit = array.astype(FLOAT)
    return np.clip(unit, 0.0, 1.0, out=unit)


def _scaled(array: np.ndarray, top: int) -> np.ndarray:
    """``array / top`` as a new float32 array."""
    unit = array.astype(FLOAT)
    unit /= FLOAT(top)
    return unit


def _dtype_range(dtype: np.dtype) -> tuple[float, float] | None:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return float(info.min), float(info.max)
    return None
