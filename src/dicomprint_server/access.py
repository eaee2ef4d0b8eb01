"""Access control and DICOM over TLS for the print SCP.

:class:`AccessPolicy` decides, from an association request, whether it may
proceed: the client address against ``[access] client_addresses``, the
calling AE title against ``calling_ae_titles`` and, for a title listed in
``calling_ae_addresses``, the address it calls from, for one listed in
``calling_ae_certificates``, the names of its TLS client certificate; the
called AE title against
our own and the routed ones (``strict_called_ae_title``), and the
associations already open from the same address
(``max_associations_per_address``). A request it refuses gets the
A-ASSOCIATE-RJ PS3.8 (9.3.4) prescribes for the reason:

==============================  =====================  ========================  ======
refused because                 result                 source                    reason
==============================  =====================  ========================  ======
address not allowed             rejected-permanent     service-user              1
calling AE title not allowed    rejected-permanent     service-user              3
AE title from another address   rejected-permanent     service-user              3
AE title with another cert.     rejected-permanent     service-user              3
called AE title not ours        rejected-permanent     service-user              7
too many from one address       rejected-transient     service-provider (pres.)  2
==============================  =====================  ========================  ======

The last is what pynetdicom answers when ``[server] max_associations`` is
reached. Each rejection is logged once, by :class:`~.scp.PrintSCP`'s
``EVT_REJECTED`` handler, with the reason this module gives.

:func:`start_server` runs the pynetdicom association server, with TLS when
given an :class:`ssl.SSLContext` (see :mod:`.tls`): each connection's TLS
handshake runs in that connection's own thread, bounded by a time-out, so a
client that connects and never completes it holds up nobody else. A failed
handshake closes the connection with a log line; no association is created.

Everything here that relies on pynetdicom beyond its documented event
handlers is marked ``pynetdicom coupling`` and was read from pynetdicom 3.0.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from attrs import field, frozen
from pynetdicom import AE, evt
from pynetdicom.transport import ThreadedAssociationServer

from .config import IPNetwork, ServerConfig
from .tls import error_text

__all__ = [
    "AccessPolicy",
    "AcceptorServer",
    "Rejection",
    "certificate_names",
    "rejection_text",
    "start_server",
]

log = logging.getLogger(__name__)

#: A-ASSOCIATE-RJ Result (PS3.8 Table 9-21).
RESULTS = {1: "rejected-permanent", 2: "rejected-transient"}
#: Source.
SOURCES = {
    1: "service-user",
    2: "service-provider (ACSE)",
    3: "service-provider (presentation)",
}
#: Reason/Diag., by source.
REASONS = {
    1: {
        1: "no reason given",
        2: "application context name not supported",
        3: "calling AE title not recognized",
        7: "called AE title not recognized",
    },
    2: {1: "no reason given", 2: "protocol version not supported"},
    3: {1: "temporary congestion", 2: "local limit exceeded"},
}


def rejection_text(result: int, source: int, reason: int) -> str:
    """An A-ASSOCIATE-RJ in words, e.g. ``rejected-permanent, service-user, 3 (calling ...)``."""
    meaning = REASONS.get(source, {}).get(reason, "unknown reason")
    return (
        f"{RESULTS.get(result, f'result {result}')}, "
        f"{SOURCES.get(source, f'source {source}')}, reason {reason} ({meaning})"
    )


@frozen
class Rejection:
    """An A-ASSOCIATE-RJ to send, and why (for the log)."""

    result: int
    source: int
    reason: int
    why: str

    def __str__(self) -> str:
        return rejection_text(self.result, self.source, self.reason)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A client address as an IP address; IPv4-mapped IPv6 addresses as IPv4."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    """Whether ``address`` is in one of ``networks``; no networks: any address is."""
    if not networks:
        return True
    ip = _address(address)
    return ip is not None and any(ip in network for network in networks)


@frozen
class AccessPolicy:
    """Who may associate: the ``[access]`` table, with the titles that can be called."""

    #: Calling AE titles allowed; empty: any.
    calling_ae_titles: frozenset[str] = frozenset()
    #: Networks client addresses must be in; empty: any.
    networks: tuple[IPNetwork, ...] = ()
    #: Called AE titles accepted; None: any.
    called_ae_titles: frozenset[str] | None = None
    #: Associations one address may have open at once; 0: no limit.
    max_per_address: int = 0
    #: Calling AE titles bound to the networks they may call from.
    ae_networks: Mapping[str, tuple[IPNetwork, ...]] = field(factory=dict)
    #: Calling AE titles bound to names their TLS client certificate must have.
    ae_certificates: Mapping[str, tuple[str, ...]] = field(factory=dict)

    @classmethod
    def from_config(cls, config: ServerConfig) -> AccessPolicy:
        access = config.access
        called = None
        if access.strict_called_ae_title:
            called = frozenset({config.server.ae_title.strip(), *config.routing.called_ae_titles})
        return cls(
            frozenset(access.calling_ae_titles),
            tuple(access.client_addresses),
            called,
            access.max_associations_per_address,
            dict(access.calling_ae_addresses),
            dict(access.calling_ae_certificates),
        )

    @property
    def is_open(self) -> bool:
        """True when every request passes (the default configuration)."""
        return not (
            self.calling_ae_titles
            or self.networks
            or self.called_ae_titles is not None
            or self.max_per_address
            or self.ae_networks
            or self.ae_certificates
        )

    def address_allowed(self, address: str) -> bool:
        return _within(address, self.networks)

    def check(
        self,
        address: str,
        calling: str,
        called: str,
        open_from_address: int,
        certificate_names: frozenset[str] = frozenset(),
    ) -> Rejection | None:
        """The rejection for a request, or None to let it proceed.

        ``open_from_address``: other associations (and connections still
        negotiating) from the same address; ``certificate_names``: the names
        of the client's TLS certificate (:func:`certificate_names`).
        """
        calling, called = calling.strip(), called.strip()
        if not self.address_allowed(address):
            return Rejection(1, 1, 1, f"address {address} is not in [access] client_addresses")
        if self.calling_ae_titles and calling not in self.calling_ae_titles:
            return Rejection(
                1, 1, 3, f"calling AE title {calling!r} is not in [access] calling_ae_titles"
            )
        bound = self.ae_networks.get(calling)
        if bound is not None and not _within(address, bound):
            return Rejection(
                1,
                1,
                3,
                f"calling AE title {calling!r} may not associate from {address} "
                "([access.calling_ae_addresses])",
            )
        wanted = self.ae_certificates.get(calling)
        if wanted is not None and not {n.lower() for n in wanted} & certificate_names:
            presented = ", ".join(sorted(certificate_names)) or "none"
            return Rejection(
                1,
                1,
                3,
                f"calling AE title {calling!r} needs a certificate of {', '.join(wanted)}; "
                f"the client's names: {presented} ([access.calling_ae_certificates])",
            )
        if self.called_ae_titles is not None and called not in self.called_ae_titles:
            return Rejection(
                1,
                1,
                7,
                f"called AE title {called!r} is neither ours nor routed "
                "([access] strict_called_ae_title)",
            )
        if self.max_per_address and open_from_address >= self.max_per_address:
            return Rejection(
                2,
                3,
                2,
                f"{open_from_address} association(s) from {address} already open "
                f"([access] max_associations_per_address = {self.max_per_address})",
            )
        return None

    def describe(self) -> list[str]:
        """The rules in force, one line each (for the start-up log)."""
        lines = []
        if self.networks:
            lines.append("only client addresses in " + ", ".join(str(n) for n in self.networks))
        if self.calling_ae_titles:
            lines.append("only calling AE titles " + ", ".join(sorted(self.calling_ae_titles)))
        for title, networks in sorted(self.ae_networks.items()):
            lines.append(f"calling AE title {title} only from " + ", ".join(map(str, networks)))
        for title, names in sorted(self.ae_certificates.items()):
            lines.append(f"calling AE title {title} only with a certificate of " + ", ".join(names))
        if self.called_ae_titles is not None:
            lines.append("only called AE titles " + ", ".join(sorted(self.called_ae_titles)))
        if self.max_per_address:
            lines.append(f"at most {self.max_per_address} association(s) per client address")
        return lines

    # -- pynetdicom ---------------------------------------------------------------------

    def handlers(self) -> list[tuple[Any, Callable[..., Any]]]:
        """The event handlers that apply the policy (none when it lets everything in)."""
        return [] if self.is_open else [(evt.EVT_REQUESTED, self._requested)]

    def _requested(self, event: Any) -> None:
        assoc = event.assoc
        try:
            request = assoc.requestor.primitive
            address = assoc.requestor.address
            rejection = self.check(
                address,
                request.calling_ae_title or "",
                request.called_ae_title or "",
                _open_from(assoc, address),
                _peer_certificate_names(assoc) if self.ae_certificates else frozenset(),
            )
        except Exception:  # never let a request in because the check broke
            log.exception("access check failed; rejecting the association")
            rejection = Rejection(1, 1, 1, "the access check failed")
        if rejection is not None:
            _reject(assoc, rejection)


def certificate_names(certificate: Mapping[str, Any] | None) -> frozenset[str]:
    """The names a peer certificate (``SSLSocket.getpeercert()``) gives, in lower case.

    Its subject's Common Names and its DNS subject alternative names.
    """
    if not certificate:
        return frozenset()
    names = {
        value for rdn in certificate.get("subject", ()) for key, value in rdn if key == "commonName"
    }
    names |= {value for kind, value in certificate.get("subjectAltName", ()) if kind == "DNS"}
    return frozenset(name.strip().lower() for name in names)


def _peer_certificate_names(assoc: Any) -> frozenset[str]:
    """pynetdicom coupling: the association's socket is ``assoc.dul.socket.socket``."""
    sock = getattr(assoc.dul.socket, "socket", None)
    if not isinstance(sock, ssl.SSLSocket):
        return frozenset()
    return certificate_names(sock.getpeercert())


