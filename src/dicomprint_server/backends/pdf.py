"""The PDF printer: one PDF file per print job, each page exactly one film.

Layout::

    <directory>/<calling AE>/<YYYYmmddTHHMMSS_ffffff>Z_<job>[_x<copies>].pdf

(the same folder and name rules as the JPEG printer, see :mod:`.jpeg`).

- Every page's MediaBox is the film's physical size in its orientation
  (14INX17IN PORTRAIT is 1008 x 1224 points): the film image fills the
  page, so printing the PDF at 100 % ("actual size") reproduces the film at
  true size. Films of different sizes in one job give pages of different
  sizes.
- The film images are embedded as JPEG (Pillow's PDF writer) at
  ``quality`` (default 95).
- Copies (``copies`` option): ``"record"`` (default) writes each film once
  and records a count above one as ``_x<copies>`` in the file name and in
  the PDF's Keywords (``copies=3``); ``"pages"`` repeats the pages, in the
  job's collation order (1 2 1 2, or 1 1 2 2 when the printer does not
  collate), so printing the PDF once gives every copy.

The PDF is built in memory and written atomically (temporary file, fsync,
rename, folder fsync), as the JPEG printer does.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import define, field
from PIL import Image

from dicomprint.film import Film
from dicomprint.job import PrintJob

from ._options import build, in_range, one_of
from .files import ensure_folder, folder_name, fsync_directory, job_tag, write_atomic

log = logging.getLogger(__name__)

_MM_PER_INCH = 25.4


def film_order(films: Sequence[Film], job: PrintJob, copies: str) -> list[Film]:
    """The pages of the PDF: each film once (``record``), or every sheet (``pages``)."""
    if copies == "record":
        return list(films)
    count = max(job.copies, 1)
    if job.collate:
        return [film for _ in range(count) for film in films]
    return [film for film in films for _ in range(count)]


def page_dpi(film: Film) -> tuple[float, float]:
    """Horizontal and vertical resolution that make the page the film's physical size."""
    height, width = film.pixels.shape[:2]
    return width * _MM_PER_INCH / film.width_mm, height * _MM_PER_INCH / film.height_mm


def encode_pdf(
    pages: Sequence[Film],
    *,
    quality: int = 95,
    title: str = "",
    subject: str = "",
    keywords: str = "",
) -> bytes:
    """A PDF with one page per film in ``pages``, each page the film's size."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    # Pillow applies one resolution to all the images of one save call, so
    # runs of pages with the same resolution are saved together and later
    # runs appended (an incremental update of the same file).
    runs: list[list[Film]] = []
    for film in pages:
        if runs and page_dpi(runs[-1][0]) == page_dpi(film):
            runs[-1].append(film)
        else:
            runs.append([film])
    buffer = io.BytesIO()
    for number, run in enumerate(runs):
        images = [Image.fromarray(film.pixels) for film in run]
        options: dict[str, Any] = {
            "save_all": True,
            "append_images": images[1:],
            "dpi": page_dpi(run[0]),
            "quality": quality,
        }
        if number == 0:
            options.update(
                title=_ascii(title),
                subject=_ascii(subject),
                keywords=_ascii(keywords),
                creator="dicomprint",
            )
        else:
            options["append"] = True
        images[0].save(buffer, "PDF", **options)
    return buffer.getvalue()


def _ascii(text: str) -> str:
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text)


@define
class PdfPrinter:
    """Writes each print job as one PDF; see the module docstring."""

    directory: Path = field(converter=Path, metadata={"type": Path})
    copies: str = field(default="record", validator=one_of("record", "pages"))
    quality: int = field(default=95, validator=in_range(1, 95))
    fsync: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PdfPrinter:
        return build(cls, options)

    def print_films(self, films: Sequence[Film], job: PrintJob) -> None:
        if not films:
            return
        folder = ensure_folder(self.directory, folder_name(job.calling_ae_title))
        target = folder / self.file_name(job)
        write_atomic(target, self.encode(films, job), fsync=self.fsync)
        if self.fsync:
            fsync_directory(folder)
        log.info("wrote %s (%d film(s))", target, len(films))

    def file_name(self, job: PrintJob) -> str:
        stamp = job.created.strftime("%Y%m%dT%H%M%S_%fZ")
        copies = max(job.copies, 1)
        suffix = f"_x{copies}" if self.copies == "record" and copies > 1 else ""
        return f"{stamp}_{job_tag(job.job_id)}{suffix}.pdf"

    def encode(self, films: Sequence[Film], job: PrintJob) -> bytes:
        sizes = ", ".join(dict.fromkeys(f"{f.film_size_id} {f.orientation}" for f in films))
        label = job.session.FilmSessionLabel.strip() if job.session else ""
        return encode_pdf(
            film_order(films, job, self.copies),
            quality=self.quality,
            title=f"dicomprint {label or job_tag(job.job_id)}",
            subject=(
                f"{len(films)} film(s), {sizes}, {films[0].dpi} dpi, "
                f"calling={job.calling_ae_title.strip()} job={job.job_id}"
            ),
            keywords=f"dicomprint copies={max(job.copies, 1)} pages={self.copies}",
        )
