"""Store-to-film: objects received with C-STORE print as if sent to the printer.

One :class:`StoreToFilm` per storage association. Each received object is
decoded and prepared at once (so a bad object fails alone, in its own C-STORE
response); when the association ends the images are laid out with the store
auto-layout and printed through an ordinary :class:`~.session.PrintSession`,
so validation, snapshots, rendering and backends are the ones print
associations use. Structured reports print as text on their own films.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
from attrs import frozen
from pydicom import Dataset
from pydicom.sequence import Sequence as DicomSequence

from . import uids
from .attributes import referenced_sequence
from .budget import BudgetExceededError, PixelBudget
from .film_sizes import film_size_px
from .layout import (
    STORE_IMAGE_FILM_SIZE,
    STORE_ORIENTATION,
    STORE_REPORT_FILM_SIZE,
    store_auto_layout,
)
from .prepare import PreparedImage, prepare_image
from .printer import Printer
from .report_text import render_pages, report_lines
from .session import PrintCallback, PrintSession, Reply
from .status import PrintError, Status

log = logging.getLogger(__name__)

#: SR documents carry this Modality; their SOP classes share this root.
_SR_CLASS_ROOT = "1.2.840.10008.5.1.4.1.1.88."


@frozen
class StoredImage:
    """One image (or frame) ready to print, and where it came from."""

    image: PreparedImage
    sop_instance_uid: str


@frozen
class StoredReport:
    """The text pages of one structured report."""

    pages: tuple[np.ndarray, ...]
    sop_instance_uid: str


def is_report(dataset: Dataset) -> bool:
    return str(dataset.get("SOPClassUID", "")).startswith(_SR_CLASS_ROOT)


class StoreToFilm:
    """Collects what one storage association sends and prints it at the end."""

    def __init__(
        self,
        printer: Printer,
        on_print: PrintCallback | None,
        *,
        calling_ae_title: str = "",
        called_ae_title: str = "",
        all_frames: bool = False,
        budget: PixelBudget | None = None,
    ) -> None:
        self.printer = printer
        self.budget = budget
        self.on_print = on_print
        self.calling_ae_title = calling_ae_title
        self.called_ae_title = called_ae_title
        self.all_frames = all_frames
        self.images: list[StoredImage] = []
        self.reports: list[StoredReport] = []

    @property
    def profile(self):
        return self.printer.profile

    def add(self, dataset: Dataset) -> None:
        """Decode and keep one received object.

        Raises PrintError with a C-STORE failure status when it cannot be
        printed: 0xA900 when it has no pixel data (and is not a report),
        0xC000 when it cannot be decoded.
        """
        uid = str(dataset.get("SOPInstanceUID", ""))
        if is_report(dataset):
            self.reports.append(StoredReport(tuple(self._report_pages(dataset)), uid))
            return
        if "PixelData" not in dataset and "FloatPixelData" not in dataset:
            raise PrintError(Status.DATASET_DOES_NOT_MATCH_SOP_CLASS, "no pixel data to print")
        try:
            frames = int(dataset.get("NumberOfFrames") or 1) if self.all_frames else 1
        except Exception as exc:  # undecodable values raise many kinds
            raise PrintError(Status.CANNOT_UNDERSTAND, f"Number of Frames: {exc}") from exc
        # Refuse what cannot be held before decoding it: decoding takes many
        # times the image's size in working memory.
        estimate = max(1, frames) * self._held_estimate(dataset)
        self._claim(_pixel_bytes(self.images) + estimate, check_only=True)
        prepared = []
        for frame in range(max(1, frames)):
            try:
                image = prepare_image(
                    dataset, bits=12, max_size=self.profile.max_image_dimension, frame=frame
                )
            except Exception as exc:  # decoders raise many kinds on corrupt data
                raise PrintError(
                    Status.CANNOT_UNDERSTAND, f"cannot decode pixel data: {exc}"
                ) from exc
            prepared.append(StoredImage(image, uid))
        self._claim(_pixel_bytes(self.images + prepared))
        self.images.extend(prepared)

    def _claim(self, nbytes: int, *, check_only: bool = False) -> None:
        """Hold ``nbytes`` of the pixel budget (or only check it could): 0xA700 beyond."""
        if self.budget is None:
            return
        try:
            if check_only:
                self.budget.check(self, nbytes)
            else:
                self.budget.update(self, nbytes)
        except BudgetExceededError as exc:
            raise PrintError(Status.OUT_OF_RESOURCES, str(exc)) from exc

    def _held_estimate(self, dataset: Dataset) -> int:
        """Bytes one frame will hold once prepared (0 when its size is unreadable)."""
        try:
            rows, columns = int(dataset.Rows), int(dataset.Columns)
            samples = int(dataset.get("SamplesPerPixel") or 1)
            photometric = str(dataset.get("PhotometricInterpretation", "")).strip()
        except Exception:  # undecodable values raise many kinds
            return 0  # decoding will say what is wrong
        limit = self.profile.max_image_dimension
        if max(rows, columns) > limit:  # reduced to fit
            scale = limit / max(rows, columns)
            rows, columns = round(rows * scale), round(columns * scale)
        color = samples == 3 or photometric == "PALETTE COLOR"
        return max(0, rows) * max(0, columns) * (3 if color else 2)

    def _report_pages(self, dataset: Dataset) -> Iterator[np.ndarray]:
        width, height = film_size_px(
            STORE_REPORT_FILM_SIZE, STORE_ORIENTATION, self.profile.dpi("STANDARD")
        )
        try:
            lines = report_lines(dataset)
        except Exception as exc:
            raise PrintError(Status.CANNOT_UNDERSTAND, f"cannot read the report: {exc}") from exc
        yield from render_pages(lines, width, height, self.profile.dpi("STANDARD"))

    def finish(self, *, aborted: bool = False) -> list[Reply | PrintError]:
        """Print everything received; return each film's N-ACTION outcome.

        After an abort only what was fully received is here; it still prints.
        A film that fails is logged and does not stop the others.
        """
        if aborted and (self.images or self.reports):
            log.warning(
                "association from %r aborted: printing the %d image(s) and %d report(s) "
                "fully received",
                self.calling_ae_title,
                len(self.images),
                len(self.reports),
            )
        if not (self.images or self.reports):
            return []
        session = PrintSession(
            self.printer,
            on_print=self.on_print,
            calling_ae_title=self.calling_ae_title,
            called_ae_title=self.called_ae_title,
        )
        films = self._films()
        replies = []
        try:
            session_uid = session.n_create(uids.BasicFilmSession, Dataset()).instance_uid
            for display_format, film_size, images in films:
                try:
                    replies.append(
                        self._print_film(session, session_uid, display_format, film_size, images)
                    )
                except PrintError as exc:
                    log.error(
                        "store-to-film: a %s film for %r failed: %s",
                        display_format,
                        self.calling_ae_title,
                        exc,
                    )
                    replies.append(exc)
        finally:
            session.close()
            self.images.clear()
            self.reports.clear()
            if self.budget is not None:
                self.budget.release(self)
        return replies

    def _films(self) -> list[tuple[str, str, list[PreparedImage]]]:
        """(display format, film size, images) of every film to print, in order."""
        films = []
        images = iter(self.images)
        for film in store_auto_layout(len(self.images)):
            batch = [next(images).image for _ in range(film.image_count)]
            films.append((film.display_format, STORE_IMAGE_FILM_SIZE, batch))
        for report in self.reports:
            for page in report.pages:
                films.append(
                    ("STANDARD\\1,1", STORE_REPORT_FILM_SIZE, [prepare_image(page, bits=8)])
                )
        return films

    def _print_film(
        self,
        session: PrintSession,
        session_uid: str,
        display_format: str,
        film_size: str,
        images: list[PreparedImage],
    ) -> Reply:
        color = any(image.is_color for image in images) and self.profile.color
        meta = (
            uids.BasicColorPrintManagementMeta if color else uids.BasicGrayscalePrintManagementMeta
        )
        request = Dataset()
        request.ImageDisplayFormat = display_format
        request.FilmSizeID = film_size
        request.FilmOrientation = STORE_ORIENTATION
        request.ReferencedFilmSessionSequence = referenced_sequence(
            (uids.BasicFilmSession, session_uid)
        )
        film_box = session.n_create(uids.BasicFilmBox, request, meta_sop_class_uid=meta)
        box_class = uids.IMAGE_BOX_CLASS_FOR_META[meta]
        boxes = film_box.dataset.ReferencedImageBoxSequence
        for position, (item, image) in enumerate(zip(boxes, images, strict=False), start=1):
            image = prepare_image(image, bits=12, color=color)
            sequence = "BasicColorImageSequence" if color else "BasicGrayscaleImageSequence"
            box = Dataset()
            box.ImageBoxPosition = position
            setattr(box, sequence, DicomSequence([image.image_sequence_item()]))
            session.n_set(box_class, item.ReferencedSOPInstanceUID, box)
        try:
            return session.n_action(uids.BasicFilmBox, film_box.instance_uid, 1)
        finally:
            # Printed (or kept by the backend): release its pixels.
            session.n_delete(uids.BasicFilmBox, film_box.instance_uid)


def _pixel_bytes(images: list[StoredImage]) -> int:
    return sum(stored.image.pixels.nbytes for stored in images)
