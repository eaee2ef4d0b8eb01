"""Putting films on paper: which paper, which way round, how big, how many.

Pure geometry shared by the paper printer backends (Windows GDI, CUPS): no
printer API is called here, so every rule is tested on every platform.

- :func:`choose_paper`: the smallest paper the film fits on at true size,
  else the largest (the film will be shrunk), turned to the film's
  orientation.
- :func:`place_film`: where the film goes on a page of known printable area
  and resolution: true size when it fits (``auto``), scaled to fill the
  printable area (``fit``) or always true size, cropped (``none``); turned
  90 degrees when the page is the other way round.
- :func:`plan_documents`: how a job's films and copies become spooler
  documents, letting the driver make copies (and collate) when it can and
  repeating pages when it cannot.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from attrs import frozen

MM_PER_INCH = 25.4
SCALINGS = ("auto", "fit", "none")


@frozen
class Paper:
    """A paper a printer offers, in portrait (width <= height)."""

    name: str
    width_mm: float
    height_mm: float
    #: The driver's identifier (Windows DMPAPER_* value); 0 when unknown.
    code: int = 0

    @property
    def area(self) -> float:
        return self.width_mm * self.height_mm


def film_orientation(width_mm: float, height_mm: float) -> str:
    return "LANDSCAPE" if width_mm > height_mm else "PORTRAIT"


def fits(width_mm: float, height_mm: float, paper: Paper, margin_mm: float = 0.0) -> bool:
    """True when a film fits on ``paper`` at true size, long side along the long side."""
    short, long = sorted((width_mm, height_mm))
    paper_short, paper_long = sorted((paper.width_mm, paper.height_mm))
    return short <= paper_short - 2 * margin_mm and long <= paper_long - 2 * margin_mm


def choose_paper(
    width_mm: float, height_mm: float, papers: Sequence[Paper], margin_mm: float = 0.0
) -> tuple[Paper, str]:
    """(paper, orientation) for a film of ``width_mm`` x ``height_mm``.

    The smallest paper (by area; the first listed on a tie) that holds the
    film at true size inside ``margin_mm`` on every side; when none does,
    the largest paper. The orientation is the film's, so its long side runs
    along the paper's long side. Raises ValueError for an empty list.
    """
    if not papers:
        raise ValueError("the printer offers no paper")
    holding = [p for p in papers if fits(width_mm, height_mm, p, margin_mm)]
    if holding:
        paper = min(holding, key=lambda p: p.area)
    else:
        paper = max(papers, key=lambda p: p.area)
    return paper, film_orientation(width_mm, height_mm)


@frozen
class PageArea:
    """What a printer reports for a page (Windows ``GetDeviceCaps``), in device pixels."""

    #: The whole sheet (PHYSICALWIDTH, PHYSICALHEIGHT).
    width: int
    height: int
    #: The part it can print on (HORZRES, VERTRES) ...
    printable_width: int
    printable_height: int
    #: ... and where that part starts on the sheet (PHYSICALOFFSETX/Y).
    offset_x: int
    offset_y: int
    #: Pixels per inch (LOGPIXELSX, LOGPIXELSY).
    dpi_x: float
    dpi_y: float


@frozen
class Placement:
    """Where a film goes, in the coordinates of the printable area."""

    left: int
    top: int
    right: int
    bottom: int
    #: Turn the film 90 degrees counter-clockwise (its top to the page's left).
    rotate: bool
    #: Printed size over true size (1.0: true size).
    scale: float

    @property
    def true_size(self) -> bool:
        return self.scale == 1.0

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return self.left, self.top, self.right, self.bottom


def place_film(
    width_mm: float, height_mm: float, page: PageArea, scaling: str = "auto"
) -> Placement:
    """Where a film of ``width_mm`` x ``height_mm`` prints on ``page``.

    ``auto``: true size when the film fits the printable area (turned if
    only that way it fits), else shrunk to fit. ``fit``: scaled, up or down,
    to fill the printable area. ``none``: always true size; what does not
    fit is cut off. The film is turned when the page is the other way round
    (and, for ``fit``, when turned it prints larger). A true-size film is
    centred on the sheet, kept inside the printable area where it fits; a
    scaled film is centred in the printable area.
    """
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(SCALINGS)}")
    if width_mm <= 0 or height_mm <= 0:
        raise ValueError("a film has a positive size")
    options = []
    for rotate in (False, True):
        w_mm, h_mm = (height_mm, width_mm) if rotate else (width_mm, height_mm)
        w = w_mm / MM_PER_INCH * page.dpi_x
        h = h_mm / MM_PER_INCH * page.dpi_y
        fit = min(page.printable_width / w, page.printable_height / h)
        options.append((rotate, w, h, fit))

    def same_way_round(option: tuple[bool, float, float, float]) -> bool:
        _, w, h, _ = option
        return (w > h) == (page.printable_width > page.printable_height) or w == h

    if scaling == "fit":
        # The larger print; on a tie, the one the same way round as the page.
        rotate, w, h, scale = max(options, key=lambda o: (o[3], same_way_round(o)))
    else:
        true_fits = [o for o in options if o[3] >= 1.0]
        if true_fits:
            rotate, w, h, _ = next((o for o in true_fits if same_way_round(o)), true_fits[0])
            scale = 1.0
        elif scaling == "none":
            rotate, w, h, _ = next(o for o in options if same_way_round(o))
            scale = 1.0
        else:  # auto, too large: shrink, the way that loses least
            rotate, w, h, scale = max(options, key=lambda o: (o[3], same_way_round(o)))
    w, h = w * scale, h * scale
    if scale == 1.0:
        # Centre on the sheet, then keep inside the printable area if possible.
        left = (page.width - w) / 2 - page.offset_x
        top = (page.height - h) / 2 - page.offset_y
        left = _keep_inside(left, w, page.printable_width)
        top = _keep_inside(top, h, page.printable_height)
    else:
        left = (page.printable_width - w) / 2
        top = (page.printable_height - h) / 2
    return Placement(
        left=round(left),
        top=round(top),
        right=round(left + w),
        bottom=round(top + h),
        rotate=rotate,
        scale=scale,
    )


def _keep_inside(start: float, size: float, available: float) -> float:
    if size > available:
        return (available - size) / 2  # too large: centred, cut on both sides
    return min(max(start, 0.0), available - size)


@frozen
class Document:
    """One spooler document: these films (indexes into the job) with this many copies."""

    films: tuple[int, ...]
    copies: int = 1
    collate: bool = False


def plan_documents(
    keys: Sequence[Hashable],
    copies: int,
    collate: bool,
    *,
    max_device_copies: int = 1,
    device_collates: bool = False,
) -> list[Document]:
    """Split a job into spooler documents that print its sheets in order.

    ``keys`` has one entry per film (its paper and orientation): a document
    holds consecutive films of one key, since one document prints on one
    paper. Copies are left to the device (the spooler or driver) when it can
    make that many and, for several films collated, can collate; otherwise
    pages are repeated. The result prints exactly the sheets of
    :meth:`dicomprint.PrintJob.sheets`, in that order.
    """
    copies = max(copies, 1)
    runs: list[list[int]] = []
    for index, key in enumerate(keys):
        if runs and keys[runs[-1][0]] == key:
            runs[-1].append(index)
        else:
            runs.append([index])
    if not runs:
        return []
    device_copies = copies <= max_device_copies
    if len(runs) == 1:
        films = runs[0]
        if copies == 1:
            return [Document(tuple(films))]
        collating = collate and len(films) > 1
        if device_copies and (device_collates or not collating):
            return [Document(tuple(films), copies, collate=collating)]
        if collating:
            return [Document(tuple(films * copies))]
        return [Document(tuple(i for i in films for _ in range(copies)))]
    if copies > 1 and collate:
        # 1 2 3, 1 2 3: every copy goes through the papers again.
        return [Document(tuple(run)) for _ in range(copies) for run in runs]
    documents = []
    for run in runs:  # uncollated, or one copy: each film's copies together
        if copies == 1:
            documents.append(Document(tuple(run)))
        elif device_copies:
            documents.append(Document(tuple(run), copies, collate=False))
        else:
            documents.append(Document(tuple(i for i in run for _ in range(copies))))
    return documents
