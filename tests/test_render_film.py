"""Whole films: border and empty densities, Trim, annotation text, colour, jobs."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from pydicom.sequence import Sequence

from dicomprint import DEFAULT_PROFILE, PresentationLUT, Status, uids
from dicomprint.pixels import parse_image_sequence
from dicomprint.render import density_value, display_scale, render_film, render_job
from print_requests import Driver, color_item
from render_support import PROFILE, cell_centres, film_box, gray, print_job, render, uniform


def corner(film) -> int:
    return int(film.pixels[1, 1])


@pytest.mark.parametrize(
    ("border", "expected"),
    [
        ("BLACK", 0),
        ("WHITE", 255),
        # 1.50 OD under L0 = 2000, La = 10 on a 0.20..3.00 printer (see test_gsdf).
        ("150", 84),
        ("100", 144),
        # Beyond the printer's range: its densest / lightest.
        ("400", 0),
        ("10", 255),
    ],
)
def test_border_density(border, expected):
    box = film_box(BorderDensity=border)
    film, _ = render(box)
    assert corner(film) == expected


def test_numeric_border_prints_the_density_an_image_pixel_of_that_density_prints():
    # LIN OD from 0.30 to 2.85 OD: stored 120 is 1.50 OD, like Border Density 150.
    lut = PresentationLUT(uids.new_uid(), PresentationLUTShape="LIN OD")
    box = film_box(BorderDensity="150", MinDensity=30, MaxDensity=285)
    box.ReferencedPresentationLUT = lut.SOPInstanceUID
    box.image_boxes[0].image = uniform(120)
    film, _ = render(box, luts={lut.SOPInstanceUID: lut})
    h, w = film.pixels.shape
    assert film.pixels[h // 2, w // 2] == corner(film)


def test_border_density_follows_illumination():
    # The raster shows the film under its light box: 1.50 OD under a dim,
    # bright-ambient light is not the same value as under a bright one.
    dim = render(film_box(BorderDensity="150", Illumination=150, ReflectedAmbientLight=10))[0]
    bright = render(film_box(BorderDensity="150"))[0]
    assert corner(dim) != corner(bright)


def test_empty_image_density_fills_empty_boxes_only():
    display_format = "STANDARD\\2,1"
    box = film_box(display_format, BorderDensity="WHITE", EmptyImageDensity="100")
    box.image_boxes[0].image = uniform(0)
    film, _ = render(box)
    h, w = film.pixels.shape
    (x1, y1), (x2, y2) = cell_centres(display_format, w, h)
    assert film.pixels[y1, x1] == 0  # the image
    assert film.pixels[y2, x2] == 144  # the empty box, 1.00 OD
    # Around the image (above it, in its cell) and between cells: border.
    assert film.pixels[h // 10, x1] == 255
    assert film.pixels[y1, w // 2] == 255
    assert corner(film) == 255


def test_empty_image_density_black_and_white():
    box = film_box("STANDARD\\2,1", EmptyImageDensity="BLACK", BorderDensity="WHITE")
    film, _ = render(box)
    h, w = film.pixels.shape
    assert [film.pixels[y, x] for x, y in cell_centres("STANDARD\\2,1", w, h)] == [0, 0]


def image_bounds(film, value):
    ys, xs = np.nonzero(film.pixels == value)
    return xs.min(), ys.min(), xs.max(), ys.max()


@pytest.mark.parametrize(("border", "ink"), [("WHITE", 0), ("BLACK", 255)])
def test_trim_draws_a_box_around_each_image(border, ink):
    box = film_box("STANDARD\\2,1", Trim="YES", BorderDensity=border)
    box.image_boxes[0].image = uniform(100, shape=(30, 20))
    box.image_boxes[1].image = uniform(160, shape=(20, 30))
    film, _ = render(box)
    for value in (100, 160):
        x0, y0, x1, y1 = image_bounds(film, value)
        # Just outside every edge, along its whole length: the trim line.
        assert np.all(film.pixels[y0 - 1, x0 - 1 : x1 + 2] == ink)
        assert np.all(film.pixels[y1 + 1, x0 - 1 : x1 + 2] == ink)
        assert np.all(film.pixels[y0 : y1 + 1, x0 - 1] == ink)
        assert np.all(film.pixels[y0 : y1 + 1, x1 + 1] == ink)


def test_no_trim_leaves_the_border():
    box = film_box(Trim="NO", BorderDensity="WHITE")
    box.image_boxes[0].image = uniform(100, shape=(30, 20))
    film, _ = render(box)
    x0, y0, x1, y1 = image_bounds(film, 100)
    assert film.pixels[y0 - 1, x0] == 255 and film.pixels[y0, x1 + 1] == 255


ANNOTATED = attrs.evolve(PROFILE, dpi_standard=100)


def ink_rows(film) -> np.ndarray:
    """Rows holding anything but the white border and empty density."""
    return np.nonzero((film.pixels < 200).any(axis=1))[0]


def annotated(texts: list[str], format_id: str = "TOP_BOTTOM"):
    box = film_box(
        "STANDARD\\1,1",
        profile=ANNOTATED,
        annotations=len(texts),
        AnnotationDisplayFormatID=format_id,
    )
    for annotation, text in zip(box.annotation_boxes, texts, strict=True):
        annotation.TextString = text
    return render(box, profile=ANNOTATED)[0]


def test_annotation_text_is_drawn_in_its_band():
    film = annotated(["PATIENT^NAME 12345", ""])
    rows = ink_rows(film)
    height = film.pixels.shape[0]
    assert rows.size > 5
    assert rows.max() < height * 0.1  # top band only: position 1 of TOP_BOTTOM

    film = annotated(["", "Bottom line"])
    rows = ink_rows(film)
    assert rows.size > 5 and rows.min() > film.pixels.shape[0] * 0.9


def test_annotation_text_is_the_text():
    one, other = annotated(["AAAA", ""]), annotated(["WXYZ", ""])
    assert not np.array_equal(one.pixels, other.pixels)
    assert np.array_equal(annotated(["AAAA", ""]).pixels, one.pixels)


def test_annotation_positions_side_by_side_in_the_bottom_band():
    film = annotated(["LEFT", "RIGHT"], "BOTTOM2")
    height, width = film.pixels.shape
    band = film.pixels[int(height * 0.9) :]
    columns = np.nonzero((band < 200).any(axis=0))[0]
    assert columns.min() < width / 2 < columns.max()
    assert ink_rows(film).min() > height * 0.9


def test_empty_annotations_draw_nothing():
    assert ink_rows(annotated(["", ""])).size == 0


RGB = np.zeros((40, 60, 3), dtype=np.uint8)
RGB[:20, :30] = (255, 0, 0)
RGB[:20, 30:] = (0, 255, 0)
RGB[20:, :30] = (0, 0, 255)
RGB[20:, 30:] = (250, 200, 10)


def color_image(planar: int):
    return parse_image_sequence(Sequence([color_item(RGB, planar=planar)]), PROFILE, color=True)


def color_film(planar: int, polarity: str = "NORMAL"):
    box = film_box(color=True, MagnificationType="REPLICATE", BorderDensity="BLACK")
    box.image_boxes[0].image = color_image(planar)
    box.image_boxes[0].Polarity = polarity
    return render(box)[0]


def quadrant_colours(film) -> list[tuple[int, ...]]:
    h, w, _ = film.pixels.shape
    image_h = w * 40 // 60 // 2  # the image fits the width; half its height
    points = [(-1, -1), (1, -1), (-1, 1), (1, 1)]
    return [
        tuple(int(c) for c in film.pixels[h // 2 + dy * image_h // 2, w // 2 + dx * w // 4])
        for dx, dy in points
    ]


@pytest.mark.parametrize("planar", [0, 1])
def test_color_planar_configurations(planar):
    film = color_film(planar)
    assert film.pixels.shape[2] == 3 and film.is_color
    assert quadrant_colours(film) == [(255, 0, 0), (0, 255, 0), (0, 0, 255), (250, 200, 10)]
    assert tuple(film.pixels[1, 1]) == (0, 0, 0)


def test_color_planar_configurations_print_alike():
    assert np.array_equal(color_film(0).pixels, color_film(1).pixels)


def test_color_reverse_polarity():
    film = color_film(1, "REVERSE")
    assert quadrant_colours(film) == [(0, 255, 255), (255, 0, 255), (255, 255, 0), (5, 55, 245)]


def test_color_film_with_empty_box_and_border_is_gray():
    box = film_box("STANDARD\\2,1", color=True, BorderDensity="150", EmptyImageDensity="100")
    box.image_boxes[0].image = color_image(0)
    film, _ = render(box)
    h, w, _ = film.pixels.shape
    (_, _), (x2, y2) = cell_centres("STANDARD\\2,1", w, h)
    assert tuple(film.pixels[1, 1]) == (84, 84, 84)
    assert tuple(film.pixels[y2, x2]) == (144, 144, 144)


def test_grayscale_film_is_two_dimensional():
    box = film_box()
    box.image_boxes[0].image = uniform(7)
    film, _ = render(box)
    assert film.pixels.ndim == 2 and film.pixels.dtype == np.uint8 and not film.is_color


def test_job_films_in_order_with_metadata_and_warnings():
    first = film_box(FilmSizeID="8INX10IN")
    first.image_boxes[0].image = gray(np.zeros((10, 2000), dtype=np.uint8))  # too wide
    second = film_box("STANDARD\\2,1", FilmSizeID="A4", FilmOrientation="LANDSCAPE")
    second.image_boxes[0].image = gray(np.zeros((10, 3000), dtype=np.uint8))
    job = print_job(first, second, copies=3, calling_ae_title="MODALITY", called_ae_title="PRINTER")
    job.session.FilmSessionLabel = "SESSION"
    films, statuses = render_job(job)
    assert [f.film_size_id for f in films] == ["8INX10IN", "A4"]
    assert [f.orientation for f in films] == ["PORTRAIT", "LANDSCAPE"]
    assert [f.index for f in films] == [1, 2]
    assert films[1].pixels.shape == (round(210 / 25.4 * 30), round(297 / 25.4 * 30))
    for film in films:
        assert film.copies == 3
        assert film.film_session_label == "SESSION"
        assert (film.calling_ae_title, film.called_ae_title) == ("MODALITY", "PRINTER")
        assert film.job_id == job.job_id and film.created == job.created
    assert statuses == [Status.IMAGE_DEMAGNIFIED]  # met twice, reported once


def test_render_film_gives_the_index():
    job = print_job(film_box())
    film, statuses = render_film(job.films[0], job, index=4)
    assert film.index == 4 and statuses == []


def test_a_real_session_renders():
    driver = Driver()
    driver.create_session(NumberOfCopies="2")
    driver.create_film_box("STANDARD\\2,2", Trim="YES")
    for position in range(1, 5):
        driver.set_image(position, np.full((64, 64), 1000 * position, dtype=np.uint16))
    driver.print_session()
    films, statuses = render_job(driver.jobs[0])
    assert len(films) == 1 and films[0].copies == 2 and statuses == []
    h, w = films[0].pixels.shape
    got = [int(films[0].pixels[y, x]) for x, y in cell_centres("STANDARD\\2,2", w, h)]
    assert got == sorted(got) and len(set(got)) == 4  # lighter with each position


def test_default_profile_prints_p0_at_the_film_max_density():
    # Default film: Max Density 1.50 OD, on a printer reaching 4.00 OD.
    box = film_box(profile=DEFAULT_PROFILE)
    box.image_boxes[0].image = uniform(0)
    film, _ = render(box, profile=DEFAULT_PROFILE)
    h, w = film.pixels.shape
    scale = display_scale(box, DEFAULT_PROFILE)
    assert film.pixels[h // 2, w // 2] == density_value("150", scale)
    assert scale.density(film.pixels[h // 2, w // 2]) == pytest.approx(1.50, abs=0.02)


def test_images_of_different_sizes_in_one_film_print_as_each_does_alone():
    # The film's images share one look-up buffer: growing it for a larger
    # image, then reusing its start for a smaller one, must not leak pixels
    # from one image into another.
    rng = np.random.default_rng(7)
    images = [
        gray(rng.integers(0, 4096, (6, 5)), bits=12),
        gray(rng.integers(0, 256, (17, 13), dtype=np.uint8)),
        gray(rng.integers(0, 4096, (3, 4)), bits=12),
    ]

    def film_with(shown: dict[int, object]) -> np.ndarray:
        box = film_box("STANDARD\\3,1")
        for image_box in box.image_boxes:
            image_box.image = shown.get(image_box.ImageBoxPosition)
        return render(box)[0].pixels

    together = film_with(dict(enumerate(images, start=1)))
    alone = [film_with({position: image}) for position, image in enumerate(images, start=1)]
    third = together.shape[1] // 3
    for index, film in enumerate(alone):
        columns = slice(index * third, (index + 1) * third)
        np.testing.assert_array_equal(together[:, columns], film[:, columns])
    # Each image is magnified (not a blank cell), so the comparison sees pixels.
    assert all(len(np.unique(film)) > 10 for film in alone)
