"""Guards on one association's DIMSE traffic, installed when it connects.

**Requests pynetdicom cannot dispatch get a failure status, not an abort.**
pynetdicom picks the service for a request by the SOP class the request
names, not by its presentation context. A request naming a SOP class no
service implements makes it abort the association; one naming a class of
another service (an N-CREATE of a storage class, say) reaches that service,
which answers with the wrong kind of response; and a request without one of
its mandatory parameters (an N-SET with an empty Requested SOP Instance UID,
say) is dropped without an answer, so the peer waits for its DIMSE time-out.
Each such request now gets a response of its own kind with a failure status
and an Error Comment: 0x0118 (No such SOP class) for DIMSE-N requests, 0x0122
(SOP class not supported) for C-STORE and C-ECHO, 0x0110 (0xC000 for
C-STORE) for a missing parameter. The association goes on. Every other
request is dispatched as before.

**A message being received is bounded in silence and size.** pynetdicom
keeps a DIMSE message in memory until its last fragment arrives; its
``dimse_timeout`` only bounds the wait for a response the AE asked for,
which this server never does, and its network time-out the silence between
any two PDUs. Here a message that has begun but then receives nothing for
``dimse_timeout`` seconds, or whose data set grows beyond
``max_message_bytes`` (the server's pixel budget: such a message could never
be held), aborts the association, with a log line. Silence between messages
is the network time-out's.

**A message pynetdicom cannot decode aborts the association, cleanly.** A
command set without a Command Field, say, made pynetdicom's network thread
die of the exception, and the connection was then dropped without a word.
Now the association is aborted (A-ABORT, as for an invalid PDU) with a log
line.

**A PDU being received is bounded in silence.** pynetdicom reads a PDU to
its end from a socket without a time-out, so a peer that sends the first
bytes of a PDU and then nothing holds its association slot, two threads and
the socket for ever, whatever the time-outs say (twenty such peers lock
everyone else out). :func:`bound_reads` gives the socket a time-out: the
ACSE time-out until the association is negotiated, the network time-out
after; a read that times out closes the connection.

**A PDU being received is bounded in size.** pynetdicom reads a whole PDU
into memory before anything looks at it, whatever length its header claims,
so one P-DATA-TF PDU of a few hundred megabytes got past the pixel budget and
``max_pdu`` alike. Now a P-DATA-TF longer than the maximum this server
announced (``[server] max_pdu``; with no maximum, the pixel budget), or any
other PDU longer than 1 MiB, is refused from its header: the peer gets an
A-ABORT (invalid PDU parameter value), the association ends as aborted, with
a log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pynetdicom.dimse_primitives import (
    C_ECHO,
    C_STORE,
    N_ACTION,
    N_CREATE,
    N_DELETE,
    N_GET,
    N_SET,
)
from pynetdicom.service_class import StorageServiceClass, VerificationServiceClass
from pynetdicom.service_class_n import PrintManagementServiceClass
from pynetdicom.sop_class import uid_to_service_class

from dicomprint import Status

log = logging.getLogger(__name__)

#: Request type -> the service that must serve its SOP class.
SERVICES: dict[type, type] = {
    N_CREATE: PrintManagementServiceClass,
    N_SET: PrintManagementServiceClass,
    N_GET: PrintManagementServiceClass,
    N_ACTION: PrintManagementServiceClass,
    N_DELETE: PrintManagementServiceClass,
    C_STORE: StorageServiceClass,
    C_ECHO: VerificationServiceClass,
}

Refusal = tuple[Status, str]


def refusal(request: Any, accepted_common_extended: dict | None = None) -> Refusal | None:
    """The (status, comment) a request gets instead of dispatch, or None to dispatch it."""
    kind = type(request)
    service = SERVICES.get(kind)
    if service is None or request.MessageID is None:
        return None
    if not request.is_valid_request:
        name = kind.__name__.replace("_", "-")
        missing = [k for k in request.REQUEST_KEYWORDS if getattr(request, k) is None]
        status = Status.CANNOT_UNDERSTAND if kind is C_STORE else Status.PROCESSING_FAILURE
        return status, f"the {name} request lacks {', '.join(missing)}"
    sop_class = getattr(request, "AffectedSOPClassUID", None) or getattr(
        request, "RequestedSOPClassUID", None
    )
    dispatched = (accepted_common_extended or {}).get(sop_class, (sop_class,))[0]
    if uid_to_service_class(dispatched) is service:
        return None
    if service is PrintManagementServiceClass:
        return Status.NO_SUCH_SOP_CLASS, f"SOP class {sop_class} is not a print SOP class"
    what = "storage" if service is StorageServiceClass else "verification"
    return Status.SOP_CLASS_NOT_SUPPORTED, f"SOP class {sop_class} is not a {what} SOP class"


def response(request: Any, status: Status, comment: str) -> Any:
    """The response primitive of the request's own kind."""
    kind = type(request)
    reply = kind()
    reply.MessageIDBeingRespondedTo = request.MessageID
    if kind in (N_CREATE, C_STORE, C_ECHO):
        reply.AffectedSOPClassUID = request.AffectedSOPClassUID
    else:
        reply.AffectedSOPClassUID = request.RequestedSOPClassUID
    if kind in (N_CREATE, C_STORE):
        reply.AffectedSOPInstanceUID = request.AffectedSOPInstanceUID
    elif kind is not C_ECHO:
        reply.AffectedSOPInstanceUID = request.RequestedSOPInstanceUID
    if kind is N_ACTION:
        reply.ActionTypeID = request.ActionTypeID
    reply.Status = int(status)
    # LO: at most 64 characters.
    reply.ErrorComment = comment[:64]
    return reply


