"""The print server over real loopback TCP, with pynetdicom as the SCU.

Every DIMSE path: N-CREATE / N-SET / N-GET / N-ACTION / N-DELETE on film
session, film box, grayscale and colour image boxes, Presentation LUT and
Printer; N-EVENT-REPORT of printer status; release and abort cleanup.
"""

import logging
import threading
import time

import numpy as np
import pytest
from pydicom import Dataset, FileMetaDataset
from pydicom.dataelem import RawDataElement
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ImplicitVRLittleEndian

from dicomprint import Status, uids
from dicomprint_server import connection
from dicomprint_server.scp import status_dataset
from print_requests import (
    color_item,
    film_box_request,
    film_session_request,
    grayscale_item,
    image_box_request,
    referenced,
)
from server_support import (
    COLOR,
    GRAY,
    WAIT,
    PrintClient,
    ask_repeatedly,
    changing_status,
    load_image,
    output_files,
    running_server,
    wait_until,
)

BRIGHT, DARK = 4000, 100  # 12-bit values


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path) as srv:
        yield srv


@pytest.fixture
def filmbox(tmp_path):
    return tmp_path / "filmbox"


def gray(value: int, size=(128, 96)) -> np.ndarray:
    return np.full(size, value, dtype=np.uint16)


def cell_means(pixels: np.ndarray, columns: int, rows: int) -> np.ndarray:
    """Mean value of a small patch at the centre of every STANDARD cell, row-major."""
    height, width = pixels.shape[:2]
    means = []
    for r in range(rows):
        for c in range(columns):
            y, x = int((r + 0.5) * height / rows), int((c + 0.5) * width / columns)
            means.append(pixels[y - 5 : y + 5, x - 5 : x + 5].mean(axis=(0, 1)))
    return np.array(means)


def start_film(client, layout="STANDARD\\1,1", meta=GRAY, session_attrs=None, **box_attrs):
    status, session_uid, _ = client.create(
        uids.BasicFilmSession, film_session_request(**(session_attrs or {})), meta=meta
    )
    assert status == 0x0000
    status, box_uid, reply = client.create(
        uids.BasicFilmBox, film_box_request(session_uid, layout, **box_attrs), meta=meta
    )
    assert status == 0x0000, hex(status)
    boxes = [item.ReferencedSOPInstanceUID for item in reply.ReferencedImageBoxSequence]
    return session_uid, box_uid, boxes, reply


# -- Association ---------------------------------------------------------------


def test_print_and_storage_contexts_are_accepted(server):
    from dicomprint_server.contexts import supported_contexts

    table = supported_contexts()
    for abstract_syntax, syntaxes in table:
        for syntax in syntaxes:
            with PrintClient(server.address, (abstract_syntax,), transfer_syntaxes=(syntax,)) as c:
                assert c.assoc.is_established
                (context,) = [
                    cx for cx in c.assoc.accepted_contexts if cx.abstract_syntax == abstract_syntax
                ]
                assert context.transfer_syntax[0] == syntax
    names = {abstract_syntax for abstract_syntax, _ in table}
    # Verification + 11 print classes + 13 seed storage classes + 18 others
    assert len(names) == 43
    assert len(supported_contexts(other_storage_classes=False)) == 25
    assert "1.2.840.10008.5.1.1.9" in names and "1.2.840.10008.5.1.9" not in names


def test_unsupported_context_is_rejected_but_association_proceeds(server):
    with PrintClient(server.address, (GRAY, "1.2.840.10008.5.1.1.22")) as client:  # VOI LUT Box
        accepted = {cx.abstract_syntax for cx in client.assoc.accepted_contexts}
        assert accepted == {GRAY}


def test_implementation_identity_and_max_pdu(server):
    from dicomprint_server import IMPLEMENTATION_CLASS_UID

    with PrintClient(server.address) as client:
        acceptor = client.assoc.acceptor
        assert acceptor.implementation_class_uid == IMPLEMENTATION_CLASS_UID
        assert IMPLEMENTATION_CLASS_UID.startswith("2.25.")
        assert acceptor.implementation_version_name == "DICOMPRINT_010"
        assert acceptor.maximum_length == 16384


