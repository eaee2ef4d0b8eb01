"""SOP Class and well-known SOP Instance UIDs of Print Management (PS3.4 Annex H)."""

from __future__ import annotations

BasicFilmSession = "1.2.840.10008.5.1.1.1"
BasicFilmBox = "1.2.840.10008.5.1.1.2"
BasicGrayscaleImageBox = "1.2.840.10008.5.1.1.4"
BasicColorImageBox = "1.2.840.10008.5.1.1.4.1"
BasicGrayscalePrintManagementMeta = "1.2.840.10008.5.1.1.9"
BasicColorPrintManagementMeta = "1.2.840.10008.5.1.1.18"
PrintJob = "1.2.840.10008.5.1.1.14"
BasicAnnotationBox = "1.2.840.10008.5.1.1.15"
Printer = "1.2.840.10008.5.1.1.16"
PrinterInstance = "1.2.840.10008.5.1.1.17"
PrinterConfigurationRetrieval = "1.2.840.10008.5.1.1.16.376"
PrinterConfigurationRetrievalInstance = "1.2.840.10008.5.1.1.17.376"
PresentationLUT = "1.2.840.10008.5.1.1.23"

META_SOP_CLASSES = (BasicGrayscalePrintManagementMeta, BasicColorPrintManagementMeta)

#: The image box class each meta SOP class creates.
IMAGE_BOX_CLASS_FOR_META = {
    BasicGrayscalePrintManagementMeta: BasicGrayscaleImageBox,
    BasicColorPrintManagementMeta: BasicColorImageBox,
}

_MAX_UID_LENGTH = 64


def is_valid_uid(value: object) -> bool:
    """True for a syntactically valid UID (PS3.5 9.1): dotted numbers, <= 64 chars."""
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_UID_LENGTH:
        return False
    parts = value.split(".")
    return all(p.isdigit() and p.isascii() and (p == "0" or p[0] != "0") for p in parts)


def new_uid() -> str:
    """A fresh UID under the UUID-derived root 2.25 (PS3.5 B.2), at most 64 characters."""
    import uuid

    return f"2.25.{uuid.uuid4().int}"
