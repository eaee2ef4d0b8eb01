"""Faults while printing, over real associations on 127.0.0.1: a backend that raises or
hangs, an output folder that is missing, read-only or full. The N-ACTION answers with a
failure status in bounded time, the job is kept for ``dicomprint reprint``, the server goes
on printing once the fault is gone."""

from __future__ import annotations

import errno
import json
import logging
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from backend_support import make_film, make_job
from dicomprint import Printer, PrintError, Status
from dicomprint_server.cli import main
from dicomprint_server.failed_jobs import JOB_FILE, FailedJobs
from dicomprint_server.printing import print_callback
from fault_support import (
    BlockingBackend,
    FlakyBackend,
    fill,
    gated_plugin,
    print_threads,
    printed_files,
    remount,
    tmpfs,
    wait_for_line,
)
from routing_support import Scu, serving_config
from server_support import WAIT, output_files, serve_process, stop_process, wait_until


def config_text(tmp_path, *, output=None, failed_jobs=None, print_timeout=None) -> str:
    text = f"""
[server]
failed_jobs = "{failed_jobs or tmp_path / "failed-jobs"}"
{f"print_timeout = {print_timeout}" if print_timeout else ""}
[output]
directory = "{output or tmp_path / "filmbox"}"
"""
    return text


def kept(tmp_path, printer="default"):
    return FailedJobs(tmp_path / "failed-jobs").folders(printer)


def timed_print(address, value: int = 200):
    """One print job on an association of its own: (N-ACTION status, seconds it took)."""
    with Scu(address, "PRINTSCP") as scu:
        started = time.monotonic()
        status = scu.print_film(value)
        return status, time.monotonic() - started


def print_once(address, value: int = 200):
    return timed_print(address, value)[0]


def printer_status(address) -> str:
    with Scu(address, "PRINTSCP") as scu:
        return scu.printer_attributes().PrinterStatus


# -- A backend that raises ------------------------------------------------------------


def test_a_backend_that_raises_fails_the_n_action_keeps_the_job_and_recovers(tmp_path):
    backend = FlakyBackend(RuntimeError("paper tray missing"))
    with serving_config(tmp_path, config_text(tmp_path), backend=backend) as server:
        status, elapsed = timed_print(server.address)
        assert status.Status == Status.PROCESSING_FAILURE
        assert status.ErrorComment == "printer failed: paper tray missing"
        assert elapsed < WAIT
        assert printer_status(server.address) == "FAILURE"
        (folder,) = kept(tmp_path)
        assert sorted(p.name for p in folder.iterdir()) == ["film_01.png", JOB_FILE]
        metadata = json.loads((folder / JOB_FILE).read_text())
        assert metadata["error"] == "RuntimeError: paper tray missing"
        assert metadata["calling_ae_title"] == "MODALITY"

        backend.failing = False  # the tray is back
        assert print_once(server.address).Status == Status.SUCCESS
        assert len(backend.printed) == 1
        assert printer_status(server.address) == "NORMAL"
    assert len(kept(tmp_path)) == 1  # the failed job stays until reprinted


# -- A backend that hangs -------------------------------------------------------------


@pytest.fixture
def blocking():
    backends = []

    def make(late_error=None):
        backend = BlockingBackend(late_error)
        backends.append(backend)
        return backend

    yield make
    for backend in backends:  # never leave a thread blocked behind
        backend.release.set()
    assert wait_until(lambda: not print_threads())