def test_no_asynchronous_operations_window(server):
    from pynetdicom.pdu_primitives import AsynchronousOperationsWindowNegotiation

    proposal = AsynchronousOperationsWindowNegotiation()
    proposal.maximum_number_operations_invoked = 5
    proposal.maximum_number_operations_performed = 5
    with PrintClient(server.address, ext_neg=[proposal]) as client:
        assert client.assoc.is_established
        # The acceptor answers without an Asynchronous Operations Window item.
        user_information = client.assoc.acceptor.user_information
        assert not any(
            isinstance(item, AsynchronousOperationsWindowNegotiation) for item in user_information
        )
        assert client.assoc.acceptor.asynchronous_operations == (1, 1)


def test_any_called_and_calling_ae_title_is_accepted(server):
    from pynetdicom import AE

    ae = AE(ae_title="WHO_KNOWS")
    ae.add_requested_context(uids.Printer)
    assoc = ae.associate(*server.address, ae_title="NOT_PRINTSCP")
    try:
        assert assoc.is_established
    finally:
        assoc.release()


def test_max_pdu_and_max_associations_are_configurable(tmp_path):
    with running_server(tmp_path, max_pdu=65536, max_associations=2) as server:
        first, second = PrintClient(server.address), PrintClient(server.address)
        try:
            assert first.assoc.acceptor.maximum_length == 65536
            third = PrintClient(server.address)
            assert third.assoc.is_rejected and not third.assoc.is_established
            first.close()
            assert wait_until(lambda: len(server.ae.active_associations) < 2)
            fourth = PrintClient(server.address)
            assert fourth.assoc.is_established
            fourth.close()
        finally:
            first.close()
            second.close()


def test_c_echo(server):
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    ae = AE()
    ae.add_requested_context(Verification)
    assoc = ae.associate(*server.address)
    try:
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()


def test_c_store_without_pixel_data_fails_alone(server):
    from pynetdicom import AE
    from pynetdicom.sop_class import SecondaryCaptureImageStorage

    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = uids.new_uid()
    ds.PatientName = "TEST"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ae = AE()
    ae.add_requested_context(SecondaryCaptureImageStorage)
    assoc = ae.associate(*server.address)
    try:
        status = assoc.send_c_store(ds)
        assert status.Status == 0xA900
        assert "no pixel data" in status.ErrorComment
    finally:
        assoc.release()


# -- Grayscale print jobs --------------------------------------------------------


def test_grayscale_2x2_film_box_print(server, filmbox):
    with PrintClient(server.address, calling="CT_SCANNER") as client:
        session_uid, box_uid, boxes, reply = start_film(
            client, "STANDARD\\2,2", FilmSizeID="8INX10IN"
        )
        assert reply.ImageDisplayFormat == "STANDARD\\2,2"
        assert len(boxes) == 4
        for position, uid in enumerate(boxes, 1):
            value = BRIGHT if position in (1, 4) else DARK
            request = image_box_request(position, grayscale_item(gray(value)))
            status, _, _ = client.set(uids.BasicGrayscaleImageBox, uid, request)
            assert status == 0x0000
        status, _ = client.action(uids.BasicFilmBox, box_uid)
        assert status == 0x0000
        # Success means the file already exists.
        (film,) = output_files(filmbox / "CT_SCANNER")
        pixels = load_image(film)
        assert pixels.ndim == 2 and pixels.shape[0] > pixels.shape[1]  # portrait
        bright = cell_means(pixels, 2, 2) > 150
        assert bright.tolist() == [True, False, False, True]
        assert client.delete(uids.BasicFilmBox, box_uid)[0] == 0x0000
        assert client.delete(uids.BasicFilmSession, session_uid)[0] == 0x0000
        assert client.delete(uids.BasicFilmSession, session_uid)[0] == 0x0112