def guard(
    assoc: Any,
    label: Callable[[], str] | None = None,
    *,
    max_message_bytes: int | None = None,
    on_ending: Callable[[str], None] | None = None,
) -> None:
    """Install the guards on the DIMSE traffic (see the module) on ``assoc``.

    Call before the association's reactor starts (an EVT_CONN_OPEN handler).
    The time limit is the association's ``dimse_timeout``. ``on_ending`` is
    called with ``"released"`` or ``"aborted"`` when the peer's A-RELEASE-RQ
    or A-ABORT arrives (pynetdicom may report the closed connection first).
    """
    dispatch = assoc._serve_request

    def who() -> str:
        return label() if label is not None else str(assoc.requestor.ae_title)

    def serve(message: Any, context_id: int) -> None:
        refused = None
        if not assoc._sent_release and context_id in assoc._accepted_cx:
            try:
                extended = assoc.acceptor.accepted_common_extended
            except RuntimeError:
                extended = {}
            refused = refusal(message, extended)
        if refused is None:
            dispatch(message, context_id)
            return
        status, comment = refused
        log.warning(
            "%s: %s refused with 0x%04X: %s",
            who(),
            type(message).__name__.replace("_", "-"),
            status,
            comment,
        )
        assoc.dimse.send_msg(response(message, status, comment), context_id)

    assoc._serve_request = serve
    receive_primitive = assoc.dimse.receive_primitive

    def receive(primitive: Any) -> None:
        # Runs on pynetdicom's network (DUL) thread, for every P-DATA.
        try:
            receive_primitive(primitive)
        except Exception as exc:
            log.warning("%s: undecodable DIMSE message (%r): association aborted", who(), exc)
            assoc.dimse.message = None
            assoc.dul.event_queue.put("Evt19")  # as for an invalid PDU: A-ABORT

    assoc.dimse.receive_primitive = receive
    watch = ReceptionWatch(assoc, who, max_message_bytes)
    get_msg = assoc.dimse.get_msg

    def reactor_get_msg(block: bool = False) -> Any:
        # The reactor polls this about every millisecond.
        if watch.exceeded():
            return None, None
        return get_msg(block)

    assoc.dimse.get_msg = reactor_get_msg
    bound_pdus(assoc, who, max_message_bytes, on_ending)


#: The longest PDU other than P-DATA-TF received: association requests are a
#: few kilobytes; A-RELEASE and A-ABORT PDUs four bytes.
MAX_CONTROL_PDU = 1 << 20
_P_DATA_TF = 0x04
#: The peer ending the association, by PDU type: A-RELEASE-RQ, A-ABORT.
_ENDINGS = {0x05: "released", 0x07: "aborted"}
#: An A-ABORT PDU from the service provider, reason 6: invalid PDU parameter value.
_A_ABORT_HEADER = b"\x07\x00\x00\x00\x00\x04"
_A_ABORT_BODY = b"\x00\x00\x02\x06"


def bound_pdus(
    assoc: Any,
    who: Callable[[], str],
    max_message_bytes: int | None,
    on_ending: Callable[[str], None] | None = None,
) -> None:
    """Refuse PDUs longer than announced from their header (see the module).

    Wraps the reads of ``assoc``'s socket: pynetdicom reads each PDU's 6-byte
    header, then its body. An oversized header is answered with an A-ABORT,
    and pynetdicom is handed one in its place, so it ends the association
    as aborted without reading the body. The header of a peer's A-RELEASE-RQ
    or A-ABORT goes to ``on_ending`` (see :func:`guard`).
    """
    transport = assoc.dul.socket
    recv = transport.recv
    handed: list[bytes] = []  # the A-ABORT body, once its header was handed over

    def bounded_recv(nr_bytes: int) -> bytearray:
        if handed:
            return bytearray(handed.pop())
        data = recv(nr_bytes)
        if nr_bytes != 6 or len(data) != 6:
            return data
        pdu_type, length = data[0], int.from_bytes(data[2:6], "big")
        if on_ending is not None and pdu_type in _ENDINGS:
            on_ending(_ENDINGS[pdu_type])
        limit = _pdu_limit(assoc, pdu_type, max_message_bytes)
        if limit is None or length <= limit:
            return data
        log.error(
            "%s: aborting the association: a PDU of type 0x%02X and %d bytes, "
            "more than the %d bytes accepted%s",
            who(),
            pdu_type,
            length,
            limit,
            " ([server] max_pdu)" if pdu_type == _P_DATA_TF else "",
        )
        try:
            transport.send(_A_ABORT_HEADER + _A_ABORT_BODY)
        except OSError:
            pass  # the peer went: ending the association is all that is left
        handed.append(_A_ABORT_BODY)
        return bytearray(_A_ABORT_HEADER)

    transport.recv = bounded_recv


def _pdu_limit(assoc: Any, pdu_type: int, max_message_bytes: int | None) -> int | None:
    if pdu_type != _P_DATA_TF:
        return MAX_CONTROL_PDU
    announced = assoc.acceptor.maximum_length  # 0: no maximum
    if announced:
        return announced
    return max_message_bytes


class ReceptionWatch:
    """The DIMSE message being received: how large, and how long without progress."""

    def __init__(self, assoc: Any, who: Callable[[], str], max_message_bytes: int | None) -> None:
        self.assoc = assoc
        self.who = who
        self.max_message_bytes = max_message_bytes
        self._message: Any = None
        self._received = -1
        self._progress = 0.0

    def exceeded(self) -> bool:
        """True (and the association aborted) when the message in transfer broke a limit."""
        message = self.assoc.dimse.message
        if message is None:
            self._message = None
            return False
        # tell(), not getbuffer(): the network thread may be writing.
        data_set = getattr(message, "data_set", None)
        size = data_set.tell() if data_set is not None else 0
        command = getattr(message, "encoded_command_set", None)
        received = size + (command.tell() if command is not None else 0)
        now = time.monotonic()
        if message is not self._message or received != self._received:
            self._message, self._received, self._progress = message, received, now
        timeout = self.assoc.dimse_timeout
        if self.max_message_bytes is not None and size > self.max_message_bytes:
            why = f"its data set passed {self.max_message_bytes} bytes, the server's pixel budget"
        elif timeout is not None and now - self._progress > timeout:
            why = f"received nothing more for {timeout:g} s ([server] dimse_timeout)"
        else:
            return False
        log.error("%s: aborting the association: a DIMSE message %s", self.who(), why)
        self.assoc.abort()
        return True


def bound_reads(assoc: Any, seconds: float | None) -> None:
    """Let no read of ``assoc``'s socket wait longer than ``seconds`` (see the module)."""
    transport = getattr(assoc.dul, "socket", None)
    sock = getattr(transport, "socket", None)
    if sock is not None and seconds is not None:
        try:
            sock.settimeout(seconds)
        except OSError:  # already closed
            pass
