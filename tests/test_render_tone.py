"""Grayscale tone: polarity, MONOCHROME1, Presentation LUTs and densities, in printed pixels.

With ``PROFILE`` the film spans the printer's range, so a P-value prints as
``round(P * 255 / Pmax)``; the expected values below follow by hand from
PS3.4 H.2.1.2 and PS3.14.
"""

from __future__ import annotations

import numpy as np
import pytest

from dicomprint import PresentationLUT, luts, uids
from dicomprint.gsdf import DisplayScale, HardcopyModel
from dicomprint.luts import ToneTable, grayscale_lut
from render_support import PROFILE, cell_centres, film_box, gray, p_display, render


def printed(
    values,
    *,
    bits=8,
    photometric="MONOCHROME2",
    polarity="NORMAL",
    film_lut=None,
    box_lut=None,
    profile=PROFILE,
    **film_attributes,
) -> list[int]:
    """Print one uniform image per value, side by side; read each back."""
    display_format = f"STANDARD\\{len(values)},1"
    box = film_box(display_format, profile=profile, **film_attributes)
    luts = {}
    if film_lut is not None:
        box.ReferencedPresentationLUT = film_lut.SOPInstanceUID
        luts[film_lut.SOPInstanceUID] = film_lut
    for image_box, value in zip(box.image_boxes, values, strict=True):
        dtype = np.uint8 if bits == 8 else np.uint16
        image_box.image = gray(np.full((8, 8), value, dtype=dtype), bits, photometric)
        image_box.Polarity = polarity
        if box_lut is not None:
            image_box.ReferencedPresentationLUT = box_lut.SOPInstanceUID
            luts[box_lut.SOPInstanceUID] = box_lut
    film, _ = render(box, profile=profile, luts=luts)
    height, width = film.pixels.shape
    return [int(film.pixels[y, x]) for x, y in cell_centres(display_format, width, height)]


def shape(name: str) -> PresentationLUT:
    return PresentationLUT(uids.new_uid(), PresentationLUTShape=name)


def table(entries, first: int, bits: int) -> PresentationLUT:
    data = np.asarray(entries, dtype=np.uint16)
    return PresentationLUT(uids.new_uid(), LUTDescriptor=(data.size, first, bits), LUTData=data)


VALUES_8 = [0, 1, 64, 128, 200, 255]


def test_without_a_lut_values_are_p_values():
    assert printed(VALUES_8) == VALUES_8


def test_p_0_prints_densest_and_the_top_value_lightest():
    assert printed([0, 4095], bits=12) == [0, 255]


