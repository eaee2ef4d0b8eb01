"""Association negotiation: presentation contexts and implementation identity.

The table follows PrintSCP's conformance statement (section 3.1.3.1) with the
correct UIDs: PrintSCP's statement drops a ``.1`` in several print class UIDs. Every
context is SCP role, no extended negotiation.
"""

from __future__ import annotations

import uuid

from pydicom.uid import (
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
)
from pynetdicom import AE, _config
from pynetdicom.service_class import StorageServiceClass
from pynetdicom.sop_class import register_uid, uid_to_service_class

from dicomprint import uids

#: A fixed, randomly drawn UUID; "2.25." + its integer value is a UID that
#: needs no registered root (PS3.5 B.2).
IMPLEMENTATION_UUID = uuid.UUID("04e5f054-0848-4e8b-ad99-e1547affb793")
IMPLEMENTATION_CLASS_UID = f"2.25.{IMPLEMENTATION_UUID.int}"
#: At most 16 characters (PS3.7 D.3.3.2).
IMPLEMENTATION_VERSION_NAME = "DICOMPRINT_010"

IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"

UNCOMPRESSED = (IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN)
#: Implicit, Explicit VR Little Endian, JPEG Lossless SV1, JPEG Baseline, JPEG 2000.
IMAGE_TRANSFER_SYNTAXES = (
    *UNCOMPRESSED,
    str(JPEGLosslessSV1),
    str(JPEGBaseline8Bit),
    str(JPEG2000Lossless),
)

VERIFICATION = "1.2.840.10008.1.1"

#: Print Management: the two meta classes, their member classes (some SCUs
#: propose them on their own) and the optional classes this server supports.
PRINT_SOP_CLASSES = (
    uids.BasicGrayscalePrintManagementMeta,
    uids.BasicColorPrintManagementMeta,
    uids.BasicFilmSession,
    uids.BasicFilmBox,
    uids.BasicGrayscaleImageBox,
    uids.BasicColorImageBox,
    uids.Printer,
    uids.PresentationLUT,
    uids.BasicAnnotationBox,
    uids.PrintJob,
    uids.PrinterConfigurationRetrieval,
)

#: PrintSCP's thirteen storage classes (store-to-film).
STORAGE_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.1",  # CR Image Storage
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "1.2.840.10008.5.1.4.1.1.6",  # Ultrasound Image Storage (Retired)
    "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.1.2",  # Digital Mammography X-Ray - For Presentation
    "1.2.840.10008.5.1.4.1.1.20",  # Nuclear Medicine Image Storage
    "1.2.840.10008.5.1.4.1.1.12.1",  # X-Ray Angiographic Image Storage
    "1.2.840.10008.5.1.4.1.1.12.2",  # X-Ray Radiofluoroscopic Image Storage
    "1.2.840.10008.5.1.4.1.1.128",  # Positron Emission Tomography Image Storage
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR Storage
)
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"

#: Further storage classes with displayable pixel data, and SR documents,
#: accepted unless the [store] table says ``other_classes = false``.
OTHER_STORAGE_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray Image Storage - For Processing
    "1.2.840.10008.5.1.4.1.1.1.2.1",  # Digital Mammography X-Ray - For Processing
    "1.2.840.10008.5.1.4.1.1.1.3",  # Digital Intra-Oral X-Ray - For Presentation
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image Storage
    "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame Image Storage
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image Storage
    "1.2.840.10008.5.1.4.1.1.7.1",  # Multi-frame Single Bit SC Image Storage
    "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC Image Storage
    "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word SC Image Storage
    "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC Image Storage
    "1.2.840.10008.5.1.4.1.1.12.1.1",  # Enhanced XA Image Storage
    "1.2.840.10008.5.1.4.1.1.12.2.1",  # Enhanced XRF Image Storage
    "1.2.840.10008.5.1.4.1.1.13.1.3",  # Breast Tomosynthesis Image Storage
    "1.2.840.10008.5.1.4.1.1.77.1.4",  # VL Photographic Image Storage
    "1.2.840.10008.5.1.4.1.1.128.1",  # Legacy Converted Enhanced PET Image Storage
    "1.2.840.10008.5.1.4.1.1.130",  # Enhanced PET Image Storage
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR Storage
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR Storage
)


def supported_contexts(
    other_storage_classes: bool = True,
) -> list[tuple[str, tuple[str, ...]]]:
    """(abstract syntax, transfer syntaxes) for every context the server accepts."""
    table: list[tuple[str, tuple[str, ...]]] = [(VERIFICATION, UNCOMPRESSED)]
    table += [(sop_class, UNCOMPRESSED) for sop_class in PRINT_SOP_CLASSES]
    storage = STORAGE_SOP_CLASSES + (OTHER_STORAGE_SOP_CLASSES if other_storage_classes else ())
    for sop_class in storage:
        # A text report has no pixels to compress (as in PrintSCP's table).
        is_report = sop_class.startswith("1.2.840.10008.5.1.4.1.1.88.")
        table.append((sop_class, UNCOMPRESSED if is_report else IMAGE_TRANSFER_SYNTAXES))
    return table


def _any_uid(value: object) -> tuple[bool, str]:
    """pynetdicom's UID check, made to pass any UID.

    pynetdicom cannot turn a request whose command set holds a UID longer
    than 64 characters into a primitive, and aborts the association. Let
    such requests through: the print session answers a bad instance UID with
    its status (0x0115, 0x0112) and an image with a long UID still prints.
    """
    return True, ""


#: Storage classes pynetdicom no longer routes to its Storage service.
_RETIRED_STORAGE_KEYWORDS = {"1.2.840.10008.5.1.4.1.1.6": "UltrasoundImageStorageRetired"}


def _register_retired_storage_classes() -> None:
    """Let pynetdicom dispatch C-STORE of the retired classes PrintSCP still lists."""
    for sop_class, keyword in _RETIRED_STORAGE_KEYWORDS.items():
        if uid_to_service_class(sop_class) is not StorageServiceClass:
            register_uid(sop_class, keyword, StorageServiceClass)


def configure_ae(ae: AE, *, other_storage_classes: bool = True) -> None:
    """Add the supported contexts and the implementation identity to ``ae``."""
    _register_retired_storage_classes()
    _config.VALIDATORS["UI"] = _any_uid
    for abstract_syntax, transfer_syntaxes in supported_contexts(other_storage_classes):
        ae.add_supported_context(abstract_syntax, list(transfer_syntaxes))
    ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    ae.implementation_version_name = IMPLEMENTATION_VERSION_NAME
    # PrintSCP accepts any called and calling AE title.
    ae.require_called_aet = False
    ae.require_calling_aet = []
