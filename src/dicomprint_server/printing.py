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

With a ``timeout`` (``[server] print_timeout``) each backend call runs in a
thread of its own and the N-ACTION waits for it at most that long. A call
that takes longer is *abandoned*: the N-ACTION fails with 0x0110 ("printer
did not answer within N s"), the job is kept and the printer turns to
FAILURE. Python cannot stop the thread, so while an abandoned call is still
running the printer counts as hung: further jobs are not handed to the
backend (which would only hang another thread) but kept at once, and fail
with 0x0110 ("printer not answering for N s"). When the abandoned call
returns after all, the printer takes jobs again. If it printed the job, the
kept copy is deleted (``dicomprint reprint`` would print it twice) and the
printer turns back to NORMAL once no other call hangs in it; if it failed,
the kept copy stays. At most one thread per printer can thus hang (or as
many as calls were running when it started to hang), and no thread outlives
a call that returned in time.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from dicomprint import Printer, PrintError, PrintJob, Status
from dicomprint.backend import PrinterBackend
from dicomprint.film import Film
from dicomprint.status import first_warning

from .config import ServerSettings
from .failed_jobs import FailedJobError, FailedJobs

log = logging.getLogger(__name__)

Renderer = Callable[[PrintJob], tuple[list[Film], list[Status]]]

#: Printer Status Info (PS3.3 C.13.9.1 defined term) while output fails.
FAILURE_INFO = "CHECK PRINTER"
_RESOURCE_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
#: Jobs rendered at the same time by callbacks not given their own limit (the
#: server gives its printers one, ``[server] parallel_renders``). Rendering a
#: film takes several times its pixels in working memory and is CPU-bound:
#: the limit bounds memory when many associations print at once, and more
#: renders than cores would not be faster. Backend calls are not limited.
RENDERING = threading.BoundedSemaphore(attrs.fields(ServerSettings).parallel_renders.default)


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


class PrintTimeoutError(Exception):
    """A printer backend did not return within the print timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"printer did not answer within {seconds:g} s")
        self.seconds = seconds


class PrinterHungError(Exception):
    """A job was not handed to a backend whose earlier call is still running past its timeout."""

    def __init__(self, message: str, hung_job_id: str) -> None:
        super().__init__(message)
        self.hung_job_id = hung_job_id


class _Call:
    """One backend call running in its own thread."""

    def __init__(self, job: PrintJob) -> None:
        self.job = job
        self.started = time.monotonic()
        self.done = threading.Event()
        self.error: BaseException | None = None
        #: Its N-ACTION gave up waiting: the call's outcome is handled when it returns.
        self.abandoned = False
        #: The failed-jobs folder its films were kept in when it was abandoned.
        self.kept: Path | None = None
        #: Orders "abandon and keep" against "finished": one happens first, whole.
        self.lock = threading.Lock()


def print_callback(
    backend: PrinterBackend,
    printer: Printer,
    render: Renderer | None = None,
    *,
    failed_jobs: FailedJobs | None = None,
    printer_name: str = "default",
    timeout: float | None = None,
    rendering: threading.BoundedSemaphore = RENDERING,
) -> BackendPrint:
    """The ``on_print`` callback for sessions printing on ``backend``.

    When the backend fails, the job's films are kept in ``failed_jobs``
    (under ``printer_name``) before the N-ACTION fails. With a ``timeout``
    (seconds) the backend runs in a thread of its own and a call that takes
    longer fails the N-ACTION (see the module docstring); without one it
    runs in the caller's thread for as long as it takes. ``rendering``
    bounds the jobs rendered at once by every callback that shares it.
    """
    return BackendPrint(
        backend,
        printer,
        render or _default_renderer(),
        failed_jobs=failed_jobs,
        printer_name=printer_name,
        timeout=timeout,
        rendering=rendering,
    )


class BackendPrint:
    """A print callback (:data:`~dicomprint.session.PrintCallback`); see :func:`print_callback`."""

    def __init__(
        self,
        backend: PrinterBackend,
        printer: Printer,
        render: Renderer,
        *,
        failed_jobs: FailedJobs | None,
        printer_name: str,
        timeout: float | None,
        rendering: threading.BoundedSemaphore = RENDERING,
    ) -> None:
        self.backend = backend
        self.render = render
        self.rendering = rendering
        self.failed_jobs = failed_jobs
        self.printer_name = printer_name
        self.timeout = timeout
        self.health = PrinterHealth(printer)
        self._abandoned: list[_Call] = []  # calls still running after their N-ACTION failed
        self._lock = threading.Lock()

    def hung_jobs(self) -> list[tuple[str, float]]:
        """(job UID, seconds running) of backend calls still running past their time-out."""
        now = time.monotonic()
        with self._lock:
            return [(call.job.job_id, now - call.started) for call in self._abandoned]

    def __call__(self, job: PrintJob) -> Status | None:
        name = self.printer_name
        try:
            with self.rendering:
                films, warnings = self.render(job)
        except PrintError:
            raise
        except Exception as exc:  # a renderer bug must not look like success
            log.exception("rendering job %s failed", job.job_id)
            raise PrintError(Status.PROCESSING_FAILURE, f"rendering failed: {exc}") from exc
        try:
            self._print(films, job)
        except PrintTimeoutError as exc:  # already logged and kept
            raise PrintError(Status.PROCESSING_FAILURE, str(exc)) from exc
        except PrintError as exc:
            self.health.failed()
            log.error("printing job %s on %r failed: %s", job.job_id, name, exc)
            self._keep(films, job, exc)
            raise
        except PrinterHungError as exc:
            self.health.failed()
            log.error(
                "job %s not printed on %r: %s (job %s still hangs in it)",
                job.job_id,
                name,
                exc,
                exc.hung_job_id,
            )
            self._keep(films, job, exc)
            raise PrintError(Status.PROCESSING_FAILURE, str(exc)) from exc
        except OSError as exc:
            self.health.failed()
            status = (
                Status.RESOURCE_LIMITATION
                if exc.errno in _RESOURCE_ERRNOS
                else Status.PROCESSING_FAILURE
            )
            log.error("printing job %s on %r failed: %s", job.job_id, name, exc)
            self._keep(films, job, exc)
            raise PrintError(status, f"output failed: {exc.strerror or exc}") from exc
        except Exception as exc:
            self.health.failed()
            log.exception("printer %r failed on job %s", name, job.job_id)
            self._keep(films, job, exc)
            raise PrintError(Status.PROCESSING_FAILURE, f"printer failed: {exc}") from exc
        self._succeeded()
        log.info(
            "printed job %s on %r: %d film(s) x %d cop%s for %r",
            job.job_id,
            name,
            len(films),
            job.copies,
            "y" if job.copies == 1 else "ies",
            job.calling_ae_title,
        )
        warning = first_warning(list(warnings))
        return None if warning == Status.SUCCESS else warning

    # -- The backend call ----------------------------------------------------------

    def _print(self, films: list[Film], job: PrintJob) -> None:
        """Print within the time-out: raises what the backend raised,
        :class:`PrinterHungError`, or :class:`PrintTimeoutError` (the job already kept)."""
        if self.timeout is None:
            self.backend.print_films(films, job)
            return
        with self._lock:
            hung = self._abandoned[0] if self._abandoned else None
        if hung is not None:
            raise PrinterHungError(
                f"printer not answering for {time.monotonic() - hung.started:.0f} s",
                hung.job.job_id,
            )
        call = _Call(job)
        thread = threading.Thread(
            target=self._run, args=(call, films), name=f"print-{self.printer_name}", daemon=True
        )
        thread.start()
        if not call.done.wait(self.timeout):
            with call.lock:
                if not call.done.is_set():
                    self._abandon(call, films)
                    raise PrintTimeoutError(self.timeout)
        thread.join()  # it has finished: no thread outlives a call that returned
        if call.error is not None:
            raise call.error

    def _run(self, call: _Call, films: list[Film]) -> None:
        try:
            self.backend.print_films(films, call.job)
        except BaseException as exc:  # reported to the N-ACTION, or logged if abandoned
            call.error = exc
        with call.lock:
            call.done.set()
            late = call.abandoned
        if late:
            self._finished_late(call)

    def _abandon(self, call: _Call, films: list[Film]) -> None:
        """The N-ACTION stops waiting: keep the job. Runs under ``call.lock``."""
        call.abandoned = True
        with self._lock:
            self._abandoned.append(call)
        self.health.failed()
        log.error(
            "printer %r did not answer within %g s on job %s; its jobs are kept, not "
            "printed, until it does",
            self.printer_name,
            self.timeout,
            call.job.job_id,
        )
        # Under the call's lock: if the call finishes late, it finds the folder.
        call.kept = self._keep(films, call.job, PrintTimeoutError(self.timeout or 0))

    def _finished_late(self, call: _Call) -> None:
        """An abandoned call returned: the printer takes jobs again."""
        with self._lock:
            self._abandoned.remove(call)
        took = time.monotonic() - call.started
        job_id, name = call.job.job_id, self.printer_name
        if call.error is not None:
            log.error(
                "job %s failed on %r after %.0f s, past its time-out (%s: %s); it stays kept",
                job_id,
                name,
                took,
                type(call.error).__name__,
                call.error,
            )
            return
        self._succeeded()
        log.warning(
            "job %s printed on %r after all, %.0f s after it started (its N-ACTION had failed)",
            job_id,
            name,
            took,
        )
        if call.kept is None or self.failed_jobs is None:
            return
        try:
            with self.failed_jobs.lock(call.kept):
                self.failed_jobs.remove(call.kept)
        except (FailedJobError, OSError) as exc:
            log.error("kept copy of job %s not removed (%s); do not reprint it", job_id, exc)
        else:
            log.warning("kept copy %s of job %s removed: it is printed", call.kept, job_id)

    def _succeeded(self) -> None:
        """A print worked: the printer is NORMAL again, unless a call still hangs in it."""
        with self._lock:
            hanging = bool(self._abandoned)
        if not hanging:
            self.health.succeeded()

    def _keep(self, films: list[Film], job: PrintJob, error: BaseException) -> Path | None:
        """Keep the job's films for ``dicomprint reprint``; the folder, or None."""
        if self.failed_jobs is None or not films:
            return None
        try:
            folder = self.failed_jobs.save(
                self.printer_name, films, job, f"{type(error).__name__}: {error}"
            )
        except Exception as exc:
            # The failed-jobs folder is full or unwritable too. The N-ACTION
            # still fails, so the SCU's film boxes stay unprinted for a retry.
            log.error(
                "job %s could NOT be kept for reprinting in %s (%s: %s); only a retry "
                "by the SCU can print it now",
                job.job_id,
                self.failed_jobs.directory / self.printer_name,
                type(exc).__name__,
                exc,
            )
            return None
        log.warning(
            "job %s kept in %s; '%s' prints it again",
            job.job_id,
            folder,
            self.failed_jobs.reprint_command,
        )
        return folder
