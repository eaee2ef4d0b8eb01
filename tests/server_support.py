"""Helpers for the server tests: an in-process server and a pynetdicom print SCU."""

from __future__ import annotations

import contextlib
import itertools
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from PIL import Image
from pydicom import Dataset
from pynetdicom import AE, evt

from dicomprint import PrinterProfile, uids
from dicomprint_server import PrintServer, load_config
from dicomprint_server.connection import no_delay, requestor_guard
from dicomprint_server.contexts import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN

GRAY = uids.BasicGrayscalePrintManagementMeta
COLOR = uids.BasicColorPrintManagementMeta
#: Bound for every wait on the network in these tests (a liveness limit, not a timing test).
WAIT = 10.0


@contextlib.contextmanager
def running_server(
    tmp_path: Path,
    *,
    config_path: Path | None = None,
    profile: PrinterProfile | None = None,
    before_start: Callable[[PrintServer], None] | None = None,
    **overrides: Any,
) -> Iterator[PrintServer]:
    """A server on a free loopback port, writing under ``tmp_path/filmbox``.

    Jobs a backend fails on are kept in ``tmp_path/failed-jobs``;
    ``config_path`` is a configuration file the overrides are laid over;
    ``profile`` replaces the configured printer profile; ``before_start`` may
    change the server (its handlers, say) before it listens.
    """
    options = {
        "port": 0,
        "host": "127.0.0.1",
        "output": str(tmp_path / "filmbox"),
        "failed_jobs": str(tmp_path / "failed-jobs"),
    }
    options.update(overrides)
    kwargs = {k: options.pop(k) for k in ("backend", "render") if k in options}
    config = load_config(config_path, options)
    if profile is not None:
        config = attrs.evolve(config, profile=profile)
    server = PrintServer(config, **kwargs)
    if before_start is not None:
        before_start(server)
    server.start()
    try:
        yield server
    finally:
        server.shutdown(grace=1.0)


class PrintClient:
    """A pynetdicom print SCU on one association, with the replies' command sets."""

    def __init__(
        self,
        address: tuple[str, int],
        contexts: tuple[str, ...] = (GRAY,),
        *,
        calling: str = "TESTSCU",
        max_pdu: int = 16384,
        transfer_syntaxes: tuple[str, ...] = (
            EXPLICIT_VR_LITTLE_ENDIAN,
            IMPLICIT_VR_LITTLE_ENDIAN,
        ),
        ext_neg: list | None = None,
    ) -> None:
        self.ae = AE(ae_title=calling)
        self.ae.dimse_timeout = self.ae.acse_timeout = self.ae.network_timeout = WAIT * 3
        for context in contexts:
            self.ae.add_requested_context(context, list(transfer_syntaxes))
        self.events: list[tuple[int, Dataset]] = []
        self.event_arrived = threading.Condition()
        self.last_command: Dataset | None = None
        handlers = [
            (evt.EVT_CONN_OPEN, no_delay),
            (evt.EVT_DIMSE_RECV, self._received),
            requestor_guard(self._event_report),
        ]
        self.assoc = self.ae.associate(
            address[0],
            address[1],
            ae_title="PRINTSCP",
            evt_handlers=handlers,
            max_pdu=max_pdu,
            ext_neg=ext_neg,
        )

    def _received(self, event: Any) -> None:
        self.last_command = event.message.command_set

    def _event_report(self, sop_class: str, instance: str, event_type: int, info: Dataset) -> None:
        with self.event_arrived:
            self.events.append((event_type, info))
            self.event_arrived.notify_all()

    def wait_for_events(self, count: int) -> list[tuple[int, Dataset]]:
        with self.event_arrived:
            self.event_arrived.wait_for(lambda: len(self.events) >= count, timeout=WAIT)
            return list(self.events)

    # Each call returns (status, instance UID, dataset).

    def create(self, sop_class: str, ds: Dataset | None, uid: str | None = None, meta=GRAY):
        # pynetdicom announces a data set for an empty Dataset but sends none,
        # and the peer waits for it: send no data set instead.
        ds = ds if ds else None
        status, reply = self.assoc.send_n_create(ds, sop_class, uid, meta_uid=meta)
        created = uid or self.last_command.get("AffectedSOPInstanceUID")
        return status.Status, str(created) if created else None, reply

    def set(self, sop_class: str, uid: str, ds: Dataset, meta=GRAY):
        status, reply = self.assoc.send_n_set(ds, sop_class, uid, meta_uid=meta)
        return status.Status, reply, status

    def get(self, sop_class: str, uid: str, tags=None, meta=GRAY):
        status, reply = self.assoc.send_n_get(tags or [], sop_class, uid, meta_uid=meta)
        return status.Status, reply

    def action(self, sop_class: str, uid: str, action_type: int = 1, meta=GRAY):
        status, reply = self.assoc.send_n_action(None, action_type, sop_class, uid, meta_uid=meta)
        return status.Status, status

    def delete(self, sop_class: str, uid: str, meta=GRAY):
        status = self.assoc.send_n_delete(sop_class, uid, meta_uid=meta)
        return status.Status, status

    def close(self) -> None:
        if self.assoc.is_established:
            self.assoc.release()

    def __enter__(self) -> PrintClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: The server's start-up log line, with the port it listens on.
