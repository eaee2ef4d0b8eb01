"""PrintClient against this project's print server, in process on a free loopback port.

A recording printer backend keeps every print job, so the tests look at what
the server received: film boxes, image box positions, pixels, copies.
"""

from __future__ import annotations

import threading
import time

import attrs
import numpy as np
import pytest
from pydicom import Dataset

from client_support import RecordingPrinter, no_render
from dicomprint import PrinterProfile, PrintSession, Status, uids
from dicomprint.prepare import prepare_image
from dicomprint.print_job import PrintJobInstance
from dicomprint_server.client import PrintClient, PrintClientError
from dicomprint_server.scp import status_dataset
from fault_support import FlakyBackend
from server_support import (
    WAIT,
    ask_repeatedly,
    changing_status,
    output_files,
    running_server,
    wait_until,
)


@pytest.fixture
def printer():
    return RecordingPrinter()


def connect(server, **options) -> PrintClient:
    host, port = server.address
    return PrintClient(host, port, "PRINTSCP", "CLIENT_TEST", timeout=30, **options)


def flat(value: int, shape=(16, 12)) -> np.ndarray:
    return np.full(shape, value, np.uint8)


def statuses(client: PrintClient) -> list[int | None]:
    return [w.status for w in client.warnings]


def test_images_fill_film_boxes_in_position_order(tmp_path, printer):
    layout = {"ImageDisplayFormat": "STANDARD\\2,2", "FilmSizeID": "8INX10IN"}
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, film_box=layout, bits=8) as client:
            positions = [client.print_image(flat(10 * n)) for n in range(1, 6)]
            # The first film printed as soon as it was full; the fifth image waits.
            assert len(printer.jobs) == 1
        assert positions == [1, 2, 3, 4, 1]
        # Closing printed the partial film.
        assert len(printer.jobs) == 2
        first, second = (job.films[0].film_box for job in printer.jobs)
        assert (first.ImageDisplayFormat.text, first.FilmSizeID) == ("STANDARD\\2,2", "8INX10IN")
        # uint8 arrays print as they are: 8-bit P-values equal the input.
        assert {p: int(im.pixels[0, 0]) for p, im in printer.images(0).items()} == {
            1: 10,
            2: 20,
            3: 30,
            4: 40,
        }
        assert {p: int(im.pixels[0, 0]) for p, im in printer.images(1).items()} == {1: 50}
        assert [(f.number, f.images, f.level) for f in client.films] == [
            (1, 4, "film box"),
            (2, 1, "film box"),
        ]
        # The UIDs used are the ones the server assigned.
        assert client.films[0].film_box_uid == first.SOPInstanceUID
        assert printer.jobs[0].session.SOPInstanceUID.startswith("2.25.")
        assert client.warnings == []
        assert not client.is_open
        assert wait_until(lambda: server.scp.open_associations == 0)


def test_datasets_are_windowed_to_twelve_bit_p_values(tmp_path, printer):
    ds = Dataset()
    ds.Rows, ds.Columns = 1, 3
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40.5, 401
    ds.PixelData = np.array([824, 1064, 1164], "<u2").tobytes()
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server) as client:
            client.print_image(ds)
    (image,) = printer.images().values()
    assert (image.PhotometricInterpretation, image.BitsStored, image.BitsAllocated) == (
        "MONOCHROME2",
        12,
        16,
    )
    # HU -200, 40, 140 through the window: 0, 0.5, 0.75; MONOCHROME1 inverts.
    assert image.pixels.tolist() == [[4095, 2048, 1024]]


def test_color_films(tmp_path, printer):
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 0] = 200
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, color=True, film_box={"ImageDisplayFormat": "STANDARD\\2,1"}) as c:
            c.print_image(rgb)
            c.print_image(flat(90))
    box = printer.jobs[0].films[0].film_box
    assert {b.SOPClassUID for b in box.image_boxes} == {uids.BasicColorImageBox}
    images = printer.images()
    assert images[1].PhotometricInterpretation == "RGB"
    assert images[1].pixels[0, 0].tolist() == [200, 0, 0]
    # A grayscale image on a colour film: its gray level in all three samples.
    assert images[2].pixels[0, 0].tolist() == [90, 90, 90]


