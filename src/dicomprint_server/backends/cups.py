"""The CUPS printer: films to a CUPS queue (Linux, macOS) at their physical size.

Each print job becomes one PDF (pages exactly the films' physical size, as
the PDF printer makes them, see :mod:`.pdf`) handed to the CUPS command
``lp`` on its standard input, with:

- ``-d QUEUE`` (and ``-h SERVER`` / ``-U USER`` when configured),
- ``-n COPIES`` and ``-o collate=true`` for several films collated: the
  spooler makes the copies, the PDF holds each film once,
- ``-o media=...``: the film size, from the ``media`` table (Film Size ID
  to a CUPS media name such as ``"A4"`` or ``"na_letter_8.5x11in"``) or,
  by default, a PWG self-describing name for the film's own size
  (``custom_14inx17in_14x17in``); A4, A3, letter and ledger films get the
  standard names,
- ``-o orientation-requested=3`` (portrait) or ``4`` (landscape),
- ``-o print-scaling=auto`` (``scaling`` option): true size when the film
  fits the paper, shrunk to fit otherwise; ``none`` always prints true
  size (cropped), ``fit`` scales to the paper,
- any further ``-o name=value`` from the ``options`` table,
- ``-t`` a job title naming the calling AE title and the job.

Films of different sizes or orientations in one job go as several CUPS jobs
(one per run of equal films), in the job's sheet order.

``print_films`` returns when ``lp`` has handed the job to the CUPS
scheduler, which keeps it in its spool (surviving a restart) until it has
printed: for a print queue, an accepted job is the durable output. ``lp``
failing (queue unknown, not accepting jobs, scheduler down) raises
:class:`CupsError`, so the N-ACTION fails and the job is kept for
``dicomprint reprint``.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import define, field

from dicomprint.film import Film
from dicomprint.film_sizes import FILM_SIZES_MM
from dicomprint.job import PrintJob

from ._options import OptionError, build, in_range, one_of
from .files import job_tag
from .page import Document, plan_documents
from .pdf import encode_pdf

log = logging.getLogger(__name__)

#: CUPS print-scaling values (IPP "print-scaling").
SCALINGS = ("auto", "auto-fit", "fill", "fit", "none")
#: The spooler's default MaxCopies; more copies are printed as repeated pages.
MAX_SPOOLER_COPIES = 9999
#: Film sizes that are also standard paper sizes, by their PWG 5101.1 names.
STANDARD_MEDIA = {
    "A4": "iso_a4_210x297mm",
    "A3": "iso_a3_297x420mm",
    "8_5INX11IN": "na_letter_8.5x11in",
    "11INX17IN": "na_ledger_11x17in",
}
_REQUEST_ID = re.compile(r"request id is (\S+)")
# CUPS queue names: printable, no space, slash, backslash, quotes, '?' or '#'.
_BAD_QUEUE_CHARS = set(" /\\\"'?#")


class CupsError(RuntimeError):
    """``lp`` refused the job or could not reach the scheduler."""


def media_name(film_size_id: str) -> str:
    """The default CUPS media for a Film Size ID: its PWG name or a self-describing one."""
    if film_size_id in STANDARD_MEDIA:
        return STANDARD_MEDIA[film_size_id]
    short, long = FILM_SIZES_MM[film_size_id]
    inches = short / 25.4, long / 25.4
    if all(abs(v - round(v * 2) / 2) < 1e-9 for v in inches):
        size = f"{_number(inches[0])}x{_number(inches[1])}in"
    else:
        size = f"{_number(short)}x{_number(long)}mm"
    return f"custom_{film_size_id.lower().replace('_', '-')}_{size}"


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _queue(instance: Any, attribute: Any, value: str) -> None:
    if (
        not value
        or len(value) > 127
        or not value.isprintable()
        or any(ch in _BAD_QUEUE_CHARS for ch in value)
    ):
        raise OptionError(f"queue = {value!r}: a CUPS queue name (no spaces, / \\ ' \" ? #)")


def _media(instance: Any, attribute: Any, value: Mapping[str, Any]) -> None:
    for key, name in value.items():
        if key not in FILM_SIZES_MM:
            raise OptionError(f"media: unknown Film Size ID {key!r}")
        if not isinstance(name, str) or not name or any(ch.isspace() for ch in name):
            raise OptionError(f"media.{key} = {name!r}: a CUPS media name")


def _extra_options(instance: Any, attribute: Any, value: Mapping[str, Any]) -> None:
    for key, option in value.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", key):
            raise OptionError(f"options: {key!r} is not a CUPS option name")
        if not isinstance(option, str | int | bool) or isinstance(option, float):
            raise OptionError(f"options.{key} = {option!r}: a string, integer or boolean")


@define
class CupsPrinter:
    """Sends films to a CUPS queue with ``lp``; see the module docstring."""

    queue: str = field(metadata={"type": str}, validator=_queue)
    server: str = ""
    user: str = ""
    lp: Path = field(default=Path("/usr/bin/lp"), converter=Path)
    media: dict = field(factory=dict, validator=_media)
    scaling: str = field(default="auto", validator=one_of(*SCALINGS))
    options: dict = field(factory=dict, validator=_extra_options)
    quality: int = field(default=95, validator=in_range(1, 95))
    timeout: float = field(default=60.0, validator=in_range(1, 3600))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CupsPrinter:
        return build(cls, options)

    def print_films(self, films: Sequence[Film], job: PrintJob) -> None:
        if not films:
            return
        documents = plan_documents(
            [(film.film_size_id, film.orientation) for film in films],
            job.copies,
            job.collate,
            max_device_copies=MAX_SPOOLER_COPIES,
            device_collates=True,
        )
        for number, document in enumerate(documents, 1):
            pages = [films[i] for i in document.films]
            title = self.title(job, number, len(documents))
            pdf = encode_pdf(pages, quality=self.quality, title=title)
            request = self.submit(pdf, self.command(pages[0], document, title))
            log.info(
                "CUPS %s: %s, %d page(s) x %d cop%s (%s)",
                self.queue,
                request,
                len(pages),
                document.copies,
                "y" if document.copies == 1 else "ies",
                title,
            )

    def title(self, job: PrintJob, number: int = 1, total: int = 1) -> str:
        calling = "".join(
            ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_"
            for ch in job.calling_ae_title.strip()
        )
        part = f"_{number}of{total}" if total > 1 else ""
        return f"dicomprint_{calling or '_'}_{job_tag(job.job_id)}{part}"

    def media_for(self, film: Film) -> str:
        return self.media.get(film.film_size_id) or media_name(film.film_size_id)

    def command(self, film: Film, document: Document, title: str) -> list[str]:
        """The ``lp`` command line for a document whose first page is ``film``."""
        # -h and -U first: lp looks the destination up when it reads -d.
        args = [str(self.lp)]
        if self.server:
            args += ["-h", self.server]
        if self.user:
            args += ["-U", self.user]
        args += ["-d", self.queue, "-t", title, "-n", str(document.copies)]
        orientation = 4 if film.orientation == "LANDSCAPE" else 3
        options = {
            "media": self.media_for(film),
            "orientation-requested": orientation,
            "print-scaling": self.scaling,
        }
        if document.copies > 1:
            options["collate"] = document.collate
        options.update(self.options)
        for key, value in options.items():
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            args += ["-o", f"{key}={text}"]
        return args

    def submit(self, pdf: bytes, args: list[str]) -> str:
        """Run ``lp`` with the PDF on its standard input; the CUPS request id."""
        try:
            result = subprocess.run(
                args, input=pdf, capture_output=True, timeout=self.timeout, check=False
            )
        except FileNotFoundError as exc:
            raise CupsError(f"{self.lp} not found: install the CUPS client (cups-client)") from exc
        except subprocess.TimeoutExpired as exc:
            raise CupsError(f"lp did not finish within {self.timeout:g} s") from exc
        stdout = result.stdout.decode("utf-8", "replace")
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip() or stdout.strip()
            raise CupsError(f"lp failed (exit {result.returncode}): {message}")
        match = _REQUEST_ID.search(stdout)
        return match.group(1) if match else stdout.strip()
