"""The pynetdicom adapter: DIMSE events in, PrintSession calls, (status, dataset) out.

One :class:`~dicomprint.PrintSession` per association, created when the
association is accepted and closed when it is released, aborted or its
connection closes. Print semantics all live in the session; this module
only unpacks requests, maps :class:`~dicomprint.PrintError` to a status
(with an Error Comment and a log line) and wires printer status changes to
N-EVENT-REPORTs.

Each association prints on the printer its called AE title is routed to
(:mod:`.routing`): its session, its store-to-film collector and its
N-EVENT-REPORTs all belong to that printer.

C-STORE: each association also gets a :class:`~dicomprint.store.StoreToFilm`
collector. Every object is decoded when it arrives (a bad one fails alone,
with its status); what was received prints when the association ends, by
release or abort.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs
from attrs import define, field
from pydicom import Dataset
from pydicom.uid import UID
from pynetdicom import evt

from dicomprint import Printer, PrintError, PrintSession, Reply, Status, uids
from dicomprint.budget import PixelBudget
from dicomprint.print_job import PrintJobInstance
from dicomprint.session import PrintCallback
from dicomprint.store import StoreToFilm

from .access import rejection_text
from .config import ServerSettings
from .events import EventOutbox, event_contexts
from .guard import bound_reads, guard
from .routing import Route

log = logging.getLogger(__name__)

#: Error Comment (0000,0902) is LO: at most 64 characters.
_MAX_COMMENT = 64
#: Images received with C-STORE decoded at the same time, server-wide, unless
#: told (``[server] parallel_decodes``). Decoding takes several times the
#: image's size in working memory (float arrays of the modality and VOI
#: stages), so it is what bounds memory when many storage associations send
#: at once; it is CPU-bound, so more than the cores would not be faster.
PARALLEL_DECODES = attrs.fields(ServerSettings).parallel_decodes.default
#: The A-ASSOCIATE-RJ fields of pynetdicom's A_ASSOCIATE primitive.
_RJ_FIELDS = ("result", "result_source", "diagnostic")


@define
class AssociationState:
    """What one association owns."""

    session: PrintSession
    store: StoreToFilm
    label: str
    accepted: frozenset[str]
    outbox: EventOutbox | None = None
    unsubscribe: Callable[[], None] | None = None
    lock: threading.Lock = field(factory=threading.Lock)
    #: time.monotonic() of the last request (or of the acceptance).
    last_request: float = field(factory=time.monotonic)
    #: The server is closing this association: further requests fail.
    closing: bool = False
    #: "aborted" or "released" once the peer sent an A-ABORT or A-RELEASE-RQ:
    #: its connection may close before pynetdicom reports either.
    ending: str | None = None

    def holds_job(self) -> bool:
        """A print job in progress: a film session, or objects received with C-STORE."""
        return self.session.film_session is not None or bool(
            self.store.images or self.store.reports
        )


def _printable(text: str) -> str:
    """AE titles come off the wire: keep control characters out of the log."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def called_ae_title(assoc: Any) -> str:
    """The AE title the peer called (``acceptor.ae_title`` is our own, whatever it called)."""
    primitive = getattr(assoc.requestor, "primitive", None)
    title = getattr(primitive, "called_ae_title", None)
    return (title or assoc.acceptor.ae_title).strip()


def _name(uid: str | None) -> str:
    return UID(uid).name if uid else "?"


def status_dataset(status: Status, comment: str = "", **command: Any) -> Dataset:
    """A status for pynetdicom: Status, Error Comment (failures and warnings), other fields."""
    ds = Dataset()
    ds.Status = int(status)
    if comment and status != Status.SUCCESS:
        # LO: ASCII here, and no backslash (it would split the value, VM > 1);
        # a run of them is one.
        text = re.sub(r"\\+", "/", comment).encode("ascii", "replace").decode()
        ds.ErrorComment = text[:_MAX_COMMENT]
    for keyword, value in command.items():
        setattr(ds, keyword, value)
    return ds


Router = Callable[[str], Route]


