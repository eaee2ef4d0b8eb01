"""Output files that are complete or absent, in folders named safely.

Shared by the backends that write files (JPEG/PNG, PDF, DICOM) and by the
failed-jobs folder:

- :func:`folder_name` makes an AE title a folder name that cannot leave the
  output folder; :func:`job_tag` is a short tag for a print job UID.
- :func:`write_atomic` writes a hidden temporary file in the same folder,
  fsyncs it and renames it over its final name with :func:`os.replace`;
  :func:`fsync_directory` then makes the rename durable.
- :func:`ensure_folder` creates a missing folder again (with a warning) and,
  at most once an hour per folder, removes the temporary files a crash left
  (``.<name>.<random>.part``, older than :data:`LEFT_BEHIND_AFTER`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows
#: Seconds after which a temporary ``.part`` file or folder counts as left by a
#: crash (here and in the failed-jobs folder); a younger one may be a write
#: in progress.
LEFT_BEHIND_AFTER = 3600.0
_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{12}\.part$")  # see write_atomic
_tidied: dict[Path, float] = {}  # folder -> when it was last looked at
_tidied_lock = threading.Lock()


def folder_name(ae_title: str) -> str:
    """A folder name for an AE title that cannot leave the output folder."""
    stripped = ae_title.strip()
    safe = _UNSAFE.sub("_", stripped)
    if safe != stripped or not safe:
        digest = hashlib.sha1(ae_title.encode("utf-8", "replace")).hexdigest()[:6]
        safe = f"{safe}-{digest}" if safe else "_"
    return safe


def job_tag(job_id: str) -> str:
    return hashlib.sha1(job_id.encode("ascii", "replace")).hexdigest()[:8]


def ensure_folder(directory: Path, name: str) -> Path:
    """``directory / name``, created if missing; an output folder that has gone is re-created.

    A deleted output folder is made again (with its parents) and a warning
    logged, so printing goes on; a folder that cannot be made raises OSError.
    """
    folder = directory / name
    if folder.is_dir():
        _tidy(folder)
        return folder
    if not directory.is_dir():
        log.warning("output folder %s is missing: creating it", directory)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _tidy(folder: Path) -> None:
    """Remove the temporary files a crash left in ``folder``, at most once an hour.

    Only files older than :data:`LEFT_BEHIND_AFTER`: a younger one may be a
    write in progress (this server's, or another's sharing the folder), and
    is looked at again an hour later.
    """
    now = time.monotonic()
    with _tidied_lock:
        last = _tidied.get(folder)
        if last is not None and now - last < LEFT_BEHIND_AFTER:
            return
        _tidied[folder] = now
    cutoff = time.time() - LEFT_BEHIND_AFTER
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not _TEMPORARY.match(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                log.warning("removed %s, a file a crash left half written", entry.path)
        except OSError as exc:
            log.warning("cannot remove the half-written file %s: %s", entry.path, exc)


def write_atomic(target: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write ``data`` to ``target`` so that ``target`` is either complete or absent."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    # Not mkstemp: its 0600 mode would survive the rename; this honours the umask.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            if fsync:
                os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def fsync_directory(folder: Path) -> None:
    # Makes the renames durable; not possible on every platform (Windows).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
