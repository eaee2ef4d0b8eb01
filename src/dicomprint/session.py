"""The print session: every Print Management rule of one association, no I/O.

A :class:`PrintSession` takes the DIMSE-N requests of one association as
plain calls (SOP class, instance UID, pydicom Dataset) and answers with a
:class:`Reply` or raises :class:`~dicomprint.status.PrintError`. Which film
box is current, which LUTs are referenced, empty-page warnings, copies and
collation all live here, so they are tested without a network.

Requests are routed by (operation, SOP class) through one table,
:data:`PrintSession.ROUTES`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from attrs import frozen
from pydicom import Dataset

from . import annotation_box, film_box, film_session, image_box, presentation_lut, uids
from .annotation_box import AnnotationBox
from .attributes import Parsed, assign, parse_attributes, referenced_sequence, to_dataset
from .budget import BudgetExceededError, PixelBudget
from .character_set import declare_character_set
from .film_box import FilmBox
from .film_session import FilmSession
from .image_box import ImageBox
from .job import FilmJob, PrintJob
from .placement import image_fit
from .presentation_lut import PresentationLUT
from .print_job import PrintJobInstance
from .printer import Printer
from .printer_configuration import printer_configuration
from .status import PrintError, Status, first_warning
from .values import quoted

log = logging.getLogger(__name__)

#: Called with each print job; returns a warning status or None, or raises
#: PrintError when printing failed.
PrintCallback = Callable[[PrintJob], Status | None]

PRINT_ACTION = 1


@frozen
class Reply:
    """A successful (or warning) answer to one request."""

    status: Status = Status.SUCCESS
    #: What goes back on the wire; it names a character set when its text needs one.
    dataset: Dataset | None = attrs.field(
        default=None, converter=attrs.converters.optional(declare_character_set)
    )
    #: The instance the request created or addressed.
    instance_uid: str | None = None
    #: What the warnings were about, for the response's Error Comment.
    comment: str = ""
    #: Tags of the attributes ignored as not supported (warning 0x0107), for
    #: the N-SET response's Attribute Identifier List.
    unrecognized: tuple[int, ...] = ()
    #: The Print Job an N-ACTION created (its reply references it), for its event.
    print_job: PrintJobInstance | None = None


def _reply(status_list: list[Status], comments: list[str], dataset=None, uid=None) -> Reply:
    return Reply(first_warning(status_list), dataset, uid, "; ".join(comments))


def _parsed_reply(parsed: Parsed, dataset: Dataset | None = None, uid: str | None = None) -> Reply:
    """The reply to a request whose attributes ``parsed`` holds."""
    status = first_warning(parsed.warnings)
    return Reply(status, dataset, uid, "; ".join(parsed.comments), tuple(parsed.unrecognized))


def _check_density_order(min_density: int, max_density: int, warnings: list[Status]) -> None:
    """Min Density below Max Density, unless the printer's clamping made them
    equal: then it prints at that one density, with the B605 warning."""
    clamped = Status.DENSITY_CLAMPED in warnings
    if min_density > max_density or (min_density == max_density and not clamped):
        raise PrintError(
            Status.INVALID_ATTRIBUTE_VALUE,
            f"Min Density {min_density} must be below Max Density {max_density}",
        )


class PrintSession:
    """The print state of one association.

    ``annotation`` and ``presentation_lut`` say whether those optional SOP
    classes were negotiated: they decide what the film box N-CREATE returns.
    With ``print_job`` (the Print Job class negotiated) each successful
    N-ACTION creates a :class:`~dicomprint.print_job.PrintJobInstance`, kept
    in :attr:`print_jobs` and referenced by the N-ACTION reply.
    """

    ROUTES: dict[tuple[str, str], str] = {
        ("N-CREATE", uids.BasicFilmSession): "create_film_session",
        ("N-CREATE", uids.BasicFilmBox): "create_film_box",
        ("N-CREATE", uids.PresentationLUT): "create_presentation_lut",
        ("N-SET", uids.BasicFilmSession): "set_film_session",
        ("N-SET", uids.BasicFilmBox): "set_film_box",
        ("N-SET", uids.BasicGrayscaleImageBox): "set_image_box",
        ("N-SET", uids.BasicColorImageBox): "set_image_box",
        ("N-SET", uids.BasicAnnotationBox): "set_annotation_box",
        ("N-GET", uids.Printer): "get_printer",
        ("N-GET", uids.PrintJob): "get_print_job",
        ("N-GET", uids.PrinterConfigurationRetrieval): "get_printer_configuration",
        ("N-ACTION", uids.BasicFilmSession): "print_film_session",
        ("N-ACTION", uids.BasicFilmBox): "print_film_box",
        ("N-DELETE", uids.BasicFilmSession): "delete_film_session",
        ("N-DELETE", uids.BasicFilmBox): "delete_film_box",
        ("N-DELETE", uids.PresentationLUT): "delete_presentation_lut",
    }

    def __init__(
        self,
        printer: Printer | None = None,
        *,
        on_print: PrintCallback | None = None,
        annotation: bool = False,
        presentation_lut: bool = True,
        print_job: bool = False,
        calling_ae_title: str = "",
        called_ae_title: str = "",
        budget: PixelBudget | None = None,
    ) -> None:
        self.printer = printer or Printer()
        self.budget = budget
        self.profile = self.printer.profile
        self.on_print = on_print
        self.annotation = annotation
        self.presentation_lut_negotiated = presentation_lut
        self.calling_ae_title = calling_ae_title
        self.called_ae_title = called_ae_title
        self.film_session: FilmSession | None = None
        self.presentation_luts: dict[str, PresentationLUT] = {}
        self.print_job_negotiated = print_job
        #: Print Job instances by UID, until :meth:`forget_print_job`.
        self.print_jobs: dict[str, PrintJobInstance] = {}
        self.jobs_printed = 0

    # -- Generic entry points (what a DIMSE adapter calls) -----------------

    def n_create(
        self,
        sop_class_uid: str,
        dataset: Dataset | None,
        instance_uid: str | None = None,
        meta_sop_class_uid: str = uids.BasicGrayscalePrintManagementMeta,
    ) -> Reply:
        """N-CREATE an instance of ``sop_class_uid`` from the attribute list ``dataset``.

        ``instance_uid`` is the Affected SOP Instance UID of the request, if
        any (else the session makes one, returned in :attr:`Reply.instance_uid`);
        ``meta_sop_class_uid`` is the meta SOP class of the presentation
        context, which decides the image box class of a new film box.
        Raises :class:`~dicomprint.status.PrintError` on failure.
        """
        handler = self._route("N-CREATE", sop_class_uid)
        uid = self._new_instance_uid(instance_uid)
        return handler(dataset or Dataset(), uid, meta_sop_class_uid)

    def n_set(self, sop_class_uid: str, instance_uid: str, dataset: Dataset | None) -> Reply:
        """N-SET the modification list ``dataset`` on an instance; PrintError on failure."""
        return self._route("N-SET", sop_class_uid)(
            instance_uid, dataset or Dataset(), sop_class_uid
        )

    def n_get(
        self, sop_class_uid: str, instance_uid: str, attribute_tags: Iterable[int] = ()
    ) -> Reply:
        """N-GET the attributes ``attribute_tags`` (all of them when empty) of an instance."""
        return self._route("N-GET", sop_class_uid)(instance_uid, list(attribute_tags))

    def n_action(self, sop_class_uid: str, instance_uid: str, action_type_id: int) -> Reply:
        """N-ACTION: print a film session or film box (Action Type ID 1).

        The print job goes to ``on_print`` before this returns; its warning,
        if any, becomes the reply's status. PrintError on failure.
        """
        handler = self._route("N-ACTION", sop_class_uid)
        if action_type_id != PRINT_ACTION:
            raise PrintError(Status.NO_SUCH_ACTION_TYPE, f"action type {action_type_id}")
        return handler(instance_uid)

    def n_delete(self, sop_class_uid: str, instance_uid: str) -> Reply:
        """N-DELETE an instance (and what it owns); PrintError on failure."""
        return self._route("N-DELETE", sop_class_uid)(instance_uid)

    def close(self) -> None:
        """The association ended: release everything it created."""
        if self.film_session is not None:
            log.info("releasing film session %s", self.film_session.SOPInstanceUID)
        self.film_session = None
        self.presentation_luts.clear()
        self._release_pixels()

    def _route(self, operation: str, sop_class_uid: str) -> Callable[..., Reply]:
        name = self.ROUTES.get((operation, sop_class_uid))
        if name is None:
            if any(sop == sop_class_uid for _, sop in self.ROUTES):
                raise PrintError(
                    Status.UNRECOGNIZED_OPERATION, f"{operation} is not defined for {sop_class_uid}"
                )
            raise PrintError(Status.NO_SUCH_SOP_CLASS, f"SOP class {sop_class_uid}")
        return getattr(self, name)

    def _new_instance_uid(self, requested: str | None) -> str:
        if not requested:
            return uids.new_uid()
        if not uids.is_valid_uid(requested):
            raise PrintError(
                Status.INVALID_ARGUMENT_VALUE, f"{quoted(requested)} is not a valid UID"
            )
        if requested in self._instance_uids():
            raise PrintError(Status.DUPLICATE_SOP_INSTANCE, requested)
        return requested

    def _instance_uids(self) -> set[str]:
        found = set(self.presentation_luts)
        if self.film_session is not None:
            found.add(self.film_session.SOPInstanceUID)
            for box in self.film_session.film_boxes:
                found.add(box.SOPInstanceUID)
                found.update(b.SOPInstanceUID for b in box.image_boxes)
                found.update(b.SOPInstanceUID for b in box.annotation_boxes)
        return found

    # -- Film Session ------------------------------------------------------

    def create_film_session(self, dataset: Dataset, uid: str, meta: str) -> Reply:
        if self.film_session is not None:
            raise PrintError(
                Status.DUPLICATE_SOP_INSTANCE, "only one film session may exist per association"
            )
        parsed = parse_attributes(dataset, film_session.RULES, self.profile)
        session = FilmSession.with_defaults(uid, self.profile)
        assign(session, parsed.values)
        self._memory_allocation(session, parsed.warnings, parsed.comments)
        self.film_session = session
        log.info("created film session %s", uid)
        reply = to_dataset(session, film_session.RESPONSE_KEYWORDS)
        return _parsed_reply(parsed, reply, uid)

    def set_film_session(self, uid: str, dataset: Dataset, sop_class: str) -> Reply:
        session = self._session(uid)
        parsed = parse_attributes(dataset, film_session.RULES, self.profile)
        assign(session, parsed.values)
        self._memory_allocation(session, parsed.warnings, parsed.comments)
        return _parsed_reply(parsed, None, uid)

    def _memory_allocation(self, session: FilmSession, warnings, comments) -> None:
        # Memory is not reserved up front; the pixel budget guards it instead.
        if session.MemoryAllocation is not None:
            warnings.append(Status.MEMORY_ALLOCATION_NOT_SUPPORTED)
            comments.append("Memory Allocation is not supported: ignored")

    def delete_film_session(self, uid: str) -> Reply:
        self._session(uid)
        # The film boxes, image and annotation boxes go with it. Presentation
        # LUTs, created outside the session, stay until their own N-DELETE or
        # the association's end: SCUs such as DCMTK's delete them afterwards
        # and would get 0x0112 otherwise. Unreferenced now, they can be deleted.
        self.film_session = None
        self._release_pixels()
        log.info("deleted film session %s", uid)
        return Reply(instance_uid=uid)

    def print_film_session(self, uid: str) -> Reply:
        session = self._session(uid)
        if not self.profile.film_session_print:
            raise PrintError(Status.UNRECOGNIZED_OPERATION, "this printer prints film boxes only")
        if not session.film_boxes:
            raise PrintError(Status.FILM_SESSION_HAS_NO_FILM_BOX)
        warnings: list[Status] = []
        if any(not box.has_images for box in session.film_boxes):
            warnings.append(Status.FILM_SESSION_EMPTY_PAGE)
        if session.NumberOfCopies > 1 and not self.profile.collation:
            warnings.append(Status.FILM_SESSION_PRINTING_NOT_SUPPORTED)
        result, printed = self._print(session.film_boxes)
        if result is not None:
            warnings.append(result)
        return self._action_reply(warnings, printed, uid)

    def _session(self, uid: str) -> FilmSession:
        if self.film_session is None or self.film_session.SOPInstanceUID != uid:
            raise PrintError(Status.NO_SUCH_SOP_INSTANCE, f"no film session {uid}")
        return self.film_session

    # -- Film Box ------------------------------------------------------------

    def create_film_box(self, dataset: Dataset, uid: str, meta: str) -> Reply:
        image_box_class = uids.IMAGE_BOX_CLASS_FOR_META.get(meta)
        if image_box_class is None:
            raise PrintError(Status.NO_SUCH_SOP_CLASS, f"{meta} is not a print meta SOP class")
        if image_box_class == uids.BasicColorImageBox and not self.profile.color:
            raise PrintError(Status.SOP_CLASS_NOT_SUPPORTED, "this printer prints grayscale only")
        parsed = parse_attributes(dataset, film_box.N_CREATE_RULES, self.profile)
        session = self.film_session
        referenced = parsed.values.pop("ReferencedFilmSession")
        if session is None or session.SOPInstanceUID != referenced:
            raise PrintError(
                Status.INVALID_ATTRIBUTE_VALUE,
                f"Referenced Film Session {referenced} does not exist",
            )
        if len(session.film_boxes) >= self.profile.max_film_boxes:
            raise PrintError(
                Status.RESOURCE_LIMITATION,
                f"a film session holds at most {self.profile.max_film_boxes} film boxes",
            )
        if (
            not self.profile.film_session_print
            and session.film_boxes
            and not session.film_boxes[-1].printed
        ):
            raise PrintError(Status.UNPRINTED_FILM_BOX_EXISTS)
        self._check_lut_reference(parsed.values.get("ReferencedPresentationLUT"))

        box = FilmBox.with_defaults(uid, parsed.values.pop("ImageDisplayFormat"), self.profile)
        assign(box, parsed.values)
        _check_density_order(box.MinDensity, box.MaxDensity, parsed.warnings)
        box.image_boxes = [
            ImageBox(uids.new_uid(), image_box_class, position)
            for position in range(1, box.ImageDisplayFormat.box_count + 1)
        ]
        if self.annotation and box.AnnotationDisplayFormatID:
            count = self.profile.annotation_formats[box.AnnotationDisplayFormatID]
            box.annotation_boxes = [
                AnnotationBox(uids.new_uid(), position) for position in range(1, count + 1)
            ]
        session.film_boxes.append(box)
        log.info(
            "created film box %s (%s, %s %s)",
            uid,
            box.ImageDisplayFormat.text,
            box.FilmSizeID,
            box.FilmOrientation,
        )
        return _parsed_reply(parsed, self._film_box_dataset(box, session), uid)

    def _film_box_dataset(self, box: FilmBox, session: FilmSession) -> Dataset:
        reply = to_dataset(box, film_box.RESPONSE_KEYWORDS)
        if box.AnnotationDisplayFormatID:
            reply.AnnotationDisplayFormatID = box.AnnotationDisplayFormatID
        reply.ReferencedFilmSessionSequence = referenced_sequence(
            (uids.BasicFilmSession, session.SOPInstanceUID)
        )
        reply.ReferencedImageBoxSequence = referenced_sequence(
            *((b.SOPClassUID, b.SOPInstanceUID) for b in box.image_boxes)
        )
        if self.annotation:
            reply.ReferencedBasicAnnotationBoxSequence = referenced_sequence(
                *((uids.BasicAnnotationBox, b.SOPInstanceUID) for b in box.annotation_boxes)
            )
        if box.ReferencedPresentationLUT:
            reply.ReferencedPresentationLUTSequence = referenced_sequence(
                (uids.PresentationLUT, box.ReferencedPresentationLUT)
            )
        return reply

    def set_film_box(self, uid: str, dataset: Dataset, sop_class: str) -> Reply:
        box = self._current_film_box(uid)
        parsed = parse_attributes(dataset, film_box.N_SET_RULES, self.profile)
        self._check_lut_reference(parsed.values.get("ReferencedPresentationLUT"))
        candidate = attrs.evolve(box, **parsed.values)
        _check_density_order(candidate.MinDensity, candidate.MaxDensity, parsed.warnings)
        assign(box, parsed.values)  # never recreates the image boxes
        return _parsed_reply(parsed, None, uid)

    def print_film_box(self, uid: str) -> Reply:
        box = self._current_film_box(uid)
        warnings = [] if box.has_images else [Status.FILM_BOX_EMPTY_PAGE]
        result, printed = self._print([box])
        if result is not None:
            warnings.append(result)
        return self._action_reply(warnings, printed, uid)

    def delete_film_box(self, uid: str) -> Reply:
        box = self._current_film_box(uid)
        assert self.film_session is not None
        self.film_session.film_boxes.remove(box)
        self._release_pixels()
        log.info("deleted film box %s", uid)
        return Reply(instance_uid=uid)

    def _current_film_box(self, uid: str) -> FilmBox:
        """The film box named ``uid``, which must be the most recent one."""
        boxes = self.film_session.film_boxes if self.film_session else []
        if not any(box.SOPInstanceUID == uid for box in boxes):
            raise PrintError(Status.NO_SUCH_SOP_INSTANCE, f"no film box {uid}")
        if boxes[-1].SOPInstanceUID != uid:
            raise PrintError(
                Status.PROCESSING_FAILURE,
                f"film box {uid} is not the most recent one; only that one may be changed",
            )
        return boxes[-1]

    # -- Image Box and Annotation Box ------------------------------------------

    def set_image_box(self, uid: str, dataset: Dataset, sop_class: str) -> Reply:
        box = self._current_child(uid, "image_boxes")
        if box.SOPClassUID != sop_class:
            raise PrintError(
                Status.CLASS_INSTANCE_CONFLICT, f"image box {uid} is a {box.SOPClassUID}"
            )
        rules = image_box.n_set_rules(self.profile, color=box.is_color)
        parsed = parse_attributes(dataset, rules, self.profile)
        position = parsed.values.pop("ImageBoxPosition")
        if position != box.ImageBoxPosition:
            raise PrintError(
                Status.INVALID_ATTRIBUTE_VALUE,
                f"Image Box Position {position} does not match box {box.ImageBoxPosition}",
            )
        self._check_lut_reference(parsed.values.get("ReferencedPresentationLUT"))
        film = self.film_session.film_boxes[-1]
        candidate = attrs.evolve(box, **parsed.values)
        _check_density_order(
            film.MinDensity if candidate.MinDensity is None else candidate.MinDensity,
            film.MaxDensity if candidate.MaxDensity is None else candidate.MaxDensity,
            parsed.warnings,
        )
        # Fails now with C603 when the image cannot print; warns B604/B609/B60A.
        fit = image_fit(film, candidate, self.profile)
        if fit is not None:
            parsed.warnings.append(fit)
        if "image" in parsed.values:
            self._reserve_pixels(box, parsed.values["image"])
        assign(box, parsed.values)
        return _parsed_reply(parsed, None, uid)

    def set_annotation_box(self, uid: str, dataset: Dataset, sop_class: str) -> Reply:
        box = self._current_child(uid, "annotation_boxes")
        parsed = parse_attributes(dataset, annotation_box.N_SET_RULES, self.profile)
        if parsed.values.pop("AnnotationPosition") != box.AnnotationPosition:
            raise PrintError(
                Status.INVALID_ATTRIBUTE_VALUE, "Annotation Position does not match the box"
            )
        assign(box, parsed.values)
        return _parsed_reply(parsed, None, uid)

    def _current_child(self, uid: str, kind: str) -> Any:
        """An image or annotation box of the most recent film box."""
        boxes = self.film_session.film_boxes if self.film_session else []
        for index, film in enumerate(boxes):
            child = next((b for b in getattr(film, kind) if b.SOPInstanceUID == uid), None)
            if child is None:
                continue
            if index != len(boxes) - 1:
                raise PrintError(
                    Status.PROCESSING_FAILURE,
                    f"{uid} belongs to an earlier film box; only the latest may be changed",
                )
            return child
        raise PrintError(Status.NO_SUCH_SOP_INSTANCE, f"no {kind[:-2].replace('_', ' ')} {uid}")

    def _held_pixel_bytes(self) -> int:
        boxes = self.film_session.film_boxes if self.film_session else []
        return sum(film.pixel_bytes for film in boxes)

    def _reserve_pixels(self, box: ImageBox, image: Any) -> None:
        """Check both limits before ``image`` replaces ``box``'s image.

        The session's own limit answers 0x0213; the server-wide budget, shared
        with every other association, answers C605.
        """
        released = box.image.nbytes if box.image is not None else 0
        needed = self._held_pixel_bytes() - released + (image.nbytes if image is not None else 0)
        if needed > self.profile.max_session_pixel_bytes:
            raise PrintError(
                Status.RESOURCE_LIMITATION,
                f"session would hold {needed} pixel bytes; the limit is "
                f"{self.profile.max_session_pixel_bytes}",
            )
        if self.budget is not None:
            try:
                self.budget.update(self, needed)
            except BudgetExceededError as exc:
                raise PrintError(Status.INSUFFICIENT_PRINTER_MEMORY, str(exc)) from exc

    def _release_pixels(self) -> None:
        if self.budget is not None:
            self.budget.update(self, self._held_pixel_bytes())

    # -- Presentation LUT --------------------------------------------------------

    def create_presentation_lut(self, dataset: Dataset, uid: str, meta: str) -> Reply:
        parsed = parse_attributes(dataset, presentation_lut.N_CREATE_RULES, self.profile)
        lut = PresentationLUT.from_attributes(uid, parsed.values)
        self.presentation_luts[uid] = lut
        log.info("created presentation LUT %s (%s)", uid, lut.PresentationLUTShape or "table")
        return _parsed_reply(parsed, lut.to_dataset(), uid)

    def delete_presentation_lut(self, uid: str) -> Reply:
        if uid not in self.presentation_luts:
            raise PrintError(Status.NO_SUCH_SOP_INSTANCE, f"no presentation LUT {uid}")
        if uid in self._referenced_luts():
            raise PrintError(
                Status.PROCESSING_FAILURE, f"presentation LUT {uid} is still referenced"
            )
        del self.presentation_luts[uid]
        return Reply(instance_uid=uid)

    def _referenced_luts(self) -> set[str]:
        boxes = self.film_session.film_boxes if self.film_session else []
        return set().union(*(box.referenced_luts() for box in boxes))

    def _check_lut_reference(self, uid: str | None) -> None:
        if uid and uid not in self.presentation_luts:
            raise PrintError(
                Status.INVALID_ATTRIBUTE_VALUE, f"Presentation LUT {uid} does not exist"
            )

    # -- Printer -----------------------------------------------------------------

    def get_printer(self, uid: str, tags: list[int]) -> Reply:
        if uid != uids.PrinterInstance:
            raise PrintError(Status.NO_SUCH_SOP_INSTANCE, f"no printer {uid}")
        return Reply(dataset=self.printer.attributes(tags), instance_uid=uid)

    def get_printer_configuration(self, uid: str, tags: list[int]) -> Reply:
        if uid != uids.PrinterConfigurationRetrievalInstance:
            raise PrintError(Status.NO_SUCH_SOP_INSTANCE, f"no printer configuration {uid}")
        return Reply(dataset=printer_configuration(self.profile), instance_uid=uid)

    # -- Print Job -------------------------------------------------------------------

    def get_print_job(self, uid: str, tags: list[int]) -> Reply:
        job = self.print_jobs.get(uid)
        if job is None:
            raise PrintError(Status.NO_SUCH_SOP_INSTANCE, f"no print job {uid}")
        return Reply(dataset=job.attributes(tags), instance_uid=uid)

    def forget_print_job(self, uid: str) -> None:
        """The SCU has answered the job's final event: the instance goes (PS3.4 H.4.4)."""
        self.print_jobs.pop(uid, None)

    def _action_reply(self, warnings: list[Status], job: PrintJob, uid: str) -> Reply:
        """The N-ACTION reply, with the Print Job it created when the class was negotiated."""
        reply = _reply(warnings, [], None, uid)
        if not self.print_job_negotiated:
            return reply
        instance = PrintJobInstance.done(job, self.profile.identity.PrinterName)
        self.print_jobs[instance.SOPInstanceUID] = instance
        dataset = Dataset()
        # (2100,0500): PS3.4 H.4.1.2.4 uses it here, though PS3.6 lists it as
        # retired (pydicom's keyword names its Pull Stored Print use).
        dataset.ReferencedPrintJobSequencePullStoredPrint = referenced_sequence(
            (uids.PrintJob, instance.SOPInstanceUID)
        )
        return attrs.evolve(reply, dataset=dataset, print_job=instance)

    # -- Printing ------------------------------------------------------------------

    def _print(self, boxes: list[FilmBox]) -> tuple[Status | None, PrintJob]:
        """Hand the boxes to ``on_print``: (its warning or None, the job printed)."""
        session = self.film_session
        assert session is not None
        job = PrintJob(
            films=tuple(FilmJob.snapshot(box, self.presentation_luts) for box in boxes),
            session=attrs.evolve(session, film_boxes=[]),
            profile=self.profile,
            copies=session.NumberOfCopies,
            collate=self.profile.collation,
            calling_ae_title=self.calling_ae_title,
            called_ae_title=self.called_ae_title,
        )
        log.info(
            "printing %d film(s) x %d copies for %r",
            len(job.films),
            job.copies,
            self.calling_ae_title,
        )
        result = self.on_print(job) if self.on_print is not None else None
        for box in boxes:
            box.printed = True
        self.jobs_printed += 1
        return result, job
