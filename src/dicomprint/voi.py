"""Grayscale values to 0..1: the Modality LUT and VOI LUT transforms (PS3.3 C.11).

Used by :mod:`dicomprint.prepare`. Modality: Rescale Slope/Intercept or the
Modality LUT Sequence. VOI: a VOI LUT Sequence, Window Center/Width with
VOI LUT Function LINEAR, LINEAR_EXACT or SIGMOID, the full range of the
stored bits, or an automatic window from percentiles.

The LUT tables are applied here rather than with pydicom's ``apply_voi`` and
``apply_modality_lut``: in pydicom 3.0 the first wraps indices when a table
has 8-bit entries and more than 256 of them, the second fails on entry sizes
other than 8 and 16 bits (pydicom issue #2317).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydicom import Dataset

log = logging.getLogger(__name__)

#: The percentiles of the automatic window.
AUTO_WINDOW_PERCENTILES = (0.5, 99.5)
#: At most this many pixels are sampled to find the automatic window.
_AUTO_WINDOW_SAMPLES = 1 << 20

Window = tuple[float, float]

#: The type of 0..1 values, and of modality values from pixels it holds
#: exactly (see :func:`float_type`): half the memory of float64 (a 2048x2500
#: image: 20 MB a copy), and well below one step of the 12-bit output.
FLOAT = np.float32


def float_type(dtype: np.dtype) -> type:
    """float32 for values it holds exactly (integers of up to 16 bits, float32), else float64.

    32-bit integers and float64 values may differ by less than float32 can
    tell apart (1e6 + 0.001, say); they keep double precision.
    """
    dtype = np.dtype(dtype)
    if dtype == np.float32 or dtype.kind == "b" or (dtype.kind in "ui" and dtype.itemsize <= 2):
        return FLOAT
    return np.float64


def frame_view(ds: Dataset, frame: int) -> Dataset:
    """``ds`` with the frame's Pixel Value Transformation and Frame VOI LUT on top.

    Enhanced multi-frame images keep rescale and window in the shared or
    per-frame functional groups instead of the top level.
    """
    groups = []
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and frame < len(per_frame):
        groups.append(per_frame[frame])
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        groups.append(shared[0])
    found: dict[str, Any] = {}
    for group in groups:
        for sequence in ("PixelValueTransformationSequence", "FrameVOILUTSequence"):
            if sequence in group and len(group[sequence].value):
                for element in group[sequence].value[0]:
                    found.setdefault(element.keyword, element)
    if not found:
        return ds
    view = Dataset()
    view.update(ds)
    for element in found.values():
        view[element.tag] = element
    return view


def modality_values(pixels: np.ndarray, ds: Dataset) -> np.ndarray:
    """Modality values (float) of stored values: LUT table or rescale."""
    if ds.get("ModalityLUTSequence"):
        return lut_lookup(pixels, ds.ModalityLUTSequence[0], ds)[0]
    kind = float_type(pixels.dtype)
    values = pixels.astype(kind)
    slope = ds.get("RescaleSlope")
    intercept = ds.get("RescaleIntercept")
    if slope is not None and intercept is not None:
        values *= kind(slope)
        values += kind(intercept)
    return values


def voi_unit(
    values: np.ndarray, ds: Dataset, stored: np.ndarray, window: Window | str | None
) -> tuple[np.ndarray, Window | None]:
    """Modality values to 0..1 and the window used (None for a table or full range)."""
    if window is None and ds.get("VOILUTSequence"):
        looked_up, top = lut_lookup(values, ds.VOILUTSequence[0], ds)
        looked_up /= FLOAT(top)
        return np.clip(looked_up, 0.0, 1.0, out=looked_up), None
    function = str(ds.get("VOILUTFunction") or "LINEAR").strip().upper()
    if window is None and "WindowCenter" in ds and "WindowWidth" in ds:
        center, width = _first(ds.WindowCenter), _first(ds.WindowWidth)
        if _window_valid(width, function):
            return apply_window(values, center, width, function), (center, width)
        log.warning("ignoring Window Width %r (%s): using an automatic window", width, function)
        window = "auto"
    full = modality_range(ds)
    if window is None and full is not None and _is_display_ready(ds):
        window = "full"
    padding = ds.get("PixelPaddingValue")
    mask = stored != padding if padding is not None and not isinstance(padding, bytes) else None
    return window_or_auto(values, window, full, mask)


def window_or_auto(
    values: np.ndarray,
    window: Window | str | None,
    full: tuple[float, float] | None,
    mask: np.ndarray | None,
) -> tuple[np.ndarray, Window | None]:
    """Apply an explicit (LINEAR) window, the full range or the automatic window."""
    if isinstance(window, tuple | list):
        center, width = float(window[0]), float(window[1])
        if not _window_valid(width, "LINEAR"):
            raise ValueError(f"window width {width} must be at least 1")
        return apply_window(values, center, width, "LINEAR"), (center, width)
    if window not in (None, "auto", "full"):
        raise ValueError(f"window must be (center, width), 'auto' or 'full', not {window!r}")
    if window == "full":
        low, high = full if full is not None else (float(values.min()), float(values.max()))
        return _stretch(values, low, high), None
    low, high = _auto_range(values, mask)
    if high <= low:
        # A flat image: show it as a value in the full range, not as noise.
        low, high = full if full is not None else (low - 0.5, high + 0.5)
        return _stretch(values, low, high), None
    # Equivalent LINEAR_EXACT window: low maps to 0, high to 1.
    return _stretch(values, low, high), ((low + high) / 2.0, high - low)


def apply_window(values: np.ndarray, center: float, width: float, function: str) -> np.ndarray:
    """Window Center/Width to 0..1 (PS3.3 C.11.2.1.2 and C.11.2.1.3), as a new array."""
    if function == "SIGMOID":
        out = _minus(values, center)
        out *= -4.0 / width
        np.exp(out, out=out)
        out += FLOAT(1.0)
        return np.reciprocal(out, out=out)
    if function == "LINEAR_EXACT":
        return _stretch(values, center - width / 2.0, center + width / 2.0)
    # LINEAR: x <= c - 0.5 - (w-1)/2 gives the minimum, x > c - 0.5 + (w-1)/2
    # the maximum, linear in between.
    if width == 1:
        return (values > center - 0.5).astype(FLOAT)
    out = _minus(values, center - 0.5)
    out /= width - 1.0
    out += 0.5
    return np.clip(out, 0.0, 1.0, out=out)


def _window_valid(width: float, function: str) -> bool:
    return width >= 1 if function == "LINEAR" else width > 0


def _stretch(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``low`` to 0 and ``high`` to 1, clipped, as a new array."""
    if high <= low:
        return (values > low).astype(FLOAT)
    out = _minus(values, low)
    out /= high - low
    return np.clip(out, 0.0, 1.0, out=out)