LISTENING = re.compile(r"listening on (?:0\.0\.0\.0|127\.0\.0\.1):(\d+)")


def serve_process(cwd: Path, *options: str, env: dict | None = None):
    """Run ``python -m dicomprint_server serve OPTIONS`` until it listens.

    Returns (process, port, log lines so far; more are appended as they come).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "dicomprint_server", "serve", *options],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if LISTENING.search(line):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(WAIT * 3):
        stop_process(process)
        raise AssertionError("server did not start:\n" + "".join(lines))
    port = int(LISTENING.search("".join(lines)).group(1))
    return process, port, lines


def stop_process(process) -> None:
    """Terminate a peer started for a test; kill it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=WAIT)


def output_files(root: Path, pattern: str = "*.jpg") -> list[Path]:
    return sorted(root.rglob(pattern)) if root.exists() else []


def load_image(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def wait_until(predicate, timeout: float = WAIT) -> bool:
    """Poll ``predicate`` (bounded) until it is true."""
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        done.wait(0.02)
    return predicate()


# -- Printer events crossing requests ---------------------------------------------------


class StatusChanges:
    """What :func:`changing_status` did: ``done`` is set once it stopped; ``count`` changes."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.count = 0


@contextlib.contextmanager
def changing_status(printer: Any, seconds: float = WAIT * 6) -> Iterator[StatusChanges]:
    """Turn ``printer``'s status between NORMAL and WARNING every 2 ms, in a thread,
    for ``seconds`` or until the block ends; it is left NORMAL."""
    changes, stop = StatusChanges(), threading.Event()

    def change() -> None:
        end = time.monotonic() + seconds
        for n in itertools.count():
            if stop.wait(0.002) or time.monotonic() > end:
                break
            printer.set_status(*(("WARNING", "FILM JAM") if n % 2 else ("NORMAL",)))
            changes.count += 1
        printer.set_status("NORMAL")
        changes.count += 1
        changes.done.set()

    thread = threading.Thread(target=change, daemon=True)
    thread.start()
    try:
        yield changes
    finally:
        stop.set()
        thread.join(timeout=WAIT)


def ask_repeatedly(
    ask: Callable[[], Any], until: threading.Event, *, at_least: int = 20, timeout: float = 60
) -> tuple[list[Any], list[Exception], bool]:
    """Call ``ask`` in a thread until ``until`` is set and it answered ``at_least`` times.

    Returns (answers, errors, hung): ``hung`` when it still ran after ``timeout``.
    """
    answers: list[Any] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            while not until.is_set() or len(answers) < at_least:
                answers.append(ask())
        except Exception as exc:  # reported to the caller
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    return answers, errors, thread.is_alive()