def test_copies_and_film_session_attributes(tmp_path, printer):
    session = {"FilmSessionLabel": "WARD 7", "MediumType": "BLUE FILM"}
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, copies=3, film_session=session) as client:
            client.print_image(flat(1))
    (job,) = printer.jobs
    assert job.copies == 3
    assert (job.session.FilmSessionLabel, job.session.MediumType) == ("WARD 7", "BLUE FILM")
    assert client.film_session_reply.NumberOfCopies == 3


def test_attributes_by_tag_and_per_image(tmp_path, printer):
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        film_box = {"ImageDisplayFormat": "STANDARD\\2,1", 0x20100060: "NONE"}
        with connect(server, film_box=film_box, image_box={"Polarity": "REVERSE"}) as client:
            client.print_image(flat(1))
            client.print_image(flat(2), image_box={"Polarity": "NORMAL"})
    box = printer.jobs[0].films[0].film_box
    assert box.MagnificationType == "NONE"
    assert [b.Polarity for b in box.image_boxes] == ["REVERSE", "NORMAL"]


def test_film_session_level_prints_every_film_in_one_collated_job(tmp_path, printer):
    reports = []
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, print_level="film_session", copies=2, on_film=reports.append) as c:
            for value in (1, 2, 3):
                c.print_image(flat(value))
            assert printer.jobs == []  # nothing prints before the session does
    (job,) = printer.jobs
    assert (len(job.films), job.copies) == (3, 2)
    assert [(r.number, r.level) for r in reports] == [
        (1, "film session"),
        (2, "film session"),
        (3, "film session"),
    ]
    assert c.warnings == []


def test_a_full_film_session_is_printed_and_the_next_films_make_a_new_batch(tmp_path, printer):
    profile = PrinterProfile(max_film_boxes=2)  # the server answers 0x0213 to a third
    with running_server(tmp_path, profile=profile, backend=printer, render=no_render) as server:
        with connect(
            server, print_level="film_session", copies=2, presentation_lut="LIN OD"
        ) as client:
            for value in (1, 2, 3, 4, 5):
                client.print_image(flat(value))
    assert [(len(job.films), job.copies) for job in printer.jobs] == [(2, 2), (2, 2), (1, 2)]
    films = [(j, f) for j, job in enumerate(printer.jobs) for f in range(len(job.films))]
    values = [int(printer.images(j, f)[1].pixels[0, 0]) for j, f in films]
    assert values == [16, 32, 48, 64, 80]  # each film once, in order (12-bit P-values)
    # Each new session got the Presentation LUT again.
    shapes = [
        film.presentation_luts[film.film_box.ReferencedPresentationLUT].PresentationLUTShape
        for job in printer.jobs
        for film in job.films
    ]
    assert shapes == ["LIN OD"] * 5
    assert statuses(client) == [Status.RESOURCE_LIMITATION] * 2
    assert "printing the 2 film(s) so far as one film session" in client.warnings[0].comment
    assert [(f.number, f.level) for f in client.films] == [(n, "film session") for n in range(1, 6)]


def test_a_session_full_of_pixels_prints_and_the_film_starts_again(tmp_path, printer):
    # Room for three 16x12 images of 12 bits: the fourth N-SET gets 0x0213.
    profile = PrinterProfile(max_session_pixel_bytes=3 * 16 * 12 * 2)
    layout = {"ImageDisplayFormat": "STANDARD\\1,2", "AnnotationDisplayFormatID": "BOTTOM"}
    with running_server(tmp_path, profile=profile, backend=printer, render=no_render) as server:
        with connect(
            server, print_level="film_session", film_box=layout, annotations={1: "ALL"}
        ) as client:
            for value in (1, 2, 3, 4, 5):
                texts = {1: "SECOND"} if value == 4 else None  # the image refused at first
                client.print_image(flat(value), annotations=texts)
    # The first film alone, then the second (sent again) and the third.
    assert [len(job.films) for job in printer.jobs] == [1, 2]
    films = [(0, 0), (1, 0), (1, 1)]
    values = [[int(im.pixels[0, 0]) for im in printer.images(j, f).values()] for j, f in films]
    assert values == [[16, 32], [48, 64], [80]]  # each image once, on its own film
    texts = [
        [b.TextString for b in printer.jobs[j].films[f].film_box.annotation_boxes] for j, f in films
    ]
    assert texts == [["ALL"], ["SECOND"], ["ALL"]]  # the second film's own text came along
    assert statuses(client) == [Status.RESOURCE_LIMITATION]
    assert [f.number for f in client.films] == [1, 2, 3]


