"""The print server: a configured pynetdicom AE around one shared printer."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from typing import Any

import attrs
from pynetdicom import AE, evt

from dicomprint import Printer
from dicomprint.backend import PrinterBackend

from .backends import load_backend
from .config import ServerConfig
from .contexts import configure_ae
from .printing import Renderer, print_callback
from .scp import PrintSCP

log = logging.getLogger(__name__)


class PrintServer:
    """A DICOM print SCP: ``start()``, then ``shutdown()`` (or use as a context manager).

    ``backend`` and ``render`` replace the configured printer backend and
    the renderer (tests and embedding applications use this).
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        backend: PrinterBackend | None = None,
        render: Renderer | None = None,
    ) -> None:
        self.config = config or ServerConfig()
        settings = self.config.server
        if backend is None:
            output = self.config.output
            options = {**attrs.asdict(output), "directory": Path(output.directory).absolute()}
            backend = load_backend(output.backend, options)
        self.backend = backend
        self.printer = Printer(self.config.profile)
        self.scp = PrintSCP(
            self.printer,
            print_callback(backend, self.printer, render),
            store_all_frames=self.config.store.all_frames,
        )
        self.ae = AE(ae_title=settings.ae_title)
        configure_ae(self.ae, other_storage_classes=self.config.store.other_classes)
        self.ae.maximum_associations = settings.max_associations
        self.ae.maximum_pdu_size = settings.max_pdu
        self.ae.acse_timeout = settings.acse_timeout
        self.ae.dimse_timeout = settings.dimse_timeout
        self.ae.network_timeout = settings.network_timeout
        self._server: Any = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on; the real port when configured as 0."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        host, port = self._server.server_address[:2]
        return host, port

    def start(self) -> PrintServer:
        """Listen in background threads; returns at once."""
        settings = self.config.server
        handlers = [(evt.EVT_CONN_OPEN, _no_delay), *self.scp.handlers()]
        self._server = self.ae.start_server(
            (settings.host, settings.port), block=False, evt_handlers=handlers
        )
        host, port = self.address
        log.info(
            "%s listening on %s:%d (max %d associations, max PDU %d)",
            settings.ae_title,
            host,
            port,
            settings.max_associations,
            settings.max_pdu,
        )
        return self

    def shutdown(self, grace: float = 5.0) -> None:
        """Stop listening; give open associations ``grace`` seconds, then abort them."""
        if self._server is None:
            return
        self._server.shutdown()
        deadline = time.monotonic() + grace
        while self.ae.active_associations and time.monotonic() < deadline:
            time.sleep(0.05)
        remaining = self.ae.active_associations
        if remaining:
            log.warning("aborting %d open association(s)", len(remaining))
        self.ae.shutdown()  # aborts what is left
        for assoc in remaining:
            assoc.join(timeout=max(0.1, deadline + 2.0 - time.monotonic()))
        self._server = None
        log.info("server stopped")

    def __enter__(self) -> PrintServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


def _no_delay(event: Any) -> None:
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
