"""The server's limits act as configured: time-outs, message size, image size.

Each time-out is configured small and a peer on 127.0.0.1 breaks it: a
connection that never asks for an association, an association that falls
silent, a DIMSE message that stops half-way. Every wait is bounded. The
other limits (associations, pixel bytes per session and per server, film
boxes per session) have their tests beside the features they guard; see
docs/reliability.md for the whole table.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from pydicom import Dataset
from pynetdicom import AE
from pynetdicom.dimse_messages import N_SET_RQ
from pynetdicom.dimse_primitives import N_SET
from pynetdicom.dsutils import encode
from pynetdicom.pdu import P_DATA_TF

from dicomprint import Printer, PrinterProfile, PrintError, PrintSession, Status, uids
from dicomprint.budget import BudgetExceededError, PixelBudget
from dicomprint.store import StoreToFilm
from dicomprint_server import PrintServer, load_config
from image_objects import grayscale_image
from print_requests import (
    Driver,
    film_box_request,
    grayscale_item,
    image_box_request,
    set_raw,
)
from server_support import GRAY, WAIT, PrintClient, output_files, wait_until
from test_server_robustness import associate_rq, associated_socket, send_store

VERIFICATION = "1.2.840.10008.1.1"
#: Every configured time-out here; the tests allow it this much slack.
TIMEOUT = 1.0
SLACK = 4.0


@contextlib.contextmanager
def configured_server(tmp_path: Path, **server: object) -> Iterator[PrintServer]:
    """A server on a free loopback port with these [server] keys, from a config file."""
    lines = ["[server]", 'host = "127.0.0.1"', "port = 0"]
    lines += [f"{key} = {value!r}" for key, value in server.items()]
    lines += [f'failed_jobs = "{(tmp_path / "failed-jobs").as_posix()}"']
    lines += ["[output]", f'directory = "{(tmp_path / "filmbox").as_posix()}"']
    lines += ["[profile]", "dpi_standard = 20"]
    path = tmp_path / "limits.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    running = PrintServer(load_config(path)).start()
    try:
        yield running
    finally:
        running.shutdown(grace=1.0)


def closed_by_server(sock: socket.socket, within: float) -> float | None:
    """Seconds until the server closed ``sock`` (None if it did not within ``within``)."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < within:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:  # reset
            return time.monotonic() - start
        if not data:
            return time.monotonic() - start
        # An A-ABORT (or A-ASSOCIATE-AC): keep reading until the close.
    return None


# -- ACSE time-out ---------------------------------------------------------------------


def test_a_connection_without_an_association_request_is_closed_after_acse_timeout(tmp_path):
    with configured_server(tmp_path, acse_timeout=TIMEOUT, network_timeout=60.0) as server:
        with socket.create_connection(server.address, timeout=WAIT) as sock:
            after = closed_by_server(sock, within=TIMEOUT + SLACK)
        assert after is not None, "the silent connection was not closed"
        assert TIMEOUT * 0.8 <= after
        # The slot is free again: a normal association still works.
        with PrintClient(server.address, (GRAY, VERIFICATION)) as client:
            assert client.assoc.send_c_echo().Status == 0


def test_half_an_association_request_is_closed_after_acse_timeout(tmp_path):
    """A peer that stops in the middle of its A-ASSOCIATE-RQ does not keep the slot."""
    with configured_server(tmp_path, acse_timeout=TIMEOUT, network_timeout=60.0) as server:
        with socket.create_connection(server.address, timeout=WAIT) as sock:
            sock.sendall(associate_rq()[:10])
            after = closed_by_server(sock, within=TIMEOUT + SLACK)
        assert after is not None, "the half request kept its connection"
        assert TIMEOUT * 0.8 <= after
        assert wait_until(lambda: not server.ae.active_associations)


# -- Network (idle) time-out -------------------------------------------------------------


