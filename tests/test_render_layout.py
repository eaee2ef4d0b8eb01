"""Where images print: positions, orientation, size, true size, decimate and crop."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from dicomprint import PrintError, Status, film_size_px
from dicomprint.placement import image_fit
from dicomprint.render import render_job
from render_support import (
    PROFILE,
    cell_centres,
    film_box,
    gray,
    p_display,
    print_job,
    render,
    uniform,
)

MM_PER_INCH = 25.4


def fill_positions(box) -> list[int]:
    """Give each image box a uniform image of its own value; return the values."""
    values = []
    for image_box in box.image_boxes:
        value = 20 + 9 * image_box.ImageBoxPosition
        image_box.image = uniform(value)
        values.append(value)
    return values


@pytest.mark.parametrize("orientation", ["PORTRAIT", "LANDSCAPE"])
@pytest.mark.parametrize(
    "display_format",
    ["STANDARD\\3,2", "STANDARD\\2,4", "ROW\\1,3", "ROW\\2,1,3", "COL\\1,3", "COL\\3,2"],
)
def test_images_print_at_their_position(display_format, orientation):
    box = film_box(display_format, FilmOrientation=orientation)
    values = fill_positions(box)
    film, _ = render(box)
    height, width = film.pixels.shape
    got = [int(film.pixels[y, x]) for x, y in cell_centres(display_format, width, height)]
    assert got == values


@pytest.mark.parametrize("orientation", ["PORTRAIT", "LANDSCAPE"])
def test_image_is_neither_flipped_nor_transposed(orientation):
    # Quadrants 10 20 / 30 40, replicated to fill a 1x1 film.
    quadrants = np.array([[10, 20], [30, 40]], dtype=np.uint8)
    box = film_box(FilmOrientation=orientation, MagnificationType="REPLICATE")
    box.image_boxes[0].image = gray(np.kron(quadrants, np.ones((4, 4), dtype=np.uint8)))
    film, _ = render(box)
    h, w = film.pixels.shape
    side = min(h, w) // 4  # the square image is at least half the short side
    cx, cy = w // 2, h // 2
    assert film.pixels[cy - side, cx - side] == 10
    assert film.pixels[cy - side, cx + side] == 20
    assert film.pixels[cy + side, cx - side] == 30
    assert film.pixels[cy + side, cx + side] == 40


@pytest.mark.parametrize("orientation", ["PORTRAIT", "LANDSCAPE"])
@pytest.mark.parametrize(("resolution", "dpi"), [("STANDARD", 30), ("HIGH", 60)])
def test_raster_size_follows_film_size_orientation_and_resolution(orientation, resolution, dpi):
    box = film_box(FilmSizeID="14INX17IN", FilmOrientation=orientation)
    box.RequestedResolutionID = resolution
    film, _ = render(box)
    short, long = round(14 * dpi), round(17 * dpi)
    expected = (long, short) if orientation == "PORTRAIT" else (short, long)
    assert film.pixels.shape == expected
    assert film.dpi == dpi
    assert (film.width_mm, film.height_mm) == pytest.approx(
        (14 * MM_PER_INCH, 17 * MM_PER_INCH)[:: 1 if orientation == "PORTRAIT" else -1]
    )


def extent(film, value) -> tuple[int, int]:
    """(width, height) in pixels of the region printed with ``value``."""
    ys, xs = np.nonzero(film.pixels == value)
    return xs.max() - xs.min() + 1, ys.max() - ys.min() + 1


def fine_profile(dpi: int):
    """A profile fine enough to measure millimetres."""
    return attrs.evolve(PROFILE, dpi_standard=dpi, dpi_high=2 * dpi)


@pytest.mark.parametrize("dpi", [150, 300])
@pytest.mark.parametrize(
    ("shape", "aspect", "size_mm", "expected_mm"),
    [
        ((100, 200), (1, 1), 100.0, (100.0, 50.0)),
        ((100, 200), (2, 1), 100.0, (100.0, 100.0)),  # rows twice as tall as wide
        ((300, 300), (1, 1), 42.5, (42.5, 42.5)),
    ],
)
def test_true_size_to_the_millimetre(dpi, shape, aspect, size_mm, expected_mm):
    profile = fine_profile(dpi)
    box = film_box(profile=profile)
    box.image_boxes[0].image = gray(np.zeros(shape, dtype=np.uint8), aspect=aspect)
    box.image_boxes[0].RequestedImageSize = size_mm
    film, statuses = render(box, profile=profile)
    width_px, height_px = extent(film, 0)
    assert width_px / dpi * MM_PER_INCH == pytest.approx(expected_mm[0], abs=0.5)
    assert height_px / dpi * MM_PER_INCH == pytest.approx(expected_mm[1], abs=0.5)
    assert statuses == []


def test_pixel_aspect_ratio_kept_when_fitting():
    box = film_box(FilmSizeID="14INX14IN")
    # 10 x 20 pixels, each twice as tall as wide: a square image.
    box.image_boxes[0].image = gray(np.zeros((10, 20), dtype=np.uint8), aspect=(2, 1))
    film, _ = render(box)
    width, height = extent(film, 0)
    assert abs(width - height) <= 1


def test_magnification_none_prints_pixel_for_pixel():
    box = film_box(MagnificationType="NONE")
    box.image_boxes[0].image = gray(np.zeros((37, 51), dtype=np.uint8))
    film, _ = render(box)
    assert extent(film, 0) == (51, 37)


def test_magnification_fills_the_cell_but_never_shrinks_small_images():
    box = film_box("STANDARD\\2,1")
    box.image_boxes[0].image = gray(np.zeros((8, 8), dtype=np.uint8))
    film, statuses = render(box)
    width, _ = extent(film, 0)
    # Two cells across 8 inches at 30 DPI: each a little under 120 pixels.
    assert 100 < width <= 120
    assert statuses == []


def ramp(columns: int, rows: int = 50) -> np.ndarray:
    """12-bit values rising 4 per column."""
    return np.tile((np.arange(columns) * 4).astype(np.uint16), (rows, 1))


def printed_row(behavior, magnification="BILINEAR", columns=1000):
    box = film_box(MagnificationType=magnification)
    box.image_boxes[0].image = gray(ramp(columns))
    box.image_boxes[0].RequestedDecimateCropBehavior = behavior
    film, statuses = render(box)
    row = film.pixels[film.pixels.shape[0] // 2]
    printed = np.nonzero(row != 255)[0]
    return row[printed.min() : printed.max() + 1], statuses


@pytest.mark.parametrize(
    ("behavior", "status"),
    [("DECIMATE", Status.IMAGE_DECIMATED), (None, Status.IMAGE_DEMAGNIFIED)],
)
def test_large_image_shrinks_to_fit(behavior, status):
    row, statuses = printed_row(behavior)
    assert statuses == [status]
    assert row.size < 240
    # The whole ramp shows: from near 0 to near the top of 1000 columns.
    assert row[0] <= p_display(4 * 10, 4095)
    assert row[-1] >= p_display(4 * 990, 4095)


@pytest.mark.parametrize(
    ("behavior", "magnification"), [("CROP", "BILINEAR"), ("CROP", "NONE"), (None, "NONE")]
)
def test_large_image_crops_at_the_centre(behavior, magnification):
    row, statuses = printed_row(behavior, magnification)
    assert statuses == [Status.IMAGE_CROPPED]
    shown = row.size
    first_column = (1000 - shown) / 2
    # One film pixel per source column: the centre columns, values to +-2 columns.
    assert abs(int(row[0]) - p_display(4 * first_column, 4095)) <= 1
    assert abs(int(row[-1]) - p_display(4 * (first_column + shown - 1), 4095)) <= 1


@pytest.mark.parametrize(
    ("behavior", "magnification"), [("FAIL", "BILINEAR"), ("FAIL", "NONE"), ("DECIMATE", "NONE")]
)
def test_large_image_fails_c603(behavior, magnification):
    box = film_box(MagnificationType=magnification)
    box.image_boxes[0].image = gray(ramp(1000))
    box.image_boxes[0].RequestedDecimateCropBehavior = behavior
    with pytest.raises(PrintError) as raised:
        render_job(print_job(box))
    assert raised.value.status == Status.IMAGE_LARGER_THAN_BOX


def test_image_that_fits_is_neither_cropped_nor_failed():
    box = film_box(MagnificationType="NONE")
    box.image_boxes[0].image = gray(ramp(100))
    box.image_boxes[0].RequestedDecimateCropBehavior = "FAIL"
    film, statuses = render(box)
    assert statuses == []
    assert extent(film, p_display(0, 4095))[0] >= 1


def test_true_size_larger_than_the_box_is_cropped_to_the_box():
    profile = fine_profile(150)
    box = film_box(profile=profile)
    box.image_boxes[0].image = gray(np.zeros((100, 100), dtype=np.uint8))
    # Wider than the 8 inch film, not as tall as the 10 inch one.
    box.image_boxes[0].RequestedImageSize = 220.0
    box.image_boxes[0].RequestedDecimateCropBehavior = "CROP"
    film, statuses = render(box, profile=profile)
    assert statuses == [Status.IMAGE_CROPPED]
    assert film_size_px("8INX10IN", "PORTRAIT", 150) == film.pixels.shape[::-1]
    width, height = extent(film, 0)
    assert width < 8 * 150 < 220 / MM_PER_INCH * 150
    assert height / 150 * MM_PER_INCH == pytest.approx(220, abs=0.5)  # still true size


def test_true_size_larger_than_the_box_demagnifies_by_default():
    box = film_box()
    box.image_boxes[0].image = gray(np.zeros((100, 100), dtype=np.uint8))
    box.image_boxes[0].RequestedImageSize = 300.0
    _, statuses = render(box)
    assert statuses == [Status.IMAGE_DEMAGNIFIED]


def test_image_fit_tells_an_image_box_n_set_what_printing_will_do():
    box = film_box(MagnificationType="NONE")
    image_box = box.image_boxes[0]
    image_box.image = gray(ramp(1000))
    assert image_fit(box, image_box, PROFILE) == Status.IMAGE_CROPPED
    image_box.RequestedDecimateCropBehavior = "DECIMATE"
    with pytest.raises(PrintError) as raised:
        image_fit(box, image_box, PROFILE)
    assert raised.value.status == Status.IMAGE_LARGER_THAN_BOX
    image_box.MagnificationType = "BILINEAR"  # the image box overrides the film box
    assert image_fit(box, image_box, PROFILE) == Status.IMAGE_DECIMATED
    image_box.image = gray(ramp(100))
    assert image_fit(box, image_box, PROFILE) is None
