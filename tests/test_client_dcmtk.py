"""PrintClient against DCMTK's dcmprscp, a third-party print SCP.

dcmprscp stores every film it prints in its database folder as a Stored
Print object, with one Hardcopy Grayscale image per image box; with ``-d``
its log dumps every DIMSE message it received. The tests read both.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from client_support import needs_dcmtk, running_dcmprscp
from dicomprint import Status
from dicomprint.prepare import prepare_image
from dicomprint_server.client import PrintClient, PrintClientError

pytestmark = needs_dcmtk


def connect(scp, **options) -> PrintClient:
    return PrintClient("127.0.0.1", scp.port, scp.ae_title, "CLIENT_TEST", timeout=30, **options)


def flat(value: int, shape=(8, 6)) -> np.ndarray:
    return np.full(shape, value, np.uint8)


def actions(log: str) -> list[str]:
    """SOP classes of the N-ACTION requests dcmprscp received, in order."""
    return re.findall(
        r"Message Type\s*: N-ACTION RQ.*?Requested SOP Class UID\s*: (\w+)", log, re.S
    )


@pytest.mark.parametrize(
    "display_format, orientation, boxes",
    [
        ("STANDARD\\1,1", "PORTRAIT", 1),
        ("STANDARD\\2,2", "PORTRAIT", 4),
        ("STANDARD\\2,3", "PORTRAIT", 6),
        # dcmprscp derives landscape formats by swapping columns and rows.
        ("STANDARD\\3,2", "LANDSCAPE", 6),
    ],
)
def test_grayscale_layouts(tmp_path, display_format, orientation, boxes):
    layout = {
        "ImageDisplayFormat": display_format,
        "FilmOrientation": orientation,
        "FilmSizeID": "8INX10IN",
    }
    images = [flat(20 * n) for n in range(1, boxes + 2)]  # one more than a film holds
    with running_dcmprscp(tmp_path) as scp:
        with connect(scp, film_box=layout) as client:
            for image in images:
                client.print_image(image)
        pages = scp.stored_prints()
        log = scp.log_text()
    assert client.warnings == []
    assert [len(page.images) for page in pages] == [boxes, 1]
    for page in pages:
        assert page.film_box.ImageDisplayFormat == display_format
        assert (page.film_box.FilmOrientation, page.film_box.FilmSizeID) == (
            orientation,
            "8INX10IN",
        )
    received = [page.images[p] for page in pages for p in sorted(page.images)]
    for sent, hardcopy in zip(images, received, strict=True):
        assert (hardcopy.BitsStored, hardcopy.PhotometricInterpretation) == (12, "MONOCHROME2")
        assert np.array_equal(hardcopy.pixel_array, prepare_image(sent).pixels)
    # 20 / 255 * 4095 = 321.2 -> 321 in the first image box.
    assert received[0].pixel_array[0, 0] == 321
    assert actions(log) == ["BasicFilmBoxSOPClass"] * 2


def test_film_session_level_with_copies(tmp_path):
    with running_dcmprscp(tmp_path) as scp:
        with connect(scp, print_level="film_session", copies=2) as client:
            for value in (10, 20, 30):
                client.print_image(flat(value))
        pages = scp.stored_prints()
        log = scp.log_text()
    assert [page.images[1].pixel_array[0, 0] for page in pages] == [
        prepare_image(flat(v)).pixels[0, 0] for v in (10, 20, 30)
    ]
    assert actions(log) == ["BasicFilmSessionSOPClass"]
    # The film session N-CREATE carried the copies, and dcmprscp confirmed them.
    assert re.search(r"\(2000,0010\) IS \[2\]", log)
    assert client.film_session_reply.NumberOfCopies == 2
    assert [(f.number, f.level) for f in client.films] == [
        (1, "film session"),
        (2, "film session"),
        (3, "film session"),
    ]


def test_presentation_lut_and_printer_status(tmp_path):
    with running_dcmprscp(tmp_path) as scp:
        with connect(scp, presentation_lut="LIN OD") as client:
            lut_uid = client.presentation_lut_uid  # the UID dcmprscp assigned
            client.print_image(flat(1))
        (page,) = scp.stored_prints()
        stored_lut = scp.stored_lut(page)
    assert client.printer_reply.PrinterStatus == "NORMAL"
    assert lut_uid.startswith("1.2.276.0.7230010.3.")  # DCMTK's UID root
    assert stored_lut.SOPInstanceUID == lut_uid
    assert stored_lut.PresentationLUTShape == "LIN OD"
    assert client.warnings == []


def test_twelve_bit_refused_then_eight_bit(tmp_path):
    with running_dcmprscp(tmp_path, Supports12Bit="false") as scp:
        with connect(scp, film_box={"ImageDisplayFormat": "STANDARD\\2,1"}) as client:
            client.print_image(flat(51))
            client.print_image(flat(102))
        (page,) = scp.stored_prints()
    assert [page.images[p].BitsStored for p in (1, 2)] == [8, 8]
    assert [page.images[p].pixel_array[0, 0] for p in (1, 2)] == [51, 102]
    assert [w.status for w in client.warnings] == [Status.INVALID_ATTRIBUTE_VALUE]


@pytest.mark.parametrize(
    "film_box, status",
    [
        ({"ImageDisplayFormat": "STANDARD\\5,5"}, Status.INVALID_ATTRIBUTE_VALUE),
        ({"FilmSizeID": "A3"}, Status.INVALID_ATTRIBUTE_VALUE),
        ({"Trim": "YES"}, Status.NO_SUCH_ATTRIBUTE),  # SupportsTrim is off
    ],
)
def test_failures_from_dcmprscp(tmp_path, film_box, status):
    with running_dcmprscp(tmp_path) as scp:
        client = connect(scp, film_box=film_box)
        with pytest.raises(PrintClientError) as caught, client:
            client.print_image(flat(1))
        assert scp.stored_prints() == []
    assert caught.value.status == status
    assert caught.value.operation == "N-CREATE Basic Film Box SOP Class"
    assert not client.is_open


def test_colour_on_a_grayscale_only_printer(tmp_path):
    with running_dcmprscp(tmp_path) as scp:
        client = connect(scp, color=True)
        with pytest.raises(PrintClientError, match="does not accept Basic Color"):
            client.open()
        assert not client.is_open
        # Printing colour images in grayscale works: luma of pure red 0.299 -> 1224.
        red = np.zeros((4, 4, 3), np.uint8)
        red[..., 0] = 255
        with connect(scp) as gray_client:
            gray_client.print_image(red)
        (page,) = scp.stored_prints()
    assert page.images[1].pixel_array[0, 0] == 1224
