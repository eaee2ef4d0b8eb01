"""Failed jobs: kept when a backend fails, printed again with ``dicomprint reprint``."""

import errno
import json
import logging
import os
import secrets
import time

import numpy as np
import pytest
from pydicom import dcmread

from backend_support import make_film, make_job, pdf_pages
from dicomprint import Printer, PrintError, Status
from dicomprint_server import load_config
from dicomprint_server.cli import log_kept_jobs, main
from dicomprint_server.failed_jobs import JOB_FILE, FailedJobError, FailedJobs
from dicomprint_server.printing import print_callback
from dicomprint_server.reprint import command, reprint
from fault_support import BlockingBackend
from routing_support import Scu, serving_config
from server_support import WAIT
from storescp_support import free_port, needs_storescp, running_storescp


class Failing:
    def __init__(self, error):
        self.error = error
        self.calls = 0

    def print_films(self, films, job):
        self.calls += 1
        raise self.error


class Recording:
    def __init__(self):
        self.printed = []

    def print_films(self, films, job):
        self.printed.append((list(films), job))


def films_of(job_id="2.25.4242"):
    return [
        make_film(90, index=1, job_id=job_id),
        make_film(250, index=2, color=True, size="A4", orientation="LANDSCAPE", job_id=job_id),
    ]


def test_save_and_load_keep_every_pixel_and_the_job(tmp_path):
    store = FailedJobs(tmp_path)
    films = films_of()
    job = make_job(copies=3, collate=False, label="Ward 3", job_id="2.25.4242")
    folder = store.save("office", films, job, "CupsError: lp failed")
    assert folder.parent == tmp_path / "office"
    assert folder.name.startswith("20240506T070809_123456Z_")
    assert sorted(p.name for p in folder.iterdir()) == ["film_01.png", "film_02.png", JOB_FILE]
    kept = store.load(folder)
    assert (kept.printer, kept.error, kept.attempts) == ("office", "CupsError: lp failed", 1)
    for original, loaded in zip(films, kept.films, strict=True):
        assert np.array_equal(original.pixels, loaded.pixels)
        assert (loaded.film_size_id, loaded.orientation, loaded.dpi, loaded.index) == (
            original.film_size_id,
            original.orientation,
            original.dpi,
            original.index,
        )
        assert loaded.created == original.created
    assert (kept.job.copies, kept.job.collate) == (3, False)
    assert kept.job.session.FilmSessionLabel == "Ward 3"
    assert (kept.job.job_id, kept.job.created) == (job.job_id, job.created)
    assert (kept.job.calling_ae_title, kept.job.called_ae_title) == ("MODALITY", "PRINTSCP")
    assert store.folders() == [folder] == store.folders("office")


def test_unfinished_and_foreign_folders_are_not_jobs(tmp_path):
    store = FailedJobs(tmp_path)
    (tmp_path / "office" / ".20240506T070809_x.part").mkdir(parents=True)
    (tmp_path / "office" / "notes").mkdir()
    assert store.folders() == []


def interrupted(store, tmp_path, *, keep_json: bool, suffix: str = ".part", age: float = 7200):
    """A job folder as a crash leaves it: renamed to ``.<name>.<random><suffix>``."""
    folder = store.save("office", films_of(), make_job(), "printer offline")
    if not keep_json:
        (folder / JOB_FILE).unlink()
    hidden = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}{suffix}")
    os.replace(folder, hidden)
    old = time.time() - age
    os.utime(hidden, (old, old))
    return folder, hidden


def test_a_restart_finishes_or_removes_what_a_crash_interrupted(tmp_path, caplog):
    store = FailedJobs(tmp_path / "failed-jobs")
    complete, staged = interrupted(store, tmp_path, keep_json=True)
    _, half_written = interrupted(store, tmp_path, keep_json=False)
    _, half_removed = interrupted(store, tmp_path, keep_json=True, suffix=".done")
    _, recent = interrupted(store, tmp_path, keep_json=False, age=60)  # maybe still at work
    assert store.folders() == []
    caplog.set_level(logging.WARNING, logger="dicomprint_server")
    log_kept_jobs(store)
    # Only the rename was missing: the job is kept, whole, under its own name.
    assert store.folders() == [complete]
    assert len(store.load(complete).films) == 2
    assert not staged.exists() and not half_written.exists() and not half_removed.exists()
    assert recent.exists()
    assert f"finished keeping a failed job interrupted by a crash: {complete}" in caplog.text
    assert f"removed an unfinished failed-job folder left by a crash: {half_written}" in caplog.text
    assert "1 failed job(s) of printer 'office'" in caplog.text
    assert store.recover_interrupted() == []  # nothing left to do (the recent one waits)


