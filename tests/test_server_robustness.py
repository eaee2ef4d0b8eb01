"""The server under bad bytes and under load, on loopback, bounded in count and time."""

from __future__ import annotations

import logging
import os
import random
import socket
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

import numpy as np
import pytest
from pydicom import Dataset
from pynetdicom import AE
from pynetdicom.dimse_messages import C_STORE_RQ, N_CREATE_RQ, N_DELETE_RQ
from pynetdicom.dimse_primitives import C_STORE, N_CREATE, N_DELETE
from pynetdicom.dsutils import decode, encode
from pynetdicom.pdu import A_ASSOCIATE_RQ, P_DATA_TF
from pynetdicom.pdu_primitives import A_ASSOCIATE, MaximumLengthNotification
from pynetdicom.presentation import build_context

from dicomprint import uids
from dicomprint_server import PrintClient
from image_objects import grayscale_image
from server_support import WAIT, output_files, running_server, wait_until

FUZZ_CASES = 150
EXPLICIT = "1.2.840.10008.1.2.1"


def associate_rq(
    calling: str = "FUZZ",
    abstract_syntax: str = "1.2.840.10008.5.1.1.9",
    transfer_syntaxes: list[str] | None = None,
) -> bytes:
    """A well-formed A-ASSOCIATE-RQ proposing one context (by default the
    grayscale print meta class)."""
    primitive = A_ASSOCIATE()
    primitive.application_context_name = "1.2.840.10008.3.1.1.1"
    primitive.calling_ae_title = calling
    primitive.called_ae_title = "PRINTSCP"
    context = build_context(abstract_syntax, transfer_syntaxes)
    context.context_id = 1
    primitive.presentation_context_definition_list = [context]
    max_length = MaximumLengthNotification()
    max_length.maximum_length_received = 16384
    primitive.user_information = [max_length]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(primitive)
    return pdu.encode()


def associated_socket(address, **context) -> socket.socket:
    """A raw connection with an association for one context (context 1)."""
    sock = socket.create_connection(address, timeout=WAIT)
    sock.sendall(associate_rq("RAWPEER", **context))
    assert sock.recv(4096)[:1] == b"\x02", "no A-ASSOCIATE-AC"
    return sock


def p_data(rng: random.Random) -> bytes:
    """A P-DATA-TF PDU with one PDV of random content (command or data, last or not)."""
    body = rng.randbytes(rng.randint(0, 300))
    header = rng.choice([0x00, 0x01, 0x02, 0x03, 0xFF])
    pdv = struct.pack(">IBB", len(body) + 2, 1, header) + body
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(data))
        data[position] = rng.randrange(256)
    if rng.random() < 0.3:
        data = data[: rng.randrange(1, len(data))]
    return bytes(data)


def fuzz_case(address, rng: random.Random) -> None:
    kind = rng.choice(["random", "mutated-rq", "garbage-after-accept", "bad-length"])
    with socket.create_connection(address, timeout=2) as sock:
        try:
            if kind == "random":
                sock.sendall(rng.randbytes(rng.randint(1, 512)))
            elif kind == "mutated-rq":
                sock.sendall(mutate(associate_rq(), rng))
            elif kind == "bad-length":
                sock.sendall(
                    struct.pack(">BBI", rng.choice([1, 4, 5, 7]), 0, 0xFFFFFFF0) + b"x" * 64
                )
            else:
                sock.sendall(associate_rq())
                sock.recv(4096)  # A-ASSOCIATE-AC (or -RJ)
                for _ in range(rng.randint(1, 4)):
                    sock.sendall(p_data(rng))
            sock.settimeout(0.5)
            sock.recv(4096)
        except OSError:
            pass  # the server may close or abort at once: that is fine