def test_warnings_say_what_they_are_about(server):
    with PrintClient(server.address) as client:
        _, session_uid, _ = client.create(uids.BasicFilmSession, film_session_request())
        request = film_box_request(session_uid, "STANDARD\\1,1", MaxDensity=300)
        status, box_uid, reply = client.create(uids.BasicFilmBox, request)
        boxes = [item.ReferencedSOPInstanceUID for item in reply.ReferencedImageBoxSequence]
        # N-CREATE: the clamped density, in the Error Comment (PS3.7 C.4.1).
        assert status == Status.DENSITY_CLAMPED
        assert client.last_command.ErrorComment == "MaxDensity 300 -> 150"
        # N-SET: an attribute it does not take, in the Attribute Identifier List (C.4.2).
        request = image_box_request(1, grayscale_item(gray(BRIGHT)))
        request.PatientName = "DOE^JANE"
        status, _, rsp = client.set(uids.BasicGrayscaleImageBox, boxes[0], request)
        assert status == Status.ATTRIBUTE_LIST_ERROR
        assert rsp.AttributeIdentifierList == Tag(0x0010, 0x0010)  # VM 1: one tag
        assert rsp.ErrorComment == "PatientName (0010,0010) not supported: ignored"
        # When another warning comes first, the status is that one's: no list.
        request = Dataset()
        request.MaxDensity = 300
        request.RequestedImageSize = "100"  # an image box attribute
        status, _, rsp = client.set(uids.BasicFilmBox, box_uid, request)
        assert status == Status.DENSITY_CLAMPED
        assert "AttributeIdentifierList" not in rsp
        cut = "MaxDensity 300 -> 150; RequestedImageSize (2020,0030) not suppor"  # 64
        assert rsp.ErrorComment == cut
        # A success has neither.
        status, rsp = client.action(uids.BasicFilmBox, box_uid)
        assert status == Status.SUCCESS
        assert "ErrorComment" not in rsp and "AttributeIdentifierList" not in rsp


def test_film_session_print_with_copies(tmp_path, filmbox):
    with running_server(tmp_path) as server, PrintClient(server.address) as client:
        session_uid, _, boxes, _ = start_film(client, session_attrs={"NumberOfCopies": "2"})
        image = image_box_request(1, grayscale_item(gray(BRIGHT)))
        assert client.set(uids.BasicGrayscaleImageBox, boxes[0], image)[0] == 0x0000
        status, box2, reply = client.create(
            uids.BasicFilmBox, film_box_request(session_uid, "STANDARD\\1,2")
        )
        assert status == 0x0000
        second = [item.ReferencedSOPInstanceUID for item in reply.ReferencedImageBoxSequence]
        image = image_box_request(2, grayscale_item(gray(DARK)))
        assert client.set(uids.BasicGrayscaleImageBox, second[1], image)[0] == 0x0000
        # Boxes of the earlier film box can no longer be changed.
        stale = image_box_request(1, grayscale_item(gray(DARK)))
        assert client.set(uids.BasicGrayscaleImageBox, boxes[0], stale)[0] == 0x0110
        status, _ = client.action(uids.BasicFilmSession, session_uid)
        assert status == 0x0000
    films = output_files(filmbox / "TESTSCU")
    # Default "record" policy: one file per film box, the copy count in the name.
    assert len(films) == 2
    assert all(f.name.endswith("_x2.jpg") for f in films)
    first, second = (load_image(f) for f in films)
    assert cell_means(first, 1, 1)[0] > 150
    # Position 2 of STANDARD\1,2 (one column, two rows) is the lower cell: dark.
    assert cell_means(second, 1, 2)[1] < 100


def test_empty_film_box_prints_with_warning(server, filmbox):
    with PrintClient(server.address) as client:
        _, box_uid, _, _ = start_film(client)
        status, _ = client.action(uids.BasicFilmBox, box_uid)
        assert status == Status.FILM_BOX_EMPTY_PAGE
    assert len(output_files(filmbox)) == 1


def test_scp_assigned_uid_arrives_with_a_warning(server):
    """A warning N-CREATE must still carry the Affected SOP Instance UID."""
    with PrintClient(server.address) as client:
        status, session_uid, _ = client.create(
            uids.BasicFilmSession, film_session_request(MemoryAllocation="1024")
        )
        assert status == Status.MEMORY_ALLOCATION_NOT_SUPPORTED
        assert uids.is_valid_uid(session_uid)
        status, _, _ = client.create(uids.BasicFilmBox, film_box_request(session_uid))
        assert status == 0x0000


def test_scu_chosen_uids_are_used(server):
    with PrintClient(server.address) as client:
        chosen = uids.new_uid()
        status, uid, _ = client.create(uids.BasicFilmSession, film_session_request(), chosen)
        assert (status, uid) == (0x0000, chosen)
        assert client.delete(uids.BasicFilmSession, chosen)[0] == 0x0000


