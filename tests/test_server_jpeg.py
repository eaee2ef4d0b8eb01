"""The JPEG/PNG printer backend: folder layout, copies, atomic writes, metadata."""

import datetime
import os

import numpy as np
import pytest
from PIL import Image

from dicomprint import PrinterProfile, PrintJob
from dicomprint.film import Film
from dicomprint.film_session import FilmSession
from dicomprint_server.backends import files, load_backend
from dicomprint_server.backends.files import folder_name, job_tag, write_atomic
from dicomprint_server.backends.jpeg import JpegPrinter

CREATED = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC)


def make_job(calling="MODALITY", copies=1, collate=True) -> PrintJob:
    return PrintJob(
        films=(),
        session=FilmSession("1.2.3"),
        profile=PrinterProfile(),
        copies=copies,
        collate=collate,
        calling_ae_title=calling,
        job_id="2.25.1234",
        created=CREATED,
    )


def make_film(value=200, index=1, copies=1, color=False, calling="MODALITY") -> Film:
    shape = (120, 100, 3) if color else (120, 100)
    pixels = np.full(shape, value, dtype=np.uint8)
    if color:
        pixels[..., 1:] = 0  # pure red
    return Film(
        pixels=pixels,
        film_size_id="8INX10IN",
        orientation="PORTRAIT",
        width_mm=203.2,
        height_mm=254.0,
        dpi=72,
        copies=copies,
        index=index,
        calling_ae_title=calling,
        job_id="2.25.1234",
    )


@pytest.mark.parametrize(
    "title, expected",
    [
        ("MODALITY", "MODALITY"),
        ("CT_1-A", "CT_1-A"),
        ("  PADDED  ", "PADDED"),
    ],
)
def test_plain_ae_titles_are_folder_names(title, expected):
    assert folder_name(title) == expected


@pytest.mark.parametrize("title", ["../..", "a/b", "..", "C:\\x", "x y", "/etc", "é"])
def test_unsafe_ae_titles_cannot_escape_the_output_folder(title, tmp_path):
    name = folder_name(title)
    assert name and "/" not in name and "\\" not in name and name not in (".", "..")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_different_titles_never_share_a_folder():
    assert folder_name("a/b") != folder_name("a_b")
    assert folder_name("a/b") != folder_name("a.b")
    assert folder_name("") == folder_name("   ") == "_"


def test_one_jpeg_per_film_under_the_calling_ae(tmp_path):
    printer = JpegPrinter(tmp_path)
    printer.print_films([make_film(50, 1), make_film(220, 2)], make_job())
    files = sorted((tmp_path / "MODALITY").iterdir())
    tag = job_tag("2.25.1234")
    assert len(tag) == 8 and tag != job_tag("2.25.1235")
    assert [f.name for f in files] == [
        f"20240506T070809_123456Z_{tag}_01.jpg",
        f"20240506T070809_123456Z_{tag}_02.jpg",
    ]
    first, second = (np.asarray(Image.open(f)) for f in files)
    assert first.shape == (120, 100)
    assert abs(int(first.mean()) - 50) <= 2 and abs(int(second.mean()) - 220) <= 2
    with Image.open(files[0]) as image:
        assert image.format == "JPEG"
        assert tuple(round(v) for v in image.info["dpi"]) == (72, 72)
        assert b"film 1/2" in image.info["comment"]


def test_copies_recorded_in_one_file(tmp_path):
    JpegPrinter(tmp_path).print_films([make_film(copies=3)], make_job(copies=3))
    (only,) = (tmp_path / "MODALITY").iterdir()
    assert only.name.endswith("_01_x3.jpg")
    with Image.open(only) as image:
        assert b"copies=3" in image.info["comment"]


@pytest.mark.parametrize(
    "collate, order",
    [
        (True, ["01_c01", "02_c01", "01_c02", "02_c02"]),
        (False, ["01_c01", "01_c02", "02_c01", "02_c02"]),
    ],
)
def test_copies_as_files_follow_collation(tmp_path, collate, order):
    printer = JpegPrinter(tmp_path, copies="files")
    films = [make_film(index=1), make_film(index=2)]
    sheets = list(printer._sheets(films, make_job(copies=2, collate=collate)))
    assert [stem for stem, _, _ in sheets] == order
    printer.print_films([make_film(index=1), make_film(index=2)], make_job(copies=2))
    assert len(list((tmp_path / "MODALITY").iterdir())) == 4


def test_png_output_keeps_colour_and_dpi(tmp_path):
    printer = load_backend("jpeg", {"directory": tmp_path, "format": "png"})
    printer.print_films([make_film(255, color=True)], make_job())
    (only,) = (tmp_path / "MODALITY").iterdir()
    assert only.suffix == ".png"
    with Image.open(only) as image:
        assert image.mode == "RGB"
        assert tuple(round(v) for v in image.info["dpi"]) == (72, 72)
        pixels = np.asarray(image)
    assert (pixels[..., 0] == 255).all() and (pixels[..., 1:] == 0).all()


def test_write_atomic_leaves_only_the_final_file(tmp_path):
    target = tmp_path / "film.jpg"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["film.jpg"]


def test_failed_write_leaves_nothing_behind(tmp_path):
    (tmp_path / "MODALITY").write_text("a file where the folder should be")
    with pytest.raises(OSError):
        JpegPrinter(tmp_path).print_films([make_film()], make_job())
    assert os.listdir(tmp_path) == ["MODALITY"]


def test_write_failing_midway_removes_the_temporary_file(tmp_path):
    # Not bytes: the write fails after the temporary file was created.
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "film.jpg", 12345)  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_unknown_backend_names_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="jpeg"):
        load_backend("laser", {"directory": tmp_path})


def test_files_a_crash_left_half_written_are_removed(tmp_path, caplog):
    folder = tmp_path / "MODALITY"
    folder.mkdir()
    stale = folder / ".old.jpg.0a1b2c3d4e5f.part"
    recent = folder / ".new.jpg.0a1b2c3d4e5f.part"
    other = folder / ".notes.part"  # not a name write_atomic makes: left alone
    for path in (stale, recent, other):
        path.write_bytes(b"half a film")
    two_hours_ago = datetime.datetime.now().timestamp() - 7200
    for path in (stale, other):
        os.utime(path, (two_hours_ago, two_hours_ago))
    printer = JpegPrinter(tmp_path)
    with caplog.at_level("WARNING"):
        printer.print_films([make_film(50, 1)], make_job())
    # A younger one may be a write in progress.
    assert not stale.exists() and recent.exists() and other.exists()
    assert any(str(stale) in r.getMessage() for r in caplog.records)
    # The folder is looked at once an hour at most...
    os.utime(recent, (two_hours_ago, two_hours_ago))
    printer.print_films([make_film(60, 1)], make_job())
    assert recent.exists()
    # ... and again once the hour has passed (a restart right after a crash
    # leaves files minutes old: they go an hour later).
    files._tidied[folder] -= files.LEFT_BEHIND_AFTER  # an hour on
    printer.print_films([make_film(70, 1)], make_job())
    assert not recent.exists() and other.exists()
