"""Compositing: a print job's film boxes become film rasters.

For each film box: the raster size comes from Film Size ID, Film Orientation
and the printer's DPI for Requested Resolution ID; :mod:`.placement` lays out
cells and places each image (failing with C603 before anything is drawn);
then one pass writes every film pixel about once:

- the background (Border Density) only where no image or empty cell goes,
- each empty image box with Empty Image Density,
- each image through its look-up table (:mod:`.luts`) and :mod:`.resample`,
  written into a view of the film. The table is applied on whichever is
  smaller, the source or the printed image, so a magnified image costs one
  look-up per source pixel (into one buffer the film's images share),
- the Trim boxes and the annotation text.

Films are uint8, 0 black and 255 white: (H, W) grayscale, or (H, W, 3) RGB
when the film box has any colour image box. Densities map to values through
the film's :class:`~.gsdf.DisplayScale`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .film import Film
from .film_box import FilmBox
from .film_sizes import film_size_mm, film_size_px
from .gsdf import DisplayScale, HardcopyModel
from .image_box import ImageBox
from .job import FilmJob, PrintJob
from .layout import Rect
from .luts import ToneTable, color_lut, grayscale_lut, inverts
from .placement import FilmLayout, Placement, film_layout, place_image
from .profile import PrinterProfile
from .resample import interpolation, resize
from .status import PrintError, Status
from .text import draw_text

__all__ = ["density_value", "display_scale", "render_film", "render_job"]


def render_job(job: PrintJob) -> tuple[list[Film], list[Status]]:
    """One Film per film box, in job order, and the warnings met (each once).

    Copies are not rendered twice: each Film carries ``copies``.
    Raises PrintError(C603) when an image may neither be decimated nor cropped.
    """
    films: list[Film] = []
    statuses: list[Status] = []
    for index, film_job in enumerate(job.films, start=1):
        film, met = render_film(film_job, job, index)
        films.append(film)
        statuses.extend(s for s in met if s not in statuses)
    return films, statuses


def display_scale(film_box: FilmBox, profile: PrinterProfile) -> DisplayScale:
    """The film's density -> raster value scale: its light, the printer's range."""
    illumination = film_box.Illumination or profile.film_box.Illumination or 1
    model = HardcopyModel(illumination, film_box.ReflectedAmbientLight)
    return DisplayScale(model, profile.min_density / 100, profile.max_density / 100)


@functools.lru_cache(maxsize=64)
def density_value(density: str, scale: DisplayScale) -> int:
    """Raster value of a Border / Empty Image Density: BLACK, WHITE or hundredths of OD.

    BLACK and WHITE are the printer's densest and lightest.
    """
    if density == "BLACK":
        d = scale.max_density
    elif density == "WHITE":
        d = scale.min_density
    else:
        d = int(density) / 100
    return int(scale.value_u8(d))


def render_film(film_job: FilmJob, job: PrintJob, index: int = 1) -> tuple[Film, list[Status]]:
    """Render one film box; return the Film and the warnings met (each once)."""
    box = film_job.film_box
    profile = job.profile
    dpi = profile.dpi(box.RequestedResolutionID)
    width, height = film_size_px(box.FilmSizeID, box.FilmOrientation, dpi)
    layout = film_layout(box, width, height, dpi)
    scale = display_scale(box, profile)

    placed: list[tuple[ImageBox, Placement]] = []
    empty: list[Rect] = []
    statuses: list[Status] = []
    for image_box in box.image_boxes:
        if not 1 <= image_box.ImageBoxPosition <= len(layout.cells):
            raise PrintError(
                Status.PROCESSING_FAILURE,
                f"Image Box Position {image_box.ImageBoxPosition} is outside the layout",
            )
        if image_box.image is None:
            empty.append(layout.cells[image_box.ImageBoxPosition - 1])
            continue
        placement = place_image(
            image_box.image,
            layout.image_area(image_box.ImageBoxPosition),
            dpi,
            film_job.magnification_type(image_box),
            image_box.RequestedImageSize,
            image_box.RequestedDecimateCropBehavior,
        )
        placed.append((image_box, placement))
        if placement.status is not None and placement.status not in statuses:
            statuses.append(placement.status)

    shape = (height, width, 3) if box.is_color else (height, width)
    film = np.empty(shape, dtype=np.uint8)
    border = density_value(box.BorderDensity, scale)
    _fill_outside(film, [p.target for _, p in placed] + empty, border)
    empty_value = density_value(box.EmptyImageDensity, scale)
    for cell in empty:
        _view(film, cell)[...] = empty_value

    tables = _Tables(film_job, scale)
    scratch = _Scratch()
    for image_box, placement in placed:
        _draw_image(film, image_box, placement, tables.lut(image_box), film_job, scratch)

    # Trim and text contrast with the border they are drawn on.
    ink = 255 if border < 128 else 0
    if layout.trim:
        for _, placement in placed:
            _draw_trim(film, placement.target, layout, ink)
    _draw_annotations(film, box, layout, ink)

    width_mm, height_mm = film_size_mm(box.FilmSizeID, box.FilmOrientation)
    result = Film(
        pixels=film,
        film_size_id=box.FilmSizeID,
        orientation=box.FilmOrientation,
        width_mm=width_mm,
        height_mm=height_mm,
        dpi=dpi,
        copies=job.copies,
        index=index,
        film_session_label=job.session.FilmSessionLabel,
        calling_ae_title=job.calling_ae_title,
        called_ae_title=job.called_ae_title,
        job_id=job.job_id,
        created=job.created,
    )
    return result, statuses


class _Tables:
    """The look-up tables of one film, built once per distinct parameter set."""

    def __init__(self, film_job: FilmJob, scale: DisplayScale) -> None:
        self.film_job = film_job
        self.scale = scale
        self.cache: dict[tuple, ToneTable] = {}

    def lut(self, image_box: ImageBox) -> ToneTable:
        image = image_box.image
        assert image is not None
        if image.is_color:
            invert = image_box.Polarity == "REVERSE"
            key: tuple = ("color", invert)
            if key not in self.cache:
                self.cache[key] = color_lut(invert)
            return self.cache[key]
        job = self.film_job
        invert = inverts(image.PhotometricInterpretation, image_box.Polarity)
        plut = job.presentation_lut(image_box)
        low, high = sorted((job.min_density(image_box) / 100, job.max_density(image_box) / 100))
        # id(): LUT tables compare equal without their data; this cache lives
        # one film, while the job holds every LUT alive.
        key = (image.BitsStored, invert, id(plut), low, high)
        if key not in self.cache:
            self.cache[key] = grayscale_lut(image.BitsStored, invert, plut, low, high, self.scale)
        return self.cache[key]


class _Scratch:
    """One buffer for the looked-up images of a film, reused image after image.

    A new array per image would often be freshly mapped memory, whose first
    touch (a page fault per 4 KiB) costs more than the look-up that fills it.
    """

    def __init__(self) -> None:
        self.buffer = np.empty(0, dtype=np.uint8)

    def uint8(self, shape: tuple[int, ...]) -> np.ndarray:
        size = math.prod(shape)
        if self.buffer.size < size:
            self.buffer = np.empty(size, dtype=np.uint8)
        return self.buffer[:size].reshape(shape)


def _view(film: np.ndarray, rect: Rect) -> np.ndarray:
    return film[rect.y : rect.bottom, rect.x : rect.right]


def _fill_outside(film: np.ndarray, rects: list[Rect], value: int) -> None:
    """Fill every film pixel outside the (non-overlapping) ``rects``.

    Sweeps horizontal bands between rectangle edges, so each background pixel
    is written once and the images' pixels not at all.
    """
    height, width = film.shape[:2]
    edges = sorted({0, height, *(r.y for r in rects), *(r.bottom for r in rects)})
    for top, bottom in zip(edges, edges[1:], strict=False):
        if bottom <= top:
            continue
        spans = sorted((r.x, r.right) for r in rects if r.y <= top and r.bottom >= bottom)
        x = 0
        for left, right in spans:
            if left > x:
                film[top:bottom, x:left] = value
            x = max(x, right)
        if x < width:
            film[top:bottom, x:width] = value


def _draw_image(
    film: np.ndarray,
    image_box: ImageBox,
    placement: Placement,
    table: ToneTable,
    film_job: FilmJob,
    scratch: _Scratch,
) -> None:
    image = image_box.image
    assert image is not None
    a, b, c, d = placement.window
    source = image.pixels[c:d, a:b]
    fx, fy = placement.scale
    flag = interpolation(
        film_job.magnification_type(image_box), film_job.smoothing_type(image_box), fx, fy
    )
    view = _view(film, placement.target)
    # A grayscale image on a colour film is resampled alone, then spread.
    direct = view.ndim == source.ndim and not placement.cropped
    out = view if direct else None
    size = placement.window_size
    if (source.shape[1], source.shape[0]) == size:
        scaled = table.apply(source, out)
    elif source.shape[0] * source.shape[1] <= size[0] * size[1]:
        scaled = resize(table.apply(source, scratch.uint8(source.shape)), size, flag, out)
    else:
        # Shrinking: resample the stored values, then look up fewer pixels.
        scaled = table.apply(resize(source, size, flag), out)
    if direct:
        if scaled is not view:  # OpenCV allocates instead when it cannot use dst
            view[...] = scaled
        return
    x, y = placement.offset
    shown = scaled[y : y + placement.target.height, x : x + placement.target.width]
    view[...] = shown[..., None] if view.ndim == 3 and shown.ndim == 2 else shown


def _draw_trim(film: np.ndarray, target: Rect, layout: FilmLayout, ink: int) -> None:
    """A line of the layout's trim width just outside the image."""
    t = layout.trim
    x0, y0 = max(0, target.x - t), max(0, target.y - t)
    x1, y1 = min(layout.width, target.right + t), min(layout.height, target.bottom + t)
    film[y0 : target.y, x0:x1] = ink
    film[target.bottom : y1, x0:x1] = ink
    film[y0:y1, x0 : target.x] = ink
    film[y0:y1, target.right : x1] = ink


def _draw_annotations(film: np.ndarray, box: FilmBox, layout: FilmLayout, ink: int) -> None:
    for annotation in box.annotation_boxes:
        slot = layout.annotation_slots.get(annotation.AnnotationPosition)
        if slot is not None and annotation.TextString:
            draw_text(_view(film, slot), annotation.TextString, ink)
