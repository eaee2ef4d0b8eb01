"""prepare_image: Modality/VOI LUT, polarity, colour, frames and reduction, by hand-computed values.

Values are worked out in the comments: P = floor(v * (2**bits - 1) + 0.5)
for a VOI output v in 0..1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

from dicomprint import PrinterProfile
from dicomprint.pixels import parse_image_sequence
from dicomprint.prepare import PreparedImage, prepare_image


def gray(values, *, bits_stored=12, signed=False, photometric="MONOCHROME2", **attributes):
    """A grayscale dataset holding ``values`` (2-D, or 3-D for frames)."""
    values = np.asarray(values)
    ds = Dataset()
    if values.ndim == 3:
        ds.NumberOfFrames = values.shape[0]
    ds.Rows, ds.Columns = values.shape[-2:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    allocated = 8 if bits_stored <= 8 else 16
    ds.BitsAllocated = allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = int(signed)
    dtype = {(8, False): "u1", (8, True): "i1", (16, False): "<u2", (16, True): "<i2"}
    ds.PixelData = values.astype(dtype[allocated, signed]).tobytes()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def color(rgb, *, photometric="RGB", planar=0):
    rgb = np.asarray(rgb, dtype=np.uint8)
    ds = Dataset()
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PlanarConfiguration = planar
    ds.PixelData = (rgb.transpose(2, 0, 1) if planar else rgb).tobytes()
    return ds


def lut_item(descriptor, data) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = descriptor
    item.LUTData = data
    return item


# -- Modality LUT and windows ---------------------------------------------------------


def test_rescale_then_linear_window():
    # HU = stored - 1024; WC 40.5, WW 401: v = (HU - 40) / 400 + 0.5.
    ds = gray(
        [[824, 1064, 1164, 1264, 2000]],
        RescaleSlope=1,
        RescaleIntercept=-1024,
        WindowCenter=40.5,
        WindowWidth=401,
    )
    image = prepare_image(ds)
    # HU -200 -> below; 40 -> 0.5 -> 2048; 140 -> 0.75 -> 3071; 240 -> 1.0; 976 -> above.
    assert image.pixels.tolist() == [[0, 2048, 3071, 4095, 4095]]
    assert (image.PhotometricInterpretation, image.BitsStored, image.BitsAllocated) == (
        "MONOCHROME2",
        12,
        16,
    )
    assert image.pixels.dtype == np.uint16
    assert image.window == (40.5, 401.0)
    # 8 bits: 0.75 * 255 = 191.25 -> 191.
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 128, 191, 255, 255]]
    assert prepare_image(ds, bits=8).pixels.dtype == np.uint8


@pytest.mark.parametrize(
    "slope, intercept, center, width",
    [(1, -1024, 40, 400), (0.5, 0, 2048, 4096), (2.5, -100, 1000, 1500), (1, -32768, 0, 65536)],
)
def test_single_precision_is_within_one_step_of_exact(slope, intercept, center, width):
    # Every 16-bit stored value, against the same formulas in double precision.
    stored = np.arange(65536).reshape(256, 256)
    ds = gray(
        stored,
        bits_stored=16,
        RescaleSlope=slope,
        RescaleIntercept=intercept,
        WindowCenter=center,
        WindowWidth=width,
    )
    got = prepare_image(ds, bits=12).pixels.astype(np.int64)
    x = stored * float(slope) + float(intercept)
    unit = np.clip((x - (center - 0.5)) / (width - 1.0) + 0.5, 0.0, 1.0)
    exact = np.floor(unit * 4095 + 0.5).astype(np.int64)
    difference = np.abs(got - exact)
    assert difference.max() <= 1
    assert np.count_nonzero(difference) < 0.02 * difference.size


@pytest.mark.parametrize(
    "array",
    [
        1e6 + np.linspace(0.0, 1.0, 4096).reshape(64, 64),  # float64, a small range far out
        np.arange(4096, dtype=np.int64).reshape(64, 64) + 2**30,  # beyond float32's integers
    ],
)
def test_wide_values_keep_double_precision(array):
    # float32 would fold these into 17 and 507 levels; the automatic window
    # (0.5 to 99.5 percentiles) keeps nearly all 4096.
    pixels = prepare_image(array, bits=12, window="auto").pixels
    assert len(np.unique(pixels)) > 4000


def test_first_of_several_windows_and_explicit_window_overrides():
    ds = gray([[0, 50, 100]], WindowCenter=[100.5, 0.5], WindowWidth=[201, 3])
    # First window: v = (x - 100) / 200 + 0.5: 0 -> 0, 50 -> 0.25, 100 -> 0.5.
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 64, 128]]
    # Explicit (50.5, 101): (x - 50) / 100 + 0.5: 0 -> 0, 50 -> 0.5, 100 -> 1.
    assert prepare_image(ds, bits=8, window=(50.5, 101)).pixels.tolist() == [[0, 128, 255]]


def test_monochrome1_is_inverted_to_monochrome2():
    ds = gray([[1064, 1164]], photometric="MONOCHROME1", RescaleSlope=1, RescaleIntercept=-1024)
    ds.WindowCenter, ds.WindowWidth = 40.5, 401
    image = prepare_image(ds)
    # 0.5 -> 1 - 0.5 = 0.5 -> 2048; 0.75 -> 0.25 -> 1023.75 -> 1024.
    assert image.pixels.tolist() == [[2048, 1024]]
    assert image.PhotometricInterpretation == "MONOCHROME2"


def test_signed_pixels():
    # WC 0.5, WW 201: v = x / 200 + 0.5.
    ds = gray([[-100, 0, 100]], bits_stored=16, signed=True, WindowCenter=0.5, WindowWidth=201)
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 128, 255]]


def test_linear_exact_and_sigmoid():
    values = [[0, 50, 100, 150, 200]]
    exact = gray(values, WindowCenter=100, WindowWidth=200, VOILUTFunction="LINEAR_EXACT")
    # v = x / 200: 50 -> 0.25 -> 63.75 -> 64.
    assert prepare_image(exact, bits=8).pixels.tolist() == [[0, 64, 128, 191, 255]]
    sigmoid = gray(values, WindowCenter=100, WindowWidth=200, VOILUTFunction="SIGMOID")
    expected = [math.floor(255 / (1 + math.exp(-4 * (x - 100) / 200)) + 0.5) for x in values[0]]
    # 100 -> 0.5 -> 128; 150 -> 1 / (1 + e**-1) = 0.7311 -> 186.4 -> 186.
    assert expected[2:4] == [128, 186]
    assert prepare_image(sigmoid, bits=8).pixels.tolist() == [expected]


def test_linear_window_of_width_one_is_a_threshold():
    ds = gray([[9, 10, 11]], WindowCenter=10, WindowWidth=1)
    # Minimum for x <= c - 0.5, maximum above.
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 255, 255]]


def test_voi_lut_sequence():
    # 8-bit table, first mapped value 10: below -> first entry, beyond -> last.
    ds = gray([[9, 10, 11, 12, 13, 99]])
    ds.VOILUTSequence = Sequence([lut_item([4, 10, 8], [0, 100, 200, 255])])
    ds.WindowCenter, ds.WindowWidth = 2000, 10  # the table wins over the window
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 0, 100, 200, 255, 255]]
    # 12 bits: 100 / 255 * 4095 = 1605.9 -> 1606.
    assert prepare_image(ds).pixels.tolist()[0][2] == 1606
    assert prepare_image(ds).window is None


def test_voi_lut_with_more_than_256_eight_bit_entries():
    # pydicom 3.0's apply_voi wraps indices past 255 here; 300 // 16 = 18.
    ds = gray([[0, 255, 256, 300, 4095]])
    ds.VOILUTSequence = Sequence([lut_item([4096, 0, 8], (np.arange(4096) // 16).tolist())])
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 15, 16, 18, 255]]


def test_voi_lut_as_ow_bytes():
    ds = gray([[0, 1, 2]])
    ds.VOILUTSequence = Sequence(
        [lut_item([3, 0, 16], np.array([0, 32768, 65535], "<u2").tobytes())]
    )
    # 32768 / 65535 * 255 = 127.5019 -> 128.
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 128, 255]]


def test_modality_lut_sequence_with_twelve_bit_entries():
    # pydicom 3.0's apply_modality_lut fails on 12-bit entries (pydicom #2317).
    ds = gray([[0, 1, 2, 3]], WindowCenter=2000.5, WindowWidth=4001)
    ds.ModalityLUTSequence = Sequence([lut_item([4, 0, 12], [0, 1000, 2000, 4095])])
    # v = (m - 2000) / 4000 + 0.5: 0 -> 0; 1000 -> 0.25 -> 64; 2000 -> 0.5 -> 128; 4095 -> 1.
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 64, 128, 255]]


# -- Images without a window ------------------------------------------------------------


def test_automatic_window_from_percentiles():
    # 0..200: the 0.5 and 99.5 percentiles are 1 and 199 (linear interpolation).
    ds = gray([np.arange(201)])
    image = prepare_image(ds, bits=8)
    # v = (x - 1) / 198: 100 -> 0.5 -> 128; 50 -> 0.2475 -> 63.1 -> 63.
    assert image.pixels[0, [0, 1, 50, 100, 199, 200]].tolist() == [0, 0, 63, 128, 255, 255]
    assert image.window == (100.0, 198.0)


def test_automatic_window_ignores_pixel_padding():
    plain = gray([np.arange(201)])
    padded = gray([np.concatenate([np.arange(201), np.full(100, 4000)])], PixelPaddingValue=4000)
    assert prepare_image(padded, bits=8).window == prepare_image(plain, bits=8).window


def test_eight_bit_images_without_window_print_as_stored():
    ds = gray([[0, 51, 255]], bits_stored=8)
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 51, 255]]
    # 51 / 255 = 0.2 -> 819 at 12 bits.
    assert prepare_image(ds).pixels.tolist() == [[0, 819, 4095]]
    # "auto" stretches on request: the percentiles of (0, 100, 200) are 1 and 199,
    # so 100 -> 0.5 -> 128 instead of 100.
    ramp = gray([[0, 100, 200]], bits_stored=8)
    assert prepare_image(ramp, bits=8).pixels.tolist() == [[0, 100, 200]]
    assert prepare_image(ramp, bits=8, window="auto").pixels.tolist() == [[0, 128, 255]]


def test_full_window_uses_the_range_the_bits_allow():
    # 12 bits stored, rescale -1024: range -1024..3071; v = (HU + 1024) / 4095.
    ds = gray([[0, 2048, 4095]], RescaleSlope=1, RescaleIntercept=-1024)
    assert prepare_image(ds, window="full").pixels.tolist() == [[0, 2048, 4095]]


def test_invalid_window_width_falls_back_to_automatic():
    ds = gray([np.arange(201)], WindowCenter=100, WindowWidth=0)
    assert prepare_image(ds, bits=8).window == (100.0, 198.0)


def test_flat_image_is_not_stretched_into_noise():
    image = prepare_image(gray([[1000, 1000]]), bits=8)
    # The full 12-bit range: 1000 / 4095 * 255 = 62.27 -> 62.
    assert image.pixels.tolist() == [[62, 62]]


# -- Arrays, frames, files ------------------------------------------------------------------


def test_numpy_arrays():
    assert prepare_image(np.array([[0, 51, 255]], np.uint8), bits=8).pixels.tolist() == [
        [0, 51, 255]
    ]
    # uint16 and float arrays get the automatic window.
    ramp = np.arange(201, dtype=np.uint16)[np.newaxis]
    assert prepare_image(ramp, bits=8).pixels[0, 100] == 128
    assert prepare_image(ramp.astype(np.float32), bits=8).window == (100.0, 198.0)
    assert prepare_image(np.array([[False, True]]), bits=8).pixels.tolist() == [[0, 255]]
    rgba = np.zeros((1, 2, 4), np.uint8)
    rgba[0, 1] = (10, 20, 30, 0)
    assert prepare_image(rgba).pixels.tolist() == [[[0, 0, 0], [10, 20, 30]]]
    with pytest.raises(ValueError):
        prepare_image(np.zeros((2, 2, 2, 2, 2)))


def test_frames_of_a_multi_frame_dataset_and_array():
    frames = np.stack([np.full((2, 2), 0), np.full((2, 2), 255)])
    ds = gray(frames, bits_stored=8)
    assert prepare_image(ds, bits=8).pixels.tolist() == [[0, 0], [0, 0]]
    assert prepare_image(ds, bits=8, frame=1).pixels.tolist() == [[255, 255], [255, 255]]
    with pytest.raises(ValueError, match="frame 2"):
        prepare_image(ds, frame=2)
    array = frames.astype(np.uint8)
    assert prepare_image(array, bits=8, frame=1).pixels[0, 0] == 255


def test_enhanced_multi_frame_windows_per_frame():
    ds = gray(np.stack([np.full((1, 2), 100), np.full((1, 2), 100)]))
    per_frame = []
    for center in (100.5, 200.5):  # width 201: v = (x - (c - 0.5)) / 200 + 0.5
        voi = Dataset()
        voi.WindowCenter, voi.WindowWidth = center, 201
        group = Dataset()
        group.FrameVOILUTSequence = Sequence([voi])
        per_frame.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    shared_rescale = Dataset()
    shared_rescale.RescaleSlope, shared_rescale.RescaleIntercept = 1, 0
    shared = Dataset()
    shared.PixelValueTransformationSequence = Sequence([shared_rescale])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    # Frame 0: 100 is the centre -> 128; frame 1: (100 - 200) / 200 + 0.5 = 0 -> 0.
    assert prepare_image(ds, bits=8, frame=0).pixels[0, 0] == 128
    assert prepare_image(ds, bits=8, frame=1).pixels[0, 0] == 0


def test_compressed_dataset_and_file_path(tmp_path):
    ds = gray([[1064, 1164]], RescaleSlope=1, RescaleIntercept=-1024)
    ds.WindowCenter, ds.WindowWidth = 40.5, 401
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.compress(RLELossless)  # pydicom's own RLE encoder: no plugin needed
    assert prepare_image(ds).pixels.tolist() == [[2048, 3071]]
    path = tmp_path / "image.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert prepare_image(path).pixels.tolist() == [[2048, 3071]]
    assert prepare_image(str(path)).pixels.tolist() == [[2048, 3071]]
    assert dcmread(path).file_meta.TransferSyntaxUID == RLELossless


# -- Colour ---------------------------------------------------------------------------------


def test_rgb_in_either_planar_configuration():
    rgb = np.array([[[255, 0, 0], [0, 128, 255]]], np.uint8)
    for planar in (0, 1):
        image = prepare_image(color(rgb, planar=planar))
        assert image.pixels.tolist() == rgb.tolist()
        assert (image.PhotometricInterpretation, image.BitsStored, image.is_color) == (
            "RGB",
            8,
            True,
        )


def test_ybr_full_to_rgb():
    # Y 100, Cb 178, Cr 128: R = Y = 100, G = Y - 0.344136 * 50 = 82.8, B = Y + 1.772 * 50 = 188.6.
    ds = color([[[100, 178, 128], [128, 128, 128]]], photometric="YBR_FULL")
    r, g, b = prepare_image(ds).pixels[0, 0].tolist()
    assert (r, abs(g - 82.8) <= 1, abs(b - 188.6) <= 1) == (100, True, True)
    assert prepare_image(ds).pixels[0, 1].tolist() == [128, 128, 128]


def test_ybr_full_422_to_rgb():
    ds = color([[[0, 0, 0], [0, 0, 0]]], photometric="YBR_FULL_422")
    # Two pixels share Cb and Cr: Y1 Y2 Cb Cr.
    ds.PixelData = bytes([100, 110, 128, 128])
    assert prepare_image(ds).pixels.tolist() == [[[100, 100, 100], [110, 110, 110]]]


def test_palette_color():
    ds = gray([[0, 1, 2]], bits_stored=8, photometric="PALETTE COLOR")
    for name, entries in (
        ("Red", [0, 65535, 0]),
        ("Green", [0, 0, 65535]),
        ("Blue", [65535, 0, 0]),
    ):
        setattr(ds, f"{name}PaletteColorLookupTableDescriptor", [3, 0, 16])
        setattr(ds, f"{name}PaletteColorLookupTableData", np.array(entries, "<u2").tobytes())
    assert prepare_image(ds).pixels.tolist() == [[[0, 0, 255], [255, 0, 0], [0, 255, 0]]]


def test_colour_to_grayscale_and_back():
    # Luma of pure red: 0.299 * 255 = 76.2 -> 76 (8 bits); 0.299 * 4095 = 1224.4 -> 1224.
    red = color([[[255, 0, 0]]])
    assert prepare_image(red, color=False, bits=8).pixels.tolist() == [[76]]
    assert prepare_image(red, color=False).pixels.tolist() == [[1224]]
    assert prepare_image(red, color=False).PhotometricInterpretation == "MONOCHROME2"
    # Grayscale to RGB: the VOI output, replicated, at 8 bits.
    ds = gray([[1064]], RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=40.5, WindowWidth=401)
    assert prepare_image(ds, color=True).pixels.tolist() == [[[128, 128, 128]]]


def test_unsupported_photometric_interpretation():
    with pytest.raises(ValueError, match="HSV"):
        prepare_image(color([[[1, 2, 3]]], photometric="HSV"))


# -- Reduction, re-preparation, the image sequence item -----------------------------------


def test_reduction_averages_areas_and_keeps_the_aspect_ratio():
    blocks = np.array([[10, 20], [30, 40], [50, 60], [70, 80]], np.uint8)
    image = np.kron(blocks, np.ones((2, 2), np.uint8))  # 8 x 4
    image[0, 0] = 16  # block (0, 0) now averages (16 + 10 + 10 + 10) / 4 = 11.5 -> 12 (half up)
    prepared = prepare_image(image, bits=8, max_size=4)
    assert prepared.pixels.tolist() == [[12, 20], [30, 40], [50, 60], [70, 80]]
    assert prepared.scale == 0.5
    assert prepare_image(image, bits=8, max_size=8).pixels.shape == (8, 4)
    rgb = np.zeros((10, 6, 3), np.uint8)
    assert prepare_image(rgb, max_size=5).pixels.shape == (5, 3, 3)


def test_prepared_images_are_requantised():
    twelve = prepare_image(gray([[0, 2048, 4095]]), window="full")
    assert twelve.pixels.tolist() == [[0, 2048, 4095]]
    # 2048 / 4095 * 255 = 127.53 -> 128.
    assert prepare_image(twelve, bits=8).pixels.tolist() == [[0, 128, 255]]
    assert prepare_image(twelve, bits=8).window is None
    assert not twelve.pixels.flags.writeable


def test_image_sequence_items_are_what_a_printer_accepts():
    profile = PrinterProfile()
    twelve = prepare_image(gray([[0, 2048, 4095]]), window="full")
    item = twelve.image_sequence_item()
    assert (item.BitsAllocated, item.BitsStored, item.HighBit, item.PixelRepresentation) == (
        16,
        12,
        11,
        0,
    )
    assert item.PixelData == np.array([0, 2048, 4095], "<u2").tobytes()
    parsed = parse_image_sequence(Sequence([item]), profile, color=False)
    assert parsed.pixels.tolist() == [[0, 2048, 4095]]

    eight = prepare_image(np.array([[7, 9]], np.uint8), bits=8).image_sequence_item()
    assert (eight.BitsAllocated, eight.BitsStored, eight.PixelData) == (8, 8, bytes([7, 9]))

    rgb = np.array([[[1, 2, 3], [4, 5, 6]]], np.uint8)
    colour = prepare_image(rgb).image_sequence_item()
    # Colour-by-plane: R1 R2 G1 G2 B1 B2.
    assert (colour.PlanarConfiguration, colour.PixelData) == (1, bytes([1, 4, 2, 5, 3, 6]))
    assert prepare_image(rgb).image_sequence_item(planar_configuration=0).PixelData == bytes(
        [1, 2, 3, 4, 5, 6]
    )
    parsed = parse_image_sequence(Sequence([colour]), profile, color=True)
    assert parsed.pixels.tolist() == rgb.tolist()


def test_pixel_aspect_ratio_is_carried_when_not_square():
    ds = gray([[0, 4095]], PixelAspectRatio=[2, 1])
    image = prepare_image(ds)
    assert image.PixelAspectRatio == (2, 1)
    assert image.image_sequence_item().PixelAspectRatio == [2, 1]
    assert "PixelAspectRatio" not in prepare_image(gray([[0, 1]])).image_sequence_item()


def test_bad_arguments():
    with pytest.raises(ValueError, match="bits"):
        prepare_image(np.zeros((2, 2), np.uint8), bits=10)
    with pytest.raises(ValueError, match="Pixel Data"):
        prepare_image(Dataset())
    with pytest.raises(ValueError, match="max_size"):
        prepare_image(np.zeros((2, 2), np.uint8), max_size=0)
    with pytest.raises(TypeError):
        prepare_image([[1, 2]])  # type: ignore[arg-type]
    assert isinstance(prepare_image(np.zeros((1, 1), np.uint8)), PreparedImage)