def test_a_full_session_whose_film_box_cannot_be_deleted_prints_nothing_twice(tmp_path, printer):
    def refuse_film_box_delete(server):
        original = server.scp._n_delete

        def n_delete(event):
            if str(event.request.RequestedSOPClassUID) == uids.BasicFilmBox:
                return status_dataset(Status.PROCESSING_FAILURE, "not now")
            return original(event)

        server.scp._n_delete = n_delete

    profile = PrinterProfile(max_session_pixel_bytes=3 * 16 * 12 * 2)
    with running_server(
        tmp_path,
        profile=profile,
        backend=printer,
        render=no_render,
        before_start=refuse_film_box_delete,
    ) as server:
        layout = {"ImageDisplayFormat": "STANDARD\\1,2"}
        with pytest.raises(PrintClientError) as info:
            with connect(server, print_level="film_session", film_box=layout) as client:
                for value in (1, 2, 3, 4):
                    client.print_image(flat(value))
    assert info.value.status == Status.RESOURCE_LIMITATION  # the session is full, as it was
    assert printer.jobs == []  # nothing printed half filled, nothing printed twice


def test_printer_without_film_session_printing_gets_film_boxes(tmp_path, printer):
    # Such a printer refuses a second film box while one is unprinted (C616).
    profile = PrinterProfile(film_session_print=False)
    with running_server(tmp_path, profile=profile, backend=printer, render=no_render) as server:
        with connect(server, print_level="film_session") as client:
            for value in (1, 2, 3):
                client.print_image(flat(value))
    assert [len(job.films) for job in printer.jobs] == [1, 1, 1]
    assert statuses(client) == [Status.UNPRINTED_FILM_BOX_EXISTS]
    assert [f.level for f in client.films] == ["film box"] * 3


def refuse_film_box_action(server) -> None:
    """Make the server answer film box N-ACTION with 0x0211, like printers that
    print whole film sessions only."""
    original = server.scp._n_action

    def n_action(event):
        if str(event.request.RequestedSOPClassUID) == uids.BasicFilmBox:
            return status_dataset(Status.UNRECOGNIZED_OPERATION), None
        return original(event)

    server.scp._n_action = n_action


def test_printer_without_film_box_printing_gets_film_sessions(tmp_path, printer):
    with running_server(
        tmp_path, backend=printer, render=no_render, before_start=refuse_film_box_action
    ) as server:
        with connect(server) as client:
            client.print_image(flat(1))
            client.print_image(flat(2))
    # One film per job: each printed film box is deleted before the next.
    assert [len(job.films) for job in printer.jobs] == [1, 1]
    assert [int(next(iter(printer.images(j).values())).pixels[0, 0]) for j in (0, 1)] == [
        prepare_image(flat(v)).pixels[0, 0] for v in (1, 2)
    ]
    assert statuses(client) == [Status.UNRECOGNIZED_OPERATION]
    assert [f.level for f in client.films] == ["film session", "film session"]


def test_presentation_lut_is_created_and_referenced(tmp_path, printer):
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, presentation_lut="LIN OD") as client:
            client.print_image(flat(1))
            lut_uid = client.presentation_lut_uid
    (film,) = printer.jobs[0].films
    assert film.film_box.ReferencedPresentationLUT == lut_uid
    assert film.presentation_luts[lut_uid].PresentationLUTShape == "LIN OD"
    assert client.warnings == []


def lut_table(data) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [256, 0, 12]
    item.LUTData = data
    ds = Dataset()
    ds.PresentationLUTSequence = [item]
    return ds


@pytest.mark.parametrize(
    "data",
    [
        list(range(0, 4096, 16)),
        np.arange(0, 4096, 16, dtype=np.uint16),
        np.arange(0, 4096, 16, dtype="<u2").tobytes(),
    ],
    ids=["list", "array", "bytes"],
)
def test_an_explicit_presentation_lut_is_sent_as_given(tmp_path, printer, data):
    lut = lut_table(data)
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, presentation_lut=lut, bits=8) as client:
            client.print_image(flat(1))
            lut_uid = client.presentation_lut_uid
    (film,) = printer.jobs[0].films
    received = film.presentation_luts[lut_uid]
    assert received.LUTDescriptor == (256, 0, 12)
    assert received.LUTData.tolist() == list(range(0, 4096, 16))
    assert lut.PresentationLUTSequence[0]["LUTData"].VR == "US or OW"  # the caller's, unchanged


