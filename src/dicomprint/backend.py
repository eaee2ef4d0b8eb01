"""The printer backend protocol: where rendered films go.

A backend is any object with a ``print_films`` method. It must not return
until the films exist durably (or raise): the N-ACTION response reports
success only after it returns. Raising fails the N-ACTION, and the server
keeps the rendered films for ``dicomprint reprint``, which calls
``print_films`` again with them and a job that has no film boxes
(``job.films`` is empty): take pixels from ``films``, metadata from ``job``.
Jobs of different associations may print at the same time.
See docs/writing-a-backend.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .film import Film
from .job import PrintJob


@runtime_checkable
class PrinterBackend(Protocol):
    """Where rendered films go: any object with this one method."""

    def print_films(self, films: Sequence[Film], job: PrintJob) -> None:
        """Print ``films`` (one per film box, in job order; copies in ``job.copies``).

        Copies are not rendered: each film is in ``films`` once, and the
        backend makes ``job.copies`` of them (collated when ``job.collate``).
        """