def test_12_and_8_bit_and_monochrome1(server, filmbox):
    with PrintClient(server.address) as client:
        _, box_uid, boxes, _ = start_film(client, "STANDARD\\3,1")
        items = [
            grayscale_item(np.full((64, 64), 255, np.uint8)),  # 8-bit white
            grayscale_item(gray(0), photometric="MONOCHROME1"),  # MONOCHROME1 0 = white
            grayscale_item(gray(0)),  # MONOCHROME2 0 = black
        ]
        for position, (uid, item) in enumerate(zip(boxes, items, strict=True), 1):
            request = image_box_request(position, item)
            assert client.set(uids.BasicGrayscaleImageBox, uid, request)[0] == 0x0000
        assert client.action(uids.BasicFilmBox, box_uid)[0] == 0x0000
    means = cell_means(load_image(output_files(filmbox)[0]), 3, 1)
    assert means[0] > 200 and means[1] > 200 and means[2] < 100


# -- Colour ------------------------------------------------------------------------


def test_color_film_box_print(server, filmbox):
    with PrintClient(server.address, (COLOR,)) as client:
        _, box_uid, boxes, reply = start_film(client, "STANDARD\\2,1", meta=COLOR)
        classes = {item.ReferencedSOPClassUID for item in reply.ReferencedImageBoxSequence}
        assert classes == {uids.BasicColorImageBox}
        red = np.zeros((64, 64, 3), np.uint8)
        red[..., 0] = 255
        blue = np.zeros((64, 64, 3), np.uint8)
        blue[..., 2] = 255
        for position, (uid, rgb, planar) in enumerate(
            zip(boxes, (red, blue), (0, 1), strict=True), 1
        ):
            request = image_box_request(position, color_item(rgb, planar=planar), color=True)
            status, _, _ = client.set(uids.BasicColorImageBox, uid, request, meta=COLOR)
            assert status == 0x0000
        # A grayscale image box class cannot address a colour box.
        request = image_box_request(1, grayscale_item(gray(DARK)))
        status, _, _ = client.set(uids.BasicGrayscaleImageBox, boxes[0], request, meta=COLOR)
        assert status == Status.CLASS_INSTANCE_CONFLICT
        assert client.action(uids.BasicFilmBox, box_uid, meta=COLOR)[0] == 0x0000
    pixels = load_image(output_files(filmbox)[0])
    assert pixels.ndim == 3
    left, right = cell_means(pixels, 2, 1)
    assert left[0] > 200 and left[2] < 60
    assert right[2] > 200 and right[0] < 60


def test_grayscale_meta_creates_grayscale_boxes_on_a_two_meta_association(server):
    with PrintClient(server.address, (GRAY, COLOR)) as client:
        _, _, _, reply = start_film(client, meta=GRAY)
        (item,) = reply.ReferencedImageBoxSequence
        assert item.ReferencedSOPClassUID == uids.BasicGrayscaleImageBox


def test_individual_classes_without_meta(server, filmbox):
    """Some SCUs propose the member classes one by one instead of the meta class."""
    contexts = (uids.BasicFilmSession, uids.BasicFilmBox, uids.BasicGrayscaleImageBox)
    with PrintClient(server.address, contexts) as client:
        status, session_uid, _ = client.create(
            uids.BasicFilmSession, film_session_request(), meta=None
        )
        assert status == 0x0000
        status, box_uid, reply = client.create(
            uids.BasicFilmBox, film_box_request(session_uid), meta=None
        )
        assert status == 0x0000
        (item,) = reply.ReferencedImageBoxSequence
        assert item.ReferencedSOPClassUID == uids.BasicGrayscaleImageBox
        request = image_box_request(1, grayscale_item(gray(BRIGHT)))
        status, _, _ = client.set(
            uids.BasicGrayscaleImageBox, item.ReferencedSOPInstanceUID, request, meta=None
        )
        assert status == 0x0000
        assert client.action(uids.BasicFilmBox, box_uid, meta=None)[0] == 0x0000
    assert len(output_files(filmbox)) == 1


# -- Presentation LUT -------------------------------------------------------------


