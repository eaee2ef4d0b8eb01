"""N-EVENT-REPORTs to the SCUs of open associations: Printer and Print Job events.

Why not ``Association.send_n_event_report``: it pauses the association's
reactor and then waits for the *next* message from the peer as its
response. Called from a DIMSE handler it deadlocks (the reactor is busy
running that handler), and called from another thread it takes an SCU
request that crosses our report on the wire for the report's response, so
that request is never answered.

Instead each association gets an :class:`EventOutbox`. Posting only queues
the event (any thread, e.g. whoever calls ``Printer.set_status``); the
association's own reactor thread sends it between two DIMSE messages, so it
never interleaves with a response. An event that the association's own
request caused (its print failed, so the printer turned to FAILURE; its
print job is done) waits :data:`HOLD_OFF` seconds: it is posted just before
that request's response, and an SCU that releases right after the response
(DCMTK's ``dcmprscu``) would otherwise get the event where it waits for the
A-RELEASE-RP, and call the release failed. The outbox hooks the
association's ``dimse.get_msg``, which the reactor polls about every
millisecond, and takes the SCU's N-EVENT-REPORT responses off the queue
itself (they would otherwise be logged by pynetdicom as unexpected
messages).
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

from attrs import frozen
from pydicom import Dataset
from pynetdicom.dimse_primitives import N_EVENT_REPORT
from pynetdicom.dsutils import encode

from dicomprint import uids

log = logging.getLogger(__name__)

#: Contexts each class's events may travel on, in order of preference. A
#: Print Job event needs the Print Job context (PS3.4 H.4.4.1.1).
EVENT_CONTEXTS = {
    uids.Printer: (
        uids.Printer,
        uids.BasicGrayscalePrintManagementMeta,
        uids.BasicColorPrintManagementMeta,
    ),
    uids.PrintJob: (uids.PrintJob,),
}
#: Seconds an event caused by the association's own request waits (see above).
HOLD_OFF = 0.2
#: Events kept for an SCU that does not read them; the oldest are dropped.
MAX_QUEUED = 16
#: Sent events whose answers are still recognised; beyond, the oldest is
#: forgotten (its late answer is then logged by pynetdicom as unexpected).
MAX_UNANSWERED = 256


def event_contexts(assoc: Any) -> dict[str, Any]:
    """The accepted presentation context each class's events use, by SOP class."""
    accepted = {cx.abstract_syntax: cx for cx in assoc.accepted_contexts}
    found = {}
    for sop_class, preferred in EVENT_CONTEXTS.items():
        usable = [accepted[syntax] for syntax in preferred if syntax in accepted]
        if usable:
            found[sop_class] = usable[0]
    return found


@frozen
class _Event:
    sop_class: str
    instance: str
    event_type: int
    information: Dataset
    not_before: float  # monotonic time
    answered: Callable[[], None] | None


class EventOutbox:
    """Events waiting to be sent on one association.

    ``contexts`` maps each SOP class whose events may be sent to the
    presentation context they travel on (:func:`event_contexts`).
    """

    def __init__(self, assoc: Any, contexts: dict[str, Any], label: str = "") -> None:
        self.assoc = assoc
        self.contexts = contexts
        self.label = label
        self._queue: collections.deque[_Event] = collections.deque(maxlen=MAX_QUEUED)
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1)
        # Message IDs of sent events, oldest first, with what to do on the answer.
        self._outstanding: dict[int, Callable[[], None] | None] = {}
        self._get_msg = assoc.dimse.get_msg
        self.sent = 0
        assoc.dimse.get_msg = self._reactor_get_msg

    def post(
        self,
        event_type: int,
        dataset: Dataset,
        *,
        sop_class: str = uids.Printer,
        instance: str = uids.PrinterInstance,
        answered: Callable[[], None] | None = None,
    ) -> None:
        """Queue an event of ``instance``; the reactor thread sends it.

        ``answered`` is called (on that thread) once the SCU has answered it.
        An event of a class without a context is not sent.
        """
        if sop_class not in self.contexts:
            return
        own = threading.current_thread() is self.assoc  # posted while handling a request
        not_before = time.monotonic() + HOLD_OFF if own else 0.0
        event = _Event(sop_class, instance, event_type, dataset, not_before, answered)
        with self._lock:
            self._queue.append(event)

    def _reactor_get_msg(self, block: bool = False) -> Any:
        if self._queue and threading.current_thread() is self.assoc:
            self._flush()
        context_id, msg = self._get_msg(block)
        if isinstance(msg, N_EVENT_REPORT) and msg.MessageIDBeingRespondedTo in self._outstanding:
            answered = self._outstanding.pop(msg.MessageIDBeingRespondedTo)
            status = msg.Status if msg.Status is not None else -1
            log.debug("%s: N-EVENT-REPORT answered with 0x%04X", self.label, status)
            if answered is not None:
                answered()
            return None, None
        return context_id, msg

    def _flush(self) -> None:
        while self.assoc.is_established:
            with self._lock:
                if not self._queue or time.monotonic() < self._queue[0].not_before:
                    return  # later events wait behind it: they stay in order
                event = self._queue.popleft()
            self._send(event)

    def _send(self, event: _Event) -> None:
        context = self.contexts[event.sop_class]
        syntax = context.transfer_syntax[0]
        request = N_EVENT_REPORT()
        request.MessageID = next(self._message_ids) % 0x10000 or 1
        request.AffectedSOPClassUID = event.sop_class
        request.AffectedSOPInstanceUID = event.instance
        request.EventTypeID = event.event_type
        if len(event.information):
            encoded = encode(event.information, syntax.is_implicit_VR, syntax.is_little_endian)
            if encoded is None:
                log.error("%s: cannot encode the event information", self.label)
                return
            request.EventInformation = BytesIO(encoded)
        if len(self._outstanding) >= MAX_UNANSWERED:  # an SCU that never answers
            del self._outstanding[next(iter(self._outstanding))]
        self._outstanding[request.MessageID] = event.answered
        self.assoc.dimse.send_msg(request, context.context_id)
        self.sent += 1
        what = "printer" if event.sop_class == uids.Printer else "print job"
        log.info("%s: sent %s N-EVENT-REPORT, event type %d", self.label, what, event.event_type)