def test_the_same_job_failing_twice_is_kept_twice(tmp_path):
    store = FailedJobs(tmp_path)
    first = store.save("office", films_of(), make_job(), "one")
    second = store.save("office", films_of(), make_job(), "two")
    assert first != second
    assert [store.load(f).error for f in store.folders()] == ["one", "two"]


def test_a_damaged_job_is_an_error_not_a_crash(tmp_path):
    store = FailedJobs(tmp_path)
    folder = store.save("office", films_of(), make_job(), "x")
    metadata = json.loads((folder / JOB_FILE).read_text())
    metadata["films"][0]["file"] = "../../etc/passwd"
    (folder / JOB_FILE).write_text(json.dumps(metadata))
    with pytest.raises(FailedJobError, match="outside"):
        store.load(folder)
    (folder / JOB_FILE).write_text("{")
    with pytest.raises(FailedJobError):
        store.load(folder)


def test_a_job_being_reprinted_is_locked(tmp_path):
    store = FailedJobs(tmp_path)
    folder = store.save("office", films_of(), make_job(), "x")
    with store.lock(folder):
        with pytest.raises(FailedJobError, match="being reprinted"):
            with store.lock(folder):
                pass
    with store.lock(folder):  # released
        pass


@pytest.mark.parametrize(
    "error, status",
    [
        (OSError(errno.ENOSPC, "No space left on device"), Status.RESOURCE_LIMITATION),
        (OSError(errno.EACCES, "Permission denied"), Status.PROCESSING_FAILURE),
        (RuntimeError("queue stopped"), Status.PROCESSING_FAILURE),
        (PrintError(Status.PROCESSING_FAILURE, "backend says no"), Status.PROCESSING_FAILURE),
    ],
)
def test_a_failing_backend_keeps_the_job_and_fails(tmp_path, error, status):
    store = FailedJobs(tmp_path)
    films = films_of()
    printer = Printer()
    on_print = print_callback(
        Failing(error),
        printer,
        lambda job: (films, []),
        failed_jobs=store,
        printer_name="office",
    )
    with pytest.raises(PrintError) as info:
        on_print(make_job())
    assert info.value.status == status
    (folder,) = store.folders("office")
    assert type(error).__name__ in store.load(folder).error
    assert printer.PrinterStatus == "FAILURE"


def test_a_successful_print_keeps_nothing(tmp_path):
    store = FailedJobs(tmp_path)
    on_print = print_callback(
        Recording(), Printer(), lambda job: (films_of(), []), failed_jobs=store
    )
    on_print(make_job())
    assert store.folders() == []


def config_file(tmp_path, pacs_port):
    path = tmp_path / "server.toml"
    path.write_text(
        f"""
[server]
failed_jobs = "{tmp_path / "failed"}"
[output]
directory = "{tmp_path / "film"}"
[printers.pacs]
backend = "dicom"
host = "127.0.0.1"
port = {pacs_port}
called_ae_title = "STORESCP"
timeout = 5
[printers.paper]
backend = "pdf"
directory = "{tmp_path / "paper"}"
[routing.called_ae_titles]
PACS = "pacs"
"""
    )
    return path