def test_failure_carries_the_status_and_its_meaning(tmp_path, printer):
    profile = PrinterProfile(strict=True, film_sizes=("14INX17IN",))
    with running_server(tmp_path, profile=profile, backend=printer, render=no_render) as server:
        client = connect(server, film_box={"FilmSizeID": "A4"})
        with pytest.raises(PrintClientError) as caught, client:
            client.print_image(flat(1))
        assert caught.value.status == Status.INVALID_ATTRIBUTE_VALUE
        assert caught.value.meaning == "Invalid attribute value"
        assert caught.value.operation == "N-CREATE Basic Film Box SOP Class"
        assert "0x0106" in str(caught.value)
        assert caught.value.comment  # the server says which value
        assert not client.is_open
        assert wait_until(lambda: server.scp.open_associations == 0)
    assert printer.jobs == []


def test_warnings_are_reported_and_printing_goes_on(tmp_path, printer):
    # A lenient printer takes its default film size instead (0x0116).
    profile = PrinterProfile(film_sizes=("14INX17IN",))
    with running_server(tmp_path, profile=profile, backend=printer, render=no_render) as server:
        with connect(server, film_box={"FilmSizeID": "A4"}) as client:
            client.print_image(flat(1))
    assert statuses(client) == [Status.ATTRIBUTE_VALUE_OUT_OF_RANGE]
    assert client.warnings[0].operation == "N-CREATE Basic Film Box SOP Class"
    assert printer.jobs[0].films[0].film_box.FilmSizeID == "14INX17IN"


def test_session_pixel_budget_failure(tmp_path, printer):
    profile = PrinterProfile(max_session_pixel_bytes=1000)
    with running_server(tmp_path, profile=profile, backend=printer, render=no_render) as server:
        client = connect(server, film_box={"ImageDisplayFormat": "STANDARD\\2,1"})
        with pytest.raises(PrintClientError) as caught, client:
            client.print_image(flat(1, (20, 20)))  # 800 bytes at 12 bits
            client.print_image(flat(1, (20, 20)))
        assert caught.value.status == Status.RESOURCE_LIMITATION
        assert caught.value.operation == "N-SET Basic Grayscale Image Box SOP Class"
        assert wait_until(lambda: server.scp.open_associations == 0)
    # The error came inside the with block: the partial film was not printed.
    assert printer.jobs == []


def test_twelve_bit_refused_falls_back_to_eight(tmp_path, printer):
    profile = PrinterProfile(grayscale_bits_stored=(8,))
    with running_server(tmp_path, profile=profile, backend=printer, render=no_render) as server:
        with connect(server, film_box={"ImageDisplayFormat": "STANDARD\\2,1"}) as client:
            client.print_image(flat(51))
            client.print_image(flat(102))
    assert [im.BitsStored for im in printer.images().values()] == [8, 8]
    assert [int(im.pixels[0, 0]) for im in printer.images().values()] == [51, 102]
    assert statuses(client) == [Status.INVALID_ATTRIBUTE_VALUE]  # once, then 8 bits
    assert client.bits == 8


def annotation_texts(job) -> list[list[str]]:
    return [[b.TextString for b in film.film_box.annotation_boxes] for film in job.films]


def test_annotations_are_printed_on_every_film_and_changed_per_film(tmp_path, printer):
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(
            server,
            film_box={
                "ImageDisplayFormat": "STANDARD\\1,1",
                "AnnotationDisplayFormatID": "BOTTOM2",
            },
            annotations={1: "ACME HOSPITAL", 2: "CT"},
        ) as client:
            client.print_image(flat(1))
            client.print_image(flat(2), annotations={2: "DOE^JANE"})
            client.print_image(flat(3), annotations={1: ""})
    assert [annotation_texts(job) for job in printer.jobs] == [
        [["ACME HOSPITAL", "CT"]],
        [["ACME HOSPITAL", "DOE^JANE"]],
        [["", "CT"]],
    ]
    assert client.warnings == []