class PrintSCP:
    """Event handlers for a pynetdicom AE that serves Print Management.

    ``router`` gives the :class:`~.routing.Route` (printer and print
    callback) for an association's called AE title; a :class:`Printer` and
    ``on_print`` instead serve every association on that one printer.
    """

    def __init__(
        self,
        router: Router | Printer,
        on_print: PrintCallback | None = None,
        *,
        store_all_frames: bool = False,
        budget: PixelBudget | None = None,
        parallel_decodes: int = PARALLEL_DECODES,
    ) -> None:
        self.budget = budget
        if isinstance(router, Printer):
            only = Route("default", router, on_print)
            self.router: Router = lambda called_ae_title: only
        else:
            self.router = router
        self.store_all_frames = store_all_frames
        self._decoding = threading.BoundedSemaphore(parallel_decodes)
        self._states: dict[Any, AssociationState] = {}
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def handlers(self) -> list[tuple[Any, Callable[..., Any]]]:
        return [
            (evt.EVT_CONN_OPEN, self._connected),
            (evt.EVT_ACCEPTED, self._accepted),
            (evt.EVT_REJECTED, self._rejected),
            (evt.EVT_RELEASED, self._ended),
            (evt.EVT_ABORTED, self._ended),
            (evt.EVT_CONN_CLOSE, self._ended),
            (evt.EVT_C_ECHO, self._c_echo),
            (evt.EVT_C_STORE, self._c_store),
            (evt.EVT_N_CREATE, self._n_create),
            (evt.EVT_N_SET, self._n_set),
            (evt.EVT_N_GET, self._n_get),
            (evt.EVT_N_ACTION, self._n_action),
            (evt.EVT_N_DELETE, self._n_delete),
        ]

    @property
    def open_associations(self) -> int:
        self.sweep()
        with self._lock:
            return len(self._states)

    def close_idle(self, quiet: float) -> int:
        """Abort the associations with no print job in progress; return how many.

        For a shutdown. An association is left alone while a request is being
        handled, while it holds a film session or objects received with
        C-STORE (:meth:`AssociationState.holds_job`), and for ``quiet``
        seconds after its last request (an SCU that has just connected, or
        is between two requests of its job, is about to send the next one).
        """
        with self._lock:
            states = list(self._states.items())
        closed = 0
        for assoc, state in states:
            if not state.lock.acquire(blocking=False):
                continue  # a request in progress
            try:
                idle = not state.holds_job() and time.monotonic() - state.last_request >= quiet
                state.closing = state.closing or idle
            finally:
                state.lock.release()
            if idle:
                log.info("%s: closed for shutdown (no print job in progress)", state.label)
                assoc.abort()
                closed += 1
        return closed

    def busy_labels(self) -> list[str]:
        """The associations still open, each with what it is doing."""
        with self._lock:
            states = list(self._states.values())
        return [f"{s.label} ({'print job' if s.holds_job() else 'idle'})" for s in states]

    def sweep(self) -> None:
        """End the states of associations that died without an event.

        pynetdicom's network thread can die on a malformed PDU before it
        reports the abort; the association then ends silently, and its print
        objects (and anything received with C-STORE) would stay forever.
        """
        with self._lock:
            dead = [assoc for assoc in self._states if not assoc.is_alive()]
        for assoc in dead:
            self._finish(assoc, "died")

    # -- Association life cycle --------------------------------------------

    def _connected(self, event: Any) -> None:
        assoc = event.assoc

        def label() -> str:
            state = self._state(assoc)
            return state.label if state else _printable(assoc.requestor.ae_title)

        # Requests pynetdicom would abort on or leave unanswered get a status;
        # receiving one message is bounded in time and size.
        def ending(how: str) -> None:
            state = self._state(assoc)
            if state is not None:
                state.ending = how

        limit = self.budget.limit if self.budget is not None else None
        guard(assoc, label, max_message_bytes=limit, on_ending=ending)
        bound_reads(assoc, assoc.acse_timeout)  # until negotiated

    def _accepted(self, event: Any) -> None:
        self.sweep()
        assoc = event.assoc
        bound_reads(assoc, assoc.network_timeout)
        calling = assoc.requestor.ae_title
        called = called_ae_title(assoc)
        label = f"#{next(self._numbers)} {_printable(calling)}@{assoc.requestor.address}"
        accepted = frozenset(cx.abstract_syntax for cx in assoc.accepted_contexts)
        route = self.router(called)
        session = PrintSession(
            route.printer,
            on_print=route.on_print,
            annotation=uids.BasicAnnotationBox in accepted,
            presentation_lut=uids.PresentationLUT in accepted,
            print_job=uids.PrintJob in accepted,
            calling_ae_title=calling,
            called_ae_title=called,
            budget=self.budget,
        )
        store = StoreToFilm(
            route.printer,
            route.on_print,
            calling_ae_title=calling,
            called_ae_title=called,
            all_frames=self.store_all_frames,
            budget=self.budget,
        )
        state = AssociationState(session, store, label, accepted)
        contexts = event_contexts(assoc)
        if contexts:
            state.outbox = EventOutbox(assoc, contexts, label)
        if uids.Printer in contexts:
            outbox = state.outbox

            def announce(printer: Printer) -> None:
                outbox.post(*printer.event_report())

            state.unsubscribe = route.printer.subscribe(announce)
        with self._lock:
            self._states[assoc] = state
        log.info(
            "%s: association accepted (called %r -> printer %r, %d context(s): %s)",
            label,
            _printable(called),
            route.name,
            len(accepted),
            ", ".join(sorted(_name(uid) for uid in accepted)),
        )

    def _rejected(self, event: Any) -> None:
        """One log line per rejected association: who, why, and the A-ASSOCIATE-RJ sent.

        :mod:`.access` passes its reason as ``why``; pynetdicom's own
        rejection (``[server] max_associations`` reached) comes without one.
        """
        assoc = event.assoc
        request = assoc.requestor.primitive
        calling = getattr(request, "calling_ae_title", None) or assoc.requestor.ae_title
        called = getattr(request, "called_ae_title", None) or "?"
        reply = assoc.acceptor.primitive  # the A-ASSOCIATE-RJ
        result, source, reason = (getattr(reply, key, None) for key in _RJ_FIELDS)
        why = getattr(event, "why", None)
        if why is None and (source, reason) == (3, 2):
            ae = assoc.ae
            others = sum(1 for a in ae.active_associations if a.is_acceptor and a is not assoc)
            limit = ae.maximum_associations
            why = f"{others} associations open ([server] max_associations = {limit})"
        log.warning(
            "association from %r@%s (called %r) rejected: %s; A-ASSOCIATE-RJ %s",
            _printable(str(calling).strip()),
            assoc.requestor.address,
            _printable(str(called).strip()),
            why or "no reason given",
            rejection_text(result, source, reason) if None not in (result, source, reason) else "?",
        )

    def _ended(self, event: Any) -> None:
        how = {
            evt.EVT_RELEASED: "released",
            evt.EVT_ABORTED: "aborted",
        }.get(event.event, "connection closed")
        self._finish(event.assoc, how)

    def _finish(self, assoc: Any, how: str) -> None:
        with self._lock:
            state = self._states.pop(assoc, None)
        if state is None:
            return
        if how == "connection closed" and state.ending is not None:
            how = state.ending  # pynetdicom reports the close first
        if state.unsubscribe is not None:
            state.unsubscribe()
        # Waits for a request in progress (e.g. a print) to finish first.
        with state.lock:
            state.session.close()
            received = len(state.store.images) + len(state.store.reports)
            if received:
                log.info("%s: printing %d object(s) received with C-STORE", state.label, received)
                outcomes = state.store.finish(aborted=how != "released")
                failed = sum(isinstance(o, PrintError) for o in outcomes)
                log.log(
                    logging.ERROR if failed else logging.INFO,
                    "%s: store-to-film printed %d of %d film(s)",
                    state.label,
                    len(outcomes) - failed,
                    len(outcomes),
                )
        log.info("%s: association %s; its print objects are released", state.label, how)

    def _state(self, assoc: Any) -> AssociationState | None:
        with self._lock:
            return self._states.get(assoc)

    # -- DIMSE-C ---------------------------------------------------------------

    def _c_echo(self, event: Any) -> int:
        state = self._state(event.assoc)
        log.info("%s: C-ECHO", state.label if state else _printable(event.assoc.requestor.ae_title))
        return 0x0000

    def _c_store(self, event: Any) -> Dataset:
        state = self._state(event.assoc)
        label = state.label if state else _printable(event.assoc.requestor.ae_title)
        sop_class = _name(event.request.AffectedSOPClassUID)
        try:
            if state is None:
                raise PrintError(Status.PROCESSING_FAILURE, "association is not open")
            try:
                dataset = event.dataset
                dataset.file_meta = event.file_meta
            except Exception as exc:  # undecodable data set
                raise PrintError(Status.CANNOT_UNDERSTAND, f"cannot decode: {exc}") from exc
            with state.lock:
                if state.closing:
                    raise PrintError(Status.PROCESSING_FAILURE, "the server is shutting down")
                state.last_request = time.monotonic()
                with self._decoding:
                    state.store.add(dataset)
        except PrintError as exc:
            log.warning("%s: C-STORE %s -> %s", label, sop_class, exc)
            return status_dataset(exc.status, exc.comment)
        log.info("%s: C-STORE %s received", label, sop_class)
        return status_dataset(Status.SUCCESS)

    # -- DIMSE-N ---------------------------------------------------------------

    def _n_create(self, event: Any) -> tuple[Any, Dataset | None]:
        request = event.request
        sop_class = str(request.AffectedSOPClassUID)
        requested_uid = request.AffectedSOPInstanceUID
        requested_uid = str(requested_uid) if requested_uid else None

        def call(state: AssociationState) -> Reply:
            meta = self._meta_class(state, event.context.abstract_syntax)
            dataset = _decode(event, "attribute_list")
            return state.session.n_create(sop_class, dataset, requested_uid, meta)

        status, reply = self._call(event, "N-CREATE", sop_class, requested_uid, call)
        if reply is None or requested_uid or not reply.instance_uid:
            return status, reply.dataset if reply else None
        # The SCP chose the UID: it goes in the response's Affected SOP
        # Instance UID. pynetdicom moves it there from the dataset on success
        # only, so a warning carries it in the status instead.
        dataset = reply.dataset if reply.dataset is not None else Dataset()
        if reply.status == Status.SUCCESS:
            dataset.AffectedSOPInstanceUID = reply.instance_uid
            return status, dataset
        status.AffectedSOPInstanceUID = reply.instance_uid
        return status, dataset

    def _n_set(self, event: Any) -> tuple[Any, Dataset | None]:
        request = event.request
        sop_class = str(request.RequestedSOPClassUID)
        uid = str(request.RequestedSOPInstanceUID)

        def call(state: AssociationState) -> Reply:
            return state.session.n_set(sop_class, uid, _decode(event, "modification_list"))

        status, reply = self._call(event, "N-SET", sop_class, uid, call)
        return status, reply.dataset if reply else None

    def _n_get(self, event: Any) -> tuple[Any, Dataset | None]:
        request = event.request
        sop_class = str(request.RequestedSOPClassUID)
        uid = str(request.RequestedSOPInstanceUID)
        tags = [int(tag) for tag in event.attribute_identifiers]
        status, reply = self._call(
            event, "N-GET", sop_class, uid, lambda s: s.session.n_get(sop_class, uid, tags)
        )
        return status, reply.dataset if reply else None

    def _n_action(self, event: Any) -> tuple[Any, Dataset | None]:
        request = event.request
        sop_class = str(request.RequestedSOPClassUID)
        uid = str(request.RequestedSOPInstanceUID)
        action = event.action_type
        status, reply = self._call(
            event,
            "N-ACTION",
            sop_class,
            uid,
            lambda s: s.session.n_action(sop_class, uid, action),
        )
        if reply is not None and reply.print_job is not None:
            self._announce_print_job(event.assoc, reply.print_job)
        return status, reply.dataset if reply else None

    def _announce_print_job(self, assoc: Any, job: PrintJobInstance) -> None:
        """Queue the Done event of the Print Job an N-ACTION created.

        The session forgets the job once the SCU has answered its event.
        """
        state = self._state(assoc)
        if state is None or state.outbox is None:
            return
        state.outbox.post(
            *job.event_report(),
            sop_class=uids.PrintJob,
            instance=job.SOPInstanceUID,
            answered=functools.partial(state.session.forget_print_job, job.SOPInstanceUID),
        )

    def _n_delete(self, event: Any) -> Dataset:
        request = event.request
        sop_class = str(request.RequestedSOPClassUID)
        uid = str(request.RequestedSOPInstanceUID)
        status, _ = self._call(
            event, "N-DELETE", sop_class, uid, lambda s: s.session.n_delete(sop_class, uid)
        )
        return status  # N-DELETE responses have no data set

    def _call(
        self,
        event: Any,
        operation: str,
        sop_class: str,
        uid: str | None,
        call: Callable[[AssociationState], Reply],
    ) -> tuple[Dataset, Reply | None]:
        """Run ``call`` on the association's session; turn errors into statuses."""
        state = self._state(event.assoc)
        what = f"{operation} {_name(sop_class)}"
        if state is None:
            log.error("%s from an association that has ended", what)
            return status_dataset(Status.PROCESSING_FAILURE, "association has ended"), None
        try:
            with state.lock:
                if state.closing:
                    raise PrintError(Status.PROCESSING_FAILURE, "the server is shutting down")
                state.last_request = time.monotonic()
                reply = call(state)
        except PrintError as exc:
            log.warning("%s: %s %s -> %s %s", state.label, what, uid, exc.status, exc.comment)
            return status_dataset(exc.status, exc.comment or exc.status.meaning), None
        except Exception as exc:
            log.exception("%s: %s failed unexpectedly", state.label, what)
            return status_dataset(Status.PROCESSING_FAILURE, f"internal error: {exc}"), None
        status = Status(reply.status)
        log.log(
            logging.WARNING if status.is_warning else logging.INFO,
            "%s: %s %s -> 0x%04X%s",
            state.label,
            what,
            uid or reply.instance_uid,
            status,
            f" {status.meaning}: {reply.comment}" if status.is_warning else "",
        )
        if not status.is_warning:
            return status_dataset(status), reply
        command = {}
        # Only N-SET-RSP has the field, and it belongs to 0x0107 (PS3.7 C.4.2).
        if reply.unrecognized and operation == "N-SET" and status == Status.ATTRIBUTE_LIST_ERROR:
            command["AttributeIdentifierList"] = list(reply.unrecognized)
        return status_dataset(status, reply.comment, **command), reply

    @staticmethod
    def _meta_class(state: AssociationState, abstract_syntax: str) -> str:
        """The meta SOP class whose image box class a new film box uses."""
        if abstract_syntax in uids.META_SOP_CLASSES:
            return abstract_syntax
        metas = [meta for meta in uids.META_SOP_CLASSES if meta in state.accepted]
        if len(metas) == 1:
            return metas[0]
        # Individual classes only (or both metas): the image box class decides.
        if (
            uids.BasicColorImageBox in state.accepted
            and uids.BasicGrayscaleImageBox not in state.accepted
        ):
            return uids.BasicColorPrintManagementMeta
        return uids.BasicGrayscalePrintManagementMeta


def _decode(event: Any, attribute: str) -> Dataset:
    """The request's dataset, decoded; undecodable input is a processing failure."""
    # Element values are parsed lazily, later, where a bad one gets 0x0106.
    try:
        dataset = getattr(event, attribute)
    except Exception as exc:
        raise PrintError(Status.PROCESSING_FAILURE, f"cannot decode the dataset: {exc}") from exc
    return dataset
