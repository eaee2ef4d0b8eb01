"""Faults for the server tests: backends that fail or hang, real mounts, a plug-in printer
that a ``dicomprint serve`` process loads and the test steers through files."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server_support import WAIT


class FlakyBackend:
    """Raises ``error`` while ``failing`` is set, prints (records) otherwise."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.failing = True
        self.printed: list[str] = []

    def print_films(self, films, job) -> None:
        if self.failing:
            raise self.error
        self.printed.append(job.job_id)


class BlockingBackend:
    """Its first call blocks until ``release`` is set (bounded), then prints or raises
    ``late_error``; later calls print at once. Records every call."""

    def __init__(self, late_error: BaseException | None = None) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.late_error = late_error
        self.calls: list[str] = []
        self.printed: list[str] = []

    def print_films(self, films, job) -> None:
        self.calls.append(job.job_id)
        if len(self.calls) == 1:
            self.entered.set()
            self.release.wait(WAIT * 6)
            if self.late_error is not None:
                raise self.late_error
        self.printed.append(job.job_id)


def print_threads() -> list[threading.Thread]:
    """The backend call threads of the server (``print-<printer>``) still alive."""
    return [t for t in threading.enumerate() if t.name.startswith("print-") and t.is_alive()]


# -- Real file systems ------------------------------------------------------------------


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=WAIT, check=False)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``path``; the test is skipped where mounting is not
    permitted (not Linux, not root, a container without the capability)."""
    if sys.platform != "linux" or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs Linux and mount(8)")
    path.mkdir(parents=True, exist_ok=True)
    result = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    if result.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {result.stderr.strip()}")
    try:
        yield path
    finally:
        if _run("umount", str(path)).returncode != 0:
            _run("umount", "-l", str(path))  # something still holds it: detach


def remount(path: Path, mode: str) -> None:
    """Remount the tmpfs on ``path`` read-only (``"ro"``) or read-write (``"rw"``)."""
    result = _run("mount", "-o", f"remount,{mode}", str(path))
    assert result.returncode == 0, result.stderr


def fill(path: Path) -> Path:
    """Fill the file system of ``path`` with one file until it is full; return the file."""
    filler = path / "filler"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as handle:
        for _ in range(1 << 20):  # bounded: 4 GiB at most
            try:
                handle.write(chunk)
            except OSError:
                break
    return filler


# -- A plug-in printer for "dicomprint serve" processes ---------------------------------

GATED_PLUGIN = '''
"""A printer steered through files, for the fault tests.

Each job writes "<directory>/printing-<n>" when it starts. It raises while
the file ``fail`` exists, waits (at most a minute) while ``gate`` is set and
does not exist, and then writes one text file per film.
"""

import time
from pathlib import Path


class GatedPrinter:
    def __init__(self, directory, gate="", fail=""):
        self.directory = Path(directory)
        self.gate = Path(gate) if gate else None
        self.fail = Path(fail) if fail else None
        self.started = 0

    def print_films(self, films, job):
        self.directory.mkdir(parents=True, exist_ok=True)
        self.started += 1
        (self.directory / f"printing-{self.started}").touch()
        if self.fail is not None and self.fail.exists():
            raise RuntimeError("printer offline")
        deadline = time.monotonic() + 60
        while self.gate is not None and not self.gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        for film in films:
            name = f"{job.calling_ae_title.strip()}_{job.job_id}_{film.index}.txt"
            (self.directory / name).write_text(f"{film.film_size_id} {film.pixels.shape}")


def make(options):
    return GatedPrinter(**options)
'''


def gated_plugin(tmp_path: Path) -> dict[str, str]:
    """Install the ``gated`` printer plug-in in ``tmp_path/site`` (a real dist-info, as pip
    leaves it); return the environment for a process that should find it."""
    site = tmp_path / "site"
    info = site / "dicomprint_gated-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "dicomprint_gated.py").write_text(GATED_PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dicomprint-gated\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[dicomprint.printers]\ngated = dicomprint_gated:make\n")
    (info / "RECORD").write_text("")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def printed_files(directory: Path) -> list[Path]:
    """The films the gated printer wrote."""
    return sorted(directory.glob("*.txt")) if directory.exists() else []


def wait_for_line(lines: list[str], text: str, timeout: float = WAIT) -> bool:
    """Wait (bounded) until a log line of a server process contains ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in line for line in list(lines)):
            return True
        time.sleep(0.02)
    return any(text in line for line in list(lines))
