"""The Windows printer: films to any installed Windows printer through GDI.

Needs Windows and pywin32 (``python -m pip install ".[windows]"`` in the
source tree). The geometry (paper, orientation, true size or fit, copies)
is pure code in :mod:`.page`; this module only talks to the Windows print
API:

1. open the printer (``printer`` option, else the default printer) and read
   its papers (``DeviceCapabilities``: DC_PAPERS, DC_PAPERNAMES,
   DC_PAPERSIZE) and how many copies it makes and whether it collates
   (DC_COPIES, DC_COLLATE);
2. per spooler document (:func:`.page.plan_documents`): set the DEVMODE's
   paper (``paper = "auto"``: the smallest that holds the film at true size,
   see :func:`.page.choose_paper`), orientation (the film's), copies and
   collation, and create a printer DC with it;
3. per page: read the DC's page geometry (GetDeviceCaps), place the film
   (:func:`.page.place_film`: true size when it fits, else fit; ``scaling``
   option) and draw it with ``PIL.ImageWin.Dib`` (StretchDIBits);
4. ``EndDoc``: the job is complete in the spooler, which then owns it.

``print_films`` returns after ``EndDoc`` for every document, i.e. once the
Windows spooler holds the whole job; any API error aborts the document and
raises, so the N-ACTION fails and the job is kept for ``dicomprint reprint``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import define, field

from dicomprint.film import Film
from dicomprint.job import PrintJob

from ._options import OptionError, build, in_range, one_of
from .files import job_tag
from .page import SCALINGS, Document, PageArea, Paper, choose_paper, place_film, plan_documents

log = logging.getLogger(__name__)

# Windows constants (wingdi.h), so the pure parts need no pywin32.
DC_PAPERS, DC_PAPERSIZE, DC_PAPERNAMES = 2, 3, 16
DC_COPIES, DC_COLLATE = 18, 22
DM_ORIENTATION, DM_PAPERSIZE, DM_COPIES, DM_COLLATE = 0x1, 0x2, 0x100, 0x8000
DM_OUT_BUFFER, DM_IN_BUFFER = 2, 8
DMORIENT_PORTRAIT, DMORIENT_LANDSCAPE = 1, 2
HORZRES, VERTRES, LOGPIXELSX, LOGPIXELSY = 8, 10, 88, 90
PHYSICALWIDTH, PHYSICALHEIGHT, PHYSICALOFFSETX, PHYSICALOFFSETY = 110, 111, 112, 113


class WindowsPrintError(RuntimeError):
    """The Windows print API refused the job."""


def papers_from_capabilities(
    codes: Iterable[int], names: Iterable[str], sizes: Iterable[Any]
) -> list[Paper]:
    """Papers from DeviceCapabilities answers (sizes in tenths of a millimetre).

    ``sizes`` items are ``{"x": .., "y": ..}`` mappings or (x, y) pairs, as
    pywin32 versions return them. Papers without a size are left out.
    """
    papers = []
    for code, name, size in zip(codes, names, sizes, strict=False):
        x, y = (size["x"], size["y"]) if isinstance(size, Mapping) else size
        if x <= 0 or y <= 0:
            continue
        short, long = sorted((x / 10, y / 10))
        papers.append(Paper(str(name).rstrip("\0").strip(), short, long, int(code)))
    return papers


def film_raster(film: Film, rotate: bool) -> np.ndarray:
    """The film's pixels, turned 90 degrees counter-clockwise when ``rotate``."""
    return np.ascontiguousarray(np.rot90(film.pixels)) if rotate else film.pixels


def _paper_option(instance: Any, attribute: Any, value: str) -> None:
    if not value.strip():
        raise OptionError("paper: 'auto', 'driver' or a paper name the printer lists")


@define
class WindowsPrinter:
    """Prints films on an installed Windows printer; see the module docstring."""

    printer: str = ""
    paper: str = field(default="auto", validator=_paper_option)
    scaling: str = field(default="auto", validator=one_of(*SCALINGS))
    #: Unprintable margin assumed on each side when choosing the paper.
    margin_mm: float = field(default=5.0, validator=in_range(0, 50))
    #: Print to files in this folder instead of the device (drivers such as
    #: "Microsoft Print to PDF" otherwise ask for a file name).
    output_directory: str = ""
    output_suffix: str = ".prn"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> WindowsPrinter:
        return build(cls, options)

    def choose(self, film: Film, papers: Sequence[Paper]) -> tuple[Paper | None, str]:
        """(paper, orientation) for a film; paper None keeps the printer's own."""
        orientation = "LANDSCAPE" if film.width_mm > film.height_mm else "PORTRAIT"
        if self.paper == "driver":
            return None, orientation
        if self.paper == "auto":
            return choose_paper(film.width_mm, film.height_mm, papers, self.margin_mm)
        for paper in papers:
            if paper.name.casefold() == self.paper.casefold():
                return paper, orientation
        names = ", ".join(p.name for p in papers)
        raise WindowsPrintError(f"the printer has no paper {self.paper!r} (it has: {names})")

    def print_films(self, films: Sequence[Film], job: PrintJob) -> None:
        if not films:
            return
        gdi = _Gdi.open(self.printer)
        try:
            papers = gdi.papers()
            chosen = [self.choose(film, papers) for film in films]
            documents = plan_documents(
                [(paper.code if paper else None, o) for paper, o in chosen],
                job.copies,
                job.collate,
                max_device_copies=gdi.max_copies(),
                device_collates=gdi.collates(),
            )
            for number, document in enumerate(documents, 1):
                paper, orientation = chosen[document.films[0]]
                title = f"dicomprint {job.calling_ae_title.strip()} {job_tag(job.job_id)}"
                if len(documents) > 1:
                    title += f" {number}/{len(documents)}"
                output = None
                if self.output_directory:
                    name = f"{job_tag(job.job_id)}_{number:02d}{self.output_suffix}"
                    output = str(Path(self.output_directory) / name)
                gdi.print_document(
                    [films[i] for i in document.films],
                    document,
                    paper,
                    orientation,
                    title,
                    self.scaling,
                    output,
                )
        finally:
            gdi.close()
        log.info(
            "Windows printer %r: %d film(s), %d document(s)", gdi.name, len(films), len(documents)
        )


