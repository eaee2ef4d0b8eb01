"""DCMTK's storescp as a real storage SCP ("PACS") for the DICOM printer tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import frozen
from pynetdicom import AE

from server_support import stop_process

STORESCP = Path("/usr/bin/storescp")
needs_storescp = pytest.mark.skipif(
    not STORESCP.exists(), reason="DCMTK's storescp is not installed (apt-get install dcmtk)"
)
AE_TITLE = "STORESCP"
#: Bound for every wait (a liveness limit, not a timing test).
WAIT = 10.0


@frozen
class StoreSCP:
    port: int
    ae_title: str
    directory: Path
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _echo(port: int) -> bool:
    ae = AE(ae_title="PROBE")
    ae.add_requested_context("1.2.840.10008.1.1")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 2
    assoc = ae.associate("127.0.0.1", port, ae_title=AE_TITLE)
    try:
        return assoc.is_established and bool(assoc.send_c_echo())
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()


@contextlib.contextmanager
def running_storescp(tmp_path: Path, *options: str, ready: bool = True) -> Iterator[StoreSCP]:
    """storescp on a free port, storing into ``tmp_path/pacs``; stopped at the end.

    ``options`` are extra storescp options (``--refuse``, ``--abort-after`` ...);
    with ``ready=False`` the server is not probed with C-ECHO before use.
    """
    directory = tmp_path / "pacs"
    directory.mkdir(exist_ok=True)
    log = tmp_path / "storescp.log"
    for _attempt in range(3):  # the free port may be taken before storescp binds it
        port = free_port()
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(STORESCP), "-aet", AE_TITLE, "-od", str(directory), "-v", *options, str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            if _wait_ready(process, port, ready):
                yield StoreSCP(port, AE_TITLE, directory, log)
                return
        finally:
            stop_process(process)
    raise RuntimeError(f"storescp did not start:\n{log.read_text(errors='replace')}")


def _wait_ready(process: subprocess.Popen, port: int, echo: bool) -> bool:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if echo:
                if _echo(port):
                    return True
            else:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False
