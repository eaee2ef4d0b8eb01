"""A print SCU: print images on any DICOM printer in a few lines.

::

    layout = {"ImageDisplayFormat": "STANDARD\\2,2"}
    with PrintClient("127.0.0.1", 11112, "PRINTSCP", film_box=layout) as printer:
        for path in paths:
            printer.print_image(path)

:class:`PrintClient` hides the Print Management protocol (PS3.4 Annex H): it
negotiates the grayscale or colour meta SOP class, creates the film session,
creates a film box whenever the last one is full, prepares each image
(:mod:`dicomprint.prepare`) and N-SETs it into the next image box, prints
full films with N-ACTION and, on :meth:`~PrintClient.close`, prints the last
partial film, deletes what it created and releases the association.

Created instances are addressed by the UIDs the printer returns in the
N-CREATE response's Affected SOP Instance UID. pynetdicom's
``send_n_create`` returns only the status and attribute list, so the client
reads that UID from the response's command set, which pynetdicom hands to an
``EVT_DIMSE_RECV`` handler, matched by Message ID Being Responded To.

Failures raise :class:`PrintClientError` with the DICOM status and its
meaning; warnings are logged and collected in :attr:`PrintClient.warnings`.
The client is not thread-safe: use one per thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Set
from typing import Any

from attrs import frozen
from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import UID
from pynetdicom import AE, evt
from pynetdicom.status import (
    GENERAL_STATUS,
    PRINT_JOB_MANAGEMENT_SERVICE_CLASS_STATUS,
    code_to_category,
)

from dicomprint import DisplayFormat, Status, uids
from dicomprint.prepare import ImageSource, PreparedImage, Window, prepare_image

from .contexts import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION

log = logging.getLogger(__name__)

#: Largest Rows or Columns sent by default; bigger images are reduced.
DEFAULT_MAX_IMAGE_SIZE = 4096
PRINT_LEVELS = ("film_box", "film_session")
TRANSFER_SYNTAXES = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN]

#: N-ACTION statuses of a printer that does not print at that level.
_ACTION_NOT_SUPPORTED = {Status.UNRECOGNIZED_OPERATION, Status.NO_SUCH_ACTION_TYPE}
_N_CREATE_RSP = 0x8140
_PRINT = 1  # Action Type ID "Print"
_PRINTER_STATUS_TAGS = [Tag(0x2110, 0x0010), Tag(0x2110, 0x0020)]
_REFERENCED_PRINT_JOB_SEQUENCE = Tag(0x2100, 0x0500)
_PRINT_JOB_EVENTS = {1: "PENDING", 2: "PRINTING", 3: "DONE", 4: "FAILURE"}
_PRINTER_EVENTS = {1: "NORMAL", 2: "WARNING", 3: "FAILURE"}


def describe_status(code: int) -> tuple[str, str]:
    """(category, meaning) of a DIMSE status: Success, Warning, Failure ..."""
    try:
        known = Status(code)
    except ValueError:
        category = code_to_category(code)
        table = {**GENERAL_STATUS, **PRINT_JOB_MANAGEMENT_SERVICE_CLASS_STATUS}
        return category, table.get(code, (category, "Unknown status"))[1]
    return known.category.value, known.meaning


class PrintClientError(Exception):
    """A print operation failed: ``status`` is the DICOM status, None without an answer."""

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        comment: str = "",
    ) -> None:
        self.operation = operation
        self.status = status
        self.meaning = describe_status(status)[1] if status is not None else ""
        self.comment = comment
        super().__init__(message)


@frozen
class PrintWarning:
    """A warning met while printing: a DIMSE warning status, a printer event, a fallback."""

    operation: str
    status: int | None
    meaning: str
    comment: str = ""

    def __str__(self) -> str:
        code = f"0x{self.status:04X} " if self.status is not None else ""
        comment = f" ({self.comment})" if self.comment else ""
        return f"{self.operation}: {code}{self.meaning}{comment}"


@frozen
class PrinterEvent:
    """An N-EVENT-REPORT from the printer (Printer or Print Job SOP class)."""

    sop_class: str
    event_type: int
    info: Dataset

    @property
    def name(self) -> str:
        """NORMAL/WARNING/FAILURE for the printer, PENDING ... FAILURE for a print job."""
        names = _PRINT_JOB_EVENTS if self.sop_class == uids.PrintJob else _PRINTER_EVENTS
        return names.get(self.event_type, f"event type {self.event_type}")

    @property
    def status_info(self) -> str:
        return str(self.info.get("PrinterStatusInfo") or self.info.get("ExecutionStatusInfo") or "")


@frozen
class FilmReport:
    """One film printed: its number in this client, images, the N-ACTION answer."""

    number: int
    images: int
    film_box_uid: str
    level: str
    status: int
    print_job_uid: str | None = None


class _Film:
    """The film box being filled: its UID and its image boxes in position order."""

    def __init__(self, uid: str, image_boxes: list[tuple[str, str]]) -> None:
        self.uid = uid
        self.image_boxes = image_boxes
        self.filled = 0

    @property
    def full(self) -> bool:
        return self.filled >= len(self.image_boxes)


def _dataset(attributes: Mapping[str | int, Any]) -> Dataset:
    """A dataset from DICOM keywords (or tags) and values."""
    ds = Dataset()
    for key, value in attributes.items():
        tag = Tag(key) if isinstance(key, int) else tag_for_keyword(key)
        if tag is None:
            raise ValueError(f"{key!r} is not a DICOM keyword")
        ds.add_new(tag, dictionary_VR(tag), value)
    return ds


def _referenced(sop_class: str, uid: str) -> Sequence:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    return Sequence([item])


class PrintClient:
    """Print images on a DICOM printer: one association, one film session.

    ``film_session``, ``film_box`` and ``image_box`` map DICOM keywords (or
    tags) to values sent in the film session N-CREATE, every film box
    N-CREATE and every image box N-SET; they stay editable (a change
    applies to the next film box or image). ``film_box`` defaults to
    ``ImageDisplayFormat`` ``STANDARD\\1,1``; ``copies`` sets Number of
    Copies.

    ``print_level``: ``"film_box"`` prints each film when it is full (film
    box N-ACTION); ``"film_session"`` prints all films at close with one
    film session N-ACTION, so the printer collates copies. A printer that
    refuses the chosen level is driven at the other one, with a warning.

    ``presentation_lut``: a Presentation LUT Shape (``"IDENTITY"``,
    ``"LIN OD"``) or a dataset with a Presentation LUT Sequence; it is
    created once and referenced by every film box.

    ``bits``: 12 or 8 bit grayscale P-values; a printer that refuses
    12-bit images (0x0106) gets 8-bit ones from then on, with a warning.
    ``max_image_size``: images with more rows or columns are reduced.
    ``check_printer``: ask the printer's status when opening; FAILURE
    raises, WARNING is recorded.
    ``on_film`` is called with a :class:`FilmReport` for every film
    printed, ``on_event`` with every :class:`PrinterEvent` (from
    pynetdicom's thread).
    """

    def __init__(
        self,
        host: str,
        port: int = 104,
        called_ae: str = "PRINTSCP",
        calling_ae: str = "DICOMPRINT",
        *,
        color: bool = False,
        film_session: Mapping[str | int, Any] | None = None,
        film_box: Mapping[str | int, Any] | None = None,
        image_box: Mapping[str | int, Any] | None = None,
        copies: int | None = None,
        presentation_lut: str | Dataset | None = None,
        print_level: str = "film_box",
        bits: int = 12,
        max_image_size: int | None = DEFAULT_MAX_IMAGE_SIZE,
        check_printer: bool = True,
        timeout: float = 60.0,
        on_film: Callable[[FilmReport], None] | None = None,
        on_event: Callable[[PrinterEvent], None] | None = None,
    ) -> None:
        if print_level not in PRINT_LEVELS:
            raise ValueError(f"print_level must be one of {PRINT_LEVELS}")
        if bits not in (8, 12):
            raise ValueError("bits must be 8 or 12")
        self.host = host
        self.port = port
        self.called_ae = called_ae
        self.calling_ae = calling_ae
        self.color = color
        self.film_session: dict[str | int, Any] = dict(film_session or {})
        if copies is not None:
            self.film_session["NumberOfCopies"] = copies
        self.film_box: dict[str | int, Any] = {"ImageDisplayFormat": "STANDARD\\1,1"}
        self.film_box.update(film_box or {})
        self.image_box: dict[str | int, Any] = dict(image_box or {})
        self.presentation_lut = presentation_lut
        self.print_level = print_level
        self.bits = bits
        self.max_image_size = max_image_size
        self.check_printer = check_printer
        self.timeout = timeout
        self.on_film = on_film
        self.on_event = on_event
        #: Warnings met so far, oldest first.
        self.warnings: list[PrintWarning] = []
        #: N-EVENT-REPORTs received so far.
        self.events: list[PrinterEvent] = []
        #: Films printed so far.
        self.films: list[FilmReport] = []
        #: The printer's answers to the film session N-CREATE and N-GET.
        self.film_session_reply = Dataset()
        self.printer_reply = Dataset()
        self.film_session_uid: str | None = None
        self.presentation_lut_uid: str | None = None
        self._assoc: Any = None
        self._film: _Film | None = None
        self._pending: list[_Film] = []  # film_session level: filled, not printed
        self._film_action_class = uids.BasicFilmBox
        self._message_id = 0
        self._responses: dict[int, Dataset] = {}
        self._lock = threading.Lock()

    @property
    def meta_sop_class(self) -> str:
        return (
            uids.BasicColorPrintManagementMeta
            if self.color
            else uids.BasicGrayscalePrintManagementMeta
        )

    @property
    def is_open(self) -> bool:
        return self._assoc is not None and self._assoc.is_established

    # -- Life cycle ------------------------------------------------------------------

    def open(self) -> PrintClient:
        """Associate, check the printer, create the film session (and Presentation LUT)."""
        if self._assoc is not None:
            raise RuntimeError("the client is already open")
        # Typos fail here, before the printer sees anything.
        DisplayFormat.parse(str(self.film_box["ImageDisplayFormat"]))
        for attributes in (self.film_session, self.film_box, self.image_box):
            _dataset(attributes)
        ae = AE(ae_title=self.calling_ae)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = self.timeout
        ae.add_requested_context(self.meta_sop_class, TRANSFER_SYNTAXES)
        # Verification too: a printer without the meta class then still
        # associates (rather than aborting), so we can say what it lacks.
        ae.add_requested_context(VERIFICATION, TRANSFER_SYNTAXES)
        if self.presentation_lut is not None:
            ae.add_requested_context(uids.PresentationLUT, TRANSFER_SYNTAXES)
        handlers = [
            (evt.EVT_DIMSE_RECV, self._received),
            (evt.EVT_N_EVENT_REPORT, self._event_report),
        ]
        where = f"{self.called_ae}@{self.host}:{self.port}"
        assoc = ae.associate(self.host, self.port, ae_title=self.called_ae, evt_handlers=handlers)
        if not assoc.is_established:
            how = "rejected" if assoc.is_rejected else "aborted" if assoc.is_aborted else "failed"
            raise PrintClientError(f"association with {where} {how}", operation="A-ASSOCIATE")
        self._assoc = assoc
        try:
            accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
            if self.meta_sop_class not in accepted:
                raise PrintClientError(
                    f"{where} does not accept {UID(self.meta_sop_class).name}",
                    operation="A-ASSOCIATE",
                )
            log.info("associated with %s (%s)", where, UID(self.meta_sop_class).name)
            if self.check_printer:
                self._check_printer_status()
            self._create_film_session()
            if self.presentation_lut is not None:
                if uids.PresentationLUT in accepted:
                    self._create_presentation_lut()
                else:
                    self._warn("A-ASSOCIATE", None, "Presentation LUT not accepted; not used")
        except BaseException:
            self._delete_created()
            self._release()
            raise
        return self

    def close(self, *, print_pending: bool = True) -> None:
        """Print what is not printed yet (unless told not to), delete, release.

        Never leaves the association open; errors while cleaning up become
        warnings. Errors while printing are raised after cleaning up.
        """
        if self._assoc is None:
            return
        try:
            if print_pending and self.is_open:
                self.flush()
        finally:
            self._delete_created()
            self._release()

    def __enter__(self) -> PrintClient:
        return self.open()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # After an error in the with block the partial film is not printed.
        self.close(print_pending=exc_type is None)

    # -- Printing ----------------------------------------------------------------------

    def print_image(
        self,
        image: ImageSource | PreparedImage,
        *,
        frame: int = 0,
        window: Window | str | None = None,
        image_box: Mapping[str | int, Any] | None = None,
    ) -> int:
        """Put an image into the next image box; print the film when it is full.

        ``image``: a pydicom Dataset, a DICOM file path, a numpy array or a
        :class:`~dicomprint.prepare.PreparedImage`; ``frame`` and ``window``
        as in :func:`~dicomprint.prepare.prepare_image`. ``image_box`` adds
        image box attributes (e.g. ``Polarity``) for this image only.
        Returns the Image Box Position used.
        """
        self._require_open()
        prepared = self._prepare(image, frame=frame, window=window)
        if self._film is None:
            self._film = self._create_film_box()
        film = self._film
        position = film.filled + 1
        self._set_image_box(film, position, prepared, {**self.image_box, **(image_box or {})})
        film.filled = position
        if film.full:
            self._film_done()
        return position

    def flush(self) -> None:
        """Print now: the partial film, and at film session level every film not printed."""
        self._require_open()
        if self._film is not None and self._film.filled:
            self._film_done()
        if self._pending:
            self._print_session()

    def printer_status(self) -> Dataset:
        """N-GET of Printer Status and Printer Status Info from the printer."""
        self._require_open()
        status, reply = self._assoc.send_n_get(
            _PRINTER_STATUS_TAGS,
            uids.Printer,
            uids.PrinterInstance,
            msg_id=self._next_id(),
            meta_uid=self.meta_sop_class,
        )
        self._check("N-GET Printer", status)
        return reply if reply is not None else Dataset()

    # -- Steps ---------------------------------------------------------------------------

    def _prepare(self, image: Any, *, frame: int, window: Any) -> PreparedImage:
        return prepare_image(
            image,
            bits=self.bits,
            color=self.color,
            max_size=self.max_image_size,
            frame=frame,
            window=window,
        )

    def _check_printer_status(self) -> None:
        try:
            self.printer_reply = self.printer_status()
        except PrintClientError as exc:
            if exc.status is None:
                raise
            self._warn("N-GET Printer", exc.status, "printer status not available", exc.comment)
            return
        state = str(self.printer_reply.get("PrinterStatus") or "")
        info = str(self.printer_reply.get("PrinterStatusInfo") or "")
        if state == "FAILURE":
            raise PrintClientError(
                f"the printer reports FAILURE ({info or 'no detail'})", operation="N-GET Printer"
            )
        if state == "WARNING":
            self._warn("N-GET Printer", None, f"printer status WARNING ({info or 'no detail'})")

    def _create_film_session(self) -> None:
        uid, reply = self._n_create(uids.BasicFilmSession, _dataset(self.film_session))
        self.film_session_uid, self.film_session_reply = uid, reply

    def _create_presentation_lut(self) -> None:
        lut = self.presentation_lut
        if isinstance(lut, str):
            ds = Dataset()
            ds.PresentationLUTShape = lut
        else:
            ds = lut
        self.presentation_lut_uid, _ = self._n_create(uids.PresentationLUT, ds)

    def _create_film_box(self) -> _Film:
        request = _dataset(self.film_box)
        request.ReferencedFilmSessionSequence = _referenced(
            uids.BasicFilmSession, str(self.film_session_uid)
        )
        if self.presentation_lut_uid:
            request.ReferencedPresentationLUTSequence = _referenced(
                uids.PresentationLUT, self.presentation_lut_uid
            )
        try:
            uid, reply = self._n_create(uids.BasicFilmBox, request)
        except PrintClientError as exc:
            if exc.status != Status.UNPRINTED_FILM_BOX_EXISTS or len(self._pending) != 1:
                raise
            # The printer prints film boxes one at a time only (C616): print
            # the waiting one at film box level and go on at that level.
            self._warn(exc.operation, exc.status, exc.meaning, "printing each film box instead")
            self.print_level = "film_box"
            self._print_film(self._pending.pop(), uids.BasicFilmBox)
            uid, reply = self._n_create(uids.BasicFilmBox, request)
        boxes = [
            (str(item.ReferencedSOPClassUID), str(item.ReferencedSOPInstanceUID))
            for item in reply.get("ReferencedImageBoxSequence") or []
        ]
        if not boxes:
            raise PrintClientError(
                "the film box N-CREATE response lists no image boxes",
                operation="N-CREATE Basic Film Box",
            )
        log.debug("film box %s with %d image boxes", uid, len(boxes))
        return _Film(uid, boxes)

    def _set_image_box(
        self, film: _Film, position: int, image: PreparedImage, attributes: Mapping[str | int, Any]
    ) -> None:
        sop_class, uid = film.image_boxes[position - 1]
        request = _dataset(attributes)
        request.ImageBoxPosition = position
        keyword = "BasicColorImageSequence" if image.is_color else "BasicGrayscaleImageSequence"
        setattr(request, keyword, Sequence([image.image_sequence_item()]))
        try:
            self._n_set(sop_class, uid, request)
        except PrintClientError as exc:
            if exc.status != Status.INVALID_ATTRIBUTE_VALUE or image.BitsStored != 12:
                raise
            self._warn(exc.operation, exc.status, "12-bit images refused", "sending 8-bit images")
            self.bits = 8
            request.BasicGrayscaleImageSequence = Sequence(
                [prepare_image(image, bits=8).image_sequence_item()]
            )
            self._n_set(sop_class, uid, request)

    def _film_done(self) -> None:
        """The current film is complete: print it now or keep it for the session."""
        film, self._film = self._film, None
        if film is None:
            return
        if self.print_level == "film_session":
            self._pending.append(film)
            return
        self._print_film(film, self._film_action_class)

    def _print_film(self, film: _Film, action_class: str) -> None:
        """Print one film (film box N-ACTION, or session N-ACTION as fallback), then delete it."""
        uid = film.uid if action_class == uids.BasicFilmBox else str(self.film_session_uid)
        try:
            status, reply = self._n_action(action_class, uid)
        except PrintClientError as exc:
            if exc.status not in _ACTION_NOT_SUPPORTED or action_class != uids.BasicFilmBox:
                raise
            # The printer prints only whole sessions; ours holds just this film box.
            self._warn(exc.operation, exc.status, exc.meaning, "printing at film session level")
            self._film_action_class = action_class = uids.BasicFilmSession
            status, reply = self._n_action(action_class, str(self.film_session_uid))
        level = "film box" if action_class == uids.BasicFilmBox else "film session"
        self._report(film, level, status, reply)
        # Printed: free the printer's memory before the next film box.
        self._n_delete(uids.BasicFilmBox, film.uid)

    def _print_session(self) -> None:
        films, self._pending = self._pending, []
        try:
            status, reply = self._n_action(uids.BasicFilmSession, str(self.film_session_uid))
        except PrintClientError as exc:
            if exc.status not in _ACTION_NOT_SUPPORTED or len(films) != 1:
                raise
            self._warn(exc.operation, exc.status, exc.meaning, "printing the film box instead")
            self.print_level = "film_box"
            self._print_film(films[0], uids.BasicFilmBox)
            return
        for film in films:
            self._report(film, "film session", status, reply)

    def _report(self, film: _Film, level: str, status: int, reply: Dataset | None) -> None:
        job_uid = None
        if reply is not None and _REFERENCED_PRINT_JOB_SEQUENCE in reply:
            items = reply[_REFERENCED_PRINT_JOB_SEQUENCE].value
            if items and "ReferencedSOPInstanceUID" in items[0]:
                job_uid = str(items[0].ReferencedSOPInstanceUID)
        report = FilmReport(len(self.films) + 1, film.filled, film.uid, level, status, job_uid)
        self.films.append(report)
        log.info("film %d printed (%d images, %s level)", report.number, film.filled, level)
        if self.on_film is not None:
            self.on_film(report)

    def _delete_created(self) -> None:
        """N-DELETE what this client created and still exists; failures become warnings."""
        if not self.is_open:
            return
        if self._film is not None:
            self._n_delete(uids.BasicFilmBox, self._film.uid)
            self._film = None
        self._pending = []
        if self.film_session_uid:
            # Deletes the film boxes of the session with it (PS3.4 H.4.1.2.5).
            self._n_delete(uids.BasicFilmSession, self.film_session_uid)
            self.film_session_uid = None
        if self.presentation_lut_uid:
            # Some printers delete it with the session: 0x0112 then is no news.
            gone = {Status.NO_SUCH_SOP_INSTANCE}
            self._n_delete(uids.PresentationLUT, self.presentation_lut_uid, expected=gone)
            self.presentation_lut_uid = None

    def _release(self) -> None:
        assoc, self._assoc = self._assoc, None
        self._film = None
        if assoc is not None and assoc.is_established:
            assoc.release()

    # -- DIMSE -----------------------------------------------------------------------------

    def _n_create(self, sop_class: str, request: Dataset) -> tuple[str, Dataset]:
        operation = f"N-CREATE {UID(sop_class).name}"
        msg_id = self._next_id()
        # An empty attribute list goes as none at all: pynetdicom would announce
        # a data set and send zero bytes, and DCMTK then waits for it forever.
        status, reply = self._assoc.send_n_create(
            request if len(request) else None,
            sop_class,
            None,
            msg_id=msg_id,
            meta_uid=self._meta(sop_class),
        )
        with self._lock:
            command = self._responses.pop(msg_id, None)
        self._check(operation, status)
        uid = command.get("AffectedSOPInstanceUID") if command is not None else None
        if not uid:
            raise PrintClientError(
                f"{operation}: the printer returned no Affected SOP Instance UID",
                operation=operation,
            )
        return str(uid), reply if reply is not None else Dataset()

    def _n_set(self, sop_class: str, uid: str, request: Dataset) -> Dataset:
        operation = f"N-SET {UID(sop_class).name}"
        status, reply = self._assoc.send_n_set(
            request, sop_class, uid, msg_id=self._next_id(), meta_uid=self._meta(sop_class)
        )
        self._check(operation, status)
        return reply if reply is not None else Dataset()

    def _n_action(self, sop_class: str, uid: str) -> tuple[int, Dataset | None]:
        operation = f"N-ACTION {UID(sop_class).name}"
        status, reply = self._assoc.send_n_action(
            None, _PRINT, sop_class, uid, msg_id=self._next_id(), meta_uid=self._meta(sop_class)
        )
        return self._check(operation, status), reply

    def _n_delete(self, sop_class: str, uid: str, *, expected: Set[int] = frozenset()) -> None:
        """N-DELETE; a failure is a warning, unless its status is ``expected``."""
        operation = f"N-DELETE {UID(sop_class).name}"
        if not self.is_open:
            return
        status = self._assoc.send_n_delete(
            sop_class, uid, msg_id=self._next_id(), meta_uid=self._meta(sop_class)
        )
        try:
            self._check(operation, status)
        except PrintClientError as exc:
            if exc.status in expected:
                log.debug("%s %s: %s", operation, uid, exc)
            else:
                self._warn(operation, exc.status, exc.meaning or str(exc), exc.comment)

    def _check(self, operation: str, status: Dataset) -> int:
        """The status code of a response: warnings recorded, failures raised."""
        if status is None or "Status" not in status:
            raise PrintClientError(
                f"{operation}: no answer from the printer (timeout or association aborted)",
                operation=operation,
            )
        code = int(status.Status)
        category, meaning = describe_status(code)
        comment = str(status.get("ErrorComment") or "")
        if category == "Warning":
            self._warn(operation, code, meaning, comment)
        elif category != "Success":
            raise PrintClientError(
                f"{operation} failed: 0x{code:04X} {meaning}"
                + (f" ({comment})" if comment else ""),
                operation=operation,
                status=code,
                comment=comment,
            )
        return code

    def _warn(self, operation: str, status: int | None, meaning: str, comment: str = "") -> None:
        warning = PrintWarning(operation, status, meaning, comment)
        with self._lock:
            self.warnings.append(warning)
        log.warning("%s", warning)

    def _meta(self, sop_class: str) -> str | None:
        # Optional classes travel on their own context, the rest on the meta class's.
        return None if sop_class == uids.PresentationLUT else self.meta_sop_class

    def _next_id(self) -> int:
        self._message_id = self._message_id % 0xFFFF + 1  # 1..65535
        return self._message_id

    def _require_open(self) -> None:
        if not self.is_open:
            raise PrintClientError("the client is not open (use open() or a with block)")

    # -- pynetdicom events (its threads) -------------------------------------------------------

    def _received(self, event: Any) -> None:
        command = event.message.command_set
        if command.get("CommandField") == _N_CREATE_RSP:
            with self._lock:
                self._responses[int(command.MessageIDBeingRespondedTo)] = command

    def _event_report(self, event: Any) -> tuple[int, None]:
        sop_class = str(event.request.AffectedSOPClassUID)
        try:
            info = event.event_information
        except Exception:  # an undecodable report must not break printing
            info = Dataset()
        report = PrinterEvent(sop_class, int(event.event_type), info)
        with self._lock:
            self.events.append(report)
        if report.name in ("WARNING", "FAILURE"):
            self._warn(
                f"N-EVENT-REPORT {UID(sop_class).name}", None, report.name, report.status_info
            )
        else:
            log.info("%s reports %s", UID(sop_class).name, report.name)
        if self.on_event is not None:
            self.on_event(report)
        return 0x0000, None  # (status, event reply): pynetdicom unpacks both


def echo(
    host: str,
    port: int = 104,
    called_ae: str = "PRINTSCP",
    calling_ae: str = "DICOMPRINT",
    *,
    timeout: float = 30.0,
) -> int:
    """C-ECHO the peer; returns its status (0 is success). No answer raises."""
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    ae.add_requested_context(VERIFICATION, TRANSFER_SYNTAXES)
    assoc = ae.associate(host, port, ae_title=called_ae)
    if not assoc.is_established:
        raise PrintClientError(
            f"association with {called_ae}@{host}:{port} failed", operation="A-ASSOCIATE"
        )
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if "Status" not in status:
        raise PrintClientError("C-ECHO: no answer", operation="C-ECHO")
    return int(status.Status)
