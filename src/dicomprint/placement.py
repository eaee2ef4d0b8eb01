"""Where things go on a film: margins, annotation bands, cells and images.

Geometry only, in film pixels; no pixel values. The film has a margin, an
annotation band at the top and/or bottom when the film box has annotation
boxes, and the image area the Image Display Format tiles into cells.

Inside its cell an image is centred and:

- printed at true size when Requested Image Size (its width in mm) is given;
- else, with Magnification Type NONE, one image pixel per film pixel;
- else magnified (never demagnified) to the largest size that fits the cell.

Pixel Aspect Ratio is kept in all three. An image larger than its cell
follows Requested Decimate/Crop Behavior (PS3.3 C.13.5.1):

=============  ======================  ================================
requested      Magnification NONE      other magnification types
=============  ======================  ================================
DECIMATE       C603 (cannot decimate)  shrink to fit, B60A
CROP           centre crop, B609       centre crop, B609
FAIL           C603                    C603
not given      centre crop, B609       shrink to fit, B604
=============  ======================  ================================
"""

from __future__ import annotations

import math

from attrs import frozen

from .film_box import FilmBox
from .film_sizes import film_size_px
from .image_box import ImageBox
from .layout import Rect
from .pixels import PixelImage
from .profile import PrinterProfile
from .status import PrintError, Status

MM_PER_INCH = 25.4
#: Blank film around everything.
MARGIN_MM = 4.0
#: Between cells, and between the image area and an annotation band.
GAP_MM = 2.0
#: Line width of the Trim box.
TRIM_MM = 0.5
#: Height of one annotation band.
ANNOTATION_BAND_MM = 8.0

#: Source pixels resampled beyond a crop window, so that interpolation at
#: its edges sees the real neighbours (cubic reaches two pixels out).
_CROP_PAD = 2


def mm_to_px(mm: float, dpi: int) -> int:
    return round(mm * dpi / MM_PER_INCH)


@frozen
class FilmLayout:
    """The cells (in Image Box Position order) and annotation slots of a film."""

    width: int
    height: int
    cells: tuple[Rect, ...]
    #: Annotation Position -> its slot.
    annotation_slots: dict[int, Rect]
    #: Width of the Trim line in pixels, 0 without Trim.
    trim: int

    def image_area(self, position: int) -> Rect:
        """The part of a cell an image may cover: inside the Trim line."""
        cell = self.cells[position - 1]
        t = self.trim
        return Rect(cell.x + t, cell.y + t, max(1, cell.width - 2 * t), max(1, cell.height - 2 * t))


