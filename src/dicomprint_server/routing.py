"""Configured printers, live: each with its backend, its Printer and its print callback.

Every printer of the configuration becomes a :class:`Route`: its own
:class:`dicomprint.Printer` (profile and status, so Printer N-GET and
N-EVENT-REPORT are per printer), its backend and the ``on_print`` callback
that renders a job and hands it to that backend. Associations are routed by
the called AE title they asked for (:meth:`dicomprint_server.config.Routing.printer_for`);
called AE titles routed to the same printer share it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from dicomprint import Printer
from dicomprint.backend import PrinterBackend
from dicomprint.session import PrintCallback

from .backends import load_backend
from .config import ConfigError, PrinterSettings, ServerConfig
from .failed_jobs import FailedJobs
from .printing import Renderer, print_callback


@frozen
class Route:
    """One printer the server prints on."""

    name: str
    printer: Printer
    on_print: PrintCallback | None
    backend: PrinterBackend | None = None


def backend_options(settings: PrinterSettings) -> dict[str, Any]:
    """The printer's options, with paths made absolute (the server may not stay in its folder)."""
    return {
        key: Path(value).absolute() if isinstance(value, Path) else value
        for key, value in settings.options.items()
    }


def build_backend(settings: PrinterSettings) -> PrinterBackend:
    """The backend of a configured printer; ConfigError naming the printer when it fails."""
    try:
        return load_backend(settings.backend, backend_options(settings))
    except ValueError as exc:
        raise ConfigError(f"printer {settings.name!r}: {exc}") from exc


def build_routes(
    config: ServerConfig,
    *,
    backend: PrinterBackend | None = None,
    render: Renderer | None = None,
    failed_jobs: FailedJobs | None = None,
) -> Mapping[str, Route]:
    """A :class:`Route` for every configured printer.

    ``backend`` replaces the backend of the default route's printer.
    """
    routes = {}
    rendering = threading.BoundedSemaphore(config.server.parallel_renders)  # all printers'
    for name, settings in config.printers.items():
        if backend is not None and name == config.routing.default:
            printer_backend = backend
        else:
            printer_backend = build_backend(settings)
        printer = Printer(settings.profile)
        on_print = print_callback(
            printer_backend,
            printer,
            render,
            failed_jobs=failed_jobs,
            printer_name=name,
            timeout=config.server.print_timeout,
            rendering=rendering,
        )
        routes[name] = Route(name, printer, on_print, printer_backend)
    return routes
