"""Stopping the server: new associations are refused at once, idle ones are closed, print
jobs in progress finish within the grace period, and ``dicomprint serve`` exits with 0 on
SIGTERM or Ctrl-C (a second signal stops sooner, a third at once)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from pynetdicom import AE

from dicomprint import Status, uids
from dicomprint.uids import new_uid
from dicomprint_server.failed_jobs import FailedJobs
from fault_support import BlockingBackend, gated_plugin, printed_files, wait_for_line
from image_objects import grayscale_image
from routing_support import Scu, serving_config
from server_support import WAIT, serve_process, stop_process, wait_until

GRAY = uids.BasicGrayscalePrintManagementMeta
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")


def refused(port: int) -> bool:
    """Whether a new TCP connection to the port is refused (nothing listens)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT):
            return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:  # taken into the backlog while the socket closed
        return False


class Printing(threading.Thread):
    """A print job (one film) on its own association, in the background."""

    def __init__(self, address) -> None:
        super().__init__(daemon=True)
        self.scu = Scu(address, "PRINTSCP")
        self.status = None
        self.start()

    def run(self) -> None:
        self.status = self.scu.print_film()
        self.scu.close()


class Storing:
    """An association that has sent an image with C-STORE and not yet released."""

    def __init__(self, address, calling: str = "STORER") -> None:
        image = grayscale_image("CT", 16, 16)
        self.ae = AE(ae_title=calling)
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = WAIT * 3
        self.ae.add_requested_context(image.SOPClassUID, [image.file_meta.TransferSyntaxUID])
        self.assoc = self.ae.associate(*address, ae_title="PRINTSCP")
        assert self.assoc.is_established
        assert self.assoc.send_c_store(image).Status == 0x0000


def idle_association(address):
    scu = Scu(address, "PRINTSCP")
    assert scu.assoc.is_established
    return scu


def create_film_session(scu: Scu) -> None:
    status, _ = scu.assoc.send_n_create(None, uids.BasicFilmSession, new_uid(), meta_uid=GRAY)
    assert status.Status == Status.SUCCESS


def shutting_down(server, grace: float) -> threading.Thread:
    thread = threading.Thread(target=server.shutdown, kwargs={"grace": grace}, daemon=True)
    thread.start()
    return thread


# -- PrintServer.shutdown ---------------------------------------------------------------


def config_text(tmp_path, print_timeout: float = 30.0) -> str:
    return f"""
[server]
failed_jobs = "{tmp_path / "failed-jobs"}"
print_timeout = {print_timeout}
"""


def test_shutdown_refuses_new_associations_closes_idle_ones_and_finishes_jobs(tmp_path):
    backend = BlockingBackend()
    try:
        with serving_config(tmp_path, config_text(tmp_path), backend=backend) as server:
            address = server.address
            printing = Printing(address)
            assert backend.entered.wait(WAIT)  # its N-ACTION is being printed
            idle = idle_association(address)
            storing = Storing(address)

            started = time.monotonic()
            stopping = shutting_down(server, grace=WAIT * 2)
            assert wait_until(lambda: refused(address[1]))
            assert wait_until(lambda: idle.assoc.is_aborted)  # nothing to finish
            assert time.monotonic() - started < WAIT
            assert printing.scu.assoc.is_established and storing.assoc.is_established

            storing.assoc.release()  # its image prints when it ends
            assert wait_until(lambda: len(backend.printed) == 1)
            backend.release.set()  # the printer finishes the job in progress
            printing.join(WAIT)
            assert printing.status.Status == Status.SUCCESS
            stopping.join(WAIT)
            assert not stopping.is_alive()
            assert time.monotonic() - started < WAIT * 2
            assert len(backend.printed) == 2
    finally:
        backend.release.set()


def test_what_is_open_after_the_grace_is_aborted_and_what_was_stored_still_prints(tmp_path):
    backend = BlockingBackend()
    backend.calls.append("not blocking")  # only a first call blocks
    with serving_config(tmp_path, config_text(tmp_path), backend=backend) as server:
        address = server.address
        editing = Scu(address, "PRINTSCP")  # a film session, never printed
        create_film_session(editing)
        storing = Storing(address)  # never releases
        started = time.monotonic()
        server.shutdown(grace=1.5)
        took = time.monotonic() - started
    assert 1.5 <= took < WAIT
    assert editing.assoc.is_aborted and storing.assoc.is_aborted
    assert len(backend.printed) == 1  # the image received with C-STORE


