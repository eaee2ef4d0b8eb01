"""A rendered film: the raster and what a printer backend needs to print it."""

from __future__ import annotations

import datetime

import numpy as np
from attrs import field, frozen


@frozen
class Film:
    """One sheet of film, rendered.

    ``pixels`` is ``(height, width)`` uint8 for grayscale films and
    ``(height, width, 3)`` uint8 RGB for films with any colour image box;
    pixel values are display-ready (0 black, 255 white).
    """

    pixels: np.ndarray = field(eq=False, repr=False)
    film_size_id: str
    orientation: str
    width_mm: float
    height_mm: float
    dpi: int
    copies: int = 1
    #: Position of this film in its print job, from 1.
    index: int = 1
    film_session_label: str = ""
    calling_ae_title: str = ""
    called_ae_title: str = ""
    job_id: str = ""
    created: datetime.datetime = field(factory=lambda: datetime.datetime.now(datetime.UTC))

    @property
    def is_color(self) -> bool:
        return self.pixels.ndim == 3