def test_presentation_lut_create_reference_delete(server, filmbox):
    with PrintClient(server.address, (GRAY, uids.PresentationLUT)) as client:
        lut = Dataset()
        lut.PresentationLUTShape = "INVERSE"
        status, lut_uid, _ = client.create(uids.PresentationLUT, lut, meta=None)
        assert status == 0x0000
        session_uid, box_uid, boxes, reply = start_film(
            client,
            ReferencedPresentationLUTSequence=referenced(uids.PresentationLUT, lut_uid),
        )
        assert reply.ReferencedPresentationLUTSequence[0].ReferencedSOPInstanceUID == lut_uid
        request = image_box_request(1, grayscale_item(gray(BRIGHT)))
        assert client.set(uids.BasicGrayscaleImageBox, boxes[0], request)[0] == 0x0000
        # Still referenced by the film box: may not go.
        assert client.delete(uids.PresentationLUT, lut_uid, meta=None)[0] == 0x0110
        assert client.action(uids.BasicFilmBox, box_uid)[0] == 0x0000
        assert client.delete(uids.BasicFilmBox, box_uid)[0] == 0x0000
        assert client.delete(uids.PresentationLUT, lut_uid, meta=None)[0] == 0x0000
        assert client.delete(uids.PresentationLUT, lut_uid, meta=None)[0] == 0x0112
    # INVERSE turned the bright image dark.
    assert cell_means(load_image(output_files(filmbox)[0]), 1, 1)[0] < 100


def test_referencing_an_unknown_lut_fails(server):
    with PrintClient(server.address, (GRAY, uids.PresentationLUT)) as client:
        status, session_uid, _ = client.create(uids.BasicFilmSession, film_session_request())
        request = film_box_request(
            session_uid,
            ReferencedPresentationLUTSequence=referenced(uids.PresentationLUT, uids.new_uid()),
        )
        status, _, _ = client.create(uids.BasicFilmBox, request)
        assert status == Status.INVALID_ATTRIBUTE_VALUE


# -- Printer N-GET and N-EVENT-REPORT ----------------------------------------------


@pytest.mark.parametrize("contexts, meta", [((GRAY,), GRAY), ((uids.Printer,), None)])
def test_printer_n_get(server, contexts, meta):
    with PrintClient(server.address, contexts) as client:
        status, reply = client.get(uids.Printer, uids.PrinterInstance, meta=meta)
        assert status == 0x0000
        assert (reply.PrinterStatus, reply.PrinterStatusInfo) == ("NORMAL", "NORMAL")
        tags = [Tag("PrinterName"), Tag("Manufacturer"), Tag("PrinterStatus")]
        status, reply = client.get(uids.Printer, uids.PrinterInstance, tags, meta=meta)
        assert status == 0x0000
        assert reply.PrinterName == "dicomprint" and reply.PrinterStatus == "NORMAL"
        status, _ = client.get(uids.Printer, "1.2.3.4", meta=meta)
        assert status == 0x0112


def test_printer_status_change_is_reported_to_open_print_associations(server, caplog):
    with (
        PrintClient(server.address, (GRAY,)) as print_scu,
        PrintClient(server.address, (uids.Printer,)) as status_scu,
    ):
        server.printer.set_status("WARNING", "FILM JAM")
        for client in (print_scu, status_scu):
            ((event_type, info),) = client.wait_for_events(1)
            assert event_type == 2
            assert info.PrinterStatusInfo == "FILM JAM"
        status, reply = print_scu.get(uids.Printer, uids.PrinterInstance)
        assert (reply.PrinterStatus, reply.PrinterStatusInfo) == ("WARNING", "FILM JAM")
        server.printer.set_status("NORMAL")
        events = print_scu.wait_for_events(2)
        assert [event_type for event_type, _ in events] == [2, 1]
        # Requests keep working around the reports.
        assert print_scu.get(uids.Printer, uids.PrinterInstance)[0] == 0x0000
    # The SCUs' N-EVENT-REPORT responses were consumed, not logged as unexpected.
    assert not [r for r in caplog.records if "unexpected" in r.getMessage().lower()]


def test_status_change_during_a_request_is_sent_after_its_response(tmp_path):
    """A printer that fails while printing reports FAILURE after the N-ACTION response."""

    class FailingBackend:
        def print_films(self, films, job):
            raise OSError(28, "No space left on device")

    with (
        running_server(tmp_path, backend=FailingBackend()) as server,
        PrintClient(server.address) as client,
    ):
        _, box_uid, boxes, _ = start_film(client)
        request = image_box_request(1, grayscale_item(gray(BRIGHT)))
        assert client.set(uids.BasicGrayscaleImageBox, boxes[0], request)[0] == 0x0000
        status, response = client.action(uids.BasicFilmBox, box_uid)
        assert status == Status.RESOURCE_LIMITATION
        assert "No space" in response.ErrorComment
        ((event_type, info),) = client.wait_for_events(1)
        assert (event_type, info.PrinterStatusInfo) == (3, "CHECK PRINTER")
        assert server.printer.PrinterStatus == "FAILURE"
        # The job was not lost: the film box is still unprinted and can be retried.
        status, _ = client.action(uids.BasicFilmBox, box_uid)
        assert status == Status.RESOURCE_LIMITATION


