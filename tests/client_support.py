"""Helpers for the print client tests: this project's server with a recording
printer, and DCMTK's dcmprscp as a third-party print SCP."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from attrs import define, field
from pydicom import Dataset, dcmread
from pydicom.tag import Tag

from dicomprint import PrintJob
from server_support import stop_process

DCMPRSCP = Path("/usr/bin/dcmprscp")
needs_dcmtk = pytest.mark.skipif(
    not DCMPRSCP.exists(), reason="DCMTK's dcmprscp is not installed (apt-get install dcmtk)"
)
#: Bound for every wait (a liveness limit, not a timing test).
WAIT = 10.0


@define
class RecordingPrinter:
    """A printer backend that keeps every job it is asked to print."""

    jobs: list[PrintJob] = field(factory=list)

    def print_films(self, films: Any, job: PrintJob) -> None:
        self.jobs.append(job)

    def images(self, job: int = 0, film: int = 0) -> dict[int, Any]:
        """Image Box Position -> PixelImage of the filled boxes of one film."""
        film_box = self.jobs[job].films[film].film_box
        return {box.ImageBoxPosition: box.image for box in film_box.image_boxes if box.image}


def no_render(job: PrintJob) -> tuple[list, list]:
    """Skip rendering: these tests look at what arrived, not at the raster."""
    return [], []


# -- DCMTK dcmprscp -------------------------------------------------------------------

#: A printer section for dcmpstat.cfg (see /etc/dcmtk/dcmpstat.cfg for every key).
PRINTER_SETTINGS = {
    "DisplayFormat": "1,1\\1,2\\2,1\\2,2\\2,3\\3,3\\3,4\\4,5",
    "FilmSizeID": "14INX17IN\\8INX10IN\\10INX12IN",
    "MagnificationType": "REPLICATE\\BILINEAR\\CUBIC\\NONE",
    "MediumType": "PAPER\\CLEAR FILM\\BLUE FILM",
    "MaxDensity": "320",
    "MinDensity": "20",
    "Supports12Bit": "true",
    "SupportsPresentationLUT": "true",
    "PresentationLUTMatchRequired": "false",
}


@attrs.frozen
class StoredPrint:
    """One page dcmprscp stored: film box attributes and the images by position."""

    film_box: Dataset
    images: dict[int, Dataset]
    luts: list[Dataset]


@define
class DcmPrintSCP:
    """A running dcmprscp: where to reach it and where it stores what it receives."""

    port: int
    ae_title: str
    database: Path
    log: Path

    def stored_prints(self) -> list[StoredPrint]:
        """The Stored Print objects (one per page printed), oldest first.

        dcmprscp writes one Stored Print (SP_*.dcm) per film and one
        Hardcopy Grayscale image (HG_*.dcm) per image box N-SET; the Stored
        Print references its images by SOP Instance UID.
        """
        hardcopies = {}
        for path in self.database.glob("HG_*.dcm"):
            ds = dcmread(path)
            hardcopies[str(ds.SOPInstanceUID)] = ds
        pages = []
        for path in self.database.glob("SP_*.dcm"):
            ds = dcmread(path)
            images = {}
            for box in ds[0x2130, 0x0040].value:  # Image Box Content Sequence
                (reference,) = box.ReferencedImageSequence
                images[int(box.ImageBoxPosition)] = hardcopies[
                    str(reference.ReferencedSOPInstanceUID)
                ]
            film_box = ds[0x2130, 0x0030].value[0]  # Film Box Content Sequence
            lut_content = Tag(0x2130, 0x0080)  # Presentation LUT Content Sequence
            luts = list(ds[lut_content].value) if lut_content in ds else []
            page = StoredPrint(film_box, images, luts)
            pages.append((_uid_key(str(ds.SOPInstanceUID)), page))
        return [page for _, page in sorted(pages, key=lambda pair: pair[0])]

    @staticmethod
    def stored_lut(page: StoredPrint) -> Dataset:
        """The Presentation LUT a stored page's film box references."""
        (reference,) = page.film_box.ReferencedPresentationLUTSequence
        for item in page.luts:
            if item.SOPInstanceUID == reference.ReferencedSOPInstanceUID:
                return item
        raise KeyError(reference.ReferencedSOPInstanceUID)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _uid_key(uid: str) -> tuple[int, ...]:
    # DCMTK's UIDs end in a counter: their order is creation order.
    return tuple(int(part) for part in uid.split("."))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_config(path: Path, port: int, ae_title: str, settings: dict[str, str]) -> None:
    folder = path.parent
    lines = [
        "[[GENERAL]]",
        "[DATABASE]",
        f"Directory = {folder / 'db'}",
        "[PRINT]",
        f"Directory = {folder / 'spool'}",
        "[[COMMUNICATION]]",
        "[PRINTER]",
        f"Aetitle = {ae_title}",
        "Description = dicomprint client tests",
        "Hostname = localhost",
        f"Port = {port}",
        "Type = LOCALPRINTER",
        *(f"{key} = {value}" for key, value in settings.items()),
    ]
    path.write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def running_dcmprscp(tmp_path: Path, **settings: str) -> Iterator[DcmPrintSCP]:
    """dcmprscp on a free port, configured in ``tmp_path``; stopped at the end.

    ``settings`` override :data:`PRINTER_SETTINGS` (``None`` drops a key).
    """
    merged = {k: v for k, v in {**PRINTER_SETTINGS, **settings}.items() if v is not None}
    ae_title = "DCMPRSCP"
    for folder in ("db", "spool"):
        (tmp_path / folder).mkdir(exist_ok=True)
    config = tmp_path / "dcmpstat.cfg"
    log = tmp_path / "dcmprscp.log"
    for _attempt in range(3):  # the free port may be taken before dcmprscp binds it
        port = _free_port()
        _write_config(config, port, ae_title, merged)
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(DCMPRSCP), "-c", str(config), "-p", "PRINTER", "-d"],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
        try:
            if _wait_listening(process, port):
                yield DcmPrintSCP(port, ae_title, tmp_path / "db", log)
                return
        finally:
            stop_process(process)
    raise RuntimeError(f"dcmprscp did not start:\n{log.read_text(errors='replace')}")


def _wait_listening(process: subprocess.Popen, port: int) -> bool:
    """True once ``process`` accepts connections; False if it exits first."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            # dcmprscp shrugs off a connection that never sends an association request.
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False