def _minus(values: np.ndarray, offset: float) -> np.ndarray:
    """``values - offset`` as a new array: in double precision when ``values`` are,
    else in float32 (the difference from the window's edge keeps what matters)."""
    kind = np.float64 if values.dtype == np.float64 else FLOAT
    return np.subtract(values, offset, dtype=kind)


def _auto_range(values: np.ndarray, mask: np.ndarray | None) -> tuple[float, float]:
    """The percentile range of ``values`` (sampled; padding left out)."""
    step = max(1, int(np.sqrt(values.size / _AUTO_WINDOW_SAMPLES)))
    sample = values[::step, ::step]
    if mask is not None:
        kept = sample[mask[::step, ::step]]
        sample = kept if kept.size else sample
    low, high = np.percentile(sample, AUTO_WINDOW_PERCENTILES)
    return float(low), float(high)


def modality_range(ds: Dataset) -> tuple[float, float] | None:
    """The range of modality values the stored bits can express."""
    try:
        stored = int(ds.BitsStored)
        signed = int(ds.get("PixelRepresentation") or 0) == 1
    except (AttributeError, TypeError, ValueError):
        return None
    if ds.get("ModalityLUTSequence"):
        depth = _lut_descriptor(ds.ModalityLUTSequence[0], ds)[2]
        return 0.0, float((1 << depth) - 1)
    if signed:
        low, high = -(1 << (stored - 1)), (1 << (stored - 1)) - 1
    else:
        low, high = 0, (1 << stored) - 1
    slope = float(ds.get("RescaleSlope") or 1.0)
    intercept = float(ds.get("RescaleIntercept") or 0.0)
    ends = sorted((low * slope + intercept, high * slope + intercept))
    return ends[0], ends[1]


def _is_display_ready(ds: Dataset) -> bool:
    """8-bit unsigned values without rescale are meant to be shown as they are."""
    return (
        int(ds.get("BitsStored") or 0) <= 8
        and int(ds.get("PixelRepresentation") or 0) == 0
        and not ds.get("ModalityLUTSequence")
        and float(ds.get("RescaleSlope") or 1.0) == 1.0
        and float(ds.get("RescaleIntercept") or 0.0) == 0.0
    )


def _first(value: Any) -> float:
    """The first of a multi-valued DS (several alternative windows)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        value = value[0]
    return float(value)


# -- LUT tables -----------------------------------------------------------------


def _lut_descriptor(item: Dataset, ds: Dataset) -> tuple[int, int, int]:
    entries, first, depth = (int(v) for v in item.LUTDescriptor)
    entries = entries or 65536  # 0 means 2**16 entries (PS3.3 C.11.1.1)
    if first >= 32768 and int(ds.get("PixelRepresentation") or 0) == 1:
        first -= 65536  # read as US, meant as SS for signed pixels
    return entries, first, depth


def lut_lookup(values: np.ndarray, item: Dataset, ds: Dataset) -> tuple[np.ndarray, float]:
    """``values`` through a Modality or VOI LUT item; the table's largest possible output.

    Inputs below the first mapped value take the first entry, beyond the
    last the last entry (PS3.3 C.11.1.1 and C.11.2.1.1).
    """
    entries, first, depth = _lut_descriptor(item, ds)
    data = item.LUTData
    if isinstance(data, bytes | bytearray):
        little = getattr(ds, "original_encoding", (None, True))[1] is not False
        dtype = np.uint8 if len(data) == entries else np.dtype("<u2" if little else ">u2")
        table = np.frombuffer(bytes(data), dtype=dtype)[:entries]
    else:
        table = np.asarray([data] if isinstance(data, int) else list(data), dtype=np.int64)
    if table.size == 0:
        raise ValueError("empty LUT Data")
    index = np.rint(values).astype(np.int64)
    index -= first
    np.clip(index, 0, table.size - 1, out=index)
    top = float((1 << depth) - 1)
    largest = int(table.max())
    if largest > top:
        # Tables whose descriptor understates their entry size exist in the wild.
        top = float((1 << largest.bit_length()) - 1)
    return table.astype(FLOAT)[index], top
