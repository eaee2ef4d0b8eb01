"""The printer backend protocol: where rendered films go.

A backend is any object with a ``print_films`` method. It must not return
until the films exist durably (or raise): the N-ACTION response reports
success only after it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .film import Film
from .job import PrintJob


@runtime_checkable
class PrinterBackend(Protocol):
    def print_films(self, films: Sequence[Film], job: PrintJob) -> None:
        """Print ``films`` (one per film box, in job order; copies in ``job.copies``)."""