def test_an_annotation_text_is_sent_again_only_when_it_changes(tmp_path, printer, monkeypatch):
    # Per-image texts (say, {PatientName} filled for each image) mostly repeat
    # within a film: one N-SET per text the annotation box does not hold yet.
    sent = []
    original = PrintSession.n_set

    def counting(session, sop_class, uid, dataset):
        if sop_class == uids.BasicAnnotationBox:
            sent.append((dataset.AnnotationPosition, dataset.TextString))
        return original(session, sop_class, uid, dataset)

    monkeypatch.setattr(PrintSession, "n_set", counting)
    layout = {"ImageDisplayFormat": "STANDARD\\2,1", "AnnotationDisplayFormatID": "BOTTOM2"}
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, film_box=layout, annotations={1: "ACME"}) as client:
            for value, name in enumerate(("DOE^JANE", "DOE^JANE", "DOE^JANE", "ROE^RICHARD"), 1):
                client.print_image(flat(value), annotations={1: "ACME", 2: name})
    assert sent == [
        (1, "ACME"),  # film 1, from the client's annotations
        (2, "DOE^JANE"),
        (1, "ACME"),  # film 2
        (2, "DOE^JANE"),
        (2, "ROE^RICHARD"),
    ]
    assert [annotation_texts(job) for job in printer.jobs] == [
        [["ACME", "DOE^JANE"]],
        [["ACME", "ROE^RICHARD"]],
    ]


def test_annotation_mistakes(tmp_path, printer):
    bottom = {"ImageDisplayFormat": "STANDARD\\1,1", "AnnotationDisplayFormatID": "BOTTOM"}
    with pytest.raises(ValueError, match="AnnotationDisplayFormatID"):
        PrintClient("127.0.0.1", annotations={1: "ACME"}).open()
    with pytest.raises(ValueError, match="longer than 64 characters"):
        PrintClient("127.0.0.1", film_box=bottom, annotations={1: "X" * 65})
    with pytest.raises(ValueError, match="holds a control character"):
        PrintClient("127.0.0.1", film_box=bottom, annotations={1: "LINE 1\nLINE 2"})
    with pytest.raises(ValueError, match="position 0"):
        PrintClient("127.0.0.1", film_box=bottom, annotations={0: "ACME"})
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        # A position the format does not have is a warning; the film prints.
        with connect(server, film_box=bottom, annotations={1: "ACME", 2: "CT"}) as client:
            client.print_image(flat(1))
        assert annotation_texts(printer.jobs[0]) == [["ACME"]]
        assert [(w.meaning, w.comment) for w in client.warnings] == [
            ("annotation position 2 not on the film", "the printer made 1 annotation boxes")
        ]
        with connect(server) as client:
            with pytest.raises(ValueError, match="AnnotationDisplayFormatID"):
                client.print_image(flat(1), annotations={1: "ACME"})


def test_a_printer_without_annotation_boxes_prints_without_them(tmp_path, printer):
    def refuse_annotations(server):
        server.ae.remove_supported_context(uids.BasicAnnotationBox)

    bottom = {"ImageDisplayFormat": "STANDARD\\1,1", "AnnotationDisplayFormatID": "BOTTOM"}
    with running_server(
        tmp_path, backend=printer, render=no_render, before_start=refuse_annotations
    ) as server:
        with connect(server, film_box=bottom, annotations={1: "ACME"}) as client:
            client.print_image(flat(1))
    assert annotation_texts(printer.jobs[0]) == [[]]
    assert [w.meaning for w in client.warnings] == [
        "Basic Annotation Box not accepted; no annotations"
    ]


def test_print_jobs_are_waited_for_until_done(tmp_path, printer):
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, wait_for_print_jobs=WAIT) as client:
            client.print_image(flat(1))
            client.print_image(flat(2))
    jobs = [report.print_job_uid for report in client.films]
    assert jobs == [job.job_id for job in printer.jobs]  # the server's job UIDs
    assert client.print_jobs == {uid: "DONE" for uid in jobs}
    done = [(e.instance_uid, e.name) for e in client.events if e.sop_class == uids.PrintJob]
    assert done == [(uid, "DONE") for uid in jobs]
    assert client.warnings == []


