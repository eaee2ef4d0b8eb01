"""A rendered film as a DICOM Secondary Capture image (PS3.3 A.8.1).

The DICOM printer backend stores each film as one Secondary Capture Image
Storage instance: 8-bit MONOCHROME2 for grayscale films, 8-bit RGB for
colour films, pixel for pixel what a paper printer would put on the sheet.
The film's physical pixel size goes in Nominal Scanned Pixel Spacing (the
film is a "scanned document" of known size, not a patient image, so Pixel
Spacing is not used).

UIDs are derived from the print job UID (UUID-derived ``2.25`` UIDs, PS3.5
B.2): one study and one series per print job, one instance per film. Sending
the same job again (``dicomprint reprint``) therefore produces the same SOP
Instance UIDs, and a PACS replaces rather than duplicates them.

Pure: builds a pydicom data set, writes nothing.
"""

from __future__ import annotations

import datetime
import uuid

from attrs import frozen
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from .character_set import declare_character_set
from .film import Film

SECONDARY_CAPTURE_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"

#: Namespace of the UIDs derived from print job UIDs (a fixed random UUID).
_UID_NAMESPACE = uuid.UUID("9b0c7f0e-3c55-4f5e-9a7e-3d3e2c1b6a41")


def derived_uid(*parts: object) -> str:
    """A UID that depends only on ``parts``: ``2.25.`` and a name-based UUID."""
    name = "/".join(str(part) for part in parts)
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, name).int}"


@frozen
class SecondaryCaptureAttributes:
    """What a film does not know: who and what the stored images are about.

    Print Management carries no patient data, so the Patient module is
    empty (type 2) unless configured.
    """

    patient_name: str = ""
    patient_id: str = ""
    study_description: str = "Printed films"
    series_description: str = "dicomprint films"
    institution_name: str = ""
    station_name: str = ""
    manufacturer: str = "dicomprint"
    series_number: int = 1


def _text(value: str, limit: int) -> str:
    """Printable characters only, at most ``limit``: labels come off the wire.

    Control characters and the value delimiter ``\\`` become ``?``; text
    beyond ASCII is kept (the data set then names its character set).
    """
    clean = "".join(ch if ch.isprintable() and ch != "\\" else "?" for ch in value.strip())
    return clean[:limit]


def _date_time(moment: datetime.datetime) -> tuple[str, str]:
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y%m%d"), utc.strftime("%H%M%S.%f")


def film_dataset(
    film: Film,
    attributes: SecondaryCaptureAttributes | None = None,
    *,
    implementation_class_uid: str | None = None,
) -> Dataset:
    """The Secondary Capture data set (with file meta information) of ``film``.

    Raises ValueError when the film raster is not (H, W) or (H, W, 3) uint8.
    """
    attributes = attributes or SecondaryCaptureAttributes()
    pixels = film.pixels
    if pixels.dtype.name != "uint8" or pixels.ndim not in (2, 3):
        raise ValueError("a film is an (H, W) or (H, W, 3) uint8 raster")
    if pixels.ndim == 3 and pixels.shape[2] != 3:
        raise ValueError("a colour film has three samples per pixel")
    job_id = film.job_id or "unknown-job"
    study_uid = derived_uid(job_id, "study")
    series_uid = derived_uid(job_id, "series")
    instance_uid = derived_uid(job_id, "film", film.index)
    date, time = _date_time(film.created)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if implementation_class_uid:
        meta.ImplementationClassUID = implementation_class_uid

    ds = Dataset()
    ds.file_meta = meta
    # SOP Common (Specific Character Set: added at the end if the text needs one)
    ds.SOPClassUID = SECONDARY_CAPTURE_IMAGE_STORAGE
    ds.SOPInstanceUID = instance_uid
    ds.InstanceCreationDate, ds.InstanceCreationTime = date, time
    # Patient (type 2: present, may be empty)
    ds.PatientName = _text(attributes.patient_name, 64)
    ds.PatientID = _text(attributes.patient_id, 64)
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    # General Study
    ds.StudyInstanceUID = study_uid
    ds.StudyDate, ds.StudyTime = date, time
    ds.ReferringPhysicianName = ""
    ds.StudyID = ""
    ds.AccessionNumber = ""
    label = _text(film.film_session_label, 64)
    ds.StudyDescription = label or _text(attributes.study_description, 64)
    # General Series
    ds.Modality = "OT"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = attributes.series_number
    ds.SeriesDate, ds.SeriesTime = date, time
    ds.SeriesDescription = _text(attributes.series_description, 64)
    # General Equipment / SC Equipment
    ds.Manufacturer = _text(attributes.manufacturer, 64)
    if attributes.institution_name:
        ds.InstitutionName = _text(attributes.institution_name, 64)
    if attributes.station_name:
        ds.StationName = _text(attributes.station_name, 16)
    ds.ConversionType = "WSD"  # workstation
    # General Image / SC Image
    ds.InstanceNumber = film.index
    ds.ContentDate, ds.ContentTime = date, time
    ds.DateOfSecondaryCapture, ds.TimeOfSecondaryCapture = date, time
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.BurnedInAnnotation = "YES"  # annotation boxes print on the film
    spacing = 25.4 / film.dpi
    ds.NominalScannedPixelSpacing = [f"{spacing:.6f}", f"{spacing:.6f}"]
    ds.ImageComments = _text(
        f"film {film.index} {film.film_size_id} {film.orientation} {film.dpi}dpi "
        f"copies={film.copies} calling={film.calling_ae_title} job={film.job_id}",
        10240,
    )
    # Image Pixel
    rows, columns = pixels.shape[:2]
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if pixels.ndim == 3:
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
    else:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"  # film rasters: 0 is black
    data = pixels.tobytes()
    ds.PixelData = data + b"\0" if len(data) % 2 else data
    return declare_character_set(ds)
