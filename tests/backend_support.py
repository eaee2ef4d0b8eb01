"""Films, jobs and PDF reading shared by the printer backend tests."""

from __future__ import annotations

import datetime
import io

import numpy as np
from PIL import Image, PdfParser

from dicomprint import PrinterProfile, PrintJob
from dicomprint.film import Film
from dicomprint.film_session import FilmSession
from dicomprint.film_sizes import film_size_mm, film_size_px

CREATED = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC)
JOB_ID = "2.25.98765"
POINTS_PER_MM = 72 / 25.4


def make_job(calling="MODALITY", copies=1, collate=True, label="", job_id=JOB_ID) -> PrintJob:
    return PrintJob(
        films=(),
        session=FilmSession("1.2.3", NumberOfCopies=copies, FilmSessionLabel=label),
        profile=PrinterProfile(),
        copies=copies,
        collate=collate,
        calling_ae_title=calling,
        called_ae_title="PRINTSCP",
        job_id=job_id,
        created=CREATED,
    )


def make_film(
    value: int = 200,
    *,
    size: str = "8INX10IN",
    orientation: str = "PORTRAIT",
    dpi: int = 20,
    index: int = 1,
    copies: int = 1,
    color: bool = False,
    calling: str = "MODALITY",
    job_id: str = JOB_ID,
) -> Film:
    """A film whose left half is ``value`` and right half black (so turns show)."""
    width, height = film_size_px(size, orientation, dpi)
    width_mm, height_mm = film_size_mm(size, orientation)
    pixels = np.zeros((height, width, 3) if color else (height, width), dtype=np.uint8)
    pixels[:, : width // 2] = value
    if color:
        pixels[:, : width // 2, 1:] = 0  # red on the left
    return Film(
        pixels=pixels,
        film_size_id=size,
        orientation=orientation,
        width_mm=width_mm,
        height_mm=height_mm,
        dpi=dpi,
        copies=copies,
        index=index,
        calling_ae_title=calling,
        called_ae_title="PRINTSCP",
        job_id=job_id,
        created=CREATED,
    )


def pdf_pages(data: bytes) -> list[tuple[tuple[float, float], np.ndarray]]:
    """(page size in points, embedded image) of every page of a PDF Pillow wrote."""
    parser = PdfParser.PdfParser(buf=data)
    pages = []
    for ref in parser.pages:
        page = parser.read_indirect(ref)
        x0, y0, x1, y1 = page.MediaBox
        (image_ref,) = page.Resources.XObject.values()
        stream = parser.read_indirect(image_ref)
        with Image.open(io.BytesIO(stream.buf)) as image:
            pages.append(((x1 - x0, y1 - y0), np.asarray(image)))
    return pages


def pdf_info(data: bytes) -> dict[str, str]:
    parser = PdfParser.PdfParser(buf=data)
    return {key.name.decode(): PdfParser.decode_text(value) for key, value in parser.info.items()}
