"""What the print client reports: failures, warnings, printer events, printed films.

Statuses are described with the library's :class:`~dicomprint.Status`
wording, or pynetdicom's table for codes outside Print Management.
"""

from __future__ import annotations

from attrs import frozen
from pydicom import Dataset
from pynetdicom.status import (
    GENERAL_STATUS,
    PRINT_JOB_MANAGEMENT_SERVICE_CLASS_STATUS,
    code_to_category,
)

from dicomprint import Status, print_job, printer, uids

#: Event Type ID -> its name, per SOP class (the library's tables turned round).
_PRINT_JOB_EVENTS = {number: name for name, number in print_job.EVENT_TYPE_IDS.items()}
_PRINTER_EVENTS = {number: name for name, number in printer.EVENT_TYPE_IDS.items()}


def describe_status(code: int) -> tuple[str, str]:
    """(category, meaning) of a DIMSE status: Success, Warning, Failure ..."""
    try:
        known = Status(code)
    except ValueError:
        category = code_to_category(code)
        table = {**GENERAL_STATUS, **PRINT_JOB_MANAGEMENT_SERVICE_CLASS_STATUS}
        return category, table.get(code, (category, "Unknown status"))[1]
    return known.category.value, known.meaning


class PrintClientError(Exception):
    """A print operation failed: ``status`` is the DICOM status, None without an answer."""

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        status: int | None = None,
        comment: str = "",
    ) -> None:
        self.operation = operation
        self.status = status
        self.meaning = describe_status(status)[1] if status is not None else ""
        self.comment = comment
        super().__init__(message)


@frozen
class PrintWarning:
    """A warning met while printing: a DIMSE warning status, a printer event, a fallback."""

    operation: str
    status: int | None
    meaning: str
    comment: str = ""

    def __str__(self) -> str:
        code = f"0x{self.status:04X} " if self.status is not None else ""
        comment = f" ({self.comment})" if self.comment else ""
        return f"{self.operation}: {code}{self.meaning}{comment}"


@frozen
class PrinterEvent:
    """An N-EVENT-REPORT from the printer (Printer or Print Job SOP class)."""

    sop_class: str
    event_type: int
    info: Dataset
    #: The printer's or print job's SOP Instance UID.
    instance_uid: str = ""

    @property
    def name(self) -> str:
        """NORMAL/WARNING/FAILURE for the printer, PENDING ... FAILURE for a print job."""
        names = _PRINT_JOB_EVENTS if self.sop_class == uids.PrintJob else _PRINTER_EVENTS
        return names.get(self.event_type, f"event type {self.event_type}")

    @property
    def status_info(self) -> str:
        return str(self.info.get("PrinterStatusInfo") or self.info.get("ExecutionStatusInfo") or "")


@frozen
class FilmReport:
    """One film printed: its number in this client, images, the N-ACTION answer."""

    number: int
    images: int
    film_box_uid: str
    level: str
    status: int
    print_job_uid: str | None = None
