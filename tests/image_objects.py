"""Generated DICOM image objects of the storage classes the server prints."""

from __future__ import annotations

import numpy as np
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

STORAGE_CLASSES = {
    "CR": "1.2.840.10008.5.1.4.1.1.1",
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "US_RETIRED": "1.2.840.10008.5.1.4.1.1.6",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "SC": "1.2.840.10008.5.1.4.1.1.7",
    "MG": "1.2.840.10008.5.1.4.1.1.1.2",
    "NM": "1.2.840.10008.5.1.4.1.1.20",
    "XA": "1.2.840.10008.5.1.4.1.1.12.1",
    "RF": "1.2.840.10008.5.1.4.1.1.12.2",
    "PT": "1.2.840.10008.5.1.4.1.1.128",
    "SR": "1.2.840.10008.5.1.4.1.1.88.11",
}


def _base(sop_class: str, modality: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.PatientName = "TEST^PATIENT"
    ds.PatientID = "P1"
    ds.StudyDate = "20261120"
    return ds


def ramp(rows: int, columns: int, high: int) -> np.ndarray:
    """A left-to-right ramp from 0 to ``high``."""
    row = np.linspace(0, high, columns)
    return np.repeat(row[None, :], rows, axis=0)


def grayscale_image(
    kind: str = "CT",
    rows: int = 64,
    columns: int = 64,
    *,
    bits_stored: int = 12,
    signed: bool = False,
    pixels: np.ndarray | None = None,
    photometric: str = "MONOCHROME2",
    frames: int = 1,
) -> Dataset:
    ds = _base(STORAGE_CLASSES[kind], kind if kind != "US_RETIRED" else "US")
    allocated = 8 if bits_stored <= 8 else 16
    if pixels is None:
        low = -(1 << (bits_stored - 1)) if signed else 0
        pixels = ramp(rows, columns, (1 << bits_stored) - 1) + low
    dtype = {8: np.uint8, 16: np.int16 if signed else np.uint16}[allocated]
    data = np.asarray(pixels).astype(dtype)
    if frames > 1:
        data = np.stack([data] * frames)
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = data.shape[-2:]
    ds.BitsAllocated = allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = data.tobytes()
    return ds


def color_image(kind: str = "US", rows: int = 48, columns: int = 64, planar: int = 0) -> Dataset:
    ds = _base(STORAGE_CLASSES[kind], kind)
    rgb = np.zeros((rows, columns, 3), np.uint8)
    rgb[..., 0] = 200  # red everywhere, green ramp
    rgb[..., 1] = ramp(rows, columns, 255).astype(np.uint8)
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = planar
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    data = rgb.transpose(2, 0, 1) if planar else rgb
    ds.PixelData = np.ascontiguousarray(data).tobytes()
    return ds


def ct_with_rescale_and_window(rows: int = 64, columns: int = 64) -> Dataset:
    """Signed CT in Hounsfield units: -1024..+1023 HU, a soft-tissue window."""
    ds = grayscale_image("CT", rows, columns, bits_stored=12, signed=True)
    ds.RescaleSlope = 1
    ds.RescaleIntercept = 0
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    return ds
