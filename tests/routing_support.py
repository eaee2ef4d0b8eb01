"""A small pynetdicom print SCU that chooses the called AE title, for the routing tests."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import Dataset
from pydicom.tag import Tag
from pynetdicom import AE

from dicomprint import uids
from dicomprint.uids import new_uid
from dicomprint_server import PrintServer, load_config
from dicomprint_server.connection import requestor_guard
from dicomprint_server.contexts import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN
from print_requests import film_box_request, grayscale_item, image_box_request

GRAY = uids.BasicGrayscalePrintManagementMeta
WAIT = 10.0


@contextlib.contextmanager
def serving_config(tmp_path: Path, text: str, **kwargs: Any) -> Iterator[PrintServer]:
    """A server on a free loopback port, configured by the TOML ``text``."""
    path = tmp_path / "server.toml"
    path.write_text(text)
    config = load_config(path, {"port": 0, "host": "127.0.0.1"})
    server = PrintServer(config, **kwargs).start()
    try:
        yield server
    finally:
        server.shutdown(grace=1.0)


class Scu:
    """One association to ``called`` with the grayscale print meta class."""

    def __init__(self, address: tuple[str, int], called: str, calling: str = "MODALITY") -> None:
        self.ae = AE(ae_title=calling)
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = WAIT * 3
        self.ae.add_requested_context(GRAY, [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN])
        self.events: list[tuple[int, Dataset]] = []
        self._arrived = threading.Condition()
        self.assoc = self.ae.associate(
            *address,
            ae_title=called,
            evt_handlers=[requestor_guard(self._event)],
        )
        assert self.assoc.is_established

    def _event(self, sop_class: str, instance: str, event_type: int, info: Dataset) -> None:
        with self._arrived:
            self.events.append((event_type, info))
            self._arrived.notify_all()

    def wait_for_events(self, count: int) -> list[tuple[int, Dataset]]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.events) >= count, timeout=WAIT)
            return list(self.events)

    def print_film(self, value: int = 200, film_size: str = "8INX10IN", copies: int = 1):
        """One film with one image; returns the N-ACTION status dataset."""
        session = Dataset()
        session.NumberOfCopies = copies
        session_uid = new_uid()
        status, _ = self.assoc.send_n_create(
            session, uids.BasicFilmSession, session_uid, meta_uid=GRAY
        )
        assert status.Status == 0x0000
        box_uid = new_uid()
        status, box = self.assoc.send_n_create(
            film_box_request(session_uid, FilmSizeID=film_size),
            uids.BasicFilmBox,
            box_uid,
            meta_uid=GRAY,
        )
        assert status.Status == 0x0000
        image_box_uid = box.ReferencedImageBoxSequence[0].ReferencedSOPInstanceUID
        pixels = np.full((64, 64), value, dtype=np.uint8)
        status, _ = self.assoc.send_n_set(
            image_box_request(1, grayscale_item(pixels)),
            uids.BasicGrayscaleImageBox,
            image_box_uid,
            meta_uid=GRAY,
        )
        assert status.Status == 0x0000
        status, _ = self.assoc.send_n_action(None, 1, uids.BasicFilmBox, box_uid, meta_uid=GRAY)
        return status

    def printer_attributes(self) -> Dataset:
        """Printer N-GET of the name and status (two tags: pynetdicom's log chokes on one)."""
        tags = [Tag("PrinterName"), Tag("PrinterStatus"), Tag("PrinterStatusInfo")]
        status, reply = self.assoc.send_n_get(
            tags, uids.Printer, uids.PrinterInstance, meta_uid=GRAY
        )
        assert status.Status == 0x0000
        return reply

    def close(self) -> None:
        if self.assoc.is_established:
            self.assoc.release()

    def __enter__(self) -> Scu:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
