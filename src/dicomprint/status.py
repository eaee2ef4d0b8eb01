"""DIMSE status codes used by Print Management, and the error that carries them.

Codes and meanings follow PS3.7 Annex C (general DIMSE-N statuses) and PS3.4
Annex H (print-specific statuses).
"""

from __future__ import annotations

import enum


class Category(enum.Enum):
    """The kind of a status: success, warning or failure (PS3.7 C.1)."""

    SUCCESS = "Success"
    WARNING = "Warning"
    FAILURE = "Failure"


class Status(enum.IntEnum):
    """A DIMSE status value with its category and standard meaning."""

    SUCCESS = 0x0000
    # General DIMSE-N statuses (PS3.7 C.4)
    NO_SUCH_ATTRIBUTE = 0x0105
    INVALID_ATTRIBUTE_VALUE = 0x0106
    ATTRIBUTE_LIST_ERROR = 0x0107
    PROCESSING_FAILURE = 0x0110
    DUPLICATE_SOP_INSTANCE = 0x0111
    NO_SUCH_SOP_INSTANCE = 0x0112
    NO_SUCH_EVENT_TYPE = 0x0113
    NO_SUCH_ARGUMENT = 0x0114
    INVALID_ARGUMENT_VALUE = 0x0115
    ATTRIBUTE_VALUE_OUT_OF_RANGE = 0x0116
    INVALID_OBJECT_INSTANCE = 0x0117
    NO_SUCH_SOP_CLASS = 0x0118
    CLASS_INSTANCE_CONFLICT = 0x0119
    MISSING_ATTRIBUTE = 0x0120
    MISSING_ATTRIBUTE_VALUE = 0x0121
    SOP_CLASS_NOT_SUPPORTED = 0x0122
    NO_SUCH_ACTION_TYPE = 0x0123
    NOT_AUTHORIZED = 0x0124
    DUPLICATE_INVOCATION = 0x0210
    UNRECOGNIZED_OPERATION = 0x0211
    MISTYPED_ARGUMENT = 0x0212
    RESOURCE_LIMITATION = 0x0213
    # Print Management statuses (PS3.4 H.4)
    MEMORY_ALLOCATION_NOT_SUPPORTED = 0xB600
    FILM_SESSION_PRINTING_NOT_SUPPORTED = 0xB601
    FILM_SESSION_EMPTY_PAGE = 0xB602
    FILM_BOX_EMPTY_PAGE = 0xB603
    IMAGE_DEMAGNIFIED = 0xB604
    DENSITY_CLAMPED = 0xB605
    IMAGE_CROPPED = 0xB609
    IMAGE_DECIMATED = 0xB60A
    FILM_SESSION_HAS_NO_FILM_BOX = 0xC600
    SESSION_PRINT_QUEUE_FULL = 0xC601
    FILM_BOX_PRINT_QUEUE_FULL = 0xC602
    IMAGE_LARGER_THAN_BOX = 0xC603
    INSUFFICIENT_PRINTER_MEMORY = 0xC605
    COMBINED_IMAGE_LARGER_THAN_BOX = 0xC613
    UNPRINTED_FILM_BOX_EXISTS = 0xC616
    # Storage statuses (PS3.4 B.2.3), for the store-to-film path
    OUT_OF_RESOURCES = 0xA700
    DATASET_DOES_NOT_MATCH_SOP_CLASS = 0xA900
    CANNOT_UNDERSTAND = 0xC000

    @property
    def category(self) -> Category:
        if self == 0:
            return Category.SUCCESS
        if self in _WARNINGS or 0xB000 <= self <= 0xBFFF:
            return Category.WARNING
        return Category.FAILURE

    @property
    def is_warning(self) -> bool:
        return self.category is Category.WARNING

    @property
    def is_failure(self) -> bool:
        return self.category is Category.FAILURE

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]

    def __str__(self) -> str:
        return f"0x{self.value:04X} {self.category.value}: {self.meaning}"


_WARNINGS = {0x0107, 0x0116}