def _open_from(assoc: Any, address: str) -> int:
    """Other acceptor associations, negotiating or established, from ``address``."""
    ip = _address(address)
    count = 0
    for other in assoc.ae.active_associations:
        if other is assoc or not other.is_acceptor:
            continue
        if other.is_rejected or other.is_aborted or other.is_released:
            continue
        try:
            other_address = other.requestor.address
        except ValueError:  # no address yet
            continue
        if other_address == address or (ip is not None and _address(other_address) == ip):
            count += 1
    return count


def _reject(assoc: Any, rejection: Rejection) -> None:
    """Send an A-ASSOCIATE-RJ from an ``EVT_REQUESTED`` handler.

    pynetdicom coupling: pynetdicom triggers ``EVT_REQUESTED`` on the
    acceptor after the A-ASSOCIATE-RQ arrived and before its own checks, and
    skips negotiation when the handler rejected the request (pynetdicom issue
    #408). The rest is what its ACSE does for its own rejections
    (``ACSE._negotiate_as_acceptor``): send the A-ASSOCIATE-RJ, trigger
    ``EVT_REJECTED`` (``why`` is our addition, for the log line) and kill the
    association, which returns once the peer closed the connection or the
    ARTIM timer expired.
    """
    assoc.acse.send_reject(rejection.result, rejection.source, rejection.reason)
    evt.trigger(assoc, evt.EVT_REJECTED, {"why": rejection.why})
    assoc.kill()