def test_an_undecodable_command_set_gets_an_a_abort_and_a_log_line(tmp_path, caplog):
    # An empty command set (no Command Field) killed pynetdicom's network
    # thread and the connection was dropped without a word.
    caplog.set_level(logging.WARNING, logger="dicomprint_server")
    with running_server(tmp_path) as server:
        with associated_socket(server.address) as sock:
            pdv = struct.pack(">IBB", 2, 1, 0x03)  # last command fragment, no data
            sock.sendall(struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv)
            reply = b""
            while len(reply) < 10:
                chunk = sock.recv(10 - len(reply))
                if not chunk:
                    break
                reply += chunk
        assert reply[:1] == b"\x07", reply  # A-ABORT
        assert "undecodable DIMSE message" in caplog.text
        assert wait_until(lambda: not server.ae.active_associations)
        print_one_film(server.address, "AFTERABORT")
        assert len(output_files(tmp_path / "filmbox" / "AFTERABORT")) == 1


def print_one_film(address, calling: str, images: int = 1) -> list:
    layout = {"ImageDisplayFormat": "STANDARD\\1,1", "FilmSizeID": "8INX10IN"}
    with PrintClient(address[0], address[1], "PRINTSCP", calling, film_box=layout) as client:
        for index in range(images):
            client.print_image(np.full((64, 64), 200 + index, np.uint8))
    return client.films


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count file handles")
def test_corrupted_pdus_do_not_stop_the_server(tmp_path):
    rng = random.Random(20261121)
    with running_server(tmp_path) as server:
        # Half-open connections wait out the ACSE timeout: keep it short here.
        server.ae.acse_timeout = 2
        for _ in range(FUZZ_CASES):
            fuzz_case(server.address, rng)
        assert wait_until(lambda: not server.ae.active_associations, timeout=WAIT * 2)
        assert server.scp.open_associations == 0  # no print objects left behind
        print_one_film(server.address, "AFTERFUZZ")
        assert len(output_files(tmp_path / "filmbox" / "AFTERFUZZ")) == 1
        assert wait_until(lambda: not server.ae.active_associations)


def send_store(address, calling: str, count: int) -> list[int]:
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = WAIT * 6
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1"])
    assoc = ae.associate(*address, ae_title="PRINTSCP")
    assert assoc.is_established
    try:
        return [int(assoc.send_c_store(grayscale_image("CT", 64, 64)).Status) for _ in range(count)]
    finally:
        assoc.release()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count file handles")
def test_twenty_concurrent_associations_print_every_film_and_leak_nothing(tmp_path):
    with running_server(tmp_path, max_associations=20) as server:
        print_one_film(server.address, "WARMUP")  # first-use imports and caches
        assert wait_until(lambda: not server.ae.active_associations)  # all 20 slots free
        threads_before, fds_before = threading.active_count(), open_fds()
        with ThreadPoolExecutor(max_workers=20) as pool:
            printing = [
                pool.submit(print_one_film, server.address, f"PRINT{i}", 2) for i in range(10)
            ]
            storing = [pool.submit(send_store, server.address, f"STORE{i}", 4) for i in range(10)]
            for future in printing + storing:
                future.result(timeout=WAIT * 12)
        root = tmp_path / "filmbox"
        for i in range(10):
            assert len(output_files(root / f"PRINT{i}")) == 2
        assert wait_until(
            lambda: all(len(output_files(root / f"STORE{i}")) == 1 for i in range(10)),
            timeout=WAIT * 6,
        )
        assert wait_until(lambda: server.scp.open_associations == 0)
        # Association threads end shortly after release; nothing stays behind.
        assert wait_until(lambda: threading.active_count() <= threads_before, timeout=WAIT)
        assert open_fds() <= fds_before + 2


def test_server_wide_pixel_budget_bounds_what_associations_hold(tmp_path):
    from dicomprint_server import PrintServer, load_config

    config = tmp_path / "budget.toml"
    config.write_text(
        f"""
[server]
host = "127.0.0.1"
port = 0
max_pixel_bytes = 20000
failed_jobs = "{(tmp_path / "failed-jobs").as_posix()}"

[output]
directory = "{(tmp_path / "filmbox").as_posix()}"
""",
        encoding="utf-8",
    )
    server = PrintServer(load_config(config)).start()
    try:
        # 64x64 images at 12 bits hold 8192 bytes each: the third does not fit.
        assert send_store(server.address, "BUDGET", 3) == [0, 0, 0xA700]
        assert wait_until(lambda: len(output_files(tmp_path / "filmbox" / "BUDGET")) == 2)
        assert wait_until(lambda: server.budget.held == 0)  # given back once printed
    finally:
        server.shutdown(grace=1.0)


