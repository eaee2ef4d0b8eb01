"""The CUPS printer against a real cupsd with the cups-pdf virtual printer."""

import subprocess

import pytest

from backend_support import POINTS_PER_MM, make_film, make_job
from cups_support import (
    LPADMIN,
    job_number,
    page_log_entry,
    pdf_page_sizes,
    private_cupsd,
    render_gray,
    wait_for_pdfs,
)
from dicomprint.film_sizes import film_size_mm
from dicomprint_server.backends import OptionError, load_backend
from dicomprint_server.backends.cups import CupsError, CupsPrinter, media_name
from dicomprint_server.backends.files import job_tag
from dicomprint_server.backends.page import Document

CUPSREJECT = "/usr/sbin/cupsreject"


@pytest.fixture(scope="module")
def cups():
    with private_cupsd() as running:
        yield running


@pytest.fixture
def produced(cups):
    """PDFs cups-pdf writes during a test; removed afterwards."""
    made = []
    yield made
    for path in made:
        path.unlink(missing_ok=True)


def printer(cups, **options):
    return load_backend("cups", {"queue": cups.queue, "server": cups.server, **options})


def printed(cups, produced, job_id, count=1):
    prefix = f"dicomprint_MODALITY_{job_tag(job_id)}"
    pdfs = wait_for_pdfs(cups, prefix, count)
    produced.extend(pdfs)
    assert len(pdfs) == count, f"cups-pdf wrote {len(pdfs)} PDF(s); see {cups.error_log}"
    return pdfs


def points(size, orientation="PORTRAIT"):
    width, height = film_size_mm(size, orientation)
    return pytest.approx((width * POINTS_PER_MM, height * POINTS_PER_MM), abs=1.0)


def test_film_comes_out_of_the_queue_at_its_physical_size(cups, produced, tmp_path):
    job_id = "2.25.701"
    film = make_film(230, size="14INX17IN", job_id=job_id)
    printer(cups).print_films([film], make_job(copies=2, job_id=job_id))
    (pdf,) = printed(cups, produced, job_id)
    assert pdf_page_sizes(pdf) == [points("14INX17IN")]
    entry = page_log_entry(cups, job_number(pdf))
    assert entry["copies"] == "2"
    assert entry["media"] == "custom_14inx17in_14x17in"
    page = render_gray(pdf, 10, tmp_path)
    middle = page[page.shape[0] // 2]
    quarter = page.shape[1] // 4
    assert middle[:quarter].mean() > 150 > 50 > middle[-quarter:].mean()  # left bright


def test_true_size_on_larger_paper(cups, produced, tmp_path):
    job_id = "2.25.702"
    film = make_film(230, size="8INX10IN", job_id=job_id)
    printer(cups, media={"8INX10IN": "iso_a3_297x420mm"}).print_films(
        [film], make_job(job_id=job_id)
    )
    (pdf,) = printed(cups, produced, job_id)
    assert pdf_page_sizes(pdf) == [points("A3")]
    page = render_gray(pdf, 20, tmp_path)
    # The film's black right half, at true size: 4 inches = 80 pixels at 20 dpi
    # (shrunk or stretched to the A3 width it would be about 117).
    dark = int((page[page.shape[0] // 2] < 60).sum())
    assert abs(dark - 80) <= 3


def test_landscape_film_prints_on_turned_paper(cups, produced):
    job_id = "2.25.703"
    film = make_film(size="8INX10IN", orientation="LANDSCAPE", job_id=job_id)
    printer(cups).print_films([film], make_job(job_id=job_id))
    (pdf,) = printed(cups, produced, job_id)
    ((width, height),) = pdf_page_sizes(pdf)
    assert sorted((width, height)) == pytest.approx(sorted((576.0, 720.0)), abs=1.0)
    assert page_log_entry(cups, job_number(pdf))["media"] == "custom_8inx10in_8x10in"


def test_films_of_two_sizes_go_as_two_jobs_in_order(cups, produced):
    job_id = "2.25.704"
    films = [
        make_film(size="A4", index=1, job_id=job_id),
        make_film(size="8INX10IN", index=2, job_id=job_id),
    ]
    printer(cups).print_films(films, make_job(job_id=job_id))
    pdfs = sorted(printed(cups, produced, job_id, 2), key=job_number)
    assert [pdf_page_sizes(pdf) for pdf in pdfs] == [[points("A4")], [points("8INX10IN")]]
    assert page_log_entry(cups, job_number(pdfs[0]))["media"] == "iso_a4_210x297mm"


def test_unknown_queue_fails(cups):
    with pytest.raises(CupsError, match="lp failed"):
        CupsPrinter(queue="NO_SUCH_QUEUE", server=cups.server).print_films(
            [make_film()], make_job()
        )


def test_queue_not_accepting_jobs_fails(cups):
    queue = "DICOMPRINT_REJECTING"
    subprocess.run(
        [str(LPADMIN), "-h", cups.server, "-p", queue, "-E", "-v", "cups-pdf:/"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    subprocess.run(
        [CUPSREJECT, "-h", cups.server, queue], check=True, capture_output=True, timeout=30
    )
    with pytest.raises(CupsError, match="not accepting"):
        CupsPrinter(queue=queue, server=cups.server).print_films([make_film()], make_job())


def test_lp_missing_is_a_clear_error(tmp_path):
    printer = CupsPrinter(queue="Q", lp=tmp_path / "no-lp")
    with pytest.raises(CupsError, match="not found"):
        printer.print_films([make_film()], make_job())


def test_command_line():
    printer = CupsPrinter(
        queue="Film",
        server="printhost:631",
        user="radiology",
        scaling="none",
        media={"A4": "A4"},
        options={"ColorModel": "Gray", "fit-to-page": False},
    )
    film = make_film(size="A4", orientation="LANDSCAPE")
    args = printer.command(film, Document((0, 1), copies=3, collate=True), "title")
    assert args[:11] == [
        "/usr/bin/lp",
        "-h",
        "printhost:631",
        "-U",
        "radiology",
        "-d",
        "Film",
        "-t",
        "title",
        "-n",
        "3",
    ]
    options = [args[i + 1] for i, a in enumerate(args) if a == "-o"]
    assert options == [
        "media=A4",
        "orientation-requested=4",
        "print-scaling=none",
        "collate=true",
        "ColorModel=Gray",
        "fit-to-page=false",
    ]


@pytest.mark.parametrize(
    "size, name",
    [
        ("A4", "iso_a4_210x297mm"),
        ("8_5INX11IN", "na_letter_8.5x11in"),
        ("14INX17IN", "custom_14inx17in_14x17in"),
        ("8_5INX28IN", "custom_8-5inx28in_8.5x28in"),
        ("10INX14IN", "custom_10inx14in_257x364mm"),
        ("24CMX30CM", "custom_24cmx30cm_240x300mm"),
    ],
)
def test_default_media_names(size, name):
    assert media_name(size) == name


@pytest.mark.parametrize(
    "options, key",
    [
        ({}, "queue"),
        ({"queue": "has space"}, "queue"),
        ({"queue": "Q", "media": {"15INX15IN": "x"}}, "15INX15IN"),
        ({"queue": "Q", "scaling": "stretch"}, "scaling"),
        ({"queue": "Q", "options": {"bad key": "x"}}, "bad key"),
        ({"queue": "Q", "timeout": 0}, "timeout"),
    ],
)
def test_bad_options_name_the_key(options, key):
    with pytest.raises(OptionError, match=key):
        load_backend("cups", options)
