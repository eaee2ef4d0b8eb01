"""From a print job to output: render, hand to the backend, report the truth.

The callback built here is what every :class:`~dicomprint.PrintSession`
calls on N-ACTION. It returns only after the backend has made the films
durable, so a success status means the output exists.

A backend failure also turns the printer's status to FAILURE
(``CHECK PRINTER``), which is announced to open associations by
N-EVENT-REPORT; the next successful print turns it back to NORMAL. The
rendered films of a job the backend failed to print are kept in the
failed-jobs folder (:mod:`.failed_jobs`) for ``dicomprint reprint``, and the
N-ACTION fails.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable

from dicomprint import Printer, PrintError, PrintJob, Status
from dicomprint.backend import PrinterBackend
from dicomprint.film import Film
from dicomprint.session import PrintCallback
from dicomprint.status import first_warning

from .failed_jobs import FailedJobs

log = logging.getLogger(__name__)

Renderer = Callable[[PrintJob], tuple[list[Film], list[Status]]]

#: Printer Status Info (PS3.3 C.13.9.1 defined term) while output fails.
FAILURE_INFO = "CHECK PRINTER"
_RESOURCE_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _default_renderer() -> Renderer:
    from dicomprint.render import render_job

    return render_job


class PrinterHealth:
    """Sets the printer to FAILURE when output fails, back to NORMAL once it works."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self._failed = False
        self._lock = threading.Lock()

    def failed(self) -> None:
        with self._lock:
            changed = not self._failed
            self._failed = True
        if changed:
            self.printer.set_status("FAILURE", FAILURE_INFO)

    def succeeded(self) -> None:
        with self._lock:
            changed = self._failed
            self._failed = False
        # Only undo what we did: a status set by an operator stays.
        if changed and self.printer.PrinterStatusInfo == FAILURE_INFO:
            self.printer.set_status("NORMAL")


def print_callback(
    backend: PrinterBackend,
    printer: Printer,
    render: Renderer | None = None,
    *,
    failed_jobs: FailedJobs | None = None,
    printer_name: str = "default",
) -> PrintCallback:
    """The ``on_print`` callback for sessions printing on ``backend``.

    When the backend fails, the job's films are kept in ``failed_jobs``
    (under ``printer_name``) before the N-ACTION fails.
    """
    renderer = render or _default_renderer()
    health = PrinterHealth(printer)

    def keep(films: list[Film], job: PrintJob, error: BaseException) -> None:
        if failed_jobs is None or not films:
            return
        try:
            folder = failed_jobs.save(printer_name, films, job, f"{type(error).__name__}: {error}")
        except Exception:
            log.exception("job %s could not be kept for reprinting", job.job_id)
            return
        log.warning("job %s kept in %s; 'dicomprint reprint' prints it again", job.job_id, folder)

    def on_print(job: PrintJob) -> Status | None:
        try:
            films, warnings = renderer(job)
        except PrintError:
            raise
        except Exception as exc:  # a renderer bug must not look like success
            log.exception("rendering job %s failed", job.job_id)
            raise PrintError(Status.PROCESSING_FAILURE, f"rendering failed: {exc}") from exc
        try:
            backend.print_films(films, job)
        except PrintError as exc:
            health.failed()
            log.error("printing job %s on %r failed: %s", job.job_id, printer_name, exc)
            keep(films, job, exc)
            raise
        except OSError as exc:
            health.failed()
            status = (
                Status.RESOURCE_LIMITATION
                if exc.errno in _RESOURCE_ERRNOS
                else Status.PROCESSING_FAILURE
            )
            log.error("printing job %s on %r failed: %s", job.job_id, printer_name, exc)
            keep(films, job, exc)
            raise PrintError(status, f"output failed: {exc.strerror or exc}") from exc
        except Exception as exc:
            health.failed()
            log.exception("printer %r failed on job %s", printer_name, job.job_id)
            keep(films, job, exc)
            raise PrintError(Status.PROCESSING_FAILURE, f"printer failed: {exc}") from exc
        health.succeeded()
        log.info(
            "printed job %s on %r: %d film(s) x %d cop%s for %r",
            job.job_id,
            printer_name,
            len(films),
            job.copies,
            "y" if job.copies == 1 else "ies",
            job.calling_ae_title,
        )
        warning = first_warning(list(warnings))
        return None if warning == Status.SUCCESS else warning

    return on_print
