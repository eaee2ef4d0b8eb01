"""Printer N-EVENT-REPORTs to the SCUs of open associations.

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
request caused (its print failed, so the printer turned to FAILURE) waits
:data:`HOLD_OFF` seconds: it is posted just before that request's response,
and an SCU that releases right after the response (DCMTK's ``dcmprscu``)
would otherwise get the event where it waits for the A-RELEASE-RP, and call
the release failed. The outbox hooks the association's
``dimse.get_msg``, which the reactor polls about every millisecond, and
takes the SCU's N-EVENT-REPORT responses off the queue itself (they would
otherwise be logged by pynetdicom as unexpected messages).
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from io import BytesIO
from typing import Any

from pydicom import Dataset
from pynetdicom.dimse_primitives import N_EVENT_REPORT
from pynetdicom.dsutils import encode

from dicomprint import uids

log = logging.getLogger(__name__)

#: Contexts a Printer event may travel on, in order of preference.
EVENT_CONTEXTS = (
    uids.Printer,
    uids.BasicGrayscalePrintManagementMeta,
    uids.BasicColorPrintManagementMeta,
)
#: Seconds an event caused by the association's own request waits (see above).
HOLD_OFF = 0.2
#: Events kept for an SCU that does not read them; the oldest are dropped.
MAX_QUEUED = 16
#: Sent events whose answers are still recognised; beyond, the oldest is
#: forgotten (its late answer is then logged by pynetdicom as unexpected).
MAX_UNANSWERED = 256


def event_context(assoc: Any) -> Any | None:
    """The accepted presentation context Printer events use, or None."""
    accepted = {cx.abstract_syntax: cx for cx in assoc.accepted_contexts}
    for abstract_syntax in EVENT_CONTEXTS:
        if abstract_syntax in accepted:
            return accepted[abstract_syntax]
    return None


class EventOutbox:
    """Printer events waiting to be sent on one association."""

    def __init__(self, assoc: Any, context: Any, label: str = "") -> None:
        self.assoc = assoc
        self.context = context
        self.label = label
        # (event type, information, monotonic time before which it is not sent)
        self._queue: collections.deque[tuple[int, Dataset, float]] = collections.deque(
            maxlen=MAX_QUEUED
        )
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1)
        self._outstanding: dict[int, None] = {}  # Message IDs, oldest first
        self._get_msg = assoc.dimse.get_msg
        self.sent = 0
        assoc.dimse.get_msg = self._reactor_get_msg

    def post(self, event_type: int, dataset: Dataset) -> None:
        """Queue an event; the reactor thread sends it."""
        own = threading.current_thread() is self.assoc  # posted while handling a request
        not_before = time.monotonic() + HOLD_OFF if own else 0.0
        with self._lock:
            self._queue.append((event_type, dataset, not_before))

    def _reactor_get_msg(self, block: bool = False) -> Any:
        if self._queue and threading.current_thread() is self.assoc:
            self._flush()
        context_id, msg = self._get_msg(block)
        if isinstance(msg, N_EVENT_REPORT) and msg.MessageIDBeingRespondedTo in self._outstanding:
            del self._outstanding[msg.MessageIDBeingRespondedTo]
            status = msg.Status if msg.Status is not None else -1
            log.debug("%s: N-EVENT-REPORT answered with 0x%04X", self.label, status)
            return None, None
        return context_id, msg

    def _flush(self) -> None:
        while self.assoc.is_established:
            with self._lock:
                if not self._queue or time.monotonic() < self._queue[0][2]:
                    return  # later events wait behind it: they stay in order
                event_type, dataset, _ = self._queue.popleft()
            self._send(event_type, dataset)

    def _send(self, event_type: int, dataset: Dataset) -> None:
        syntax = self.context.transfer_syntax[0]
        request = N_EVENT_REPORT()
        request.MessageID = next(self._message_ids) % 0x10000 or 1
        request.AffectedSOPClassUID = uids.Printer
        request.AffectedSOPInstanceUID = uids.PrinterInstance
        request.EventTypeID = event_type
        if len(dataset):
            encoded = encode(dataset, syntax.is_implicit_VR, syntax.is_little_endian)
            if encoded is None:
                log.error("%s: cannot encode printer event information", self.label)
                return
            request.EventInformation = BytesIO(encoded)
        if len(self._outstanding) >= MAX_UNANSWERED:  # an SCU that never answers
            del self._outstanding[next(iter(self._outstanding))]
        self._outstanding[request.MessageID] = None
        self.assoc.dimse.send_msg(request, self.context.context_id)
        self.sent += 1
        log.info("%s: sent printer N-EVENT-REPORT, event type %d", self.label, event_type)