_MEANINGS = {
    Status.SUCCESS: "Success",
    Status.NO_SUCH_ATTRIBUTE: "No such attribute",
    Status.INVALID_ATTRIBUTE_VALUE: "Invalid attribute value",
    Status.ATTRIBUTE_LIST_ERROR: "Attribute list error",
    Status.PROCESSING_FAILURE: "Processing failure",
    Status.DUPLICATE_SOP_INSTANCE: "Duplicate SOP instance",
    Status.NO_SUCH_SOP_INSTANCE: "No such SOP instance",
    Status.NO_SUCH_EVENT_TYPE: "No such event type",
    Status.NO_SUCH_ARGUMENT: "No such argument",
    Status.INVALID_ARGUMENT_VALUE: "Invalid argument value",
    Status.ATTRIBUTE_VALUE_OUT_OF_RANGE: "Attribute value out of range",
    Status.INVALID_OBJECT_INSTANCE: "Invalid object instance",
    Status.NO_SUCH_SOP_CLASS: "No such SOP class",
    Status.CLASS_INSTANCE_CONFLICT: "Class-instance conflict",
    Status.MISSING_ATTRIBUTE: "Missing attribute",
    Status.MISSING_ATTRIBUTE_VALUE: "Missing attribute value",
    Status.SOP_CLASS_NOT_SUPPORTED: "Refused: SOP class not supported",
    Status.NO_SUCH_ACTION_TYPE: "No such action type",
    Status.NOT_AUTHORIZED: "Refused: not authorized",
    Status.DUPLICATE_INVOCATION: "Duplicate invocation",
    Status.UNRECOGNIZED_OPERATION: "Unrecognized operation",
    Status.MISTYPED_ARGUMENT: "Mistyped argument",
    Status.RESOURCE_LIMITATION: "Resource limitation",
    Status.MEMORY_ALLOCATION_NOT_SUPPORTED: "Memory allocation not supported",
    Status.FILM_SESSION_PRINTING_NOT_SUPPORTED: "Film session printing (collation) not supported",
    Status.FILM_SESSION_EMPTY_PAGE: "Film session contains no image box instances (empty page)",
    Status.FILM_BOX_EMPTY_PAGE: "Film box contains no image box instances (empty page)",
    Status.IMAGE_DEMAGNIFIED: "Image larger than its image box: demagnified",
    Status.DENSITY_CLAMPED: "Min or Max Density outside the printer's range: clamped",
    Status.IMAGE_CROPPED: "Image larger than its image box: cropped",
    Status.IMAGE_DECIMATED: "Image larger than its image box: decimated",
    Status.FILM_SESSION_HAS_NO_FILM_BOX: "Film session contains no film box instances",
    Status.SESSION_PRINT_QUEUE_FULL: "Unable to create print job: print queue full",
    Status.FILM_BOX_PRINT_QUEUE_FULL: "Unable to create print job: print queue full",
    Status.IMAGE_LARGER_THAN_BOX: "Image larger than its image box",
    Status.INSUFFICIENT_PRINTER_MEMORY: "Insufficient memory in printer to store the image",
    Status.COMBINED_IMAGE_LARGER_THAN_BOX: "Combined print image larger than the image box",
    Status.UNPRINTED_FILM_BOX_EXISTS: (
        "An unprinted film box exists and film session printing is not supported"
    ),
    Status.OUT_OF_RESOURCES: "Refused: out of resources",
    Status.DATASET_DOES_NOT_MATCH_SOP_CLASS: "Data set does not match SOP class",
    Status.CANNOT_UNDERSTAND: "Cannot understand",
}


class PrintError(Exception):
    """A request that fails with a DICOM status.

    Raised by the library wherever the standard prescribes a failure status;
    the server turns it into the DIMSE response unchanged.
    """

    def __init__(self, status: Status | int, comment: str = "") -> None:
        self.status = Status(status)
        self.comment = comment
        super().__init__(f"{self.status}" + (f" ({comment})" if comment else ""))


def first_warning(statuses: list[Status]) -> Status:
    """The status to report when an operation met several warnings.

    The first warning raised wins; success when there were none.
    """
    for status in statuses:
        if status.is_warning:
            return status
    return Status.SUCCESS