# -- The association server, with TLS handshakes off the accept loop -----------------------


class AcceptorServer(ThreadedAssociationServer):
    """pynetdicom's threaded association server with the TLS handshake per connection.

    pynetdicom coupling: ``AssociationServer.get_request`` wraps each accepted
    socket with ``ssl_context.wrap_socket`` on the thread that accepts
    connections, handshake included and without a time-out, so one client
    that connects and sends nothing stops the server from accepting anyone
    else. Here the socket is wrapped without handshaking, and the handshake
    runs on the connection's own thread (``process_request_thread``, before
    pynetdicom creates the association), within ``handshake_timeout`` seconds.
    """

    #: Seconds a client has to complete the TLS handshake (the ACSE time-out).
    handshake_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before binding: a server that cannot bind is closed at once.
        self._handshaking: set[ssl.SSLSocket] = set()
        self._handshake_lock = threading.Lock()
        self._closing = False
        super().__init__(*args, **kwargs)

    def get_request(self) -> tuple[socket.socket, Any]:
        client, address = self.socket.accept()
        if self.ssl_context is not None:
            client = self.ssl_context.wrap_socket(
                client, server_side=True, do_handshake_on_connect=False
            )
        return client, address

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket) and not self._handshake(request, client_address):
            self.shutdown_request(request)
            return
        super().process_request_thread(request, client_address)

    def _handshake(self, request: ssl.SSLSocket, client_address: Any) -> bool:
        where = f"{client_address[0]}:{client_address[1]}"
        with self._handshake_lock:
            if self._closing:
                return False
            self._handshaking.add(request)
        try:
            request.settimeout(self.handshake_timeout)
            request.do_handshake()
            request.settimeout(None)  # as pynetdicom gets accepted sockets
        except (OSError, ValueError) as exc:  # SSLError and timeouts are OSErrors
            if not self._closing:
                reason = "timed out" if isinstance(exc, TimeoutError) else error_text(exc)
                log.warning("TLS handshake with %s failed, connection closed: %s", where, reason)
            return False
        finally:
            with self._handshake_lock:
                self._handshaking.discard(request)
        log.info("TLS from %s: %s, %s", where, request.version(), _peer(request))
        return True

    def server_close(self) -> None:
        # Handshakes in progress end now rather than at their time-out, so
        # the connection threads the server waits for finish promptly.
        with self._handshake_lock:
            self._closing = True
            pending = list(self._handshaking)
        for request in pending:
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        super().server_close()


def _peer(request: ssl.SSLSocket) -> str:
    """The client certificate's subject in short, or that there was none."""
    certificate = request.getpeercert()
    if not certificate:
        return "no client certificate"
    subject = ", ".join(
        f"{key}={value}" for rdn in certificate.get("subject", ()) for key, value in rdn
    )
    return f"client certificate {subject or '(no subject)'}"


def start_server(
    ae: AE,
    address: tuple[str, int],
    *,
    evt_handlers: Iterable[Any],
    ssl_context: ssl.SSLContext | None = None,
    handshake_timeout: float = 30.0,
) -> AcceptorServer:
    """Listen on ``address`` in a background thread, like ``AE.start_server(block=False)``.

    pynetdicom coupling: the server is made with ``AE.make_server`` (which
    takes a server class) and put in ``AE._servers``, as ``start_server``
    does, so that ``AE.shutdown`` and the server's own ``shutdown`` find it.
    """
    server = ae.make_server(
        address,
        ssl_context=ssl_context,
        evt_handlers=list(evt_handlers),
        server_class=AcceptorServer,
    )
    server.handshake_timeout = handshake_timeout
    thread = threading.Thread(
        target=server.serve_forever, name=f"AcceptorServer@{server.server_address[1]}", daemon=True
    )
    thread.start()
    ae._servers.append(server)
    return server
