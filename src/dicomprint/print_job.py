"""Print Job SOP Class (PS3.4 H.4.4): one print request and how it went.

When an association negotiated the class, each successful film session or
film box N-ACTION creates a Print Job, referenced by the N-ACTION response.
This library prints before it answers, so the job is DONE when the SCU
learns of it: its one N-EVENT-REPORT is Done (event 3), sent on the
association that printed, and the SCU may N-GET it until it has answered
that report.
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen
from pydicom import Dataset

from .attributes import asked_for, to_dataset
from .character_set import declare_character_set
from .job import PrintJob

EXECUTION_STATUSES = ("PENDING", "PRINTING", "DONE", "FAILURE")
#: N-EVENT-REPORT Event Type ID for each Execution Status.
EVENT_TYPE_IDS = {status: number for number, status in enumerate(EXECUTION_STATUSES, 1)}

#: What an N-GET with no attribute list returns, in this order.
ATTRIBUTES = (
    "ExecutionStatus",
    "ExecutionStatusInfo",
    "PrintPriority",
    "CreationDate",
    "CreationTime",
    "PrinterName",
    "Originator",
)


@frozen
class PrintJobInstance:
    """A Print Job SOP instance: the state of one printed request."""

    SOPInstanceUID: str
    ExecutionStatus: str
    ExecutionStatusInfo: str
    PrintPriority: str
    CreationDate: str
    CreationTime: str
    PrinterName: str
    Originator: str
    FilmSessionLabel: str = ""

    @classmethod
    def done(cls, job: PrintJob, printer_name: str) -> PrintJobInstance:
        """The instance of a job the backend has printed (its UID is the job's)."""
        created = job.created.astimezone()  # local time, as DA/TM values are read
        return cls(
            SOPInstanceUID=job.job_id,
            ExecutionStatus="DONE",
            ExecutionStatusInfo="NORMAL",
            PrintPriority=job.session.PrintPriority,
            CreationDate=created.strftime("%Y%m%d"),
            CreationTime=created.strftime("%H%M%S"),
            PrinterName=printer_name,
            Originator=job.calling_ae_title.strip(),
            FilmSessionLabel=job.session.FilmSessionLabel,
        )

    def attributes(self, tags: Iterable[int] = ()) -> Dataset:
        """The N-GET answer for the asked-for tags (all of :data:`ATTRIBUTES` when none).

        Tags this class does not have are left out, as for the Printer.
        """
        return to_dataset(self, asked_for(tags, ATTRIBUTES))  # Reply declares its character set

    def event_report(self) -> tuple[int, Dataset]:
        """(Event Type ID, event information) for the job's current status."""
        dataset = Dataset()
        dataset.ExecutionStatusInfo = self.ExecutionStatusInfo
        if self.FilmSessionLabel:
            dataset.FilmSessionLabel = self.FilmSessionLabel
        dataset.PrinterName = self.PrinterName
        return EVENT_TYPE_IDS[self.ExecutionStatus], declare_character_set(dataset)
