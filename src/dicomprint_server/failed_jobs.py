"""Failed jobs: rendered films a backend could not print, kept for ``dicomprint reprint``.

When a printer backend raises, the server keeps what it had rendered::

    <failed_jobs>/<printer>/<YYYYmmddTHHMMSS_ffffff>Z_<job>/
        film_01.png        lossless, with the film's DPI
        film_02.png
        job.json           everything needed to print the job again

A job folder is built under a hidden temporary name (``.<name>.part``),
every file fsynced, and renamed into place last: a folder without the dot
is complete. ``job.json`` records the printer, the print job (UID, time,
AE titles, copies, collation, film session attributes), each film's
metadata, the error and the number of attempts.

``dicomprint reprint`` loads such a job, hands the films to the printer's
backend again and removes the folder when that succeeds (or records the
new error when it does not). A ``reprint.lock`` file in the folder keeps two
reprints from printing the same job twice.

A crash can leave a job folder half kept (``.part``) or half removed
(``.done``). At start-up :meth:`FailedJobs.recover_interrupted` finishes
what it can: a ``.part`` folder whose ``job.json`` was written holds the
whole job (it only missed its rename) and is renamed into place; other
``.part`` and ``.done`` folders are removed. Folders younger than an hour
are left alone, in case another server shares the folder and is at work.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from attrs import frozen
from PIL import Image

from dicomprint import PrinterProfile, PrintJob
from dicomprint.film import Film
from dicomprint.film_session import FilmSession

from .backends.files import LEFT_BEHIND_AFTER, fsync_directory, job_tag, write_atomic

log = logging.getLogger(__name__)

JOB_FILE = "job.json"
LOCK_FILE = "reprint.lock"
FORMAT_VERSION = 1
_SESSION_KEYS = (
    "SOPInstanceUID",
    "NumberOfCopies",
    "PrintPriority",
    "MediumType",
    "FilmDestination",
    "FilmSessionLabel",
    "OwnerID",
)


class FailedJobError(Exception):
    """A failed-job folder that cannot be read, or is being reprinted."""


@frozen
class FailedJob:
    """One kept job: where it is, which printer it was for, its films and job."""

    folder: Path
    printer: str
    films: tuple[Film, ...]
    job: PrintJob
    error: str
    attempts: int
    failed_at: str


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat()


def _film_record(film: Film, file: str) -> dict[str, Any]:
    return {
        "file": file,
        "film_size_id": film.film_size_id,
        "orientation": film.orientation,
        "width_mm": film.width_mm,
        "height_mm": film.height_mm,
        "dpi": film.dpi,
        "copies": film.copies,
        "index": film.index,
        "film_session_label": film.film_session_label,
        "calling_ae_title": film.calling_ae_title,
        "called_ae_title": film.called_ae_title,
        "job_id": film.job_id,
        "created": _utc(film.created),
    }


def _png(film: Film) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(film.pixels).save(buffer, "PNG", dpi=(film.dpi, film.dpi), compress_level=1)
    return buffer.getvalue()


#: The command log lines name for printing kept jobs again, unless told another.
REPRINT_COMMAND = "dicomprint reprint"


class FailedJobs:
    """The failed-jobs folder of a server (one sub-folder per printer)."""

    def __init__(
        self,
        directory: str | Path,
        *,
        fsync: bool = True,
        reprint_command: str = REPRINT_COMMAND,
    ) -> None:
        self.directory = Path(directory)
        self.fsync = fsync
        #: The command that prints the kept jobs again, for log lines.
        self.reprint_command = reprint_command

    # -- Keeping a job -------------------------------------------------------------

    def save(self, printer: str, films: Sequence[Film], job: PrintJob, error: str) -> Path:
        """Keep ``films`` of ``job`` for ``printer``; return the job's folder."""
        parent = self.directory / printer
        parent.mkdir(parents=True, exist_ok=True)
        stamp = job.created.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%S_%fZ")
        name = f"{stamp}_{job_tag(job.job_id)}"
        staging = parent / f".{name}.{secrets.token_hex(4)}.part"
        staging.mkdir()
        try:
            records = []
            for number, film in enumerate(films, 1):
                file = f"film_{number:02d}.png"
                write_atomic(staging / file, _png(film), fsync=self.fsync)
                records.append(_film_record(film, file))
            session = job.session
            metadata = {
                "format": FORMAT_VERSION,
                "printer": printer,
                "job_id": job.job_id,
                "created": _utc(job.created),
                "calling_ae_title": job.calling_ae_title,
                "called_ae_title": job.called_ae_title,
                "copies": job.copies,
                "collate": job.collate,
                "film_session": {key: getattr(session, key) for key in _SESSION_KEYS},
                "films": records,
                "error": error,
                "attempts": 1,
                "failed_at": _utc(datetime.datetime.now(datetime.UTC)),
            }
            self._write_json(staging, metadata)
            if self.fsync:
                fsync_directory(staging)
            target = _free_name(parent, name)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if self.fsync:
            fsync_directory(parent)
        return target

    def recover_interrupted(self, older_than: float = LEFT_BEHIND_AFTER) -> list[tuple[str, Path]]:
        """Finish the keeping and removing a crash interrupted (see the module).

        Returns what was done: ("kept", the job folder now complete) or
        ("removed", the unfinished folder deleted).
        """
        done: list[tuple[str, Path]] = []
        if not self.directory.is_dir():
            return done
        cutoff = time.time() - older_than
        for parent in sorted(self.directory.iterdir()):
            if not parent.is_dir() or parent.name.startswith("."):
                continue
            for folder in sorted(parent.iterdir()):
                name = folder.name
                if not (
                    folder.is_dir()
                    and name.startswith(".")
                    and name.endswith((".part", ".done"))
                    and folder.stat().st_mtime < cutoff
                ):
                    continue
                if name.endswith(".part") and (folder / JOB_FILE).is_file():
                    # ".<name>.<random>.part": every film and job.json are there.
                    target = _free_name(parent, name[1:].rsplit(".", 2)[0])
                    os.replace(folder, target)
                    done.append(("kept", target))
                else:
                    shutil.rmtree(folder)
                    done.append(("removed", folder))
        if done and self.fsync:
            for parent in {folder.parent for _, folder in done}:
                fsync_directory(parent)
        return done

    def _write_json(self, folder: Path, metadata: dict[str, Any]) -> None:
        text = json.dumps(metadata, indent=2, ensure_ascii=True) + "\n"
        write_atomic(folder / JOB_FILE, text.encode("ascii"), fsync=self.fsync)

    # -- Finding and loading -----------------------------------------------------

    def folders(self, printer: str | None = None) -> list[Path]:
        """Complete job folders (oldest first), of one printer or all."""
        if not self.directory.is_dir():
            return []
        parents = [self.directory / printer] if printer else sorted(self.directory.iterdir())
        found = []
        for parent in parents:
            if not parent.is_dir() or parent.name.startswith("."):
                continue
            for folder in parent.iterdir():
                if (
                    folder.is_dir()
                    and not folder.name.startswith(".")
                    and (folder / JOB_FILE).is_file()
                ):
                    found.append(folder)
        return sorted(found, key=lambda f: (f.name, f.parent.name))

    def counts(self) -> dict[str, int]:
        """The number of kept jobs of each printer that has any."""
        found: dict[str, int] = {}
        for folder in self.folders():
            found[folder.parent.name] = found.get(folder.parent.name, 0) + 1
        return dict(sorted(found.items()))

    def load(self, folder: str | Path, profile: PrinterProfile | None = None) -> FailedJob:
        """Read a job folder back: its films and a :class:`PrintJob` to print them with.

        The job carries no film boxes (``job.films`` is empty): what to print
        is the rendered films.
        """
        folder = Path(folder)
        try:
            metadata = json.loads((folder / JOB_FILE).read_text("ascii"))
            if metadata.get("format") != FORMAT_VERSION:
                raise FailedJobError(
                    f"{folder}: unknown failed-job format {metadata.get('format')!r}"
                )
            films = tuple(self._film(folder, record) for record in metadata["films"])
            session = FilmSession(**metadata["film_session"])
            job = PrintJob(
                films=(),
                session=session,
                profile=profile or PrinterProfile(),
                copies=int(metadata["copies"]),
                collate=bool(metadata["collate"]),
                calling_ae_title=metadata["calling_ae_title"],
                called_ae_title=metadata["called_ae_title"],
                job_id=metadata["job_id"],
                created=datetime.datetime.fromisoformat(metadata["created"]),
            )
            return FailedJob(
                folder=folder,
                printer=str(metadata["printer"]),
                films=films,
                job=job,
                error=str(metadata.get("error", "")),
                attempts=int(metadata.get("attempts", 1)),
                failed_at=str(metadata.get("failed_at", "")),
            )
        except FailedJobError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FailedJobError(f"{folder}: not a readable failed job ({exc})") from exc

    @staticmethod
    def _film(folder: Path, record: dict[str, Any]) -> Film:
        file = Path(record["file"])
        if file.name != record["file"] or file.name.startswith("."):
            raise ValueError(f"film file {record['file']!r} is outside the job folder")
        with Image.open(folder / file) as image:
            pixels = np.asarray(image.convert("RGB" if image.mode == "RGB" else "L"))
        return Film(
            pixels=pixels,
            film_size_id=record["film_size_id"],
            orientation=record["orientation"],
            width_mm=float(record["width_mm"]),
            height_mm=float(record["height_mm"]),
            dpi=int(record["dpi"]),
            copies=int(record["copies"]),
            index=int(record["index"]),
            film_session_label=record["film_session_label"],
            calling_ae_title=record["calling_ae_title"],
            called_ae_title=record["called_ae_title"],
            job_id=record["job_id"],
            created=datetime.datetime.fromisoformat(record["created"]),
        )

    # -- After a reprint ---------------------------------------------------------

    def lock(self, folder: Path) -> AbstractContextManager[None]:
        """Context manager: hold the folder's reprint lock (FailedJobError if held)."""
        return _Lock(folder / LOCK_FILE)

    def failed_again(self, folder: Path, error: str) -> None:
        """Record another failed attempt in the job's metadata."""
        path = folder / JOB_FILE
        metadata = json.loads(path.read_text("ascii"))
        metadata["attempts"] = int(metadata.get("attempts", 1)) + 1
        metadata["error"] = error
        metadata["failed_at"] = _utc(datetime.datetime.now(datetime.UTC))
        self._write_json(folder, metadata)

    def remove(self, folder: Path) -> None:
        """Delete a job that has been printed."""
        # Renamed first, so a crash midway never leaves a half-deleted "complete" job.
        doomed = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.done")
        os.replace(folder, doomed)
        shutil.rmtree(doomed)
        if self.fsync:
            fsync_directory(folder.parent)


def _free_name(parent: Path, name: str) -> Path:
    """``parent / name``, or with ``_2``, ``_3``... when taken (a job kept twice keeps both)."""
    target = parent / name
    suffix = 1
    while target.exists():
        suffix += 1
        target = parent / f"{name}_{suffix}"
    return target


class _Lock(AbstractContextManager[None]):
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError as exc:
            raise FailedJobError(
                f"{self.path.parent} is being reprinted (remove {self.path.name} "
                "if no reprint is running)"
            ) from exc
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()}\n")

    def __exit__(self, *exc_info: object) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
