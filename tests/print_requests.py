"""Builders of Print Management request datasets, shared by the tests."""

from __future__ import annotations

import numpy as np
from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from dicomprint import PrintSession, uids


def referenced(sop_class: str, uid: str) -> Sequence:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    return Sequence([item])


def set_raw(ds: Dataset, keyword: str, value: bytes) -> None:
    """Store an undecoded value, as a dataset read off the network holds it."""
    tag = Tag(tag_for_keyword(keyword))
    vr = dictionary_VR(tag)
    ds[tag] = RawDataElement(tag, vr, len(value), value, 0, True, True)


def film_session_request(**attributes) -> Dataset:
    """Bytes values are stored raw (undecoded), others as pydicom values."""
    ds = Dataset()
    for keyword, value in attributes.items():
        if isinstance(value, bytes):
            set_raw(ds, keyword, value)
        else:
            setattr(ds, keyword, value)
    return ds


def film_box_request(session_uid: str, display_format: str = "STANDARD\\1,1", **attributes):
    ds = Dataset()
    ds.ImageDisplayFormat = display_format
    ds.ReferencedFilmSessionSequence = referenced(uids.BasicFilmSession, session_uid)
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def grayscale_item(
    pixels: np.ndarray, *, bits_stored: int | None = None, photometric: str = "MONOCHROME2"
) -> Dataset:
    item = Dataset()
    item.SamplesPerPixel = 1
    item.PhotometricInterpretation = photometric
    item.Rows, item.Columns = pixels.shape
    allocated = 8 if pixels.dtype == np.uint8 else 16
    stored = bits_stored or (8 if allocated == 8 else 12)
    item.BitsAllocated = allocated
    item.BitsStored = stored
    item.HighBit = stored - 1
    item.PixelRepresentation = 0
    item.PixelData = pixels.astype("<u2" if allocated == 16 else np.uint8).tobytes()
    return item


def color_item(rgb: np.ndarray, *, planar: int = 0) -> Dataset:
    item = Dataset()
    item.SamplesPerPixel = 3
    item.PhotometricInterpretation = "RGB"
    item.Rows, item.Columns = rgb.shape[:2]
    item.BitsAllocated = 8
    item.BitsStored = 8
    item.HighBit = 7
    item.PixelRepresentation = 0
    item.PlanarConfiguration = planar
    data = rgb.transpose(2, 0, 1) if planar else rgb
    item.PixelData = np.ascontiguousarray(data, dtype=np.uint8).tobytes()
    return item


def image_box_request(position: int, item: Dataset | None, *, color: bool = False, **attributes):
    ds = Dataset()
    ds.ImageBoxPosition = position
    keyword = "BasicColorImageSequence" if color else "BasicGrayscaleImageSequence"
    setattr(ds, keyword, Sequence([item] if item is not None else []))
    for name, value in attributes.items():
        setattr(ds, name, value)
    return ds


class Driver:
    """A PrintSession with shortcuts for the usual request sequence."""

    def __init__(self, session: PrintSession | None = None, **session_options) -> None:
        self.jobs: list = []
        self.session = session or PrintSession(on_print=self.jobs.append, **session_options)

    def create_session(self, **attributes):
        reply = self.session.n_create(uids.BasicFilmSession, film_session_request(**attributes))
        self.session_uid = reply.instance_uid
        return reply

    def create_film_box(self, display_format="STANDARD\\1,1", *, color=False, **attributes):
        meta = (
            uids.BasicColorPrintManagementMeta if color else uids.BasicGrayscalePrintManagementMeta
        )
        reply = self.session.n_create(
            uids.BasicFilmBox,
            film_box_request(self.session_uid, display_format, **attributes),
            meta_sop_class_uid=meta,
        )
        self.film_box_uid = reply.instance_uid
        self.image_box_uids = [
            item.ReferencedSOPInstanceUID for item in reply.dataset.ReferencedImageBoxSequence
        ]
        return reply

    def set_image(self, position: int, pixels: np.ndarray | None, *, color=False, **attributes):
        if pixels is None:
            item = None
        elif color:
            item = color_item(pixels)
        else:
            item = grayscale_item(pixels)
        sop_class = uids.BasicColorImageBox if color else uids.BasicGrayscaleImageBox
        return self.session.n_set(
            sop_class,
            self.image_box_uids[position - 1],
            image_box_request(position, item, color=color, **attributes),
        )

    def print_session(self):
        return self.session.n_action(uids.BasicFilmSession, self.session_uid, 1)

    def print_film_box(self):
        return self.session.n_action(uids.BasicFilmBox, self.film_box_uid, 1)
