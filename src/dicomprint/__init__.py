"""dicomprint: DICOM Print Management as a pure Python library.

The print object model, status semantics, layouts and the print session
state machine; no sockets, no threads. See ``dicomprint_server`` for the
network side.
"""

from .annotation_box import AnnotationBox
from .film import Film
from .film_box import FilmBox
from .film_session import FilmSession
from .film_sizes import FILM_SIZES_MM, film_size_mm, film_size_px
from .image_box import ImageBox
from .job import FilmJob, PrintJob
from .layout import DisplayFormat, Rect, StoreFilm, store_auto_layout
from .pixels import PixelImage
from .prepare import PreparedImage, prepare_image
from .presentation_lut import PresentationLUT
from .printer import Printer
from .profile import DEFAULT_PROFILE, PrinterProfile
from .render import render_film, render_job
from .session import PrintSession, Reply
from .status import Category, PrintError, Status

__version__ = "0.1.0"

__all__ = [
    "AnnotationBox",
    "Category",
    "DEFAULT_PROFILE",
    "DisplayFormat",
    "FILM_SIZES_MM",
    "Film",
    "FilmBox",
    "FilmJob",
    "FilmSession",
    "ImageBox",
    "PixelImage",
    "PreparedImage",
    "PresentationLUT",
    "PrintError",
    "PrintJob",
    "PrintSession",
    "Printer",
    "PrinterProfile",
    "Rect",
    "Reply",
    "Status",
    "StoreFilm",
    "film_size_mm",
    "film_size_px",
    "prepare_image",
    "render_film",
    "render_job",
    "store_auto_layout",
]
