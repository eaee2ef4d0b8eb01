"""The print server: a configured pynetdicom AE around the configured printers."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from pynetdicom import AE, evt

from dicomprint import Printer
from dicomprint.backend import PrinterBackend
from dicomprint.budget import PixelBudget

from .access import AccessPolicy, start_server
from .config import ServerConfig
from .connection import no_delay
from .contexts import configure_ae
from .failed_jobs import REPRINT_COMMAND, FailedJobs
from .printing import Renderer
from .routing import Route, build_routes
from .scp import PrintSCP

log = logging.getLogger(__name__)


class PrintServer:
    """A DICOM print SCP: ``start()``, then ``shutdown()`` (or use as a context manager).

    Every configured printer gets a :class:`~.routing.Route` (``routes``);
    associations print on the one their called AE title is routed to.
    ``printer`` and ``backend`` are those of the default route. ``backend``
    and ``render`` replace the default route's backend and the renderer
    (tests and embedding applications use this). ``reprint_command`` is
    the command named in the log when a failed job is kept (``dicomprint
    serve`` gives the one with its own options). Raises
    :class:`~.config.ConfigError` when a printer's backend cannot be built.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        backend: PrinterBackend | None = None,
        render: Renderer | None = None,
        reprint_command: str = REPRINT_COMMAND,
    ) -> None:
        self.config = config or ServerConfig()
        settings = self.config.server
        self.failed_jobs = FailedJobs(
            Path(settings.failed_jobs).absolute(), reprint_command=reprint_command
        )
        self.routes = build_routes(
            self.config, backend=backend, render=render, failed_jobs=self.failed_jobs
        )
        default = self.routes[self.config.routing.default]
        self.printer: Printer = default.printer
        self.backend = default.backend
        # One pixel budget for every association: memory stays bounded however
        # many send large images at once.
        self.budget = PixelBudget(settings.max_pixel_bytes)
        self.scp = PrintSCP(
            self.route_for,
            store_all_frames=self.config.store.all_frames,
            budget=self.budget,
            parallel_decodes=self.config.server.parallel_decodes,
        )
        self.ae = AE(ae_title=settings.ae_title)
        configure_ae(self.ae, other_storage_classes=self.config.store.other_classes)
        self.ae.maximum_associations = settings.max_associations
        self.ae.maximum_pdu_size = settings.max_pdu
        self.ae.acse_timeout = settings.acse_timeout
        self.ae.dimse_timeout = settings.dimse_timeout
        self.ae.network_timeout = settings.network_timeout
        #: Who may associate ([access]); applied when an association is requested.
        self.access = AccessPolicy.from_config(self.config)
        #: The TLS context of [tls], or None.
        self.ssl_context = self.config.tls.server_context() if self.config.tls.enabled else None
        self._server: Any = None
        self._hurry = threading.Event()
        self._stop_lock = threading.Lock()

    def route_for(self, called_ae_title: str) -> Route:
        """The printer an association calling ``called_ae_title`` prints on."""
        return self.routes[self.config.routing.printer_for(called_ae_title)]

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
        handlers = [(evt.EVT_CONN_OPEN, no_delay), *self.access.handlers(), *self.scp.handlers()]
        self._server = start_server(
            self.ae,
            (settings.host, settings.port),
            evt_handlers=handlers,
            ssl_context=self.ssl_context,
            handshake_timeout=settings.acse_timeout,
        )
        host, port = self.address
        log.info(
            "%s listening on %s:%d%s (max %d associations, max PDU %d)",
            settings.ae_title,
            host,
            port,
            " with TLS" if self.ssl_context is not None else "",
            settings.max_associations,
            settings.max_pdu,
        )
        tls = self.config.tls
        if tls.enabled:
            log.info(
                "TLS %s or later, certificate %s, client certificates %s",
                tls.minimum_version,
                tls.certificate,
                f"required (CAs {tls.ca_certificates})"
                if tls.require_client_certificate
                else "optional",
            )
        for rule in self.access.describe():
            log.info("access: %s", rule)
        routing = self.config.routing
        for name in self.routes:
            titles = sorted(t for t, n in routing.called_ae_titles.items() if n == name)
            if name == routing.default:
                titles.append("any other called AE title")
            if titles:
                log.info(
                    "printer %r (%s backend) for %s",
                    name,
                    self.config.printers[name].backend,
                    ", ".join(titles),
                )
        return self

    def shutdown(self, grace: float | None = None) -> None:
        """Stop: refuse new associations at once, let print jobs in progress finish.

        The listening socket is closed first. Associations with no print job
        in progress (no request being handled, no film session, nothing
        received with C-STORE, no request for a second) are closed with an
        A-ABORT. The others get ``grace`` seconds (default ``[server]
        shutdown_grace``) to finish: an N-ACTION being printed completes, an
        association that releases prints what it received with C-STORE.
        Whatever is still open then is aborted; what it had received with
        C-STORE still prints, and a request in progress is waited for (at
        most ``print_timeout`` for a print). :meth:`hurry` ends the grace early.
        """
        with self._stop_lock:  # one shutdown at a time; a second call returns at once
            server, self._server = self._server, None
        if server is None:
            return
        grace = self.config.server.shutdown_grace if grace is None else grace
        server.shutdown()  # new connections are refused from here on
        started = time.monotonic()
        deadline = started + grace
        open_now = self.scp.busy_labels()
        if open_now:
            log.info(
                "stopped listening; waiting up to %g s for %d open association(s): %s",
                grace,
                len(open_now),
                ", ".join(open_now),
            )
        while self.ae.active_associations and time.monotonic() < deadline:
            self.scp.close_idle(_QUIET)
            if self._hurry.wait(0.05):
                break
        remaining = self.ae.active_associations
        if remaining:
            log.warning(
                "aborting %d association(s) still open after %.0f s: %s",
                len(remaining),
                time.monotonic() - started,
                ", ".join(self.scp.busy_labels()) or "negotiating",
            )
        self.ae.shutdown()  # aborts what is left; store-to-film still prints what it received
        for assoc in remaining:
            assoc.join(timeout=max(0.1, deadline + 2.0 - time.monotonic()))
        for name, route in self.routes.items():
            hung_jobs = getattr(route.on_print, "hung_jobs", None)
            for job_id, seconds in hung_jobs() if hung_jobs else ():
                log.warning(
                    "printer %r has not answered on job %s for %.0f s; the job is kept for "
                    "'dicomprint reprint'",
                    name,
                    job_id,
                    seconds,
                )
        log.info("server stopped")

    def hurry(self) -> None:
        """End the grace period of a :meth:`shutdown` in progress: abort what is still open."""
        self._hurry.set()

    def __enter__(self) -> PrintServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


#: Seconds without a request after which an association with no print job is
#: closed by a shutdown (an SCU in the middle of its work sends sooner).
_QUIET = 1.0
