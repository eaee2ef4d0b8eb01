"""The Grayscale Standard Display Function and the hardcopy density model.

PS3.14 defines luminance as a function of the JND index ``j`` (1..1023,
0.05..3993.4 cd/m2) and its fitted inverse. For film (PS3.14 7.2/7.3) the
luminance a density shows is ``L = La + L0 * 10**-D``: ``L0`` is the light
box (Illumination), ``La`` the ambient light the film reflects (Reflected
Ambient Light); ``La = 0`` is the reflective (paper) model of 7.3.

P-values map linearly onto JND indices between the film's densest and
lightest luminance, so equal P steps are equal perceived steps.

:class:`DisplayScale` turns a density into the 8-bit value of a rendered
raster: the same perceptual (JND-linear) scale, spanning the printer's whole
density range under the film's illumination. Densest printable -> 0, lightest
-> 255. Monotone, and independent of the film box's Min/Max Density, so a
numeric Border Density and an image pixel of that density get one value.
"""

from __future__ import annotations

import numpy as np
from attrs import field, frozen
from numpy.typing import ArrayLike

# PS3.14 7.1, Barten model; coefficients as in DCMTK digsdfn.cc.
_A, _B, _C, _D, _E = -1.3011877, -2.5840191e-2, 8.0242636e-2, -1.0320229e-1, 1.3646699e-1
_F, _G, _H, _K, _M = 2.8745620e-2, -2.5468404e-2, -3.1978977e-3, 1.2992634e-4, 1.3635334e-3
# Inverse fit, lowest power first.
_INVERSE = (
    71.498068,
    94.593053,
    41.912053,
    9.8247004,
    0.28175407,
    -1.1878455,
    -0.18014349,
    0.14710899,
    -0.017046845,
)

J_MIN, J_MAX = 1.0, 1023.0
#: Luminance range the GSDF covers (L(1), L(1023)) in cd/m2.
L_MIN, L_MAX = 0.04998, 3993.33


def luminance(j: ArrayLike) -> np.ndarray:
    """Luminance in cd/m2 of JND index ``j`` (clipped to 1..1023)."""
    x = np.log(np.clip(np.asarray(j, dtype=np.float64), J_MIN, J_MAX))
    numerator = _A + x * (_C + x * (_E + x * (_G + x * _M)))
    denominator = 1 + x * (_B + x * (_D + x * (_F + x * (_H + x * _K))))
    return 10.0 ** (numerator / denominator)


def jnd_index(luminance_cd_m2: ArrayLike) -> np.ndarray:
    """JND index of a luminance, clipped to the GSDF's range first."""
    y = np.log10(np.clip(np.asarray(luminance_cd_m2, dtype=np.float64), L_MIN, L_MAX))
    return np.clip(np.polynomial.polynomial.polyval(y, _INVERSE), J_MIN, J_MAX)