def test_printer_recovers_after_a_failed_print(tmp_path, filmbox):
    from dicomprint_server.backends.jpeg import JpegPrinter

    class FlakyBackend:
        def __init__(self):
            self.calls = 0
            self.real = JpegPrinter(filmbox)

        def print_films(self, films, job):
            self.calls += 1
            if self.calls == 1:
                raise PermissionError(13, "Permission denied")
            self.real.print_films(films, job)

    with (
        running_server(tmp_path, backend=FlakyBackend()) as server,
        PrintClient(server.address) as client,
    ):
        _, box_uid, _, _ = start_film(client)
        assert client.action(uids.BasicFilmBox, box_uid)[0] == Status.PROCESSING_FAILURE
        assert output_files(filmbox) == []
        assert client.action(uids.BasicFilmBox, box_uid)[0] == Status.FILM_BOX_EMPTY_PAGE
        events = client.wait_for_events(2)
        assert [event_type for event_type, _ in events] == [3, 1]
        assert server.printer.PrinterStatus == "NORMAL"
    assert len(output_files(filmbox)) == 1


def test_requests_crossing_printer_events_are_answered(server):
    # pynetdicom answers each N-EVENT-REPORT on a thread of its own, which used
    # to leave the SCU's next request waiting for ever when the two crossed
    # (connection.requestor_guard closes that race). Without the guard, four
    # seconds of status changes every 2 ms hung this client in most runs tried.
    with changing_status(server.printer, seconds=4) as changes, PrintClient(server.address) as c:
        answered, errors, hung = ask_repeatedly(
            lambda: c.get(uids.Printer, uids.PrinterInstance)[0], changes.done
        )
        if hung:  # frees the stuck request (a release would wait like it)
            c.assoc.abort()
        assert not hung, "a request crossing a printer event was never answered"
        assert errors == []
        assert set(answered) == {0x0000}


def test_releases_crossing_printer_events_are_clean(server):
    # An event answered after the SCU sent its A-RELEASE killed pynetdicom's
    # DUL thread (a P-DATA in state Sta7), and the release then waited out the
    # ACSE timeout. Status changes every 2 ms cross twenty releases; each is
    # answered at once (a dying thread would also fail the test, see
    # pyproject.toml's filterwarnings).
    with changing_status(server.printer):
        for _ in range(20):
            client = PrintClient(server.address)
            assert client.get(uids.Printer, uids.PrinterInstance)[0] == 0x0000
            started = time.monotonic()
            client.close()
            assert client.assoc.is_released
            assert time.monotonic() - started < WAIT


def test_a_slow_event_handler_holds_the_later_events_back(server, monkeypatch):
    # Reports are handed over one at a time in arrival order, however long a
    # handler takes: the wait for reports never handed over is short here.
    monkeypatch.setattr(connection, "EVENT_ORDER_WAIT", 0.05)
    handled: list[str] = []
    running, overlapped = [0], []
    lock = threading.Lock()

    class SlowClient(PrintClient):
        def _event_report(self, sop_class, instance, event_type, info):
            with lock:
                running[0] += 1
                overlapped.append(running[0] > 1)
            time.sleep(0.5 if not handled else 0.01)
            handled.append(str(info.get("PrinterStatusInfo", "")))
            with lock:
                running[0] -= 1
            super()._event_report(sop_class, instance, event_type, info)

    with SlowClient(server.address) as client:
        for step in range(5):
            server.printer.set_status("WARNING", f"STEP {step}")
        assert len(client.wait_for_events(5)) == 5
    assert handled == [f"STEP {step}" for step in range(5)]
    assert not any(overlapped)


def test_verification_only_association_gets_no_events(server):
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    ae = AE()
    ae.add_requested_context(Verification)
    assoc = ae.associate(*server.address)
    try:
        server.printer.set_status("WARNING", "FILM JAM")
        # It has no context an event could use; the echo still works.
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()
        server.printer.set_status("NORMAL")


