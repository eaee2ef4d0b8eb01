"""What both ends of an association set beyond pynetdicom's defaults.

:func:`no_delay` for every TCP connection; :func:`requestor_guard` for the
associations this project requests (the print SCU, and the tests' SCUs).
Both are ``evt_handlers`` entries for ``EVT_CONN_OPEN``, which pynetdicom
raises before any PDU is exchanged.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from pydicom import Dataset
from pynetdicom import evt
from pynetdicom.dimse_primitives import N_EVENT_REPORT
from pynetdicom.dsutils import decode
from pynetdicom.pdu_primitives import A_ABORT, A_P_ABORT, A_RELEASE, P_DATA

log = logging.getLogger(__name__)


def no_delay(event: Any) -> None:
    """Send each PDU at once (TCP_NODELAY).

    pynetdicom writes a DIMSE message as separate P-DATA PDUs (command, then
    data set); with Nagle's algorithm the second waits for the peer's delayed
    ACK, adding up to 40 ms or more to every request and response.
    """
    sock = getattr(event.assoc.dul.socket, "socket", None)
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # never fatal: only slower
            log.debug("cannot set TCP_NODELAY: %s", exc)


#: Seconds after which an event report still waiting for earlier ones drops
#: those that no thread has taken: pynetdicom never handed them over (it
#: hands over valid requests only). Earlier reports being handled are
#: waited for, however long their callback takes.
EVENT_ORDER_WAIT = 2.0

_N_EVENT_REPORT_RQ = 0x0100

#: What :func:`requestor_guard` passes on: (Affected SOP Class UID, Affected
#: SOP Instance UID, Event Type ID, Event Information; empty when absent or
#: undecodable).
EventReportCallback = Callable[[str, str, int, Dataset], None]


def requestor_guard(on_report: EventReportCallback | None = None) -> tuple[Any, Callable]:
    """An ``evt_handlers`` entry that closes three pynetdicom races of a requestor.

    Each ``send_n_*()`` call pauses the association's reactor thread, sends
    its request and takes the next message off the queue as the response.

    - pynetdicom answers each incoming N-EVENT-REPORT on a thread of its own,
      which marks the reactor as running again when it is done. If that
      lands while a ``send_n_*()`` call waits for the reactor to pause, the
      call waits for ever: a printer reporting a status change just as the
      SCU sends its next request hung the SCU. Here ``on_report`` is called
      (on that thread; without one the report is only logged) and the
      response sent without touching the reactor.
    - The reactor may still be finishing its last round when the next call
      sends, and then take that call's response off the queue and drop it
      ("Received unexpected ... service message", and the call times out).
      Here the reactor takes requests only; responses wait for their call.
    - An event's response must not follow the A-RELEASE (or A-ABORT) the
      main thread sent meanwhile: pynetdicom's DUL thread dies on a P-DATA
      in that state, and the release then waits out ``acse_timeout``.
      Here no P-DATA is sent once the association is closing.

    Event reports are handled one at a time in the order they arrived,
    although each has its own thread: a WARNING then NORMAL sent a
    millisecond apart must not reach ``on_report`` as NORMAL then WARNING.
    Message IDs may repeat; arrivals are told apart by their order.

    Installed on ``EVT_CONN_OPEN``, before any message can arrive. Sends are
    serialised, so an event's response never splits another message's
    fragments.
    """

    def install(event: Any) -> None:
        assoc = event.assoc
        serve_request = assoc._serve_request
        send_msg = assoc.dimse.send_msg
        get_msg = assoc.dimse.get_msg
        peek_msg = assoc.dimse.peek_msg
        send_pdu = assoc.dul.send_pdu
        sending = threading.RLock()
        closing = False
        arrivals: deque[_Arrival] = deque()  # event reports, as they arrived
        turn = threading.Condition()

        def arrived(event: Any) -> None:  # EVT_DIMSE_RECV: the DUL thread, in order
            command = event.message.command_set
            if command.get("CommandField") == _N_EVENT_REPORT_RQ:
                with turn:
                    arrivals.append(_Arrival(command.get("MessageID")))

        def send_whole(message: Any, context_id: int) -> None:
            with sending:
                send_msg(message, context_id)

        def send_in_order(primitive: Any) -> None:
            nonlocal closing
            with sending:
                if isinstance(primitive, P_DATA):
                    if closing:
                        log.debug("association closing: a DIMSE message not sent")
                        return
                elif isinstance(primitive, (A_RELEASE, A_ABORT, A_P_ABORT)):
                    closing = True
                send_pdu(primitive)

        def serve(message: Any, context_id: int) -> None:
            if not (isinstance(message, N_EVENT_REPORT) and message.is_valid_request):
                serve_request(message, context_id)
                return
            with turn:
                mine = _claim(arrivals, message.MessageID)
                while mine is not None and arrivals[0] is not mine:
                    if not turn.wait(EVENT_ORDER_WAIT):
                        # Reports ahead that no thread took in that time were
                        # never handed over (invalid); the others are running.
                        while not arrivals[0].claimed:
                            arrivals.popleft()
            try:
                _answer_event_report(assoc, message, context_id, on_report)
            finally:
                if mine is not None:
                    with turn:
                        arrivals.remove(mine)
                        turn.notify_all()

        def next_message(block: bool = False) -> Any:
            if threading.current_thread() is assoc:  # the reactor
                _, waiting = peek_msg()
                if waiting is None or not waiting.is_valid_request:
                    return None, None
            return get_msg(block)

        assoc.bind(evt.EVT_DIMSE_RECV, arrived)
        assoc.dimse.send_msg = send_whole
        assoc.dul.send_pdu = send_in_order
        assoc.dimse.get_msg = next_message
        assoc._serve_request = serve

    return evt.EVT_CONN_OPEN, install


class _Arrival:
    """One event report as it arrived; compared by identity (Message IDs may repeat)."""

    __slots__ = ("message_id", "claimed")

    def __init__(self, message_id: int | None) -> None:
        self.message_id = message_id
        self.claimed = False


def _claim(arrivals: deque[_Arrival], message_id: int) -> _Arrival | None:
    """The first arrival of ``message_id`` no thread has taken yet, now taken."""
    for arrival in arrivals:
        if arrival.message_id == message_id and not arrival.claimed:
            arrival.claimed = True
            return arrival
    return None  # dropped as never handed over: handled without waiting


def _answer_event_report(
    assoc: Any, request: N_EVENT_REPORT, context_id: int, on_report: EventReportCallback | None
) -> None:
    sop_class = str(request.AffectedSOPClassUID)
    info = Dataset()
    context = next((cx for cx in assoc.accepted_contexts if cx.context_id == context_id), None)
    if request.EventInformation is not None and context is not None:
        syntax = context.transfer_syntax[0]
        try:
            info = decode(request.EventInformation, syntax.is_implicit_VR, syntax.is_little_endian)
        except Exception:  # an undecodable report must not break printing
            log.warning("%s: undecodable N-EVENT-REPORT event information", sop_class)
    response = N_EVENT_REPORT()
    response.MessageIDBeingRespondedTo = request.MessageID
    response.AffectedSOPClassUID = request.AffectedSOPClassUID
    response.AffectedSOPInstanceUID = request.AffectedSOPInstanceUID
    response.EventTypeID = request.EventTypeID
    response.Status = 0x0000
    try:
        if on_report is None:
            log.info("%s reports event type %s", sop_class, request.EventTypeID)
        else:
            instance = str(request.AffectedSOPInstanceUID or "")
            on_report(sop_class, instance, int(request.EventTypeID), info)
    except Exception:
        log.exception("handling an N-EVENT-REPORT of %s failed", sop_class)
        response.Status = 0x0110
    if context is None:
        log.warning("N-EVENT-REPORT on a context that was not accepted: not answered")
        return
    assoc.dimse.send_msg(response, context_id)