# -- UIDs longer than 64 characters -------------------------------------------------------

#: 68 characters: a UID only a buggy peer sends (PS3.5 9.1 allows 64).
LONG_UID = "1.2.826.0.1.3680043.9.7433.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17"


def request_raw(sock: socket.socket, message) -> Dataset:
    """Send a DIMSE message as it stands (no check of its UIDs); the reply's command set."""
    for primitive in message.encode_msg(1, 16384):
        pdu = P_DATA_TF()
        pdu.from_primitive(primitive)
        sock.sendall(pdu.encode())
    command = b""
    while True:
        header = _read_exactly(sock, 6)
        body = _read_exactly(sock, struct.unpack(">I", header[2:])[0])
        assert header[:1] == b"\x04", f"not a P-DATA-TF: {header[:1]!r}"
        offset = 0
        while offset < len(body):
            length, _, flags = struct.unpack(">IBB", body[offset : offset + 6])
            fragment = body[offset + 6 : offset + 4 + length]
            offset += 4 + length
            if flags & 1:  # a command fragment
                command += fragment
                if flags & 2:  # the last one
                    return decode(BytesIO(command), True, True)


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        assert chunk, "the server closed the connection"
        data += chunk
    return data


def n_create_session(message_id: int, uid: str | None):
    primitive = N_CREATE()
    primitive.MessageID = message_id
    primitive.AffectedSOPClassUID = uids.BasicFilmSession
    primitive._affected_sop_instance_uid = uid  # as sent, unchecked
    message = N_CREATE_RQ()
    message.primitive_to_message(primitive)
    return message


def test_an_over_long_instance_uid_gets_a_status_and_the_association_goes_on(tmp_path):
    """pynetdicom could not turn such a request into a primitive and aborted
    the association; the print session answers it as any malformed UID."""
    with running_server(tmp_path) as server:
        with associated_socket(server.address) as sock:
            reply = request_raw(sock, n_create_session(1, LONG_UID))
            assert (reply.MessageIDBeingRespondedTo, reply.Status) == (1, 0x0115)
            reply = request_raw(sock, n_create_session(2, None))
            assert (reply.MessageIDBeingRespondedTo, reply.Status) == (2, 0x0000)
            session_uid = reply.AffectedSOPInstanceUID
            primitive = N_DELETE()
            primitive.MessageID = 3
            primitive.RequestedSOPClassUID = uids.BasicFilmBox
            primitive._requested_sop_instance_uid = LONG_UID
            message = N_DELETE_RQ()
            message.primitive_to_message(primitive)
            reply = request_raw(sock, message)
            assert (reply.MessageIDBeingRespondedTo, reply.Status) == (3, 0x0112)
            assert session_uid
        print_one_film(server.address, "AFTERLONG")
        assert len(output_files(tmp_path / "filmbox" / "AFTERLONG")) == 1


def test_an_image_with_an_over_long_uid_is_stored_and_printed(tmp_path):
    image = grayscale_image("CT", 64, 64)
    image.SOPInstanceUID = LONG_UID
    ct_explicit = {"abstract_syntax": image.SOPClassUID, "transfer_syntaxes": [EXPLICIT]}
    with (
        running_server(tmp_path) as server,
        associated_socket(server.address, **ct_explicit) as sock,
    ):
        primitive = C_STORE()
        primitive.MessageID = 1
        primitive.AffectedSOPClassUID = image.SOPClassUID
        primitive._affected_sop_instance_uid = LONG_UID
        primitive.Priority = 0
        primitive.DataSet = BytesIO(encode(image, False, True))
        message = C_STORE_RQ()
        message.primitive_to_message(primitive)
        reply = request_raw(sock, message)
        assert (reply.MessageIDBeingRespondedTo, reply.Status) == (1, 0x0000)
        sock.sendall(b"\x05\x00" + struct.pack(">I", 4) + b"\x00" * 4)  # A-RELEASE-RQ
        assert _read_exactly(sock, 1) == b"\x06"
        assert wait_until(lambda: len(output_files(tmp_path / "filmbox" / "RAWPEER")) == 1)