def annotation_bands(format_id: str, count: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Annotation Positions printed in the (top band, bottom band).

    Annotation Display Format IDs are the printer's to define: ``TOP_BOTTOM*``
    puts the first half of the positions at the top and the rest at the
    bottom, ``TOP*`` all at the top, anything else all at the bottom.
    """
    positions = tuple(range(1, count + 1))
    if format_id.startswith("TOP_BOTTOM"):
        half = (count + 1) // 2
        return positions[:half], positions[half:]
    if format_id.startswith("TOP"):
        return positions, ()
    return (), positions


def _slots(band: Rect, positions: tuple[int, ...]) -> dict[int, Rect]:
    n = len(positions)
    edges = [band.x + round(band.width * k / n) for k in range(n + 1)]
    return {
        p: Rect(edges[k], band.y, edges[k + 1] - edges[k], band.height)
        for k, p in enumerate(positions)
    }


def film_layout(film_box: FilmBox, width: int, height: int, dpi: int) -> FilmLayout:
    """Lay out a film box on a ``width`` x ``height`` raster at ``dpi``."""
    margin, gap = mm_to_px(MARGIN_MM, dpi), mm_to_px(GAP_MM, dpi)
    x, y = margin, margin
    w, h = max(1, width - 2 * margin), max(1, height - 2 * margin)
    top, bottom = annotation_bands(
        film_box.AnnotationDisplayFormatID, len(film_box.annotation_boxes)
    )
    band = max(1, mm_to_px(ANNOTATION_BAND_MM, dpi))
    slots: dict[int, Rect] = {}
    if top:
        slots |= _slots(Rect(x, y, w, band), top)
        y, h = y + band + gap, h - band - gap
    if bottom:
        slots |= _slots(Rect(x, y + h - band, w, band), bottom)
        h -= band + gap
    cells = film_box.ImageDisplayFormat.cells(Rect(x, y, w, max(1, h)), gap)
    trim = max(1, mm_to_px(TRIM_MM, dpi)) if film_box.Trim == "YES" else 0
    return FilmLayout(width, height, tuple(cells), slots, trim)


@frozen
class Placement:
    """How one image lands in its cell.

    The source ``window`` (columns a..b, rows c..d) is resampled to
    ``window_size``; the part of that starting at ``offset`` and the size of
    ``target`` is what prints, at ``target``. Without cropping the window is
    the whole image and ``window_size`` the target's size.
    """

    target: Rect
    #: (width, height) of the whole image as printed, film pixels.
    size: tuple[int, int]
    window: tuple[int, int, int, int]
    window_size: tuple[int, int]
    offset: tuple[int, int]
    status: Status | None = None

    @property
    def scale(self) -> tuple[float, float]:
        """Film pixels per source pixel, across and down."""
        a, b, c, d = self.window
        return self.window_size[0] / (b - a), self.window_size[1] / (d - c)

    @property
    def cropped(self) -> bool:
        return self.size != (self.target.width, self.target.height)


def place_image(
    image: PixelImage,
    area: Rect,
    dpi: int,
    magnification: str,
    requested_size_mm: float | None = None,
    behavior: str | None = None,
) -> Placement:
    """Place ``image`` in ``area``; raise PrintError C603 where it must fail."""
    rows, cols = image.pixels.shape[:2]
    row_ratio, col_ratio = image.PixelAspectRatio
    # Film pixels per image row, relative to per image column.
    aspect = row_ratio / col_ratio
    fit = min(area.width / cols, area.height / (rows * aspect))
    # k: film pixels per image column.
    if requested_size_mm:
        k = requested_size_mm * dpi / MM_PER_INCH / cols
    elif magnification == "NONE":
        k = 1.0
    else:
        k = max(fit, 1.0)

    status = None
    crop = False
    if cols * k > area.width + 0.5 or rows * aspect * k > area.height + 0.5:
        if behavior == "FAIL" or (behavior == "DECIMATE" and magnification == "NONE"):
            raise PrintError(
                Status.IMAGE_LARGER_THAN_BOX,
                f"{cols}x{rows} image at {cols * k:.0f}x{rows * aspect * k:.0f} px does not "
                f"fit its {area.width}x{area.height} px box (Requested Decimate/Crop "
                f"Behavior {behavior}, Magnification Type {magnification})",
            )
        crop = behavior == "CROP" or (behavior is None and magnification == "NONE")
        if crop:
            status = Status.IMAGE_CROPPED
        else:
            k = fit
            status = Status.IMAGE_DECIMATED if behavior == "DECIMATE" else Status.IMAGE_DEMAGNIFIED

    width, height = max(1, round(cols * k)), max(1, round(rows * aspect * k))
    if not crop:
        width, height = min(width, area.width), min(height, area.height)
    shown_w, shown_h = min(width, area.width), min(height, area.height)
    target = Rect(
        area.x + (area.width - shown_w) // 2,
        area.y + (area.height - shown_h) // 2,
        shown_w,
        shown_h,
    )
    if (shown_w, shown_h) == (width, height):
        whole = (0, cols, 0, rows)
        return Placement(target, (width, height), whole, (width, height), (0, 0), status)

    # Centre crop: resample only the source window the target shows.
    a, b, x_size, x_off = _window(cols, width, shown_w)
    c, d, y_size, y_off = _window(rows, height, shown_h)
    window, window_size, offset = (a, b, c, d), (x_size, y_size), (x_off, y_off)
    return Placement(target, (width, height), window, window_size, offset, status)


def _window(n_source: int, n_scaled: int, n_shown: int) -> tuple[int, int, int, int]:
    """Source span [start, stop), its resampled length and the shown part's offset."""
    scale = n_scaled / n_source
    skip = (n_scaled - n_shown) / 2
    start = max(0, math.floor(skip / scale) - _CROP_PAD)
    stop = min(n_source, math.ceil((skip + n_shown) / scale) + _CROP_PAD)
    length = max(n_shown, round((stop - start) * scale))
    offset = min(max(0, round(skip - start * scale)), length - n_shown)
    return start, stop, length, offset


def image_fit(film_box: FilmBox, image_box: ImageBox, profile: PrinterProfile) -> Status | None:
    """The warning printing this image box will give (B604/B609/B60A) or None.

    Raises PrintError(C603) where printing must fail, so that an Image Box
    N-SET can fail as PS3.4 asks (DECIMATE with Magnification Type NONE, FAIL)
    instead of the later N-ACTION.
    """
    if image_box.image is None:
        return None
    dpi = profile.dpi(film_box.RequestedResolutionID)
    width, height = film_size_px(film_box.FilmSizeID, film_box.FilmOrientation, dpi)
    layout = film_layout(film_box, width, height, dpi)
    placement = place_image(
        image_box.image,
        layout.image_area(image_box.ImageBoxPosition),
        dpi,
        image_box.MagnificationType or film_box.MagnificationType,
        image_box.RequestedImageSize,
        image_box.RequestedDecimateCropBehavior,
    )
    return placement.status
