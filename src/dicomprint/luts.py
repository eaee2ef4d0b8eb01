"""Look-up tables from stored pixel values to 8-bit raster values.

The print pipeline of PS3.4 H.2.1.2, from what the SCU sends to what prints:

1. Polarity: REVERSE inverts relative to the Photometric Interpretation.
   MONOCHROME1 is inverted too, so that the larger value is the lighter one;
   both together cancel (as DCMTK does).
2. Presentation LUT (image box overrides film box): IDENTITY, INVERSE or an
   explicit table gives P-values; LIN OD gives densities directly, linear from
   Min Density (input 0) to Max Density. No LUT at all acts as IDENTITY.
3. P-values to density through the GSDF between the image's Min and Max
   Density (:meth:`HardcopyModel.p_value_density`).
4. Density to raster value with the film's :class:`DisplayScale` (for
   P-values straight from their JND index, which is the same up to the
   GSDF inverse fit's error).

Every step works on one entry per possible stored value (at most 65536), so
an image costs a single table look-up, whatever its size.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from attrs import field, frozen

from .gsdf import DisplayScale, HardcopyModel
from .presentation_lut import PresentationLUT
from .values import quoted


def input_values(bits_stored: int, invert: bool) -> np.ndarray:
    """Every stored value ``0..2**bits - 1``, inverted if asked."""
    values = np.arange(1 << bits_stored, dtype=np.int64)
    return values[::-1].copy() if invert else values


def inverts(photometric: str, polarity: str) -> bool:
    """MONOCHROME1 and REVERSE each invert; together they cancel."""
    return (photometric == "MONOCHROME1") != (polarity == "REVERSE")


def p_values(
    values: np.ndarray, bits_stored: int, lut: PresentationLUT | None
) -> tuple[np.ndarray, int]:
    """P-values of input ``values`` and the largest P-value (not for LIN OD)."""
    v_max = (1 << bits_stored) - 1
    shape = lut.PresentationLUTShape if lut is not None else "IDENTITY"
    if lut is not None and lut.LUTData is not None and lut.LUTDescriptor is not None:
        entries, first, bits = lut.LUTDescriptor
        # Inputs before the first entry map to it, beyond the last to the last
        # (PS3.3 C.11.1.1).
        index = np.clip(values - first, 0, entries - 1)
        return lut.LUTData[index].astype(np.int64), (1 << bits) - 1
    if shape == "INVERSE":
        return v_max - values, v_max
    if shape == "IDENTITY":
        return values, v_max
    raise ValueError(f"Presentation LUT Shape {quoted(shape)} does not give P-values")


def densities(
    bits_stored: int,
    invert: bool,
    lut: PresentationLUT | None,
    min_density: float,
    max_density: float,
    model: HardcopyModel,
) -> np.ndarray:
    """Optical density printed for each stored value."""
    values = input_values(bits_stored, invert)
    if lut is not None and lut.PresentationLUTShape == "LIN OD":
        # Input 0 is Min Density, the lightest (as DCMTK reads the standard).
        fraction = values / ((1 << bits_stored) - 1)
        return min_density + fraction * (max_density - min_density)
    p, p_max = p_values(values, bits_stored, lut)
    return model.p_value_density(p, p_max, min_density, max_density)


def display_values(
    bits_stored: int,
    invert: bool,
    lut: PresentationLUT | None,
    min_density: float,
    max_density: float,
    scale: DisplayScale,
) -> np.ndarray:
    """Raster value (float) for each stored value of a grayscale image."""
    values = input_values(bits_stored, invert)
    if lut is not None and lut.PresentationLUTShape == "LIN OD":
        d = densities(bits_stored, invert, lut, min_density, max_density, scale.model)
        return scale.value(d)
    p, p_max = p_values(values, bits_stored, lut)
    # Straight from the JND index: a P-value's density shows as its JND.
    return scale.jnd_value(scale.model.p_value_jnd(p, p_max, min_density, max_density))


def _wide_lut_supported() -> bool:
    """OpenCV 5 looks 16-bit images up in a 65536-entry table; 4.x takes 8-bit only."""
    try:
        cv2.LUT(np.zeros((1, 1), np.uint16), np.zeros(1 << 16, np.uint8))
    except cv2.error:
        return False
    return True


WIDE_LUT = _wide_lut_supported()


@frozen
class ToneTable:
    """A uint8 table for stored values and, when it is one, its straight line.

    A table that equals OpenCV's rounded ``alpha * x + beta`` for every input
    (IDENTITY and INVERSE tables are such lines, since P-values are linear
    in JND index) is applied as one vectorised multiply-add instead of a
    gather: several times faster on 10- to 16-bit images. Other tables for
    such images (an explicit Presentation LUT, LIN OD) are gathers: with
    OpenCV's 16-bit ``cv2.LUT`` where it has one (about 3x faster than
    ``np.take``), on the table widened to every 16-bit value.
    """

    table: np.ndarray = field(eq=False, repr=False)
    ramp: tuple[float, float] | None = None
    wide: np.ndarray | None = field(default=None, eq=False, repr=False)

    @classmethod
    def from_values(cls, values: np.ndarray) -> ToneTable:
        table = np.rint(np.clip(values, 0, 255)).astype(np.uint8)
        if values.size <= 256:  # cv2.LUT already serves 8-bit images
            return cls(table)
        alpha = (values[-1] - values[0]) / (values.size - 1)
        beta = float(values[0])
        domain = np.arange(values.size, dtype=np.uint16)
        if np.array_equal(cv2.convertScaleAbs(domain, alpha=alpha, beta=beta).ravel(), table):
            return cls(table, (alpha, beta))
        # Values past the table print as its last entry, as np.take(mode="clip").
        wide = np.pad(table, (0, (1 << 16) - table.size), mode="edge") if WIDE_LUT else None
        return cls(table, None, wide)

    def apply(self, stored: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """uint8 values of ``stored`` (into ``out`` when given)."""
        if stored.dtype == np.uint8:
            return cv2.LUT(stored, self.table, dst=out)
        if self.ramp is not None:
            alpha, beta = self.ramp
            return cv2.convertScaleAbs(stored, dst=out, alpha=alpha, beta=beta)
        if self.wide is not None and stored.dtype == np.uint16:
            return cv2.LUT(stored, self.wide, dst=out)
        return np.take(self.table, stored, out=out, mode="clip")


def grayscale_lut(
    bits_stored: int,
    invert: bool,
    lut: PresentationLUT | None,
    min_density: float,
    max_density: float,
    scale: DisplayScale,
) -> ToneTable:
    """The table from stored values of a grayscale image to raster values.

    Tables of a LUT shape (or of no LUT) are kept: a printer prints the same
    few over and over, and building one costs more than applying it.
    """
    if lut is None or lut.LUTData is None:
        shape = "IDENTITY" if lut is None else lut.PresentationLUTShape
        return _shape_lut(bits_stored, invert, shape, min_density, max_density, scale)
    values = display_values(bits_stored, invert, lut, min_density, max_density, scale)
    return ToneTable.from_values(values)


@functools.lru_cache(maxsize=32)
def _shape_lut(
    bits_stored: int,
    invert: bool,
    shape: str | None,
    min_density: float,
    max_density: float,
    scale: DisplayScale,
) -> ToneTable:
    lut = PresentationLUT("", PresentationLUTShape=shape) if shape != "IDENTITY" else None
    tone = ToneTable.from_values(
        display_values(bits_stored, invert, lut, min_density, max_density, scale)
    )
    for shared in (tone.table, tone.wide):  # by every film that uses it
        if shared is not None:
            shared.flags.writeable = False
    return tone


def color_lut(invert: bool) -> ToneTable:
    """Colour samples keep their values; REVERSE inverts them."""
    table = np.arange(256, dtype=np.uint8)
    return ToneTable(table[::-1].copy() if invert else table)
