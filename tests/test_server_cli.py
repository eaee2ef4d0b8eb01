"""``dicomprint serve`` as a real process: starts with defaults, serves, stops on SIGTERM."""

import os
import signal
import subprocess
import sys

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from server_support import WAIT, serve_process


@pytest.fixture
def serve(tmp_path):
    """Start ``python -m dicomprint_server serve`` with extra options; yield (process, port)."""
    processes = []

    def start(*options: str):
        process, port, lines = serve_process(tmp_path, "--port", "0", *options)
        processes.append(process)
        return process, port, lines

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=WAIT)


def echo(port: int, called: str = "PRINTSCP") -> int:
    ae = AE()
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    try:
        assert assoc.is_established
        return assoc.send_c_echo().Status
    finally:
        assoc.release()


@pytest.mark.skipif(os.name != "posix", reason="sends SIGTERM")
def test_serve_with_embedded_defaults_answers_and_stops_on_sigterm(serve, tmp_path):
    process, port, lines = serve()
    assert echo(port) == 0x0000
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=WAIT * 3) == 0
    log = "".join(lines)
    assert "PRINTSCP listening on 0.0.0.0" in log
    assert "max 20 associations, max PDU 16384" in log
    assert f"output folder {(tmp_path / 'filmbox').resolve()}" in log
    assert "server stopped" in log


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_serve_options_and_config_file(serve, tmp_path):
    config = tmp_path / "printer.toml"
    config.write_text('[server]\nae_title = "FROMFILE"\nmax_associations = 3\n')
    process, port, lines = serve(
        "--config", str(config), "--max-pdu", "32768", "--output", "films", "--log-level", "debug"
    )
    assert echo(port, called="ANYTHING") == 0x0000
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=WAIT * 3) == 0
    log = "".join(lines)
    assert "FROMFILE listening" in log and "max 3 associations, max PDU 32768" in log
    assert f"output folder {(tmp_path / 'films').resolve()}" in log
    assert "C-ECHO" in log


def test_port_in_use_is_a_clear_error(serve, tmp_path):
    first, port, _ = serve()
    result = subprocess.run(
        [sys.executable, "-m", "dicomprint_server", "serve", "--port", str(port)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=WAIT * 3,
    )
    assert result.returncode == 1
    assert "cannot start the server" in result.stderr
