"""Store-to-film over the network: pynetdicom and DCMTK's storescu as senders."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
)
from pynetdicom import AE

from image_objects import (
    color_image,
    ct_with_rescale_and_window,
    grayscale_image,
)
from server_support import WAIT, load_image, output_files, running_server, wait_until
from sr_documents import make_sr

STORESCU = "/usr/bin/storescu"
DCMCJPEG = "/usr/bin/dcmcjpeg"


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def send(address, datasets, calling="MODALITY"):
    """C-STORE every dataset on one association; return the statuses."""
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = WAIT * 3
    for sop_class, syntax in {(d.SOPClassUID, d.file_meta.TransferSyntaxUID) for d in datasets}:
        ae.add_requested_context(sop_class, [syntax])
    assoc = ae.associate(*address, ae_title="PRINTSCP")
    assert assoc.is_established
    try:
        return [int(assoc.send_c_store(ds).Status) for ds in datasets]
    finally:
        assoc.release()


def films(tmp_path: Path, calling: str, count: int) -> list[np.ndarray]:
    """The films written for ``calling``, once ``count`` of them exist (bounded wait)."""
    folder = tmp_path / "filmbox" / calling
    wait_until(lambda: len(output_files(folder)) >= count)
    paths = output_files(folder)
    assert len(paths) == count, [p.name for p in paths]
    return [load_image(p) for p in paths]


def brightness_grid(film: np.ndarray, columns: int, rows: int) -> np.ndarray:
    """Mean brightness of each cell of a columns x rows grid over the film."""
    gray = film if film.ndim == 2 else film.mean(axis=2)
    h, w = gray.shape
    return np.array(
        [
            [
                gray[
                    r * h // rows : (r + 1) * h // rows, c * w // columns : (c + 1) * w // columns
                ].mean()
                for c in range(columns)
            ]
            for r in range(rows)
        ]
    )


def white_ct():
    return grayscale_image("CT", 32, 32, pixels=np.full((32, 32), 4095))


@pytest.mark.parametrize(
    ("count", "film_count"), [(1, 1), (3, 3), (4, 1), (5, 1), (6, 1), (7, 1), (12, 1), (13, 2)]
)
def test_image_counts_give_the_right_number_of_films(server, tmp_path, count, film_count):
    statuses = send(server.address, [white_ct() for _ in range(count)])
    assert statuses == [0] * count
    written = films(tmp_path, "MODALITY", film_count)
    for film in written:
        assert film.shape[0] > film.shape[1]  # 14INX17IN portrait


def test_four_images_fill_a_2x2_film_and_five_a_2x3(server, tmp_path):
    send(server.address, [white_ct() for _ in range(4)], calling="FOUR")
    (film,) = films(tmp_path, "FOUR", 1)
    assert (brightness_grid(film, 2, 2) > 150).all()
    send(server.address, [white_ct() for _ in range(5)], calling="FIVE")
    (film,) = films(tmp_path, "FIVE", 1)
    grid = brightness_grid(film, 2, 3)
    # Row-major: five bright cells, the last (bottom right) empty and black.
    assert (grid.ravel()[:5] > 150).all() and grid[2, 1] < 40


def test_thirteen_images_make_a_full_4x3_film_and_one_more(server, tmp_path):
    send(server.address, [white_ct() for _ in range(13)], calling="CT13")
    full, rest = films(tmp_path, "CT13", 2)
    assert (brightness_grid(full, 4, 3) > 120).all()
    # The thirteenth image starts another 4x3 film, in its first box.
    grid = brightness_grid(rest, 4, 3)
    assert grid[0, 0] > 120 and (grid.ravel()[1:] < 40).all()


def test_storage_classes_and_kinds_of_pixels(server, tmp_path):
    cr = grayscale_image("CR", 2500, 2048, bits_stored=12)
    objects = [
        cr,
        color_image("US", planar=0),
        color_image("US_RETIRED", planar=1),
        grayscale_image("SC", 64, 64, bits_stored=8),
        ct_with_rescale_and_window(),
        grayscale_image("DX", 64, 64, photometric="MONOCHROME1"),
        grayscale_image("MR"),
        grayscale_image("MG"),
        grayscale_image("NM", bits_stored=16),
        grayscale_image("XA", frames=3),
        grayscale_image("RF"),
        grayscale_image("PT", signed=True, bits_stored=16),
    ]
    statuses = send(server.address, objects, calling="ALLKINDS")
    assert statuses == [0] * len(objects)
    (film,) = films(tmp_path, "ALLKINDS", 1)
    assert film.ndim == 3  # the US images make it a colour film
    grid = brightness_grid(film, 4, 3)
    assert (grid > 30).all()  # every cell holds a ramp, none empty


def test_transfer_syntaxes(server, tmp_path):
    objects = []
    for syntax in (ImplicitVRLittleEndian, ExplicitVRLittleEndian):
        ds = white_ct()
        ds.file_meta.TransferSyntaxUID = syntax
        objects.append(ds)
    j2k = grayscale_image("MR", 64, 64, bits_stored=12)
    j2k.compress(JPEG2000Lossless)
    objects.append(j2k)
    statuses = send(server.address, objects, calling="SYNTAXES")
    assert statuses == [0, 0, 0]
    # Three images print one film each, in the order received.
    implicit, explicit, jpeg2000 = films(tmp_path, "SYNTAXES", 3)
    for film in (implicit, explicit):
        assert brightness_grid(film, 1, 3)[1, 0] > 200  # the white CT fills the middle
    left, _, right = brightness_grid(jpeg2000, 3, 1)[0]
    assert right > left + 30  # the JPEG 2000 ramp, dark to light


def test_a_report_prints_as_text_on_8x10(server, tmp_path):
    statuses = send(server.address, [make_sr(paragraphs=3)], calling="REPORTS")
    assert statuses == [0]
    (page,) = films(tmp_path, "REPORTS", 1)
    height, width = page.shape[:2]
    assert height / width == pytest.approx(10 / 8, rel=0.01)
    assert np.mean(page > 200) > 0.8 and np.sum(page < 60) > 500  # ink on paper


def test_corrupt_object_fails_alone(server, tmp_path):
    broken = grayscale_image("CR", 64, 64, bits_stored=8)
    broken.compress(JPEG2000Lossless)
    broken.PixelData = broken.PixelData[:-200] + b"\x00" * 200
    good = [white_ct(), white_ct()]
    statuses = send(server.address, [good[0], broken, good[1]], calling="CORRUPT")
    assert statuses[0] == 0 and statuses[2] == 0
    assert statuses[1] == 0xC000
    written = films(tmp_path, "CORRUPT", 2)  # the two good images, one film each
    assert all(brightness_grid(f, 1, 1)[0, 0] > 100 for f in written)


# -- DCMTK's storescu as the sender, with dcmcjpeg-compressed files ------------------

dcmtk = pytest.mark.skipif(
    not (Path(STORESCU).exists() and Path(DCMCJPEG).exists()),
    reason="DCMTK (storescu, dcmcjpeg) is not installed: apt-get install dcmtk",
)


def write(ds, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def dcmcjpeg(source: Path, target: Path, *options: str) -> Path:
    subprocess.run([DCMCJPEG, *options, str(source), str(target)], check=True, timeout=60)
    return target


@dcmtk
def test_storescu_sends_jpeg_compressed_images(server, tmp_path):
    sources, files = tmp_path / "sources", tmp_path / "files"
    sources.mkdir()
    files.mkdir()
    lossless = dcmcjpeg(write(grayscale_image("CT"), sources / "ct.dcm"), files / "ct_sv1.dcm")
    baseline = dcmcjpeg(
        write(grayscale_image("SC", bits_stored=8), sources / "sc.dcm"),
        files / "sc_base.dcm",
        "+eb",
    )
    assert dcmread(lossless).file_meta.TransferSyntaxUID == JPEGLosslessSV1
    assert dcmread(baseline).file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    # One transfer syntax per SOP class: storescu sends each file on the context
    # proposed for its class and does not transcode JPEG.
    plain = write(grayscale_image("CR", 32, 32, pixels=np.full((32, 32), 4095)), files / "cr.dcm")
    report = write(make_sr(paragraphs=1), files / "report.dcm")
    host, port = server.address
    # storescu proposes uncompressed syntaxes first unless told which compressed
    # one to prefer, and cannot transcode JPEG itself.
    for path, propose in ((lossless, "-xs"), (baseline, "-xy"), (plain, "-xe"), (report, "-xe")):
        result = subprocess.run(
            [
                STORESCU,
                "-aet",
                "DCMTKSCU",
                "-aec",
                "PRINTSCP",
                propose,
                str(host),
                str(port),
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0 and "E:" not in result.stderr, result.stderr
    written = films(tmp_path, "DCMTKSCU", 4)  # one association each: one film each
    shapes = sorted(f.shape[:2] for f in written)
    assert sum(h / w == pytest.approx(10 / 8, rel=0.01) for h, w in shapes) == 1
    for film in written:
        assert film.max() > 200


@dcmtk
def test_storescu_single_file_reports_no_errors(server, tmp_path):
    path = write(white_ct(), tmp_path / "one.dcm")
    host, port = server.address
    result = subprocess.run(
        [STORESCU, "-aet", "ONE", str(host), str(port), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "E:" not in result.stderr, result.stderr
    films(tmp_path, "ONE", 1)
