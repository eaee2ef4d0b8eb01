"""Resampling images to their printed size, with OpenCV.

OpenCV's ``cv2.resize`` was the fastest engine measured (see
``benchmarks/composite.py`` and ``docs/rendering.md``): several times faster
than Pillow and scikit-image, and it writes straight into a view of the film.

Magnification Type picks the filter (PS3.3 C.13.5.1): REPLICATE and NONE
replicate pixels (nearest neighbour, centred); BILINEAR and CUBIC interpolate,
CUBIC with Smoothing Type SHARP as Lanczos. When both axes shrink (decimation)
the interpolating types average over each film pixel's footprint instead
(``INTER_AREA``), since a 2- or 4-tap kernel stretched over many source pixels
would alias.
"""

from __future__ import annotations

import cv2
import numpy as np


def interpolation(magnification: str, smoothing: str, fx: float, fy: float) -> int:
    """The OpenCV interpolation flag for a magnification by (fx, fy)."""
    if magnification in ("REPLICATE", "NONE"):
        return cv2.INTER_NEAREST_EXACT
    if fx < 1 and fy < 1:
        return cv2.INTER_AREA
    if magnification == "CUBIC":
        return cv2.INTER_LANCZOS4 if smoothing == "SHARP" else cv2.INTER_CUBIC
    return cv2.INTER_LINEAR


def resize(
    src: np.ndarray, size: tuple[int, int], flag: int, dst: np.ndarray | None = None
) -> np.ndarray:
    """``src`` resampled to ``size`` (width, height), into ``dst`` when given."""
    if (src.shape[1], src.shape[0]) == size:
        if dst is None:
            return src
        np.copyto(dst, src)
        return dst
    return cv2.resize(src, size, dst=dst, interpolation=flag)