def test_an_idle_association_is_aborted_after_network_timeout_and_its_objects_released(
    tmp_path,
):
    with configured_server(tmp_path, network_timeout=TIMEOUT, dimse_timeout=60.0) as server:
        client = PrintClient(server.address)
        try:
            status, _, _ = client.create(uids.BasicFilmSession, None)
            assert status == 0
            assert server.scp.open_associations == 1
            started = time.monotonic()
            assert wait_until(lambda: not client.assoc.is_established, TIMEOUT + SLACK)
            assert client.assoc.is_aborted
            assert time.monotonic() - started >= TIMEOUT * 0.8
            # The server forgot the association and its film session.
            assert wait_until(lambda: server.scp.open_associations == 0)
        finally:
            client.close()


def test_half_a_pdu_ends_the_association_after_network_timeout(tmp_path):
    with configured_server(tmp_path, network_timeout=TIMEOUT, dimse_timeout=60.0) as server:
        with associated_socket(server.address) as sock:
            sock.sendall(n_set_pdus(b"\x00" * 64)[0][:20])  # a P-DATA-TF cut short
            after = closed_by_server(sock, within=TIMEOUT + SLACK)
        assert after is not None, "half a PDU kept the association"
        assert TIMEOUT * 0.8 <= after
        assert wait_until(lambda: not server.ae.active_associations)
        assert wait_until(lambda: server.scp.open_associations == 0)


def test_an_association_that_keeps_talking_is_not_idle(tmp_path):
    with configured_server(tmp_path, network_timeout=TIMEOUT) as server:
        with PrintClient(server.address, (GRAY, VERIFICATION)) as client:
            for _ in range(int(3 * TIMEOUT / 0.25)):  # three time-outs long, in steps
                assert client.assoc.send_c_echo().Status == 0
                time.sleep(0.25)
            assert client.assoc.is_established


# -- DIMSE time-out: a message that stops half-way -----------------------------------------


def n_set_pdus(data: bytes, max_pdu: int = 16384) -> list[bytes]:
    """The P-DATA-TF PDUs of an N-SET of a film session carrying ``data``."""
    request = N_SET()
    request.MessageID = 1
    request.RequestedSOPClassUID = uids.BasicFilmSession
    request.RequestedSOPInstanceUID = "1.2.3.4"
    request.ModificationList = BytesIO(data)
    message = N_SET_RQ()
    message.primitive_to_message(request)
    pdus = []
    for primitive in message.encode_msg(1, max_pdu):
        pdu = P_DATA_TF()
        pdu.from_primitive(primitive)
        pdus.append(pdu.encode())
    return pdus


def test_a_message_that_stops_half_way_aborts_after_dimse_timeout(tmp_path, caplog):
    with (
        caplog.at_level(logging.ERROR),
        configured_server(tmp_path, dimse_timeout=TIMEOUT, network_timeout=60.0) as server,
    ):
        pdus = n_set_pdus(b"\x10\x20\x10\x00" + b"\x02\x00\x00\x00" + b"1 " * 2000)
        assert len(pdus) >= 2
        with associated_socket(server.address) as sock:
            for pdu in pdus[:-1]:  # the command and part of the data set, never the rest
                sock.sendall(pdu)
            after = closed_by_server(sock, within=TIMEOUT + SLACK)
        assert after is not None, "the stalled message did not end the association"
        assert after >= TIMEOUT * 0.8
        assert wait_until(lambda: server.scp.open_associations == 0)
        assert any("dimse_timeout" in r.getMessage() for r in caplog.records)


def test_a_slow_but_steady_message_is_received(tmp_path):
    """The time-out bounds silence inside a message, not its whole transfer."""
    with configured_server(tmp_path, dimse_timeout=TIMEOUT, network_timeout=60.0) as server:
        ds = Dataset()
        ds.FilmSessionLabel = "slow"
        ds.PatientComments = "x" * 10000  # ignored (0x0107), but it takes three PDUs
        pdus = n_set_pdus(encode(ds, True, True), max_pdu=4096)
        assert len(pdus) >= 4
        with associated_socket(server.address) as sock:
            started = time.monotonic()
            for pdu in pdus:
                sock.sendall(pdu)
                time.sleep(TIMEOUT * 0.6)  # each gap shorter than the time-out
            assert time.monotonic() - started > 2 * TIMEOUT  # the whole message: longer
            sock.settimeout(WAIT)
            reply = sock.recv(4096)
        assert reply[:1] == b"\x04", "no N-SET response"  # P-DATA-TF