def test_a_print_job_that_fails_after_the_n_action_raises_at_close(tmp_path, printer, monkeypatch):
    # A printer whose queue fails the job after answering the N-ACTION.
    original = PrintJobInstance.done

    def failed(job, printer_name):
        return attrs.evolve(
            original(job, printer_name), ExecutionStatus="FAILURE", ExecutionStatusInfo="FILM JAM"
        )

    monkeypatch.setattr(PrintJobInstance, "done", staticmethod(failed))
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with pytest.raises(PrintClientError, match=r"print job\(s\) failed: .* \(FILM JAM\)"):
            with connect(server, wait_for_print_jobs=WAIT) as client:
                client.print_image(flat(1))
        assert wait_until(lambda: server.scp.open_associations == 0)  # cleaned up, released
    assert ("N-EVENT-REPORT Print Job SOP Class", "FAILURE", "FILM JAM") in [
        (w.operation, w.meaning, w.comment) for w in client.warnings
    ]


def test_without_an_event_the_print_job_is_asked_for(tmp_path, printer):
    def silent(server):  # references its jobs but sends no events
        server.scp._announce_print_job = lambda assoc, job: None

    with running_server(tmp_path, backend=printer, render=no_render, before_start=silent) as s:
        host, port = s.address
        client = PrintClient(host, port, "PRINTSCP", timeout=2, wait_for_print_jobs=WAIT)
        with client:
            client.print_image(flat(1))
    assert list(client.print_jobs.values()) == ["DONE"]  # from the N-GET
    assert client.events == [] and client.warnings == []


def test_an_abort_while_waiting_for_print_jobs_is_reported_at_once(tmp_path, printer):
    def abort_instead(server):  # no Done event: the printer aborts half a second later
        def announce(assoc, job):
            threading.Timer(0.5, assoc.abort).start()

        server.scp._announce_print_job = announce

    with running_server(
        tmp_path, backend=printer, render=no_render, before_start=abort_instead
    ) as server:
        client = connect(server, wait_for_print_jobs=WAIT)
        started = time.monotonic()
        with pytest.raises(PrintClientError, match=r"ended before 1 print job\(s\) were done"):
            with client:
                client.print_image(flat(1))
        assert time.monotonic() - started < WAIT / 2
    assert not client.is_open


def test_large_images_are_reduced(tmp_path, printer):
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with connect(server, max_image_size=64) as client:
            client.print_image(np.zeros((256, 128), np.uint8))
    (image,) = printer.images().values()
    assert (image.Rows, image.Columns) == (64, 32)


def test_printer_status_is_checked_first(tmp_path, printer):
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        server.printer.set_status("WARNING", "SUPPLY LOW")
        with connect(server) as client:
            assert client.printer_reply.PrinterStatusInfo == "SUPPLY LOW"
            client.print_image(flat(1))
        assert [w.meaning for w in client.warnings] == ["printer status WARNING (SUPPLY LOW)"]
        # FAILURE is reported too, and the print's own status decides.
        server.printer.set_status("FAILURE", "FILM JAM")
        with connect(server) as client:
            client.print_image(flat(1))
        assert [w.meaning for w in client.warnings] == ["printer status FAILURE (FILM JAM)"]
        with connect(server, check_printer=False) as client:
            client.print_image(flat(1))
        assert client.warnings == [] and len(client.printer_reply) == 0
    assert len(printer.jobs) == 3


def test_a_failed_print_does_not_keep_the_client_from_printing_again(tmp_path):
    """The server turns to FAILURE when a print fails, and back only when one succeeds."""
    backend = FlakyBackend(OSError("queue stopped"))
    with running_server(tmp_path, backend=backend, render=no_render) as server:
        with pytest.raises(PrintClientError, match="queue stopped"):
            with connect(server) as client:
                client.print_image(flat(1))
        assert (server.printer.PrinterStatus, server.printer.PrinterStatusInfo) == (
            "FAILURE",
            "CHECK PRINTER",
        )
        backend.failing = False  # the printer is mended
        with connect(server) as client:
            client.print_image(flat(1))
        assert [w.meaning for w in client.warnings] == ["printer status FAILURE (CHECK PRINTER)"]
        assert len(backend.printed) == 1
        assert server.printer.PrinterStatus == "NORMAL"


class FailingDuringPrint(RecordingPrinter):
    """Records the job, then turns the printer's status to FAILURE (an event)."""

    printer_status = None

    def print_films(self, films, job) -> None:
        super().print_films(films, job)
        self.printer_status.set_status("FAILURE", "FILM JAM")


