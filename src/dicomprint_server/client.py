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
N-CREATE responses (see :mod:`.print_scu` for how, since pynetdicom's
``send_n_create`` does not hand them back).

Failures raise :class:`PrintClientError` with the DICOM status and its
meaning; warnings are logged and collected in :attr:`PrintClient.warnings`.
The client is not thread-safe: use one per thread.
"""

from __future__ import annotations

import copy
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from dicomprint import DisplayFormat, Status, uids, values
from dicomprint.prepare import ImageSource, PreparedImage, Window, prepare_image
from dicomprint.values import quoted

from .client_reports import (
    FilmReport,
    PrintClientError,
    PrinterEvent,
    PrintWarning,
    describe_status,
)
from .print_scu import PRINTER_STATUS, PrintAssociation, echo, printer_information

__all__ = [
    "DEFAULT_MAX_IMAGE_SIZE",
    "FilmReport",
    "PrintClient",
    "PrintClientError",
    "PrintWarning",
    "PrinterEvent",
    "describe_status",
    "echo",
    "printer_information",
]

log = logging.getLogger(__name__)

#: Largest Rows or Columns sent by default; bigger images are reduced.
DEFAULT_MAX_IMAGE_SIZE = 4096
PRINT_LEVELS = ("film_box", "film_session")

#: N-ACTION statuses of a printer that does not print at that level.
_ACTION_NOT_SUPPORTED = {Status.UNRECOGNIZED_OPERATION, Status.NO_SUCH_ACTION_TYPE}
#: (2100,0500), as the server's N-ACTION reply names it (see dicomprint.session).
_REFERENCED_PRINT_JOB_SEQUENCE = Tag("ReferencedPrintJobSequencePullStoredPrint")
_PRINT_JOB_STATUS_TAGS = [Tag(k) for k in ("ExecutionStatus", "ExecutionStatusInfo")]
#: Execution Statuses after which a print job changes no more.
_JOB_ENDS = ("DONE", "FAILURE")
#: The status of a print job the printer no longer knows (N-GET 0x0112).
_JOB_GONE = "GONE"
#: Seconds without news of a print job after which the client asks (N-GET).
_JOB_POLL = 5.0


class _Film:
    """The film box being filled: its UID and its image boxes in position order."""

    def __init__(
        self,
        uid: str,
        image_boxes: list[tuple[str, str]],
        annotation_boxes: list[tuple[str, str]] | None = None,
    ) -> None:
        self.uid = uid
        self.image_boxes = image_boxes
        #: Its annotation boxes in Annotation Position order.
        self.annotation_boxes = annotation_boxes or []
        self.filled = 0
        #: At film session level, what was set into it, to set again into a
        #: new film box: (image, image box attributes) in position order.
        self.images: list[tuple[PreparedImage, Mapping[str | int, Any]]] = []
        #: What its annotation boxes were set to: Annotation Position -> text.
        self.texts: dict[int, str] = {}

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
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            raise ValueError(f"{tag} is not in the DICOM dictionary") from None
        ds.add_new(tag, vr, value)
    return ds


def checked_annotations(texts: Mapping[int, str] | None) -> dict[int, str]:
    """Annotation Position -> Text String, checked before anything is sent."""
    checked = {}
    for position, text in (texts or {}).items():
        if not isinstance(position, int) or not 1 <= position <= 0xFFFF:
            raise ValueError(f"annotation position {position!r} is not a number from 1")
        try:
            if "\\" in str(text):
                raise ValueError("a backslash would split it")
            values.long_string(str(text))
        except ValueError as exc:
            raise ValueError(f"annotation text {quoted(str(text))}: {exc} (VR LO)") from None
        checked[position] = str(text)
    return checked


def _encodable_lut(lut: Dataset) -> Dataset:
    """A copy of a Presentation LUT data set whose LUT Data pydicom can write.

    LUT Data is "US or OW": pydicom writes neither a list nor an array of
    that VR. Numbers go as US (at most 4096 entries fit), bytes as OW.
    """
    ds = copy.deepcopy(lut)  # small; the caller's stays as it was
    for item in ds.get("PresentationLUTSequence") or []:
        _encode_lut_data(item)
    return ds


def _encode_lut_data(ds: Dataset) -> None:
    if "LUTData" in ds:
        value = ds.LUTData
        if isinstance(value, bytes | bytearray):
            ds.add_new("LUTData", "OW", bytes(value))
        else:
            values = [value] if isinstance(value, int) else list(value)
            ds.add_new("LUTData", "US", [int(v) for v in values])


def _referenced_boxes(reply: Dataset, keyword: str) -> list[tuple[str, str]]:
    return [
        (str(item.ReferencedSOPClassUID), str(item.ReferencedSOPInstanceUID))
        for item in reply.get(keyword) or []
    ]


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
    When a film session holds all the printer takes (0x0213 on the next
    film box N-CREATE or image box N-SET), the films so far are printed as
    one session, with a warning, and the next films go into a new film
    session (a half-filled film is filled again there).

    ``presentation_lut``: a Presentation LUT Shape (``"IDENTITY"``,
    ``"LIN OD"``) or a dataset with a Presentation LUT Sequence (LUT Data
    a list, a numpy array or bytes); it is created once and referenced by
    every film box.

    ``annotations`` maps Annotation Position to a line of text (at most 64
    characters) printed on every film, in the annotation boxes of the
    printer-specific ``AnnotationDisplayFormatID`` that ``film_box`` must
    then name; :meth:`print_image` can change them for one film. With that
    ID the Basic Annotation Box class is proposed; a printer that does not
    accept it prints without annotations, with a warning.

    ``wait_for_print_jobs``: seconds to wait at close until each print job
    the printer created is DONE or FAILURE (0, the default: the Print Job
    class is not proposed). The client follows the jobs' N-EVENT-REPORTs
    and, after a few quiet seconds, asks with N-GET (which also keeps the
    association from timing out). A job that FAILED raises
    :class:`PrintClientError` at close; one still unfinished is a warning.
    ``print_jobs`` maps each job's UID to its last known Execution Status.

    ``bits``: 12 or 8 bit grayscale P-values; a printer that refuses
    12-bit images (0x0106) gets 8-bit ones from then on, with a warning.
    ``max_image_size``: images with more rows or columns are reduced.
    ``check_printer``: ask the printer's status when opening and record
    WARNING or FAILURE as a warning. Printing goes on either way: the
    N-ACTION's status tells whether a film printed, a printer that queues
    jobs prints them once it is mended, and a server that shows FAILURE
    because its last print failed only learns it works from the next one.
    ``on_film`` is called with a :class:`FilmReport` for every film
    printed, ``on_event`` with every :class:`PrinterEvent` (from
    pynetdicom's thread).

    ``tls``: an :class:`ssl.SSLContext` for DICOM over TLS, usually from
    :func:`~dicomprint_server.tls.client_context` (the CAs that signed the
    printer's certificate, and our own certificate and key if the printer
    requires one); ``tls_server_name``: the name the printer's certificate
    must have, when it is not ``host``.
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
        annotations: Mapping[int, str] | None = None,
        wait_for_print_jobs: float = 0,
        print_level: str = "film_box",
        bits: int = 12,
        max_image_size: int | None = DEFAULT_MAX_IMAGE_SIZE,
        check_printer: bool = True,
        timeout: float = 60.0,
        on_film: Callable[[FilmReport], None] | None = None,
        on_event: Callable[[PrinterEvent], None] | None = None,
        tls: ssl.SSLContext | None = None,
        tls_server_name: str | None = None,
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
        self.annotations = checked_annotations(annotations)
        self.wait_for_print_jobs = wait_for_print_jobs
        self.print_level = print_level
        self.bits = bits
        self.max_image_size = max_image_size
        self.check_printer = check_printer
        self.timeout = timeout
        self.on_film = on_film
        self.on_event = on_event
        self.tls = tls
        self.tls_server_name = tls_server_name
        self._check_attributes()  # again at open(): the attributes may change until then
        #: Warnings met so far, oldest first.
        self.warnings: list[PrintWarning] = []
        #: N-EVENT-REPORTs received so far.
        self.events: list[PrinterEvent] = []
        #: Films printed so far.
        self.films: list[FilmReport] = []
        #: Print Job UID -> its last known Execution Status ("" until known, "GONE"
        #: when the printer no longer knew it).
        self.print_jobs: dict[str, str] = {}
        #: The printer's answers to the film session N-CREATE and N-GET.
        self.film_session_reply = Dataset()
        self.printer_reply = Dataset()
        self.film_session_uid: str | None = None
        self.presentation_lut_uid: str | None = None
        self._assoc: PrintAssociation | None = None
        self._film: _Film | None = None
        self._pending: list[_Film] = []  # film_session level: filled, not printed
        self._film_action_class = uids.BasicFilmBox
        self._lock = threading.Lock()  # warnings and events arrive on pynetdicom's threads
        # Print job events and the association's end wake a wait for print jobs.
        self._job_news = threading.Condition(self._lock)

    @property
    def meta_sop_class(self) -> str:
        return (
            uids.BasicColorPrintManagementMeta
            if self.color
            else uids.BasicGrayscalePrintManagementMeta
        )

    @property
    def _annotated(self) -> bool:
        """Films have annotation boxes: the Basic Annotation Box class is proposed."""
        return bool(self.film_box.get("AnnotationDisplayFormatID"))

    @property
    def is_open(self) -> bool:
        return self._assoc is not None and self._assoc.is_open

    # -- Life cycle ------------------------------------------------------------------

    def open(self) -> PrintClient:
        """Associate, check the printer, create the film session (and Presentation LUT)."""
        if self._assoc is not None:
            raise RuntimeError("the client is already open")
        self._check_attributes()
        optional = [uids.PresentationLUT] if self.presentation_lut is not None else []
        if self._annotated:
            optional.append(uids.BasicAnnotationBox)
        if self.wait_for_print_jobs:
            optional.append(uids.PrintJob)
        self._assoc = PrintAssociation(
            self.host,
            self.port,
            self.called_ae,
            self.calling_ae,
            meta_sop_class=self.meta_sop_class,
            optional=optional,
            timeout=self.timeout,
            warn=self._record_warning,
            on_event=self._record_event,
            on_end=self._association_ended,
            tls=self.tls,
            tls_server_name=self.tls_server_name,
        )
        try:
            if self._annotated and uids.BasicAnnotationBox not in self._assoc.accepted:
                self._warn("A-ASSOCIATE", None, "Basic Annotation Box not accepted; no annotations")
            if self.check_printer:
                self._check_printer_status()
            self._start_film_session()
        except BaseException:
            self._delete_created()
            self._release()
            raise
        return self

    def _check_attributes(self) -> None:
        """Typos fail here, before the printer sees anything (ValueError)."""
        DisplayFormat.parse(str(self.film_box["ImageDisplayFormat"]))
        for attributes in (self.film_session, self.film_box, self.image_box):
            _dataset(attributes)
        self._check_annotated(self.annotations)

    def _check_annotated(self, texts: Mapping[int, str]) -> None:
        if texts and not self._annotated:
            raise ValueError("annotations need the printer's AnnotationDisplayFormatID in film_box")

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
                self._await_print_jobs()
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
        annotations: Mapping[int, str] | None = None,
    ) -> int:
        """Put an image into the next image box; print the film when it is full.

        ``image``: a pydicom Dataset, a DICOM file path, a numpy array or a
        :class:`~dicomprint.prepare.PreparedImage`; ``frame`` and ``window``
        as in :func:`~dicomprint.prepare.prepare_image`. ``image_box`` adds
        image box attributes (e.g. ``Polarity``) for this image only.
        ``annotations`` (Annotation Position -> text) replace those of the
        film this image goes on (an empty text clears one). Returns the
        Image Box Position used.
        """
        self._require_open()
        texts = checked_annotations(annotations)
        self._check_annotated(texts)
        prepared = self._prepare(image, frame=frame, window=window)
        if self._film is None:
            self._film = self._create_film_box()
        film = self._film
        self._set_annotations(film, texts)
        # Kept while films wait to print at film session level: a full
        # session (below) makes this film start again in a new one.
        keep = self.print_level == "film_session" and bool(self._pending)
        position = film.filled + 1
        attributes = {**self.image_box, **(image_box or {})}
        try:
            self._set_image_box(film, position, prepared, attributes)
        except PrintClientError as exc:
            if not self._session_full(exc):
                raise
            # The session's pixels are all the printer takes: print the films
            # so far, then this one again in a new session. It must go first,
            # or the session N-ACTION would print it half filled.
            try:
                self._scu().n_delete(uids.BasicFilmBox, film.uid, strict=True)
            except PrintClientError:
                raise exc from None
            self._film = None
            self._print_and_restart_session(exc)
            film = self._film = self._refill(film)
            self._set_image_box(film, position, prepared, attributes)
        film.filled = position
        if keep:
            film.images.append((prepared, attributes))
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
        return self._scu().n_get(uids.Printer, uids.PrinterInstance, PRINTER_STATUS)

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
        if state in ("WARNING", "FAILURE"):
            self._warn("N-GET Printer", None, f"printer status {state} ({info or 'no detail'})")

    def _start_film_session(self) -> None:
        """Create the film session, and the Presentation LUT its film boxes reference."""
        self._create_film_session()
        if self.presentation_lut is not None:
            if uids.PresentationLUT in self._scu().accepted:
                self._create_presentation_lut()
            else:
                self._warn("A-ASSOCIATE", None, "Presentation LUT not accepted; not used")

    def _create_film_session(self) -> None:
        uid, reply = self._n_create(uids.BasicFilmSession, _dataset(self.film_session))
        self.film_session_uid, self.film_session_reply = uid, reply

    def _create_presentation_lut(self) -> None:
        lut = self.presentation_lut
        if isinstance(lut, str):
            ds = Dataset()
            ds.PresentationLUTShape = lut
        else:
            ds = _encodable_lut(lut)
        self.presentation_lut_uid, _ = self._n_create(uids.PresentationLUT, ds)

    def _film_box_request(self) -> Dataset:
        request = _dataset(self.film_box)
        request.ReferencedFilmSessionSequence = _referenced(
            uids.BasicFilmSession, str(self.film_session_uid)
        )
        if self.presentation_lut_uid:
            request.ReferencedPresentationLUTSequence = _referenced(
                uids.PresentationLUT, self.presentation_lut_uid
            )
        return request

    def _create_film_box(self) -> _Film:
        try:
            uid, reply = self._n_create(uids.BasicFilmBox, self._film_box_request())
        except PrintClientError as exc:
            if exc.status == Status.UNPRINTED_FILM_BOX_EXISTS and len(self._pending) == 1:
                # The printer prints film boxes one at a time only (C616): print
                # the waiting one at film box level and go on at that level.
                self._warn(exc.operation, exc.status, exc.meaning, "printing each film box instead")
                self.print_level = "film_box"
                self._print_film(self._pending.pop(), uids.BasicFilmBox)
            elif self._session_full(exc):
                self._print_and_restart_session(exc)
            else:
                raise
            uid, reply = self._n_create(uids.BasicFilmBox, self._film_box_request())
        boxes = _referenced_boxes(reply, "ReferencedImageBoxSequence")
        if not boxes:
            raise PrintClientError(
                "the film box N-CREATE response lists no image boxes",
                operation="N-CREATE Basic Film Box",
            )
        log.debug("film box %s with %d image boxes", uid, len(boxes))
        film = _Film(uid, boxes, _referenced_boxes(reply, "ReferencedBasicAnnotationBoxSequence"))
        self._set_annotations(film, self.annotations)
        return film

    def _session_full(self, exc: PrintClientError) -> bool:
        """0x0213 at film session level with films waiting: the session is full."""
        return (
            exc.status == Status.RESOURCE_LIMITATION
            and self.print_level == "film_session"
            and bool(self._pending)
        )

    def _print_and_restart_session(self, exc: PrintClientError) -> None:
        """Print the films so far as one film session and go on in a new one.

        Only the newest film box may be deleted, so the printer's memory is
        freed by deleting the session, with its film boxes.
        """
        self._warn(
            exc.operation,
            exc.status,
            exc.meaning,
            f"printing the {len(self._pending)} film(s) so far as one film session",
        )
        self._print_session()
        self._delete_created()
        self._start_film_session()

    def _refill(self, old: _Film) -> _Film:
        """A new film box holding what ``old`` held (in a new film session)."""
        film = self._create_film_box()
        self._set_annotations(film, old.texts)
        for position, (image, attributes) in enumerate(old.images, 1):
            self._set_image_box(film, position, image, attributes)
        film.filled, film.images = old.filled, old.images
        return film

    def _set_annotations(self, film: _Film, texts: Mapping[int, str]) -> None:
        """N-SET the annotation boxes of ``film`` whose text changes (none: the class
        was not accepted)."""
        if not film.annotation_boxes:
            return
        for position, text in texts.items():
            if film.texts.get(position) == text:
                continue  # say, the same {PatientName} for each image of the film
            if position > len(film.annotation_boxes):
                self._warn(
                    "N-SET Basic Annotation Box",
                    None,
                    f"annotation position {position} not on the film",
                    f"the printer made {len(film.annotation_boxes)} annotation boxes",
                )
                continue
            sop_class, uid = film.annotation_boxes[position - 1]
            request = Dataset()
            request.AnnotationPosition = position
            request.TextString = text
            self._n_set(sop_class, uid, request)
            film.texts[position] = text

    def _set_image_box(
        self, film: _Film, position: int, image: PreparedImage, attributes: Mapping[str | int, Any]
    ) -> None:
        sop_class, uid = film.image_boxes[position - 1]
        if image.BitsStored == 12 and self.bits == 8 and not image.is_color:
            image = prepare_image(image, bits=8)  # 12 bits were refused earlier
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
            self._set_image_box(film, position, image, attributes)  # now as 8 bits

    def _film_done(self) -> None:
        """The current film is complete: print it now or keep it for the session."""
        film, self._film = self._film, None
        if film is None:
            return
        film.images, film.texts = [], {}  # complete: never set again
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
        """Print the pending films with one film session N-ACTION."""
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
        if job_uid is not None:
            with self._lock:
                self.print_jobs.setdefault(job_uid, "")
        self.films.append(report)
        log.info("film %d printed (%d images, %s level)", report.number, film.filled, level)
        if self.on_film is not None:
            self.on_film(report)

    def _await_print_jobs(self) -> None:
        """Wait for every print job to end (see ``wait_for_print_jobs``); raise if one failed."""
        if not self.wait_for_print_jobs or uids.PrintJob not in self._scu().accepted:
            return
        deadline = time.monotonic() + self.wait_for_print_jobs
        ask_every = min(_JOB_POLL, self.timeout / 2)
        next_ask = time.monotonic() + ask_every
        while True:
            with self._job_news:
                self._job_news.wait_for(
                    lambda: not self._unfinished_jobs() or not self.is_open,
                    max(0.0, min(next_ask, deadline) - time.monotonic()),
                )
                unfinished = self._unfinished_jobs()
            if not unfinished:
                break
            if not self.is_open:
                raise PrintClientError(
                    f"the association ended before {len(unfinished)} print job(s) were done",
                    operation="Print Job",
                )
            now = time.monotonic()
            if now >= deadline:
                for uid in unfinished:
                    state = self.print_jobs[uid] or "without news"
                    self._warn("Print Job", None, f"print job {uid} still {state}")
                break
            if now >= next_ask:  # quiet for a while: ask
                for uid in unfinished:
                    self._ask_print_job(uid)
                next_ask = time.monotonic() + ask_every
        failed = [uid for uid, state in self.print_jobs.items() if state == "FAILURE"]
        if failed:
            infos = {e.instance_uid: e.status_info for e in self.events if e.name == "FAILURE"}
            detail = "; ".join(f"{uid} ({infos.get(uid) or 'no detail'})" for uid in failed)
            raise PrintClientError(f"print job(s) failed: {detail}", operation="Print Job")

    def _unfinished_jobs(self) -> list[str]:
        ended = (*_JOB_ENDS, _JOB_GONE)
        return [uid for uid, state in self.print_jobs.items() if state not in ended]

    def _ask_print_job(self, uid: str) -> None:
        if uid not in self._unfinished_jobs():  # its event came meanwhile
            return
        try:
            reply = self._scu().n_get(uids.PrintJob, uid, _PRINT_JOB_STATUS_TAGS)
        except PrintClientError as exc:
            if exc.status is None:
                raise
            if uid not in self._unfinished_jobs():
                return  # done, and deleted once we answered its event
            # Gone (0x0112): the printer ended the job, and its event was lost.
            self._warn(exc.operation, exc.status, f"print job {uid} is gone", exc.comment)
            state = _JOB_GONE
        else:
            state = str(reply.get("ExecutionStatus") or "")
        with self._lock:
            if self.print_jobs.get(uid) not in _JOB_ENDS:
                self.print_jobs[uid] = state

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
        if assoc is not None:
            assoc.release()

    # -- Helpers ------------------------------------------------------------------------

    def _scu(self) -> PrintAssociation:
        if self._assoc is None or not self._assoc.is_open:
            raise PrintClientError("the client is not open (use open() or a with block)")
        return self._assoc

    def _require_open(self) -> None:
        self._scu()

    def _n_create(self, sop_class: str, request: Dataset) -> tuple[str, Dataset]:
        return self._scu().n_create(sop_class, request)

    def _n_set(self, sop_class: str, uid: str, request: Dataset) -> Dataset:
        return self._scu().n_set(sop_class, uid, request)

    def _n_action(self, sop_class: str, uid: str) -> tuple[int, Dataset | None]:
        return self._scu().n_action_print(sop_class, uid)

    def _n_delete(self, sop_class: str, uid: str, **options: Any) -> None:
        if self.is_open:
            self._scu().n_delete(sop_class, uid, **options)

    def _warn(self, operation: str, status: int | None, meaning: str, comment: str = "") -> None:
        self._scu().warn(operation, status, meaning, comment)

    def _record_warning(self, warning: PrintWarning) -> None:
        with self._lock:
            self.warnings.append(warning)

    def _association_ended(self) -> None:
        with self._job_news:
            self._job_news.notify_all()

    def _record_event(self, event: PrinterEvent) -> None:
        with self._lock:
            self.events.append(event)
            if event.sop_class == uids.PrintJob and event.instance_uid:
                # An event may come before the N-ACTION response is handled.
                self.print_jobs[event.instance_uid] = event.name
                self._job_news.notify_all()
        if self.on_event is not None:
            self.on_event(event)
