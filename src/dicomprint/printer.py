"""Printer SOP Class (PS3.4 H.4.6): the well-known printer instance.

One :class:`Printer` is shared by every association that prints on it. Its
status is what Printer N-GET reports and what N-EVENT-REPORTs announce.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from attrs import define, field
from pydicom import Dataset

from .attributes import asked_for, to_dataset
from .character_set import declare_character_set
from .profile import DEFAULT_PROFILE, PrinterProfile

PRINTER_STATUSES = ("NORMAL", "WARNING", "FAILURE")
#: N-EVENT-REPORT Event Type ID for each Printer Status.
EVENT_TYPE_IDS = {"NORMAL": 1, "WARNING": 2, "FAILURE": 3}

#: The Printer's attributes: its status, and what it says about itself.
STATUS_KEYWORDS = ("PrinterStatus", "PrinterStatusInfo")
IDENTITY_KEYWORDS = (
    "PrinterName",
    "Manufacturer",
    "ManufacturerModelName",
    "DeviceSerialNumber",
    "SoftwareVersions",
    "DateOfLastCalibration",
    "TimeOfLastCalibration",
)

StatusListener = Callable[["Printer"], None]


@define
class Printer:
    """A printer: its profile, its current status and who listens to changes."""

    profile: PrinterProfile = DEFAULT_PROFILE
    PrinterStatus: str = "NORMAL"
    PrinterStatusInfo: str = "NORMAL"
    _listeners: list[StatusListener] = field(factory=list, alias="_listeners")
    _lock: threading.Lock = field(factory=threading.Lock, alias="_lock")

    def attributes(self, tags: Iterable[int] = ()) -> Dataset:
        """The Printer N-GET answer for the asked-for tags.

        Unknown tags are left out, never an error (modalities ask for
        attributes printers rarely have). With no tags, the status pair.
        """
        identity = self.profile.identity
        wanted = asked_for(tags, STATUS_KEYWORDS + IDENTITY_KEYWORDS, STATUS_KEYWORDS)
        dataset = to_dataset(self, [k for k in wanted if k in STATUS_KEYWORDS])
        known = [k for k in wanted if k in IDENTITY_KEYWORDS and getattr(identity, k)]
        dataset.update(to_dataset(identity, known))
        return dataset

    def set_status(self, status: str, info: str = "") -> None:
        """Change the status and tell every listener (N-EVENT-REPORT)."""
        if status not in PRINTER_STATUSES:
            raise ValueError(f"printer status must be one of {PRINTER_STATUSES}")
        with self._lock:
            self.PrinterStatus = status
            self.PrinterStatusInfo = info or status
            listeners = list(self._listeners)
        for listener in listeners:
            listener(self)

    def event_report(self) -> tuple[int, Dataset]:
        """(Event Type ID, event information) for the current status."""
        event_type = EVENT_TYPE_IDS[self.PrinterStatus]
        dataset = Dataset()
        if event_type != 1:
            dataset.PrinterStatusInfo = self.PrinterStatusInfo
            dataset.PrinterName = self.profile.identity.PrinterName
        return event_type, declare_character_set(dataset)

    def subscribe(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener`` on every status change; returns the unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe
