"""One association to a printer: DIMSE-N requests with their statuses checked.

:class:`PrintAssociation` is the layer under :class:`~.client.PrintClient`:
it negotiates the contexts, sends N-CREATE/N-SET/N-GET/N-ACTION/N-DELETE on
the right one (the meta SOP class's, or an optional class's own), turns each
response status into a return value, a warning or a
:class:`~.client_reports.PrintClientError`, and receives N-EVENT-REPORTs.

The UIDs of created instances come from the N-CREATE response's Affected
SOP Instance UID. pynetdicom's ``send_n_create`` returns only the status and
the attribute list, so the response's command set is taken from the
``EVT_DIMSE_RECV`` event (raised for every message received, before
``send_n_create`` reads it off its queue) and matched by Message ID Being
Responded To.

N-EVENT-REPORTs from the printer are answered by :func:`.connection.requestor_guard`
rather than pynetdicom's own N-EVENT-REPORT service: see there why.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Iterable, Set
from typing import Any

from pydicom import Dataset
from pydicom.datadict import tag_for_keyword
from pydicom.uid import UID
from pynetdicom import AE, evt

from dicomprint import uids
from dicomprint.character_set import character_set_for
from dicomprint.printer import IDENTITY_KEYWORDS, STATUS_KEYWORDS

from .access import rejection_text
from .client_reports import PrintClientError, PrinterEvent, PrintWarning, describe_status
from .connection import no_delay, requestor_guard
from .contexts import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION
from .tls import tls_args

log = logging.getLogger(__name__)

TRANSFER_SYNTAXES = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN]
#: Optional SOP classes negotiated on contexts of their own.
_OWN_CONTEXT = {
    uids.BasicAnnotationBox,
    uids.PresentationLUT,
    uids.PrintJob,
    uids.PrinterConfigurationRetrieval,
}
_N_CREATE_RSP = 0x8140
_PRINT = 1  # Action Type ID "Print"


class PrintAssociation:
    """An established association with a print SCP.

    ``warn`` receives every warning (statuses, printer events); ``on_event``
    every N-EVENT-REPORT, on pynetdicom's thread; ``on_end`` (no arguments)
    is called there when the connection closes, whoever ends it. ``tls`` and
    ``tls_server_name``: DICOM over TLS, as for :class:`~.client.PrintClient`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        called_ae: str,
        calling_ae: str,
        *,
        meta_sop_class: str,
        optional: Iterable[str] = (),
        timeout: float,
        warn: Callable[[PrintWarning], None],
        on_event: Callable[[PrinterEvent], None],
        on_end: Callable[[], None] | None = None,
        tls: ssl.SSLContext | None = None,
        tls_server_name: str | None = None,
    ) -> None:
        self.meta_sop_class = meta_sop_class
        self._warn_to = warn
        self._on_event = on_event
        self._message_id = 0
        self._responses: dict[int, Dataset] = {}
        self._lock = threading.Lock()
        ae = requestor(calling_ae, timeout)
        ae.add_requested_context(meta_sop_class, TRANSFER_SYNTAXES)
        # Verification too: a printer without the meta class then still
        # associates (instead of pynetdicom aborting), so we can say what it lacks.
        ae.add_requested_context(VERIFICATION, TRANSFER_SYNTAXES)
        for sop_class in optional:
            ae.add_requested_context(sop_class, TRANSFER_SYNTAXES)
        where = f"{called_ae}@{host}:{port}"
        self._closed = False

        def closed(event: Any) -> None:
            self._closed = True
            if on_end is not None:
                on_end()

        handlers = [
            (evt.EVT_DIMSE_RECV, self._received),
            (evt.EVT_CONN_CLOSE, closed),
            requestor_guard(self._event_report),
        ]
        self._assoc = associate(ae, host, port, called_ae, handlers, tls, tls_server_name)
        self.accepted = frozenset(cx.abstract_syntax for cx in self._assoc.accepted_contexts)
        if meta_sop_class not in self.accepted:
            self.release()
            raise PrintClientError(
                f"{where} does not accept {UID(meta_sop_class).name}", operation="A-ASSOCIATE"
            )
        log.info("associated with %s (%s)", where, UID(meta_sop_class).name)

    @property
    def is_open(self) -> bool:
        return not self._closed and self._assoc.is_established

    def release(self) -> None:
        if self._assoc.is_established:
            self._assoc.release()

    # -- DIMSE-N ------------------------------------------------------------------------

    def n_create(self, sop_class: str, request: Dataset) -> tuple[str, Dataset]:
        """Create an instance; (the UID the printer gave it, the attributes it returned)."""
        operation = f"N-CREATE {UID(sop_class).name}"
        msg_id = self._next_id()
        # An empty attribute list goes as none at all: pynetdicom would announce
        # a data set and send zero bytes, and the peer would wait for them.
        status, reply = self._assoc.send_n_create(
            _outgoing(request) if len(request) else None,
            sop_class,
            None,
            msg_id=msg_id,
            meta_uid=self._meta(sop_class),
        )
        with self._lock:
            command = self._responses.pop(msg_id, None)
        self.check(operation, status)
        uid = command.get("AffectedSOPInstanceUID") if command is not None else None
        if not uid:
            raise PrintClientError(
                f"{operation}: the printer returned no Affected SOP Instance UID",
                operation=operation,
            )
        return str(uid), reply if reply is not None else Dataset()

    def n_set(self, sop_class: str, uid: str, request: Dataset) -> Dataset:
        operation = f"N-SET {UID(sop_class).name}"
        status, reply = self._assoc.send_n_set(
            _outgoing(request),
            sop_class,
            uid,
            msg_id=self._next_id(),
            meta_uid=self._meta(sop_class),
        )
        self.check(operation, status)
        return reply if reply is not None else Dataset()

    def n_get(self, sop_class: str, uid: str, tags: list[int]) -> Dataset:
        operation = f"N-GET {UID(sop_class).name}"
        status, reply = self._assoc.send_n_get(
            tags, sop_class, uid, msg_id=self._next_id(), meta_uid=self._meta(sop_class)
        )
        self.check(operation, status)
        return reply if reply is not None else Dataset()

    def n_action_print(self, sop_class: str, uid: str) -> tuple[int, Dataset | None]:
        """N-ACTION Print; (status, Action Reply)."""
        operation = f"N-ACTION {UID(sop_class).name}"
        status, reply = self._assoc.send_n_action(
            None, _PRINT, sop_class, uid, msg_id=self._next_id(), meta_uid=self._meta(sop_class)
        )
        return self.check(operation, status), reply

    def n_delete(
        self, sop_class: str, uid: str, *, expected: Set[int] = frozenset(), strict: bool = False
    ) -> None:
        """N-DELETE; a failure is a warning (raised when ``strict``), unless it is ``expected``."""
        operation = f"N-DELETE {UID(sop_class).name}"
        if not self.is_open:
            return
        status = self._assoc.send_n_delete(
            sop_class, uid, msg_id=self._next_id(), meta_uid=self._meta(sop_class)
        )
        try:
            self.check(operation, status)
        except PrintClientError as exc:
            if strict:
                raise
            if exc.status in expected:
                log.debug("%s %s: %s", operation, uid, exc)
            else:
                self.warn(operation, exc.status, exc.meaning or str(exc), exc.comment)

    def check(self, operation: str, status: Dataset | None) -> int:
        """The status code of a response: warnings reported, failures raised."""
        if status is None or "Status" not in status:
            raise PrintClientError(
                f"{operation}: no answer from the printer (timeout or association aborted)",
                operation=operation,
            )
        code = int(status.Status)
        category, meaning = describe_status(code)
        comment = str(status.get("ErrorComment") or "")
        if category == "Warning":
            self.warn(operation, code, meaning, comment)
        elif category != "Success":
            detail = f" ({comment})" if comment else ""
            raise PrintClientError(
                f"{operation} failed: 0x{code:04X} {meaning}{detail}",
                operation=operation,
                status=code,
                comment=comment,
            )
        return code

    def warn(self, operation: str, status: int | None, meaning: str, comment: str = "") -> None:
        warning = PrintWarning(operation, status, meaning, comment)
        log.warning("%s", warning)
        self._warn_to(warning)

    def _meta(self, sop_class: str) -> str | None:
        # Optional classes travel on their own context, the rest on the meta class's.
        return None if sop_class in _OWN_CONTEXT else self.meta_sop_class

    def _next_id(self) -> int:
        self._message_id = self._message_id % 0xFFFF + 1  # 1..65535
        return self._message_id

    # -- pynetdicom events (its threads) -----------------------------------------------

    def _received(self, event: Any) -> None:
        command = event.message.command_set
        if command.get("CommandField") == _N_CREATE_RSP:
            with self._lock:
                self._responses[int(command.MessageIDBeingRespondedTo)] = command

    def _event_report(self, sop_class: str, instance: str, event_type: int, info: Dataset) -> None:
        report = PrinterEvent(sop_class, event_type, info, instance)
        if report.name in ("WARNING", "FAILURE"):
            self.warn(
                f"N-EVENT-REPORT {UID(sop_class).name}", None, report.name, report.status_info
            )
        else:
            log.info("%s reports %s", UID(sop_class).name, report.name)
        self._on_event(report)


def requestor(calling_ae: str, timeout: float) -> AE:
    """Our AE, waiting at most ``timeout`` seconds for anything, the TCP connection too."""
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    ae.connection_timeout = timeout
    return ae


def associate(
    ae: AE,
    host: str,
    port: int,
    called_ae: str,
    handlers: list,
    tls: ssl.SSLContext | None,
    tls_server_name: str | None,
) -> Any:
    """An established association, or a :class:`PrintClientError` saying why not."""
    connected = threading.Event()

    def opened(event: Any) -> None:
        connected.set()
        no_delay(event)

    assoc = ae.associate(
        host,
        port,
        ae_title=called_ae,
        evt_handlers=[(evt.EVT_CONN_OPEN, opened), *handlers],
        **tls_args(host, tls, tls_server_name),
    )
    if not assoc.is_established:
        where = f"{called_ae}@{host}:{port}"
        raise association_error(assoc, where, tls=tls is not None, connected=connected.is_set())
    return assoc


def association_error(
    assoc: Any, where: str, *, tls: bool = False, connected: bool = True
) -> PrintClientError:
    """Why an association was not established, as a :class:`PrintClientError`.

    A rejection names the A-ASSOCIATE-RJ's result, source and reason; no
    TCP connection (``connected`` False) is told apart from an abort.
    """
    if assoc.is_rejected:
        reply = assoc.acceptor.primitive
        text = rejection_text(reply.result, reply.result_source, reply.diagnostic)
        message = f"association with {where} rejected: {text}"
    elif not connected:
        why = (
            "no connection, or the TLS handshake failed"
            if tls
            else ("connection refused, no route or no answer")
        )
        message = f"cannot connect to {where}: {why} (pynetdicom's log says which)"
    elif assoc.is_aborted:
        message = f"association with {where} aborted"
        if tls:  # with TLS 1.3 a server refuses our certificate after the connection
            message += " (the TLS handshake failed? see the log)"
    else:
        message = f"association with {where} failed"
    return PrintClientError(message, operation="A-ASSOCIATE")


def echo(
    host: str,
    port: int = 104,
    called_ae: str = "PRINTSCP",
    calling_ae: str = "DICOMPRINT",
    *,
    timeout: float = 30.0,
    tls: ssl.SSLContext | None = None,
    tls_server_name: str | None = None,
) -> int:
    """C-ECHO the peer; returns its status (0 is success). No answer raises.

    ``tls``: a context from :func:`~.tls.client_context` for DICOM over TLS;
    ``tls_server_name``: the name the server's certificate must have (the
    host by default).
    """
    ae = requestor(calling_ae, timeout)
    ae.add_requested_context(VERIFICATION, TRANSFER_SYNTAXES)
    assoc = associate(ae, host, port, called_ae, [], tls, tls_server_name)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if "Status" not in status:
        raise PrintClientError("C-ECHO: no answer", operation="C-ECHO")
    return int(status.Status)


#: Printer Status and Printer Status Info.
PRINTER_STATUS = [tag_for_keyword(keyword) for keyword in STATUS_KEYWORDS]
#: What :func:`printer_information` asks the Printer for besides its status.
PRINTER_ATTRIBUTES = [tag_for_keyword(keyword) for keyword in IDENTITY_KEYWORDS]


def printer_information(
    host: str,
    port: int = 104,
    called_ae: str = "PRINTSCP",
    calling_ae: str = "DICOMPRINT",
    *,
    timeout: float = 30.0,
    tls: ssl.SSLContext | None = None,
    tls_server_name: str | None = None,
) -> tuple[Dataset, Dataset | None]:
    """Ask a printer about itself, printing nothing.

    Returns its Printer N-GET answers (status, and what it has of
    :data:`PRINTER_ATTRIBUTES`) and, when it accepts Printer Configuration
    Retrieval, the Printer Configuration Sequence's data set (else None).
    Failures raise :class:`PrintClientError`.
    """
    assoc = PrintAssociation(
        host,
        port,
        called_ae,
        calling_ae,
        meta_sop_class=uids.BasicGrayscalePrintManagementMeta,
        optional=[uids.PrinterConfigurationRetrieval],
        timeout=timeout,
        warn=lambda warning: None,  # logged by the association
        on_event=lambda event: None,
        tls=tls,
        tls_server_name=tls_server_name,
    )
    try:
        printer = assoc.n_get(uids.Printer, uids.PrinterInstance, PRINTER_STATUS)
        printer.update(_printer_identity(assoc))
        configuration = None
        if uids.PrinterConfigurationRetrieval in assoc.accepted:
            configuration = assoc.n_get(
                uids.PrinterConfigurationRetrieval, uids.PrinterConfigurationRetrievalInstance, []
            )
    finally:
        assoc.release()
    return printer, configuration


def _printer_identity(assoc: PrintAssociation) -> Dataset:
    """What the printer has of :data:`PRINTER_ATTRIBUTES`.

    Some printers fail an N-GET naming an attribute they lack (DCMTK's
    answers 0x0105): then each is asked for on its own.
    """
    try:
        return assoc.n_get(uids.Printer, uids.PrinterInstance, PRINTER_ATTRIBUTES)
    except PrintClientError as exc:
        if exc.status is None:
            raise
    found = Dataset()
    for tag in PRINTER_ATTRIBUTES:
        try:
            found.update(assoc.n_get(uids.Printer, uids.PrinterInstance, [tag]))
        except PrintClientError as exc:
            if exc.status is None:
                raise
    return found


def _outgoing(request: Dataset) -> Dataset:
    """``request`` as sent: a copy naming Latin-1 or UTF-8 when its text goes beyond ASCII."""
    needed = None if "SpecificCharacterSet" in request else character_set_for(request)
    if needed is None:
        return request
    sent = Dataset()
    sent.update(request)  # the caller's data set stays as it was
    sent.SpecificCharacterSet = needed
    return sent