def test_hurry_ends_the_grace(tmp_path):
    with serving_config(tmp_path, config_text(tmp_path)) as server:
        editing = Scu(server.address, "PRINTSCP")
        create_film_session(editing)
        started = time.monotonic()
        threading.Timer(0.5, server.hurry).start()
        server.shutdown(grace=WAIT * 6)
        assert time.monotonic() - started < WAIT
        assert editing.assoc.is_aborted


# -- dicomprint serve and signals -------------------------------------------------------


@pytest.fixture
def gated_server(tmp_path):
    """Start ``dicomprint serve`` with the gated plug-in printer; (process, port, lines)."""
    env = gated_plugin(tmp_path)
    processes = []

    def start(print_timeout: float = 30.0, grace: float = 30.0):
        config = tmp_path / "server.toml"
        config.write_text(
            f"""
[server]
host = "127.0.0.1"
failed_jobs = "{tmp_path / "failed-jobs"}"
print_timeout = {print_timeout}
shutdown_grace = {grace}
[output]
backend = "gated"
directory = "{tmp_path / "printed"}"
gate = "{tmp_path / "gate"}"
"""
        )
        process, port, lines = serve_process(
            tmp_path, "--config", str(config), "--port", "0", env=env
        )
        processes.append(process)
        return process, port, lines

    yield start
    (tmp_path / "gate").touch()  # release any job still waiting
    for process in processes:
        if process.poll() is None:
            stop_process(process)


@posix_only
def test_sigterm_finishes_the_job_in_progress_and_prints_what_was_stored(tmp_path, gated_server):
    process, port, lines = gated_server()
    address = ("127.0.0.1", port)
    printing = Printing(address)
    assert wait_until(lambda: (tmp_path / "printed" / "printing-1").exists())
    storing = Storing(address)

    process.send_signal(signal.SIGTERM)
    assert wait_for_line(lines, "SIGTERM: shutting down")
    assert wait_until(lambda: refused(port))
    assert process.poll() is None  # still finishing

    storing.assoc.release()
    (tmp_path / "gate").touch()  # the printer finishes
    printing.join(WAIT * 2)
    assert printing.status.Status == Status.SUCCESS
    assert process.wait(timeout=WAIT * 3) == 0
    log = "".join(lines)
    assert "server stopped" in log
    names = [path.name for path in printed_files(tmp_path / "printed")]
    assert len(names) == 2 and sum(name.startswith("STORER_") for name in names) == 1


@posix_only
def test_ctrl_c_with_an_idle_association_exits_at_once(gated_server):
    process, port, lines = gated_server(grace=60.0)
    idle = idle_association(("127.0.0.1", port))
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=WAIT * 3) == 0
    assert time.monotonic() - started < WAIT  # not the 60 s grace
    assert wait_until(lambda: idle.assoc.is_aborted)
    log = "".join(lines)
    assert "SIGINT: shutting down" in log
    assert "closed for shutdown (no print job in progress)" in log
    assert "server stopped" in log


@posix_only
def test_a_second_ctrl_c_stops_without_waiting_for_the_grace(tmp_path, gated_server):
    process, port, lines = gated_server(print_timeout=2.0, grace=60.0)
    printing = Printing(("127.0.0.1", port))
    assert wait_until(lambda: (tmp_path / "printed" / "printing-1").exists())
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert wait_for_line(lines, "SIGINT: shutting down")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=WAIT * 3) == 0
    assert time.monotonic() - started < WAIT  # the print time-out, not the grace
    printing.join(WAIT)
    log = "".join(lines)
    assert "SIGINT again: aborting the associations still open" in log
    assert "has not answered on job" in log and "kept for 'dicomprint reprint'" in log
    assert len(FailedJobs(tmp_path / "failed-jobs").folders("default")) == 1


@posix_only
def test_a_third_signal_exits_at_once(tmp_path, gated_server):
    process, port, lines = gated_server(print_timeout=60.0, grace=60.0)
    Printing(("127.0.0.1", port))
    assert wait_until(lambda: (tmp_path / "printed" / "printing-1").exists())
    started = time.monotonic()
    for text in ("SIGTERM: shutting down", "SIGTERM again:", None):
        process.send_signal(signal.SIGTERM)
        if text:
            assert wait_for_line(lines, text)
    try:
        assert process.wait(timeout=WAIT * 3) == 1
    except subprocess.TimeoutExpired:
        pytest.fail("still running after three signals:\n" + "".join(lines))
    assert time.monotonic() - started < WAIT
    assert wait_for_line(lines, "SIGTERM a third time: exiting now")