def test_printer_events_received_while_printing(tmp_path):
    events = []
    backend = FailingDuringPrint()
    with running_server(tmp_path, backend=backend, render=no_render) as server:
        backend.printer_status = server.printer
        with connect(server, on_event=events.append) as client:
            client.print_image(flat(1))
            assert wait_until(lambda: len(client.events) == 1)
    (event,) = client.events
    assert (event.sop_class, event.event_type, event.name) == (uids.Printer, 3, "FAILURE")
    assert event.status_info == "FILM JAM"
    assert events == [event]
    assert [str(w) for w in client.warnings] == [
        "N-EVENT-REPORT Printer SOP Class: FAILURE (FILM JAM)"
    ]
    assert len(backend.jobs) == 1


def test_requests_crossing_printer_events_complete(tmp_path):
    # Status changes every 2 ms for 1 s cross the client's requests: each is
    # answered, and the events' information arrives decoded (see also
    # test_server_dimse.py::test_requests_crossing_printer_events_are_answered).
    with running_server(tmp_path, render=no_render) as server, connect(server) as client:
        with changing_status(server.printer, seconds=1) as changes:
            answers, errors, hung = ask_repeatedly(
                lambda: str(client.printer_status().PrinterStatus), changes.done, timeout=120
            )
            assert not hung, "a request crossing an event was never answered"
        assert errors == []
        assert set(answers) <= {"NORMAL", "WARNING"} and len(answers) >= 20
        # Events still flow afterwards.
        server.printer.set_status("FAILURE", "LAST ONE")
        assert wait_until(lambda: any(e.status_info == "LAST ONE" for e in client.events))
        assert len(client.events) <= changes.count + 1


def test_printer_events_arrive_in_the_order_sent(tmp_path):
    # NORMAL and WARNING alternate every 2 ms for 1 s: pynetdicom hands each
    # report to a thread of its own, and the client still lists them as sent.
    with running_server(tmp_path, render=no_render) as server, connect(server) as client:
        with changing_status(server.printer, seconds=1) as changes:
            assert changes.done.wait(WAIT)
        assert wait_until(lambda: len(client.events) >= changes.count)
        names = [e.name for e in client.events]
    # changing_status alternates from NORMAL, then sets NORMAL once more.
    expected = ["WARNING" if n % 2 else "NORMAL" for n in range(changes.count - 1)] + ["NORMAL"]
    assert changes.count >= 20
    assert names == expected


def test_prints_to_jpeg_files_end_to_end(tmp_path):
    layout = {"ImageDisplayFormat": "STANDARD\\1,1", "FilmSizeID": "8INX10IN"}
    with running_server(tmp_path) as server:
        with connect(server, film_box=layout) as client:
            client.print_image(flat(255, (64, 64)))
            client.print_image(flat(0, (64, 64)))
    films = output_files(tmp_path / "filmbox")
    assert len(films) == 2 == len(client.films)


def test_error_in_the_with_block_prints_nothing(tmp_path, printer):
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        with pytest.raises(KeyError), connect(server) as client:
            client.film_box["ImageDisplayFormat"] = "STANDARD\\2,2"
            client.print_image(flat(1))
            raise KeyError("the caller's own error")
        assert wait_until(lambda: server.scp.open_associations == 0)
    assert printer.jobs == []
    with pytest.raises(PrintClientError, match="not open"):
        client.print_image(flat(1))
    client.close()  # closing twice is harmless


def test_bad_display_format_fails_before_connecting():
    with pytest.raises(ValueError, match="Image Display Format"):
        PrintClient("127.0.0.1", 9, film_box={"ImageDisplayFormat": "STANDARD\\2x2"})
    client = PrintClient("127.0.0.1", 9)
    client.film_box["ImageDisplayFormat"] = "STANDARD\\2x2"  # changed after construction
    with pytest.raises(ValueError, match="Image Display Format"):
        client.open()
    with pytest.raises(ValueError, match="keyword"):
        PrintClient("127.0.0.1", 9, film_box={"NotAKeyword": 1})
    with pytest.raises(ValueError, match="dictionary"):
        PrintClient("127.0.0.1", 9, image_box={0x00091001: "private"})