# -- Message size: beyond the server's pixel budget -------------------------------------------


def test_a_message_larger_than_the_pixel_budget_aborts_the_association(tmp_path, caplog):
    budget = 64 * 1024
    with (
        caplog.at_level(logging.ERROR),
        configured_server(tmp_path, max_pixel_bytes=budget, dimse_timeout=60.0) as server,
    ):
        pdus = n_set_pdus(b"\x00" * (2 * budget))
        with associated_socket(server.address) as sock:
            for pdu in pdus[:-1]:  # more than the budget, and the message not yet done
                sock.sendall(pdu)
            after = closed_by_server(sock, within=SLACK)
        assert after is not None, "the oversized message did not end the association"
        assert any("pixel budget" in r.getMessage() for r in caplog.records)
        assert wait_until(lambda: server.scp.open_associations == 0)
        # Images within the budget still print.
        with PrintClient(server.address, calling="SMALL") as client:
            box = first_image_box(client)
            small = grayscale_item(np.full((32, 32), 200, np.uint8))
            status, _, _ = client.set(uids.BasicGrayscaleImageBox, box, image_box_request(1, small))
            assert status == 0
            assert client.action(uids.BasicFilmBox, client.film_box_uid)[0] == 0
        assert len(output_files(tmp_path / "filmbox" / "SMALL")) == 1


def reply_to_header(sock: socket.socket, header: bytes) -> bytes:
    """Send a PDU header and a little of its body; the first bytes the server sends back."""
    sock.sendall(header + b"\x00" * 4096)
    sock.settimeout(SLACK)
    return sock.recv(10)


@pytest.mark.parametrize(
    ("header", "what"),
    [
        (struct.pack(">BBI", 0x04, 0, 400_000_000), "0x04 and 400000000 bytes"),
        (struct.pack(">BBI", 0x04, 0, 16384 + 1), "0x04 and 16385 bytes"),
        (struct.pack(">BBI", 0x05, 0, 50_000_000), "0x05 and 50000000 bytes"),
    ],
)
def test_a_pdu_longer_than_announced_is_refused_from_its_header(tmp_path, caplog, header, what):
    """pynetdicom read the whole PDU into memory first, whatever its length."""
    with caplog.at_level(logging.ERROR), configured_server(tmp_path, max_pdu=16384) as server:
        with associated_socket(server.address) as sock:
            # A-ABORT, source service-provider (2), invalid PDU parameter value (6).
            assert reply_to_header(sock, header) == b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x06"
            assert closed_by_server(sock, within=SLACK) is not None
        assert any(what in r.getMessage() for r in caplog.records), caplog.text
        assert wait_until(lambda: server.scp.open_associations == 0)
        with PrintClient(server.address, calling="AFTER") as client:
            assert first_image_box(client)


def test_an_oversized_association_request_is_refused_before_it_is_read(tmp_path):
    with configured_server(tmp_path) as server:
        with socket.create_connection(server.address, timeout=WAIT) as sock:
            header = struct.pack(">BBI", 0x01, 0, 100_000_000)
            assert reply_to_header(sock, header)[:1] == b"\x07"


# -- Image size ---------------------------------------------------------------------------


def first_image_box(client: PrintClient) -> str:
    """Create a film session and a 1x1 film box; the image box's UID."""
    _, session_uid, _ = client.create(uids.BasicFilmSession, None)
    _, client.film_box_uid, reply = client.create(uids.BasicFilmBox, film_box_request(session_uid))
    return str(reply.ReferencedImageBoxSequence[0].ReferencedSOPInstanceUID)


def image_status(profile: PrinterProfile, rows: int, columns: int) -> int:
    d = Driver(PrintSession(Printer(profile)))
    d.create_session()
    d.create_film_box()
    try:
        return int(d.set_image(1, np.zeros((rows, columns), np.uint8)).status)
    except PrintError as exc:
        return int(exc.status)


