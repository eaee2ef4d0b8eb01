"""Print jobs: what an N-ACTION hands to rendering and the printer backend.

A job is a snapshot: the SCU may go on editing (or deleting) its film boxes
after the N-ACTION without changing what prints (PS3.4 H.4.1.2.4).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping

import attrs
from attrs import field, frozen

from .film_box import FilmBox
from .film_session import FilmSession
from .image_box import ImageBox
from .presentation_lut import PresentationLUT
from .profile import PrinterProfile
from .uids import new_uid


@frozen
class FilmJob:
    """One film box to print, with the Presentation LUTs it references."""

    film_box: FilmBox
    presentation_luts: Mapping[str, PresentationLUT] = field(factory=dict)

    @classmethod
    def snapshot(cls, film_box: FilmBox, luts: Mapping[str, PresentationLUT]) -> FilmJob:
        copy = attrs.evolve(
            film_box,
            image_boxes=[attrs.evolve(box) for box in film_box.image_boxes],
            annotation_boxes=[attrs.evolve(box) for box in film_box.annotation_boxes],
        )
        wanted = film_box.referenced_luts()
        return cls(copy, {uid: lut for uid, lut in luts.items() if uid in wanted})

    def presentation_lut(self, image_box: ImageBox) -> PresentationLUT | None:
        """The image box's LUT, else the film box's, else None."""
        uid = image_box.ReferencedPresentationLUT or self.film_box.ReferencedPresentationLUT
        return self.presentation_luts.get(uid) if uid else None

    def magnification_type(self, image_box: ImageBox) -> str:
        return image_box.MagnificationType or self.film_box.MagnificationType

    def smoothing_type(self, image_box: ImageBox) -> str:
        return image_box.SmoothingType or self.film_box.SmoothingType

    def min_density(self, image_box: ImageBox) -> int:
        return self.film_box.MinDensity if image_box.MinDensity is None else image_box.MinDensity

    def max_density(self, image_box: ImageBox) -> int:
        return self.film_box.MaxDensity if image_box.MaxDensity is None else image_box.MaxDensity


@frozen
class PrintJob:
    """Films to print, how many copies, and where they came from."""

    films: tuple[FilmJob, ...]
    session: FilmSession
    profile: PrinterProfile
    copies: int = 1
    collate: bool = True
    calling_ae_title: str = ""
    called_ae_title: str = ""
    job_id: str = field(factory=new_uid)
    created: datetime.datetime = field(factory=lambda: datetime.datetime.now(datetime.UTC))

    def sheets(self) -> Iterator[FilmJob]:
        """Every sheet in output order: collated 1234 1234, else 1122 3344."""
        if self.collate:
            for _ in range(self.copies):
                yield from self.films
        else:
            for film in self.films:
                for _ in range(self.copies):
                    yield film