def test_reprint_on_another_printer(tmp_path):
    path = config_file(tmp_path, free_port())
    config = load_config(path)
    store = FailedJobs(config.server.failed_jobs)
    folder = store.save("pacs", films_of(), make_job(copies=2), "DicomStoreError: no association")
    # Its own printer still fails: the job stays, with the new error counted.
    (outcome,) = reprint(config, [folder])
    assert not outcome.ok and "DicomStoreError" in outcome.error
    assert store.load(folder).attempts == 2
    # On the PDF printer it prints, and is gone.
    (outcome,) = reprint(config, [folder], printer="paper")
    assert outcome.ok and outcome.films == 2
    assert not folder.exists() and store.folders() == []
    (pdf,) = (tmp_path / "paper" / "MODALITY").glob("*_x2.pdf")
    assert [image.shape for _, image in pdf_pages(pdf.read_bytes())] == [
        f.pixels.shape for f in films_of()
    ]


def test_reprint_gives_up_on_a_printer_that_does_not_answer(tmp_path):
    path = config_file(tmp_path, free_port())
    path.write_text(path.read_text().replace("[server]\n", "[server]\nprint_timeout = 0.5\n"))
    config = load_config(path)
    store = FailedJobs(config.server.failed_jobs)
    first = store.save("paper", films_of("2.25.1"), make_job(job_id="2.25.1"), "offline")
    second = store.save("paper", films_of("2.25.2"), make_job(job_id="2.25.2"), "offline")
    hanging = BlockingBackend()
    try:
        started = time.monotonic()
        outcomes = reprint(config, [first, second], backends={"paper": hanging})
        assert time.monotonic() - started < WAIT
    finally:
        hanging.release.set()  # let its thread end
    assert [o.error for o in outcomes] == [
        "PrintTimeoutError: printer did not answer within 0.5 s",
        "printer 'paper' did not answer an earlier job",
    ]
    assert hanging.calls == ["2.25.1"]  # the second job was not handed to it
    assert store.folders() == [first, second]  # both still kept
    assert store.load(first).attempts == 2 and store.load(second).attempts == 1


def test_reprint_command_line(tmp_path, capsys):
    path = config_file(tmp_path, free_port())
    store = FailedJobs(tmp_path / "failed")
    folder = store.save("pacs", films_of(), make_job(), "DicomStoreError: refused")
    assert main(["reprint", "--config", str(path), "--list"]) == 0
    out = capsys.readouterr().out
    assert folder.name in out and "printer=pacs" in out and "refused" in out
    assert main(["reprint", "--config", str(path)]) == 1
    assert "FAILED" in capsys.readouterr().err
    assert main(["reprint", "--config", str(path), "--printer", "nowhere"]) == 2
    assert main(["reprint", "--config", str(path), "--printer", "paper", folder.name]) == 0
    assert "reprinted" in capsys.readouterr().out
    assert main(["reprint", "--config", str(path)]) == 0
    assert "no failed jobs" in capsys.readouterr().out


@needs_storescp
def test_pacs_down_then_reprinted_to_storescp(tmp_path):
    """The whole story: the PACS is unreachable, the job is kept, the PACS is back."""
    down = free_port()
    with serving_config(tmp_path, config_file(tmp_path, down).read_text()) as server:
        with Scu(server.address, "PACS") as scu:
            status = scu.print_film(value=170)
        assert status.Status == Status.PROCESSING_FAILURE
    (kept,) = FailedJobs(tmp_path / "failed").folders("pacs")
    with running_storescp(tmp_path) as pacs:
        # The operator points the printer at the PACS again and reprints.
        path = config_file(tmp_path, pacs.port)
        assert main(["reprint", "--config", str(path)]) == 0
        received = list(pacs.directory.iterdir())
    assert not kept.exists()
    (stored,) = received
    ds = dcmread(stored)
    assert ds.Modality == "OT" and ds.Rows > 0
    assert os.listdir(tmp_path / "failed" / "pacs") == []


def test_the_reprint_command_for_each_shell(tmp_path):
    folder = tmp_path / "print server"
    options = {"config": "my printer.toml", "output": None, "format": "png"}
    posix = command(options, folder, windows=False)
    assert posix == f"cd '{folder}' && dicomprint reprint --config 'my printer.toml' --format png"
    windows = command(options, folder, windows=True)
    assert (
        windows == f'cd /d "{folder}" && dicomprint reprint --config "my printer.toml" --format png'
    )