def test_images_beyond_max_image_dimension_get_resource_limitation():
    profile = PrinterProfile(max_image_dimension=64)
    assert image_status(profile, 64, 64) == Status.SUCCESS
    assert image_status(profile, 65, 1) == Status.RESOURCE_LIMITATION
    assert image_status(profile, 1, 65) == Status.RESOURCE_LIMITATION
    assert image_status(profile, 0, 1) == Status.INVALID_ATTRIBUTE_VALUE
    assert PrinterProfile().max_image_dimension == 16384


def test_max_image_dimension_is_configurable_and_acts_over_the_network(tmp_path):
    config = tmp_path / "small.toml"
    config.write_text(
        '[server]\nhost = "127.0.0.1"\nport = 0\n'
        f'failed_jobs = "{(tmp_path / "failed").as_posix()}"\n'
        f'[output]\ndirectory = "{(tmp_path / "filmbox").as_posix()}"\n'
        "[profile]\nmax_image_dimension = 100\n",
        encoding="utf-8",
    )
    server = PrintServer(load_config(config)).start()
    try:
        with PrintClient(server.address) as client:
            box = first_image_box(client)
            wide = grayscale_item(np.zeros((10, 101), np.uint8))
            status, _, full = client.set(
                uids.BasicGrayscaleImageBox, box, image_box_request(1, wide)
            )
            assert status == Status.RESOURCE_LIMITATION
            assert "100" in str(full.ErrorComment)
    finally:
        server.shutdown(grace=1.0)


def test_max_associations_rejects_one_more_and_frees_the_slot_when_one_ends(tmp_path):
    """max_associations: one more is rejected; when one ends, the next is accepted."""
    with configured_server(tmp_path, max_associations=2) as server:
        first, second = PrintClient(server.address), PrintClient(server.address)
        try:
            ae = AE(ae_title="THIRD")
            ae.add_requested_context(GRAY)
            third = ae.associate(*server.address, ae_title="PRINTSCP")
            assert third.is_rejected
            first.close()
            assert wait_until(lambda: len(server.ae.active_associations) == 1)
            fourth = ae.associate(*server.address, ae_title="PRINTSCP")
            assert fourth.is_established
            fourth.release()
        finally:
            first.close()
            second.close()


# -- Images received with C-STORE: refused before they are decoded -----------------------


def test_a_c_store_that_cannot_be_held_is_refused_before_decoding():

    budget = PixelBudget(64 * 1024)
    store = StoreToFilm(Printer(), None, budget=budget)
    store.add(grayscale_image("CT", 64, 64))  # 8 KiB held
    # Says 1000x1000 (2 MB once prepared) but carries 8 KiB of pixels: decoding
    # it would fail (0xC000); it is refused for its size first, undecoded.
    claim = grayscale_image("CT", 64, 64)
    claim.Rows = claim.Columns = 1000
    with pytest.raises(PrintError) as refused:
        store.add(claim)
    assert refused.value.status == Status.OUT_OF_RESOURCES
    assert budget.held == 64 * 64 * 2
    # What fits is decoded as before: a lie about its size that fits is 0xC000.
    claim.Rows = claim.Columns = 100
    with pytest.raises(PrintError) as broken:
        store.add(claim)
    assert broken.value.status == Status.CANNOT_UNDERSTAND


def test_a_broken_number_of_frames_is_cannot_understand():

    store = StoreToFilm(Printer(), None, all_frames=True)
    image = grayscale_image("CT", 8, 8)
    set_raw(image, "NumberOfFrames", b"many")
    with pytest.raises(PrintError) as refused:
        store.add(image)
    assert refused.value.status == Status.CANNOT_UNDERSTAND


def test_pixel_budget_check_changes_nothing():

    budget = PixelBudget(1000)
    budget.update("a", 600)
    budget.check("b", 400)  # fits
    with pytest.raises(BudgetExceededError):
        budget.check("b", 401)
    budget.check("a", 1000)  # its own bytes count once
    assert budget.held == 600