def require_pywin32() -> None:
    """Raise a clear error when the Windows print API is not available."""
    if sys.platform != "win32":
        raise WindowsPrintError("the windows printer backend runs on Windows only")
    try:
        import win32print  # noqa: F401
    except ImportError as exc:
        raise WindowsPrintError(
            "the windows printer backend needs pywin32: pip install pywin32"
        ) from exc


class _Gdi:
    """The thin layer over pywin32: one open printer."""

    def __init__(self, name: str, handle: Any, info: Mapping[str, Any]) -> None:
        self.name = name
        self.handle = handle
        self.info = info

    @classmethod
    def open(cls, name: str) -> _Gdi:
        require_pywin32()
        import win32print

        name = name or win32print.GetDefaultPrinter()
        handle = win32print.OpenPrinter(name)
        return cls(name, handle, win32print.GetPrinter(handle, 2))

    def close(self) -> None:
        import win32print

        win32print.ClosePrinter(self.handle)

    def _caps(self, what: int) -> Any:
        import win32print

        return win32print.DeviceCapabilities(
            self.name, self.info["pPortName"], what, self.info["pDevMode"]
        )

    def papers(self) -> list[Paper]:
        return papers_from_capabilities(
            self._caps(DC_PAPERS), self._caps(DC_PAPERNAMES), self._caps(DC_PAPERSIZE)
        )

    def max_copies(self) -> int:
        return max(int(self._caps(DC_COPIES) or 1), 1)

    def collates(self) -> bool:
        return int(self._caps(DC_COLLATE) or 0) == 1

    def print_document(
        self,
        films: Sequence[Film],
        document: Document,
        paper: Paper | None,
        orientation: str,
        title: str,
        scaling: str,
        output: str | None,
    ) -> None:
        import win32gui
        import win32print
        import win32ui
        from PIL import Image, ImageWin

        devmode = self.info["pDevMode"]
        landscape = orientation == "LANDSCAPE"
        devmode.Orientation = DMORIENT_LANDSCAPE if landscape else DMORIENT_PORTRAIT
        devmode.Copies = document.copies
        devmode.Collate = 1 if document.collate else 0
        devmode.Fields |= DM_ORIENTATION | DM_COPIES | DM_COLLATE
        if paper is not None and paper.code:
            devmode.PaperSize = paper.code
            devmode.Fields |= DM_PAPERSIZE
        win32print.DocumentProperties(
            0, self.handle, self.name, devmode, devmode, DM_IN_BUFFER | DM_OUT_BUFFER
        )
        dc = win32ui.CreateDCFromHandle(win32gui.CreateDC("WINSPOOL", self.name, devmode))
        try:
            if output:
                dc.StartDoc(title, output)
            else:
                dc.StartDoc(title)
            try:
                for film in films:
                    dc.StartPage()
                    page = PageArea(
                        width=dc.GetDeviceCaps(PHYSICALWIDTH),
                        height=dc.GetDeviceCaps(PHYSICALHEIGHT),
                        printable_width=dc.GetDeviceCaps(HORZRES),
                        printable_height=dc.GetDeviceCaps(VERTRES),
                        offset_x=dc.GetDeviceCaps(PHYSICALOFFSETX),
                        offset_y=dc.GetDeviceCaps(PHYSICALOFFSETY),
                        dpi_x=dc.GetDeviceCaps(LOGPIXELSX),
                        dpi_y=dc.GetDeviceCaps(LOGPIXELSY),
                    )
                    placement = place_film(film.width_mm, film.height_mm, page, scaling)
                    image = Image.fromarray(film_raster(film, placement.rotate))
                    ImageWin.Dib(image).draw(dc.GetHandleOutput(), placement.rect)
                    dc.EndPage()
                dc.EndDoc()
            except BaseException:
                dc.AbortDoc()
                raise
        finally:
            dc.DeleteDC()