@frozen
class HardcopyModel:
    """How a film of density D looks: ``L = La + L0 * 10**-D``."""

    #: L0: light box luminance without film, cd/m2 (Illumination).
    Illumination: float = field(converter=float)
    #: La: ambient light reflected by the film, cd/m2 (Reflected Ambient Light).
    ReflectedAmbientLight: float = field(default=0.0, converter=float)

    @Illumination.validator
    def _check_illumination(self, attribute, value: float) -> None:
        if not value > 0:
            raise ValueError("Illumination must be positive")

    def luminance(self, density: ArrayLike) -> np.ndarray:
        d = np.asarray(density, dtype=np.float64)
        return self.ReflectedAmbientLight + self.Illumination * 10.0**-d

    def density(self, luminance_cd_m2: ArrayLike) -> np.ndarray:
        """The density that shows ``luminance`` (inverse of :meth:`luminance`)."""
        above_ambient = np.asarray(luminance_cd_m2, dtype=np.float64) - self.ReflectedAmbientLight
        # Below La no density will do; the tiny floor keeps log10 finite.
        return -np.log10(np.maximum(above_ambient, 1e-12) / self.Illumination)

    def jnd_range(self, min_density: float, max_density: float) -> tuple[float, float]:
        """(jmin, jmax): JND indices of the densest and the lightest luminance."""
        j_dense = float(jnd_index(self.luminance(max_density)))
        j_light = float(jnd_index(self.luminance(min_density)))
        return j_dense, j_light

    def p_value_jnd(
        self, p_values: ArrayLike, p_max: int, min_density: float, max_density: float
    ) -> np.ndarray:
        """JND index of P-values in ``0..p_max`` on a film from Dmin to Dmax (PS3.14 7.2).

        Linear from jmin (P 0, the densest) to jmax (``p_max``, the lightest).
        """
        j_dense, j_light = self.jnd_range(min_density, max_density)
        p = np.asarray(p_values, dtype=np.float64)
        return j_dense + p * ((j_light - j_dense) / p_max)

    def p_value_density(
        self, p_values: ArrayLike, p_max: int, min_density: float, max_density: float
    ) -> np.ndarray:
        """Density of P-values in ``0..p_max`` on a film from Dmin to Dmax.

        P 0 is the densest (Dmax), ``p_max`` the lightest (Dmin). The result
        is clipped to [Dmin, Dmax]: outside it only the inverse fit's error
        (< 0.1 JND) could take it.
        """
        j = self.p_value_jnd(p_values, p_max, min_density, max_density)
        low, high = sorted((min_density, max_density))
        return np.clip(self.density(luminance(j)), low, high)


@frozen
class DisplayScale:
    """Density -> 8-bit raster value on the JND scale of the printer's range.

    ``value = 255 * (j(L(D)) - j(L(Dmax))) / (j(L(Dmin)) - j(L(Dmax)))`` with
    Dmin/Dmax the printer's operating range; densities outside it clip.
    """

    model: HardcopyModel
    min_density: float
    max_density: float

    def __attrs_post_init__(self) -> None:
        if not self.max_density > self.min_density:
            raise ValueError("the printer's max density must exceed its min density")

    @property
    def _jnd_span(self) -> tuple[float, float]:
        return self.model.jnd_range(self.min_density, self.max_density)

    def value(self, density: ArrayLike) -> np.ndarray:
        """Raster value (float, 0..255) of a density."""
        d = np.clip(np.asarray(density, dtype=np.float64), self.min_density, self.max_density)
        j_dense, j_light = self._jnd_span
        if j_light <= j_dense:  # the whole range is beyond the GSDF's: flat
            return np.where(d < self.max_density, 255.0, 0.0)
        return self.jnd_value(jnd_index(self.model.luminance(d)))

    def jnd_value(self, j: ArrayLike) -> np.ndarray:
        """Raster value (float, 0..255) of a JND index under this scale's light.

        P-values are linear in JND index, so a film's P-values land here as
        an exact straight line: the same value :meth:`value` gives their
        density, but for the inverse fit's error (< 0.1 JND, < 0.05 of a step).
        """
        j_dense, j_light = self._jnd_span
        if j_light <= j_dense:
            return np.where(np.asarray(j) > j_dense, 255.0, 0.0)
        span = 255.0 / (j_light - j_dense)
        return np.clip((np.asarray(j, dtype=np.float64) - j_dense) * span, 0.0, 255.0)

    def value_u8(self, density: ArrayLike) -> np.ndarray:
        return np.rint(self.value(density)).astype(np.uint8)

    def density(self, value: ArrayLike) -> np.ndarray:
        """The density a raster value stands for (inverse of :meth:`value`)."""
        j_dense, j_light = self._jnd_span
        v = np.clip(np.asarray(value, dtype=np.float64), 0.0, 255.0)
        j = j_dense + v * ((j_light - j_dense) / 255.0)
        return np.clip(self.model.density(luminance(j)), self.min_density, self.max_density)
