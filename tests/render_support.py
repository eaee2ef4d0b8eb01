"""Builders shared by the rendering tests: profiles, images, film boxes, jobs.

``PROFILE`` makes the film box's density range the printer's whole range
(0.20 to 3.00 OD, the PS3.14 D.2.2 example under L0 = 2000, La = 10). Then a
P-value prints as ``P * 255 / Pmax`` exactly: the raster scale and the
film's P-value scale are the same JND-linear line.
"""

from __future__ import annotations

import numpy as np

from dicomprint import FilmBox, FilmJob, FilmSession, ImageBox, PixelImage, PrintJob, uids
from dicomprint.profile import FilmBoxDefaults, PrinterProfile
from dicomprint.render import render_film

PROFILE = PrinterProfile(
    min_density=20,
    max_density=300,
    dpi_standard=30,
    dpi_high=60,
    grayscale_bits_stored=(8, 10, 12, 16),
    film_box=FilmBoxDefaults(
        FilmSizeID="8INX10IN",
        MinDensity=20,
        MaxDensity=300,
        Illumination=2000,
        ReflectedAmbientLight=10,
        BorderDensity="WHITE",
        EmptyImageDensity="WHITE",
    ),
)


def gray(
    pixels: np.ndarray,
    bits: int | None = None,
    photometric: str = "MONOCHROME2",
    aspect: tuple[int, int] = (1, 1),
) -> PixelImage:
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        pixels = pixels.astype(np.uint16)
    allocated = 8 if pixels.dtype == np.uint8 else 16
    stored = bits or (8 if allocated == 8 else 12)
    rows, cols = pixels.shape
    return PixelImage(
        Rows=rows,
        Columns=cols,
        SamplesPerPixel=1,
        PhotometricInterpretation=photometric,
        BitsAllocated=allocated,
        BitsStored=stored,
        HighBit=stored - 1,
        PixelRepresentation=0,
        pixels=pixels,
        PixelAspectRatio=aspect,
    )


def uniform(value: int, bits: int = 8, shape: tuple[int, int] = (8, 8)) -> PixelImage:
    dtype = np.uint8 if bits == 8 else np.uint16
    return gray(np.full(shape, value, dtype=dtype), bits)


def film_box(
    display_format: str = "STANDARD\\1,1",
    *,
    profile: PrinterProfile = PROFILE,
    color: bool = False,
    annotations: int = 0,
    **attributes,
) -> FilmBox:
    """A film box with its image boxes (and annotation boxes), as the SCP makes them."""
    from dicomprint import AnnotationBox

    box = FilmBox.with_defaults(uids.new_uid(), profile.display_format(display_format), profile)
    sop_class = uids.BasicColorImageBox if color else uids.BasicGrayscaleImageBox
    box.image_boxes = [
        ImageBox(uids.new_uid(), sop_class, position)
        for position in range(1, box.ImageDisplayFormat.box_count + 1)
    ]
    box.annotation_boxes = [
        AnnotationBox(uids.new_uid(), position) for position in range(1, annotations + 1)
    ]
    for keyword, value in attributes.items():
        setattr(box, keyword, value)
    return box


def print_job(
    *boxes: FilmBox,
    profile: PrinterProfile = PROFILE,
    luts: dict | None = None,
    **options,
) -> PrintJob:
    return PrintJob(
        films=tuple(FilmJob(box, dict(luts or {})) for box in boxes),
        session=FilmSession(uids.new_uid()),
        profile=profile,
        **options,
    )


def render(box: FilmBox, *, profile: PrinterProfile = PROFILE, luts: dict | None = None):
    """Render one film box: (Film, statuses)."""
    job = print_job(box, profile=profile, luts=luts)
    return render_film(job.films[0], job)


def cell_centres(display_format: str, width: int, height: int) -> list[tuple[int, int]]:
    """(x, y) near the centre of each image box, in Image Box Position order.

    Straight from PS3.3 C.13.5.1, ignoring margins and gaps (a few pixels):
    STANDARD\\C,R and ROW are numbered row by row, COL column by column.
    """
    kind, numbers = display_format.split("\\")
    counts = [int(n) for n in numbers.split(",")]
    if kind == "STANDARD":
        columns, rows = counts
        counts, kind = [columns] * rows, "ROW"
    centres = []
    for line, boxes in enumerate(counts):
        for index in range(boxes):
            along = (index + 0.5) / boxes
            across = (line + 0.5) / len(counts)
            x, y = (along, across) if kind == "ROW" else (across, along)
            centres.append((int(x * width), int(y * height)))
    return centres


def p_display(p: float, p_max: int) -> int:
    """The raster value of a P-value when the film spans the printer's range."""
    return int(np.rint(p * 255 / p_max))