def test_a_hung_backend_times_out_and_the_late_print_removes_the_kept_copy(
    tmp_path, blocking, caplog
):
    caplog.set_level(logging.INFO, logger="dicomprint_server")
    backend = blocking()
    text = config_text(tmp_path, print_timeout=2.0)
    with serving_config(tmp_path, text, backend=backend) as server:
        threads_before = {t.name for t in threading.enumerate()}
        status, elapsed = timed_print(server.address)
        assert status.Status == Status.PROCESSING_FAILURE
        assert status.ErrorComment == "printer did not answer within 2 s"
        assert 2.0 <= elapsed < 2.0 + WAIT / 2
        assert printer_status(server.address) == "FAILURE"
        (first,) = kept(tmp_path)
        error = json.loads((first / JOB_FILE).read_text())["error"]
        assert error == "PrintTimeoutError: printer did not answer within 2 s"
        assert len(print_threads()) == 1  # the hung call, nothing else

        # While the backend hangs, jobs are kept at once, not handed to it.
        status, elapsed = timed_print(server.address, 100)
        assert status.Status == Status.PROCESSING_FAILURE
        assert re.fullmatch(r"printer not answering for \d+ s", status.ErrorComment)
        assert elapsed < 2.0  # no time-out waited for
        assert len(backend.calls) == 1
        assert len(kept(tmp_path)) == 2
        assert len(print_threads()) == 1

        # The printer comes back: the hung job printed after all, so its kept
        # copy goes (a reprint would print it twice); the other one stays.
        backend.release.set()
        assert wait_until(lambda: first not in kept(tmp_path))
        assert len(kept(tmp_path)) == 1
        assert backend.printed == backend.calls[:1]
        assert printer_status(server.address) == "NORMAL"
        assert wait_until(lambda: not print_threads())

        assert print_once(server.address).Status == Status.SUCCESS
        assert len(backend.printed) == 2
        assert wait_until(lambda: {t.name for t in threading.enumerate()} <= threads_before)
    assert "printed on 'default' after all" in caplog.text
    assert f"kept copy {first} of job" in caplog.text


def test_a_hung_backend_that_fails_late_leaves_the_kept_job(tmp_path, blocking, caplog):
    caplog.set_level(logging.INFO, logger="dicomprint_server")
    backend = blocking(late_error=OSError(errno.EIO, "Input/output error"))
    text = config_text(tmp_path, print_timeout=0.5)
    with serving_config(tmp_path, text, backend=backend) as server:
        assert print_once(server.address).Status == Status.PROCESSING_FAILURE
        (folder,) = kept(tmp_path)
        backend.release.set()
        assert wait_until(lambda: not print_threads())
        assert kept(tmp_path) == [folder]
        assert printer_status(server.address) == "FAILURE"
        assert print_once(server.address).Status == Status.SUCCESS  # it works again
        assert printer_status(server.address) == "NORMAL"
    assert "past its time-out (OSError: [Errno 5] Input/output error); it stays kept" in (
        caplog.text
    )


# -- The output folder ----------------------------------------------------------------


def test_a_deleted_output_folder_is_created_again(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="dicomprint_server")
    output = tmp_path / "filmbox"
    with serving_config(tmp_path, config_text(tmp_path)) as server:
        assert print_once(server.address).Status == Status.SUCCESS
        shutil.rmtree(output)
        assert print_once(server.address).Status == Status.SUCCESS
    assert len(output_files(output)) == 1
    assert f"output folder {output} is missing: creating it" in caplog.text
    assert kept(tmp_path) == []


def test_a_read_only_output_folder_fails_with_0110_and_the_job_is_reprinted(tmp_path):
    output = tmp_path / "filmbox"
    with tmpfs(output):
        with serving_config(tmp_path, config_text(tmp_path)) as server:
            assert print_once(server.address).Status == Status.SUCCESS
            remount(output, "ro")
            status, elapsed = timed_print(server.address, 120)
            assert status.Status == Status.PROCESSING_FAILURE
            assert status.ErrorComment == "output failed: Read-only file system"
            assert elapsed < WAIT
            assert printer_status(server.address) == "FAILURE"
            (folder,) = kept(tmp_path)
            assert "[Errno 30] Read-only file system" in (folder / JOB_FILE).read_text()
            remount(output, "rw")
            assert print_once(server.address).Status == Status.SUCCESS
        assert len(output_files(output)) == 2
        config = tmp_path / "server.toml"  # written by serving_config
        assert main(["reprint", "--config", str(config)]) == 0
        assert len(output_files(output)) == 3
        assert kept(tmp_path) == []
        assert not list(output.rglob(".*.part"))


