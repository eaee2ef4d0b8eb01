"""The Windows printer: the pure parts everywhere, GDI printing on Windows only."""

import importlib.util
import sys

import numpy as np
import pytest

from backend_support import make_film, make_job
from dicomprint_server.backends import BackendError, OptionError, load_backend
from dicomprint_server.backends.page import Paper
from dicomprint_server.backends.windows import (
    WindowsPrinter,
    WindowsPrintError,
    film_raster,
    papers_from_capabilities,
)

HAVE_GDI = sys.platform == "win32" and importlib.util.find_spec("win32print") is not None
GDI_REASON = "Windows GDI printing needs Windows with pywin32 (pip install pywin32)"

A4 = Paper("A4", 210, 297, 9)
LETTER = Paper("Letter", 215.9, 279.4, 1)
A3 = Paper("A3", 297, 420, 8)


def test_papers_from_device_capabilities():
    papers = papers_from_capabilities(
        [1, 9, 256, 8],
        ["Letter\0\0", "A4", "Custom", "A3"],
        [{"x": 2159, "y": 2794}, (2100, 2970), (0, 0), {"x": 4200, "y": 2970}],
    )
    assert papers == [LETTER, A4, A3]  # no size: left out; landscape sizes in portrait


@pytest.mark.parametrize(
    "paper, size, orientation, expected",
    [
        ("auto", "8INX10IN", "PORTRAIT", (LETTER, "PORTRAIT")),
        ("auto", "14INX17IN", "LANDSCAPE", (A3, "LANDSCAPE")),
        ("a4", "8INX10IN", "LANDSCAPE", (A4, "LANDSCAPE")),
        ("driver", "8INX10IN", "PORTRAIT", (None, "PORTRAIT")),
    ],
)
def test_paper_choice(paper, size, orientation, expected):
    printer = WindowsPrinter(paper=paper)
    film = make_film(size=size, orientation=orientation)
    assert printer.choose(film, [A4, LETTER, A3]) == expected


def test_a_paper_the_printer_lacks_is_an_error():
    with pytest.raises(WindowsPrintError, match="Tabloid"):
        WindowsPrinter(paper="Tabloid").choose(make_film(), [A4, LETTER])


def test_turned_films_keep_every_pixel():
    film = make_film(size="8INX10IN", orientation="LANDSCAPE")
    turned = film_raster(film, rotate=True)
    assert turned.shape == film.pixels.shape[::-1]
    assert turned.flags.c_contiguous
    # Counter-clockwise: the film's top row becomes the left column, read upwards.
    assert np.array_equal(turned[::-1, 0], film.pixels[0])
    assert film_raster(film, rotate=False) is film.pixels


@pytest.mark.parametrize(
    "options, key",
    [
        ({"scaling": "stretch"}, "scaling"),
        ({"margin_mm": -1}, "margin_mm"),
        ({"paper": " "}, "paper"),
        ({"printr": "x"}, "printr"),
    ],
)
def test_bad_options_name_the_key(options, key):
    with pytest.raises(OptionError, match=key):
        WindowsPrinter.from_options(options)


@pytest.mark.skipif(HAVE_GDI, reason="checks the message shown where GDI is missing")
def test_elsewhere_the_backend_says_what_it_needs():
    with pytest.raises(BackendError, match="Windows|pywin32"):
        load_backend("windows", {"printer": "Microsoft Print to PDF"})


@pytest.mark.skipif(not HAVE_GDI, reason=GDI_REASON)
def test_gdi_prints_to_microsoft_print_to_pdf(tmp_path):
    import win32print

    names = [p[2] for p in win32print.EnumPrinters(win32print.PRINTER_ENUM_LOCAL)]
    if "Microsoft Print to PDF" not in names:
        pytest.skip("the 'Microsoft Print to PDF' printer is not installed")
    printer = load_backend(
        "windows",
        {
            "printer": "Microsoft Print to PDF",
            "output_directory": str(tmp_path),
            "output_suffix": ".pdf",
        },
    )
    films = [make_film(size="8INX10IN", dpi=50), make_film(size="8INX10IN", index=2, dpi=50)]
    printer.print_films(films, make_job(copies=2))
    outputs = sorted(tmp_path.glob("*.pdf"))
    assert outputs
    assert all(path.read_bytes().startswith(b"%PDF") for path in outputs)