@pytest.mark.parametrize("bits", [10, 12, 16])
def test_high_bit_depths_scale_to_the_full_range(bits):
    top = (1 << bits) - 1
    values = [0, top // 3, top // 2, top]
    assert printed(values, bits=bits) == [p_display(v, top) for v in values]


@pytest.mark.parametrize(
    ("photometric", "polarity", "inverted"),
    [
        ("MONOCHROME2", "NORMAL", False),
        ("MONOCHROME2", "REVERSE", True),
        ("MONOCHROME1", "NORMAL", True),
        ("MONOCHROME1", "REVERSE", False),  # the two inversions cancel
    ],
)
def test_polarity_and_monochrome1(photometric, polarity, inverted):
    values = [0, 30, 255]
    expected = [255 - v for v in values] if inverted else values
    assert printed(values, photometric=photometric, polarity=polarity) == expected


def test_identity_shape():
    assert printed(VALUES_8, film_lut=shape("IDENTITY")) == VALUES_8


def test_inverse_shape():
    assert printed(VALUES_8, film_lut=shape("INVERSE")) == [255 - v for v in VALUES_8]


def test_inverse_shape_after_monochrome1():
    # MONOCHROME1 inverts, then INVERSE inverts back.
    got = printed(VALUES_8, photometric="MONOCHROME1", film_lut=shape("INVERSE"))
    assert got == VALUES_8


def test_lin_od_shape_by_hand():
    # D = 0.20 + x/255 * 2.80. x = 0 -> 0.20 OD (255); x = 255 -> 3.00 OD (0);
    # x = 128 -> 1.6055 OD: L = 10 + 2000 * 10**-1.6055 = 59.61 cd/m2,
    # j(L) = 409.20, 255 * (409.20 - 233.32) / (847.19 - 233.32) = 73.06.
    assert printed([0, 128, 255], film_lut=shape("LIN OD")) == [255, 73, 0]


def test_lin_od_follows_the_image_box_density_range():
    # Min 30, Max 285: D = 0.30 + x/100; x = 120 -> 1.50 OD -> 83.96 (see test_gsdf).
    box_density = {"MinDensity": 30, "MaxDensity": 285}
    assert printed([120], film_lut=shape("LIN OD"), **box_density) == [84]


def test_explicit_table_by_hand():
    lut = table([255, 128, 0, 64], first=0, bits=8)
    # Inputs past the last entry take the last entry.
    assert printed([0, 1, 2, 3, 200], film_lut=lut) == [255, 128, 0, 64, 64]


def test_explicit_table_with_first_mapped_value():
    lut = table([10, 20, 30], first=100, bits=8)
    assert printed([0, 100, 101, 102, 250], film_lut=lut) == [10, 10, 20, 30, 30]


def test_explicit_twelve_bit_table_with_ten_bit_entries():
    x = np.arange(4096)
    lut = table(1023 - x // 4, first=0, bits=10)
    values = [0, 1000, 2048, 4095]
    expected = [p_display(1023 - v // 4, 1023) for v in values]
    assert printed(values, bits=12, film_lut=lut) == expected


def test_image_box_lut_overrides_film_box_lut():
    got = printed([0, 200], film_lut=shape("IDENTITY"), box_lut=shape("INVERSE"))
    assert got == [255, 55]


def test_min_max_density_narrow_the_printed_range():
    # A film from 1.00 OD to 1.50 OD: P 0 prints 1.50 OD, P 255 1.00 OD,
    # shown on the printer's 0.20..3.00 scale (143.64 for 1.00 OD, by hand).
    assert printed([0, 255], MinDensity=100, MaxDensity=150) == [84, 144]


def test_equal_min_and_max_density_print_every_p_value_at_that_density():
    # Clamping can make them equal (B605): the film is flat at that density,
    # 1.50 OD here, which the 0.20..3.00 scale shows as 84 (as above).
    assert printed([0, 128, 255], MinDensity=150, MaxDensity=150) == [84, 84, 84]
    lin_od = PresentationLUT("1.2.3", PresentationLUTShape="LIN OD")
    assert printed([0, 255], MinDensity=150, MaxDensity=150, film_lut=lin_od) == [84, 84]


def test_tone_table_straight_line_matches_the_gather():
    scale = DisplayScale(HardcopyModel(150, 0), 0.0, 4.0)
    tone = grayscale_lut(12, False, None, 0.1, 1.5, scale)
    assert tone.ramp is not None
    stored = np.random.default_rng(1).integers(0, 4096, (64, 80)).astype(np.uint16)
    assert np.array_equal(tone.apply(stored), tone.table[stored])


def test_tone_table_keeps_a_gather_for_curves():
    values = np.linspace(0, 1, 4096) ** 2 * 255
    tone = ToneTable.from_values(values)
    assert tone.ramp is None
    stored = np.arange(4096, dtype=np.uint16).reshape(64, 64)
    assert np.array_equal(tone.apply(stored), np.rint(values).astype(np.uint8).reshape(64, 64))


def test_tone_table_gather_clips_values_past_the_table():
    # A 12-bit table looked up with any 16-bit value: past the end prints as the
    # last entry, whether OpenCV's 16-bit LUT or np.take does the gather.
    values = np.linspace(0, 1, 4096) ** 0.5 * 255
    tone = ToneTable.from_values(values)
    assert (tone.wide is not None) == luts.WIDE_LUT
    stored = np.random.default_rng(2).integers(0, 1 << 16, (48, 50)).astype(np.uint16)
    expected = np.rint(values).astype(np.uint8)[np.minimum(stored, 4095)]
    assert np.array_equal(tone.apply(stored), expected)
    film = np.zeros((60, 60), np.uint8)
    view = film[5:53, 7:57]
    tone.apply(stored, view)  # written in place, as into a film
    assert np.array_equal(view, expected)
    assert not film[:5].any() and not film[53:].any()