def test_a_full_output_disk_fails_with_0213_and_the_job_is_kept_elsewhere(tmp_path):
    output = tmp_path / "filmbox"
    with tmpfs(output, size="256k"):
        with serving_config(tmp_path, config_text(tmp_path)) as server:
            filler = fill(output)
            status, elapsed = timed_print(server.address)
            assert status.Status == Status.RESOURCE_LIMITATION
            assert status.ErrorComment == "output failed: No space left on device"
            assert elapsed < WAIT
            (folder,) = kept(tmp_path)  # on another file system
            assert (folder / "film_01.png").stat().st_size > 0
            assert not list(output.rglob(".*.part"))  # no half-written film
            filler.unlink()
            assert print_once(server.address).Status == Status.SUCCESS
        assert main(["reprint", "--config", str(tmp_path / "server.toml")]) == 0
        assert len(output_files(output)) == 2
        assert kept(tmp_path) == []


def test_when_the_failed_jobs_disk_is_full_too_it_is_logged_and_the_server_goes_on(
    tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="dicomprint_server")
    disk = tmp_path / "disk"
    with tmpfs(disk, size="256k"):
        text = config_text(tmp_path, output=disk / "filmbox", failed_jobs=disk / "failed-jobs")
        with serving_config(tmp_path, text) as server:
            filler = fill(disk)
            assert print_once(server.address).Status == Status.RESOURCE_LIMITATION
            assert "could NOT be kept for reprinting" in caplog.text
            assert "only a retry by the SCU can print it now" in caplog.text
            assert FailedJobs(disk / "failed-jobs").folders() == []
            assert not list(disk.rglob(".*.part"))  # nothing half-kept either
            filler.unlink()
            assert print_once(server.address).Status == Status.SUCCESS
        assert len(output_files(disk / "filmbox")) == 1


# -- A restart finds the kept jobs ----------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGTERM")
def test_a_restarted_server_reports_kept_jobs_and_reprint_prints_them(tmp_path):
    env = gated_plugin(tmp_path)
    printed = tmp_path / "printed"
    offline = tmp_path / "printer-offline"
    offline.touch()
    config = tmp_path / "server.toml"
    config.write_text(
        f"""
[server]
host = "127.0.0.1"
failed_jobs = "{tmp_path / "failed-jobs"}"
[output]
backend = "gated"
directory = "{printed}"
fail = "{offline}"
"""
    )
    process, port, lines = serve_process(tmp_path, "--config", str(config), "--port", "0", env=env)
    try:
        with Scu(("127.0.0.1", port), "PRINTSCP") as scu:
            status = scu.print_film()
            assert status.Status == Status.PROCESSING_FAILURE
            assert status.ErrorComment == "printer failed: printer offline"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT * 3) == 0
    finally:
        stop_process(process)
    assert "kept in" in "".join(lines)

    process, port, lines = serve_process(tmp_path, "--config", str(config), "--port", "0", env=env)
    try:
        command = f"cd {tmp_path} && dicomprint reprint --config {config}"
        expected = (
            f"1 failed job(s) of printer 'default' kept in {tmp_path / 'failed-jobs' / 'default'}:"
            f" '{command} --list' shows them, '{command}' prints them again"
        )
        assert wait_for_line(lines, expected), "".join(lines)
    finally:
        stop_process(process)

    offline.unlink()  # the printer is back
    reprint = [sys.executable, "-m", "dicomprint_server", "reprint", "--config", str(config)]
    listed = subprocess.run(
        [*reprint, "--list"], env=env, capture_output=True, text=True, timeout=WAIT * 3
    )
    assert listed.returncode == 0 and "printer=default films=1" in listed.stdout
    result = subprocess.run(reprint, env=env, capture_output=True, text=True, timeout=WAIT * 3)
    assert result.returncode == 0, result.stderr
    assert "reprinted" in result.stdout
    assert len(printed_files(printed)) == 1
    assert FailedJobs(tmp_path / "failed-jobs").folders() == []


