"""The "JPEG" printer of PrintSCP: every film becomes an image file.

Layout::

    <directory>/<calling AE>/<YYYYmmddTHHMMSS_ffffff>Z_<job>_<film>[_x<copies>].jpg

- ``<calling AE>`` is the calling AE title made safe as a folder name:
  letters, digits, ``-`` and ``_`` are kept, anything else becomes ``_``, and
  a title that had to change gets a short hash suffix so two different
  titles never share a folder. An empty title becomes ``_``.
- The timestamp is the job's creation time in UTC, so the files of one job
  sort together and jobs sort by time; ``<job>`` is 8 hex digits derived
  from the print job UID; ``<film>`` counts the job's films from 01.
- Copies (``copies`` option): ``"record"`` (default) writes one file per
  film and records a count above one as ``_x<copies>`` in the name and in
  the file's comment; ``"files"`` writes one file per printed sheet, in
  the job's collation order, named ``..._<film>_c<copy>``.

A missing output folder (deleted while the server runs, or never made) is
created again, with a warning in the log. Each file is encoded in memory,
written to a hidden temporary file in the same folder, fsynced, renamed
over its final name with :func:`os.replace` and the folder fsynced: a film
is either complete or absent. The hidden files a crash left mid-write
(``.<name>.<random>.part``, older than an hour) are removed, with a log
line, when the server writes into their folder; each folder is looked at
once an hour at most.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import define, field
from PIL import Image, PngImagePlugin

from dicomprint.film import Film
from dicomprint.job import PrintJob

from ._options import build, in_range, one_of
from .files import ensure_folder, folder_name, fsync_directory, job_tag, write_atomic

log = logging.getLogger(__name__)

_SUFFIX = {"jpeg": ".jpg", "png": ".png"}


@define
class JpegPrinter:
    """Writes each film as a JPEG (or PNG) file; see the module docstring."""

    directory: Path = field(converter=Path, metadata={"type": Path})
    format: str = field(default="jpeg", converter=str.lower, validator=one_of("jpeg", "png"))
    quality: int = field(default=90, validator=in_range(1, 95))
    png_compress_level: int = field(default=3, validator=in_range(0, 9))
    copies: str = field(default="record", validator=one_of("record", "files"))
    fsync: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> JpegPrinter:
        """Build from a printer's options (``[output]`` or ``[printers.NAME]``).

        Raises :class:`~._options.OptionError` naming an unknown or bad key.
        """
        return build(cls, options)

    def print_films(self, films: Sequence[Film], job: PrintJob) -> None:
        if not films:
            return
        folder = ensure_folder(self.directory, folder_name(job.calling_ae_title))
        stamp = job.created.strftime("%Y%m%dT%H%M%S_%fZ")
        written = []
        for stem, film, comment in self._sheets(films, job):
            target = folder / f"{stamp}_{job_tag(job.job_id)}_{stem}{_SUFFIX[self.format]}"
            write_atomic(target, self.encode(film, comment), fsync=self.fsync)
            written.append(target)
        if self.fsync:
            fsync_directory(folder)
        log.info("wrote %d file(s) to %s", len(written), folder)

    def _sheets(self, films: Sequence[Film], job: PrintJob) -> Iterator[tuple[str, Film, str]]:
        """(name stem, film, comment) for every file to write, in print order."""
        total = len(films)
        if self.copies == "record":
            for number, film in enumerate(films, 1):
                count = max(film.copies, 1)
                stem = f"{number:02d}" + (f"_x{count}" if count > 1 else "")
                yield stem, film, _comment(film, number, total, f"copies={count}")
            return
        copies = max(job.copies, 1)
        order = (
            [(c, n) for c in range(1, copies + 1) for n in range(1, total + 1)]
            if job.collate
            else [(c, n) for n in range(1, total + 1) for c in range(1, copies + 1)]
        )
        for copy_number, number in order:
            film = films[number - 1]
            comment = _comment(film, number, total, f"copy={copy_number}/{copies}")
            yield f"{number:02d}_c{copy_number:02d}", film, comment

    def encode(self, film: Film, comment: str = "") -> bytes:
        # (H, W) uint8 becomes mode "L", (H, W, 3) uint8 mode "RGB".
        image = Image.fromarray(film.pixels)
        buffer = io.BytesIO()
        dpi = (film.dpi, film.dpi)
        if self.format == "png":
            info = PngImagePlugin.PngInfo()
            info.add_text("Comment", comment)
            image.save(buffer, "PNG", dpi=dpi, pnginfo=info, compress_level=self.png_compress_level)
        else:
            image.save(buffer, "JPEG", quality=self.quality, dpi=dpi, comment=comment.encode())
        return buffer.getvalue()


def _comment(film: Film, number: int, total: int, copies: str) -> str:
    # Only printable ASCII: AE titles and labels arrive from the network.
    text = (
        f"dicomprint film {number}/{total} {copies} {film.film_size_id} {film.orientation} "
        f"{film.dpi}dpi calling={film.calling_ae_title.strip()} "
        f"label={film.film_session_label.strip()} job={film.job_id}"
    )
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text)