def test_printer_configuration_on_its_own_context(server):
    with PrintClient(server.address, (uids.PrinterConfigurationRetrieval,)) as client:
        status, reply = client.get(
            uids.PrinterConfigurationRetrieval,
            uids.PrinterConfigurationRetrievalInstance,
            meta=None,
        )
        assert status == 0x0000
        (item,) = reply.PrinterConfigurationSequence
        assert uids.BasicColorPrintManagementMeta in item.SOPClassesSupported
        assert item.MediaInstalledSequence[0].FilmSizeID == "14INX17IN"
        assert item.SupportedImageDisplayFormatsSequence[0].ImageDisplayFormat == "STANDARD\\1,1"
        other = client.get(uids.PrinterConfigurationRetrieval, "1.2.3.4", meta=None)
        assert other[0] == 0x0112


# -- Print Job ------------------------------------------------------------------------


def test_print_job_reference_status_and_done_event(server, filmbox):
    with PrintClient(server.address, (GRAY, uids.PrintJob), calling="CT_SCANNER") as client:
        _, box_uid, boxes, _ = start_film(client, session_attrs={"FilmSessionLabel": "CHEST"})
        image = image_box_request(1, grayscale_item(gray(BRIGHT)))
        assert client.set(uids.BasicGrayscaleImageBox, boxes[0], image)[0] == 0x0000
        status, reply = client.assoc.send_n_action(
            None, 1, uids.BasicFilmBox, box_uid, meta_uid=GRAY
        )
        assert status.Status == 0x0000
        (reference,) = reply.ReferencedPrintJobSequencePullStoredPrint
        assert reference.ReferencedSOPClassUID == uids.PrintJob
        job_uid = reference.ReferencedSOPInstanceUID
        # N-GET on the Print Job context, before the event is answered.
        status, job = client.get(uids.PrintJob, job_uid, meta=None)
        assert status == 0x0000
        assert (job.ExecutionStatus, job.ExecutionStatusInfo, job.Originator) == (
            "DONE",
            "NORMAL",
            "CT_SCANNER",
        )
        ((event_type, info),) = client.wait_for_events(1)
        assert event_type == 3  # Done
        assert (info.ExecutionStatusInfo, info.FilmSessionLabel) == ("NORMAL", "CHEST")
        # The SCU has answered the Done event: the job is gone.
        assert wait_until(lambda: client.get(uids.PrintJob, job_uid, meta=None)[0] == 0x0112)
    assert len(output_files(filmbox / "CT_SCANNER")) == 1


def test_without_the_print_job_class_no_job_is_referenced(server):
    with PrintClient(server.address) as client:
        _, box_uid, _, _ = start_film(client)
        status, reply = client.assoc.send_n_action(
            None, 1, uids.BasicFilmBox, box_uid, meta_uid=GRAY
        )
        assert status.Status == Status.FILM_BOX_EMPTY_PAGE
        assert not reply  # no Referenced Print Job Sequence, no data set
        time.sleep(0.5)  # longer than an event waits before it is sent
        assert client.events == []


# -- Errors over the wire ------------------------------------------------------------


def test_bad_requests_get_precise_statuses_and_the_server_keeps_serving(server):
    with PrintClient(server.address) as client:
        session_uid, box_uid, boxes, _ = start_film(client)
        # Second film session on one association.
        status, _, _ = client.create(uids.BasicFilmSession, film_session_request())
        assert status == Status.DUPLICATE_SOP_INSTANCE
        # Unsupported layout.
        status, _, _ = client.create(
            uids.BasicFilmBox, film_box_request(session_uid, "STANDARD\\99,99")
        )
        assert status == Status.INVALID_ATTRIBUTE_VALUE
        # Missing mandatory attribute.
        ds = Dataset()
        ds.ReferencedFilmSessionSequence = referenced(uids.BasicFilmSession, session_uid)
        assert client.create(uids.BasicFilmBox, ds)[0] == Status.MISSING_ATTRIBUTE
        # Unknown instance, unknown action type.
        request = image_box_request(1, grayscale_item(gray(DARK)))
        status, _, _ = client.set(uids.BasicGrayscaleImageBox, uids.new_uid(), request)
        assert status == Status.NO_SUCH_SOP_INSTANCE
        assert client.action(uids.BasicFilmBox, box_uid, action_type=7)[0] == 0x0123
        # Pixel data shorter than Rows x Columns says.
        item = grayscale_item(gray(DARK))
        item.PixelData = item.PixelData[:100]
        status, _, response = client.set(
            uids.BasicGrayscaleImageBox, boxes[0], image_box_request(1, item)
        )
        assert status == Status.INVALID_ATTRIBUTE_VALUE
        assert "PixelData" in response.ErrorComment
        # A value that does not even decode: a 3-byte US, sent as raw bytes.
        (context,) = client.assoc.accepted_contexts
        implicit = context.transfer_syntax[0] == ImplicitVRLittleEndian
        request = image_box_request(1, grayscale_item(gray(DARK)))
        request.set_original_encoding(implicit, True, "iso8859")
        tag = Tag("ImageBoxPosition")
        request[tag] = RawDataElement(tag, "US", 3, b"\x01\x00\x00", 0, implicit, True)
        status, _, response = client.set(uids.BasicGrayscaleImageBox, boxes[0], request)
        assert status == Status.INVALID_ATTRIBUTE_VALUE
        assert "ImageBoxPosition" in response.ErrorComment
        # After all that, the association and the session still work.
        request = image_box_request(1, grayscale_item(gray(BRIGHT)))
        assert client.set(uids.BasicGrayscaleImageBox, boxes[0], request)[0] == 0x0000
        assert client.action(uids.BasicFilmBox, box_uid)[0] == 0x0000


