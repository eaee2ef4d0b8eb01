"""``dicomprint print`` and ``dicomprint echo`` against this project's server and dcmprscp."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

import numpy as np
import pytest
from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from client_support import RecordingPrinter, needs_dcmtk, no_render, running_dcmprscp
from dicomprint import PrinterProfile
from dicomprint_server import print_command
from server_support import running_server


@pytest.fixture(autouse=True)
def quiet_logging(monkeypatch):
    # The command configures the root logger; leave pytest's alone.
    monkeypatch.setattr(print_command, "_configure_logging", lambda level: None)


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="dicomprint")
    print_command.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


def write_image(path: Path, value: int, *, pixels: bool = True) -> Path:
    """An 8-bit secondary capture image of one gray ``value`` (or no image at all)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = "TEST^PRINT"
    if pixels:
        ds.Rows, ds.Columns = 8, 6
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
        ds.PixelRepresentation = 0
        ds.PixelData = np.full((8, 6), value, np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    """Five images (one in a subfolder), a text file and a DICOM file without pixels."""
    root = tmp_path / "study"
    for n in range(1, 5):
        write_image(root / f"im{n}.dcm", 10 * n)
    write_image(root / "series2" / "im5.dcm", 50)
    write_image(root / "no_pixels.dcm", 0, pixels=False)
    (root / "notes.txt").write_text("not DICOM")
    return root


def peer(server) -> list[str]:
    host, port = server.address
    return ["--host", host, "--port", str(port), "--called-ae", "PRINTSCP"]


def test_print_a_folder(tmp_path, folder, capsys):
    printer = RecordingPrinter()
    profile = PrinterProfile(max_density=300)  # so that MaxDensity 250 needs no clamping
    with running_server(tmp_path, profile=profile, backend=printer, render=no_render) as server:
        code = run(
            "print",
            *peer(server),
            "--format",
            "STANDARD\\2,2",
            "--film-size",
            "8INX10IN",
            "--orientation",
            "landscape",
            "--copies",
            "2",
            "--bits",
            "8",
            "--film-box",
            "MaxDensity=250",
            str(folder),
        )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out == [
        "film 1: 4 image(s) printed (film box N-ACTION)",
        "film 2: 1 image(s) printed (film box N-ACTION)",
        "printed 5 image(s) on 2 film(s), 2 file(s) skipped",
    ]
    assert [job.copies for job in printer.jobs] == [2, 2]
    box = printer.jobs[0].films[0].film_box
    assert (box.FilmSizeID, box.FilmOrientation, box.MaxDensity) == ("8INX10IN", "LANDSCAPE", 250)
    # Files in name order: im1..im4 on the first film, series2/im5 on the second.
    assert [int(im.pixels[0, 0]) for im in printer.images(0).values()] == [10, 20, 30, 40]
    assert [int(im.pixels[0, 0]) for im in printer.images(1).values()] == [50]


def test_session_print(tmp_path, folder, capsys):
    printer = RecordingPrinter()
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        options = ["--session-print", "--wait-for-print-jobs", "10"]
        code = run("print", *peer(server), *options, str(folder / "im1.dcm"), str(folder))
    assert code == 0
    (job,) = printer.jobs
    assert len(job.films) == 6  # im1 named twice
    out = capsys.readouterr().out
    assert out.count("(film session N-ACTION)") == 6
    assert f"print job {job.job_id}: DONE\n" in out  # reported by the printer in time
    assert "warning" not in out


def test_printer_failure_exits_with_the_status(tmp_path, folder, capsys):
    with running_server(tmp_path, backend=RecordingPrinter(), render=no_render) as server:
        code = run("print", *peer(server), "--format", "STANDARD\\11,11", str(folder))
    assert code == 1
    assert "0x0106 Invalid attribute value" in capsys.readouterr().err


def test_annotations(tmp_path, folder, capsys, caplog):
    printer = RecordingPrinter()
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        code = run(
            "print",
            *peer(server),
            "--annotation-format",
            "TOP_BOTTOM",
            "--annotation",
            "1={{ACME}} HOSPITAL",
            "--annotation",
            "2=a=b {PatientName} {{{PatientID}}}{StudyDescription}",
            str(folder / "im1.dcm"),
        )
    assert code == 0, capsys.readouterr().err
    (job,) = printer.jobs
    boxes = job.films[0].film_box.annotation_boxes
    assert [(b.AnnotationPosition, b.TextString) for b in boxes] == [
        (1, "{ACME} HOSPITAL"),
        (2, "a=b TEST, PRINT {}"),  # from the image; attributes it lacks are empty
    ]
    # Two patients on one film: the film shows the last, and the log says so.
    other = dcmread(folder / "im2.dcm")
    other.PatientName = "OTHER^PATIENT"
    other.save_as(tmp_path / "other.dcm")
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        options = ["--format", "STANDARD\\1,2", "--annotation-format", "BOTTOM"]
        options += ["--annotation", "1={PatientName}"]
        files = [str(folder / "im1.dcm"), str(tmp_path / "other.dcm")]
        assert run("print", *peer(server), *options, *files) == 0
    boxes = printer.jobs[-1].films[0].film_box.annotation_boxes
    assert [b.TextString for b in boxes] == ["OTHER, PATIENT"]
    assert "earlier images of its film {1: 'TEST, PRINT'}" in caplog.text


def test_bad_arguments(tmp_path, folder, capsys):
    assert run("print", "--film-box", "NoSuchKeyword=1", str(folder)) == 2
    assert run("print", "--film-box", "MaxDensity=high", str(folder)) == 2
    assert run("print", "--format", "STANDARD-2,2", str(folder)) == 2
    assert "not an Image Display Format" in capsys.readouterr().err
    assert run("print", "--annotation", "1=ACME", str(folder)) == 2
    assert "--annotation needs --annotation-format" in capsys.readouterr().err
    assert run("print", "--annotation-format", "BOTTOM", "--annotation", "ACME", str(folder)) == 2
    assert "expected POSITION=TEXT" in capsys.readouterr().err
    bad = ["--annotation-format", "BOTTOM", "--annotation", "1={PatientsName}"]
    assert run("print", *bad, str(folder)) == 2
    assert "{PatientsName} is not {Keyword} with a DICOM keyword" in capsys.readouterr().err
    bad = ["--annotation-format", "BOTTOM", "--annotation", "1={Rows:03d}"]
    assert run("print", *bad, str(folder)) == 2
    assert "{Rows:03d} is not {Keyword}" in capsys.readouterr().err
    bad = ["--annotation-format", "BOTTOM", "--annotation", "1={PatientName"]
    assert run("print", *bad, str(folder)) == 2
    assert "for braces" in capsys.readouterr().err
    too_long = "1=" + "X" * 65
    assert run("print", "--annotation-format", "BOTTOM", "--annotation", too_long, str(folder)) == 2
    assert "longer than 64 characters" in capsys.readouterr().err
    # The text around the fields too, before anything is printed.
    bad = ["--annotation-format", "BOTTOM", "--annotation", "1=A\\B {PatientID}"]
    assert run("print", *bad, str(folder)) == 2
    assert "a backslash would split it" in capsys.readouterr().err
    assert run("print", str(tmp_path / "missing")) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_echo(tmp_path, folder, capsys):
    with running_server(tmp_path) as server:
        assert run("echo", *peer(server)) == 0
        host, port = server.address
    assert capsys.readouterr().out == f"C-ECHO PRINTSCP@{host}:{port}: 0x0000 Success\n"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert run("echo", "--port", str(closed), "--timeout", "5") == 1
    assert (
        f"cannot connect to PRINTSCP@127.0.0.1:{closed}: connection refused, no route or no answer"
        in capsys.readouterr().err
    )
    assert run("print", "--port", str(closed), "--timeout", "5", str(folder)) == 1
    assert f"cannot connect to PRINTSCP@127.0.0.1:{closed}" in capsys.readouterr().err


@needs_dcmtk
def test_print_a_folder_on_dcmprscp(tmp_path, folder, capsys):
    with running_dcmprscp(tmp_path) as scp:
        argv = ["--port", str(scp.port), "--called-ae", scp.ae_title]
        assert run("echo", *argv) == 0
        code = run("print", *argv, "--format", "STANDARD\\2,3", "--copies", "3", str(folder))
        pages = scp.stored_prints()
    assert code == 0
    assert "printed 5 image(s) on 1 film(s)" in capsys.readouterr().out
    (page,) = pages
    assert page.film_box.ImageDisplayFormat == "STANDARD\\2,3"
    # 8-bit images as 12-bit P-values: v / 255 * 4095.
    assert [page.images[p].pixel_array[0, 0] for p in sorted(page.images)] == [
        161,
        321,
        482,
        642,
        803,
    ]


def test_status(tmp_path, capsys):
    profile = PrinterProfile(film_sizes=["14INX17IN", "A4"], medium_types=["PAPER"])
    with running_server(tmp_path, profile=profile) as server:
        assert run("status", *peer(server)) == 0
        out = capsys.readouterr().out.splitlines()
        host, port = server.address
        server.printer.set_status("WARNING", "FILM LOW")
        assert run("status", *peer(server)) == 1
        warned = capsys.readouterr().out.splitlines()[0]
    assert out == [
        f"PRINTSCP@{host}:{port}: NORMAL (NORMAL)",
        "printer: dicomprint, dicomprint, dicomprint virtual printer",
        "software: 0.1.0",
        "default medium: PAPER 14INX17IN",
        "media: PAPER; film sizes: 14INX17IN, A4",
        "densities: 0.00 to 1.50 OD",
        "display formats: "
        + ", ".join(f"STANDARD\\{c},{r}" for r in range(1, 6) for c in range(1, 5)),
        "magnification: BILINEAR (others: REPLICATE, CUBIC, NONE)",
    ]
    assert warned == f"PRINTSCP@{host}:{port}: WARNING (FILM LOW)"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert run("status", "--port", str(closed), "--timeout", "5") == 1
    assert "cannot connect" in capsys.readouterr().err


@needs_dcmtk
def test_status_of_dcmprscp(tmp_path, capsys):
    with running_dcmprscp(tmp_path) as scp:
        assert run("status", "--port", str(scp.port), "--called-ae", scp.ae_title) == 0
    out = capsys.readouterr().out
    assert ": NORMAL" in out
    assert "configuration: not offered" in out