def test_an_undecodable_size_is_cannot_understand_not_an_error():
    """Found by test_scp_properties: the size check before decoding met a 5-byte US."""
    store = StoreToFilm(Printer(), None, budget=PixelBudget(1024 * 1024))
    image = grayscale_image("CT", 8, 8)
    set_raw(image, "SamplesPerPixel", b"\0" * 5)
    with pytest.raises(PrintError) as refused:
        store.add(image)
    assert refused.value.status == Status.CANNOT_UNDERSTAND


# -- Films rendered and images decoded at once ---------------------------------------------


class Gate:
    """Wraps a function: counts the callers inside it and holds them until opened."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.inside = 0
        self.peak = 0
        self.opened = False
        self.changed = threading.Condition()

    def __call__(self, *args):
        with self.changed:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.opened, timeout=WAIT * 2)
        try:
            return self.fn(*args)
        finally:
            with self.changed:
                self.inside -= 1

    def open(self) -> None:
        with self.changed:
            self.opened = True
            self.changed.notify_all()


def through_gate(gate: Gate, limit: int, call) -> list:
    """``call(index)`` from ``limit + 1`` threads at once; their results.

    Checks that ``limit`` of them come into the gate and no more while it
    stays shut, then opens it.
    """
    with ThreadPoolExecutor(max_workers=limit + 1) as pool:
        calls = [pool.submit(call, index) for index in range(limit + 1)]
        try:
            assert wait_until(lambda: gate.inside == limit)
            assert not wait_until(lambda: gate.inside > limit, timeout=1.0)
        finally:
            gate.open()
        return [done.result(timeout=WAIT * 3) for done in calls]


@pytest.mark.parametrize("limit", [1, 3])
def test_parallel_renders_bounds_the_jobs_rendered_at_once_on_every_printer(
    tmp_path, monkeypatch, limit
):
    """One more job than the limit, from as many associations and over two
    printers: only ``limit`` render at once, the others wait, and all print."""
    from dicomprint.render import render_job
    from dicomprint_server import printing
    from dicomprint_server.client import PrintClient as ProductClient

    gate = Gate(render_job)
    monkeypatch.setattr(printing, "_default_renderer", lambda: gate)
    config = tmp_path / "renders.toml"
    config.write_text(
        f"""
[server]
host = "127.0.0.1"
port = 0
parallel_renders = {limit}
[output]
directory = "{(tmp_path / "filmbox").as_posix()}"
[printers.other]
backend = "jpeg"
directory = "{(tmp_path / "other").as_posix()}"
[routing.called_ae_titles]
OTHER = "other"
""",
        encoding="utf-8",
    )
    layout = {"ImageDisplayFormat": "STANDARD\\1,1", "FilmSizeID": "8INX10IN"}

    def print_one(index: int) -> None:
        called = ("PRINTSCP", "OTHER")[index % 2]
        with ProductClient(*server.address, called, f"JOB{index}", film_box=layout) as client:
            client.print_image(np.full((64, 64), 100, np.uint8))

    server = PrintServer(load_config(config)).start()
    try:
        through_gate(gate, limit, print_one)
    finally:
        server.shutdown(grace=1.0)
    assert gate.peak == limit
    printed = output_files(tmp_path / "filmbox") + output_files(tmp_path / "other")
    assert len(printed) == limit + 1


@pytest.mark.parametrize("limit", [1, 3])
def test_parallel_decodes_bounds_the_c_store_images_decoded_at_once(tmp_path, monkeypatch, limit):
    gate = Gate(StoreToFilm.add)
    monkeypatch.setattr(StoreToFilm, "add", lambda store, dataset: gate(store, dataset))

    with configured_server(tmp_path, parallel_decodes=limit) as server:
        statuses = through_gate(gate, limit, lambda i: send_store(server.address, f"STORE{i}", 1))
        assert statuses == [[0]] * (limit + 1)
    assert gate.peak == limit