def test_unexpected_library_error_is_a_processing_failure(tmp_path):
    def broken_renderer(job):
        raise ZeroDivisionError("renderer bug")

    with (
        running_server(tmp_path, render=broken_renderer) as server,
        PrintClient(server.address) as client,
    ):
        _, box_uid, _, _ = start_film(client)
        status, response = client.action(uids.BasicFilmBox, box_uid)
        assert status == Status.PROCESSING_FAILURE
        assert "renderer bug" in response.ErrorComment
        assert client.get(uids.Printer, uids.PrinterInstance)[0] == 0x0000


def test_error_comment_is_limited_to_64_characters():
    ds = status_dataset(Status.PROCESSING_FAILURE, "x" * 200)
    assert len(ds.ErrorComment) == 64
    assert status_dataset(Status.FILM_BOX_EMPTY_PAGE, "warning text").ErrorComment == "warning text"
    assert "ErrorComment" not in status_dataset(Status.SUCCESS, "all went well")


def test_error_comment_quotes_a_multi_valued_value_with_one_slash_per_backslash():
    # LO cannot hold a backslash; repr() of the value had doubled it ('STANDARD//11,1').
    comment = f"Image Display Format {'STANDARD' + chr(92) + '11,1'!r} is not printed here"
    ds = status_dataset(Status.INVALID_ATTRIBUTE_VALUE, comment)
    assert ds.ErrorComment == "Image Display Format 'STANDARD/11,1' is not printed here"


# -- Cleanup -------------------------------------------------------------------------------


def test_release_and_abort_free_everything_and_are_logged_as_such(server, caplog):
    caplog.set_level(logging.INFO, logger="dicomprint_server")
    client = PrintClient(server.address, (GRAY, uids.PresentationLUT))
    lut = Dataset()
    lut.PresentationLUTShape = "IDENTITY"
    client.create(uids.PresentationLUT, lut, meta=None)
    start_film(client)
    assert server.scp.open_associations == 1
    client.close()
    assert wait_until(lambda: server.scp.open_associations == 0)

    aborted = PrintClient(server.address)
    start_film(aborted)
    aborted.assoc.abort()
    assert wait_until(lambda: server.scp.open_associations == 0)
    # pynetdicom reports the closed connection before the release or abort.
    ends = [r.getMessage() for r in caplog.records if "its print objects are released" in r.message]
    assert len(ends) == 2
    assert "association released" in ends[0]
    assert "association aborted" in ends[1]
    # No listener of a closed association is left on the shared printer.
    assert wait_until(lambda: len(server.printer._listeners) == 0)
    server.printer.set_status("WARNING", "FILM JAM")
    server.printer.set_status("NORMAL")


def test_sessions_are_per_association(server):
    with PrintClient(server.address) as first, PrintClient(server.address) as second:
        session_uid, _, _, _ = start_film(first)
        # The other association cannot see (or delete) the first one's session.
        assert second.delete(uids.BasicFilmSession, session_uid)[0] == 0x0112
        status, _, _ = second.create(uids.BasicFilmSession, film_session_request())
        assert status == 0x0000


def test_film_box_dataset_names_the_session(server):
    with PrintClient(server.address) as client:
        session_uid, _, _, reply = start_film(client)
        assert reply.ReferencedFilmSessionSequence[0].ReferencedSOPInstanceUID == session_uid
        assert isinstance(reply.ReferencedImageBoxSequence, Sequence)