def test_the_logged_reprint_command_prints_where_serve_would_have(tmp_path):
    """serve's --output and --format are in the command its log names, and reprint takes them."""
    config = tmp_path / "server.toml"
    config.write_text(config_text(tmp_path))
    blocked = tmp_path / "films"
    blocked.write_text("a file where the output folder should be")
    # Relative paths everywhere: the config's failed-jobs folder and --output.
    config.write_text(config_text(tmp_path, failed_jobs="failed-jobs"))
    process, port, lines = serve_process(
        tmp_path, "--config", "server.toml", "--port", "0", "--output", "films", "--format", "png"
    )
    try:
        with Scu(("127.0.0.1", port), "PRINTSCP") as scu:
            assert scu.print_film().Status == Status.PROCESSING_FAILURE
        expected = (
            f"cd {tmp_path} && dicomprint reprint --config server.toml --output films --format png"
        )
        assert wait_for_line(lines, f"'{expected}' prints it again"), "".join(lines)
    finally:
        stop_process(process)
    blocked.unlink()  # the output folder is back
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    here = shlex.join([sys.executable, "-m", "dicomprint_server"])
    result = subprocess.run(  # the logged command, as an operator pastes it
        ["bash", "-c", expected.replace("dicomprint reprint", f"{here} reprint")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=WAIT * 3,
    )
    assert result.returncode == 0, result.stderr
    assert len(output_files(blocked, "*.png")) == 1
    assert output_files(elsewhere, "*") == [] and not (tmp_path / "filmbox").exists()


# -- The time-out without a network -------------------------------------------------


class GatedBackend:
    """Each job blocks until its own event is set (bounded)."""

    def __init__(self) -> None:
        self.gates: dict[str, threading.Event] = {}
        self.printed: list[str] = []

    def print_films(self, films, job) -> None:
        self.gates.setdefault(job.job_id, threading.Event()).wait(WAIT * 6)
        self.printed.append(job.job_id)


def test_the_printer_is_normal_again_only_when_no_call_hangs_in_it(tmp_path):
    backend = GatedBackend()
    printer = Printer()
    films = [make_film()]
    on_print = print_callback(
        backend,
        printer,
        lambda job: (films, []),
        failed_jobs=FailedJobs(tmp_path),
        timeout=0.2,
    )
    jobs = [make_job(job_id=f"2.25.{n}") for n in (1, 2)]
    outcomes: list[BaseException] = []

    def attempt(job):
        try:
            on_print(job)
        except PrintError as exc:
            outcomes.append(exc)

    try:
        # Two jobs hand their films to the backend at once, and both hang.
        for job in jobs:
            backend.gates[job.job_id] = threading.Event()
        running = [threading.Thread(target=attempt, args=(job,)) for job in jobs]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join(WAIT)
        assert [o.comment for o in outcomes] == ["printer did not answer within 0.2 s"] * 2
        assert sorted(job_id for job_id, _ in on_print.hung_jobs()) == ["2.25.1", "2.25.2"]
        assert printer.PrinterStatus == "FAILURE"
        backend.gates["2.25.1"].set()
        assert wait_until(lambda: len(on_print.hung_jobs()) == 1)
        assert printer.PrinterStatus == "FAILURE"  # job 2 still hangs
        store = FailedJobs(tmp_path)
        assert wait_until(lambda: len(store.folders()) == 1)  # job 1's kept copy went
        assert store.load(store.folders()[0]).job.job_id == "2.25.2"
        backend.gates["2.25.2"].set()
        assert wait_until(lambda: printer.PrinterStatus == "NORMAL")
        assert not on_print.hung_jobs()
        assert wait_until(lambda: store.folders() == [])
        assert sorted(backend.printed) == ["2.25.1", "2.25.2"]
    finally:
        for gate in backend.gates.values():
            gate.set()
    assert wait_until(lambda: not print_threads())
