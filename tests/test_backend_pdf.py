"""The PDF printer: one PDF per job, pages the films' physical size, copies."""

import os

import numpy as np
import pytest

from backend_support import POINTS_PER_MM, make_film, make_job, pdf_info, pdf_pages
from dicomprint.film_sizes import film_size_mm
from dicomprint_server.backends import OptionError, load_backend
from dicomprint_server.backends.pdf import PdfPrinter, encode_pdf


def only_pdf(root):
    (path,) = (root / "MODALITY").iterdir()
    assert path.suffix == ".pdf"
    return path


@pytest.mark.parametrize(
    "size, orientation",
    [
        ("14INX17IN", "PORTRAIT"),
        ("8INX10IN", "LANDSCAPE"),
        ("A4", "PORTRAIT"),
        ("10INX14IN", "LANDSCAPE"),
    ],
)
def test_the_page_is_exactly_the_film(tmp_path, size, orientation):
    PdfPrinter(tmp_path).print_films([make_film(size=size, orientation=orientation)], make_job())
    ((page_size, image),) = pdf_pages(only_pdf(tmp_path).read_bytes())
    width_mm, height_mm = film_size_mm(size, orientation)
    assert page_size == pytest.approx((width_mm * POINTS_PER_MM, height_mm * POINTS_PER_MM))


def test_pages_hold_the_films_pixels_the_right_way_round(tmp_path):
    films = [
        make_film(220, size="14INX17IN", index=1),
        make_film(120, size="8INX10IN", orientation="LANDSCAPE", index=2),
        make_film(255, size="8INX10IN", orientation="LANDSCAPE", index=3, color=True),
    ]
    PdfPrinter(tmp_path, quality=95).print_films(films, make_job())
    pages = pdf_pages(only_pdf(tmp_path).read_bytes())
    assert len(pages) == 3
    for film, (size, image) in zip(films, pages, strict=True):
        assert size == pytest.approx(
            (film.width_mm * POINTS_PER_MM, film.height_mm * POINTS_PER_MM)
        )
        assert image.shape == film.pixels.shape
        # JPEG inside: close, not identical; the bright half stays on the left.
        diff = np.abs(image.astype(int) - film.pixels.astype(int))
        assert diff.mean() < 2.0


def test_copies_recorded_once_per_film(tmp_path):
    films = [make_film(50, index=1), make_film(250, index=2)]
    PdfPrinter(tmp_path).print_films(films, make_job(copies=3))
    path = only_pdf(tmp_path)
    assert path.name.endswith("_x3.pdf")
    data = path.read_bytes()
    assert len(pdf_pages(data)) == 2
    info = pdf_info(data)
    assert "copies=3" in info["Keywords"]
    assert "calling=MODALITY" in info["Subject"]


@pytest.mark.parametrize(
    "collate, order",
    [(True, [50, 250, 50, 250, 50, 250]), (False, [50, 50, 50, 250, 250, 250])],
)
def test_copies_as_pages_follow_collation(tmp_path, collate, order):
    films = [make_film(50, index=1), make_film(250, index=2)]
    printer = load_backend("pdf", {"directory": str(tmp_path), "copies": "pages"})
    printer.print_films(films, make_job(copies=3, collate=collate))
    path = only_pdf(tmp_path)
    assert "_x" not in path.name
    left = [
        round(image[:, : image.shape[1] // 4].mean()) for _, image in pdf_pages(path.read_bytes())
    ]
    assert [min((50, 250), key=lambda v: abs(v - value)) for value in left] == order


def test_file_name_and_atomic_write(tmp_path):
    printer = PdfPrinter(tmp_path)
    printer.print_films([make_film()], make_job())
    path = only_pdf(tmp_path)
    assert path.name.startswith("20240506T070809_123456Z_")
    assert os.listdir(tmp_path / "MODALITY") == [path.name]  # no temporary file left
    assert path.read_bytes().startswith(b"%PDF-")


def test_failed_write_leaves_nothing_behind(tmp_path):
    (tmp_path / "MODALITY").write_text("a file where the folder should be")
    with pytest.raises(OSError):
        PdfPrinter(tmp_path).print_films([make_film()], make_job())
    assert os.listdir(tmp_path) == ["MODALITY"]


def test_empty_page_list_is_refused():
    with pytest.raises(ValueError):
        encode_pdf([])


@pytest.mark.parametrize(
    "options, key",
    [
        ({"directory": "x", "copies": "files"}, "copies"),
        ({"directory": "x", "quality": 0}, "quality"),
        ({"directory": "x", "qualty": 90}, "qualty"),
        ({"directory": "x", "fsync": "yes"}, "fsync"),
        ({}, "directory"),
    ],
)
def test_bad_options_name_the_key(options, key):
    with pytest.raises(OptionError, match=key):
        load_backend("pdf", options)
