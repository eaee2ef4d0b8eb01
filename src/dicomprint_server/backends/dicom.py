"""The DICOM printer: each film as a Secondary Capture image, to a folder and/or a PACS.

Every film becomes one Secondary Capture Image Storage instance
(:func:`dicomprint.secondary_capture.film_dataset`: 8-bit MONOCHROME2 or
RGB, the film's physical pixel size, one study and series per print job,
UIDs derived from the job so a reprint replaces rather than duplicates).

- ``directory``: write the instances as DICOM files (Explicit VR Little
  Endian), ``<directory>/<calling AE>/<YYYYmmddTHHMMSS_ffffff>Z_<job>_<film>.dcm``,
  atomically (temporary file, fsync, rename, folder fsync).
- ``host`` / ``port`` / ``called_ae_title``: send them with C-STORE to a
  storage SCP ("print to PACS"), one association per print job, proposing
  Secondary Capture with Explicit and Implicit VR Little Endian.

At least one of the two is required; with both, the files are written
first. ``print_films`` returns when every file is durable and every
C-STORE was answered with success (or a warning, which is logged); an
association that is rejected or aborted, a time-out or a failure status
raises :class:`DicomStoreError`, so the N-ACTION fails and the job is kept
for ``dicomprint reprint``. Copies make no sense here: each film is stored
once, and the copy count is recorded in Image Comments.
"""

from __future__ import annotations

import io
import logging
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import define, field
from pydicom import Dataset

from dicomprint.film import Film
from dicomprint.job import PrintJob
from dicomprint.secondary_capture import (
    SECONDARY_CAPTURE_IMAGE_STORAGE,
    SecondaryCaptureAttributes,
    film_dataset,
)

from ..contexts import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from ..tls import client_context
from ._options import OptionError, build, in_range
from .files import ensure_folder, folder_name, fsync_directory, job_tag, write_atomic

log = logging.getLogger(__name__)

_WARNINGS = {0x0001, 0x0107, 0x0116}


class DicomStoreError(RuntimeError):
    """The storage SCP could not be reached or did not store a film."""


def _ae_title(instance: Any, attribute: Any, value: str) -> None:
    text = value.strip()
    if not 0 < len(text) <= 16 or "\\" in text or not text.isascii() or not text.isprintable():
        raise OptionError(
            f"{attribute.name} = {value!r}: 1 to 16 printable ASCII characters, no backslash"
        )


@define
class DicomPrinter:
    """Stores films as Secondary Capture images; see the module docstring."""

    directory: str = ""
    host: str = ""
    port: int = field(default=104, validator=in_range(1, 65535))
    called_ae_title: str = field(default="ANY-SCP", validator=_ae_title)
    calling_ae_title: str = field(default="DICOMPRINT", validator=_ae_title)
    timeout: float = field(default=30.0, validator=in_range(0.1, 3600))
    max_pdu: int = field(default=16384, validator=in_range(0, 0xFFFFFFFF))
    fsync: bool = True
    patient_name: str = ""
    patient_id: str = ""
    study_description: str = "Printed films"
    series_description: str = "dicomprint films"
    institution_name: str = ""
    station_name: str = ""
    # DICOM over TLS to the storage SCP; its certificate is always verified.
    tls: bool = False
    tls_ca_certificates: str = ""  # "" = the system's trusted CAs
    tls_certificate: str = ""  # ours, for SCPs that require one
    tls_private_key: str = ""
    tls_server_name: str = ""  # the name in the SCP's certificate ("" = host)
    _tls_context: ssl.SSLContext | None = field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.directory and not self.host:
            raise OptionError("set directory (files), host (C-STORE) or both")
        tls_files = (self.tls_ca_certificates, self.tls_certificate, self.tls_private_key)
        if any(tls_files) and not self.tls:
            raise OptionError("tls_* files are set but tls = false")
        if self.tls:
            # Built now, so a missing or bad file is a configuration error at start-up.
            self._tls_context = client_context(*(name or None for name in tls_files))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DicomPrinter:
        return build(cls, options)

    @property
    def attributes(self) -> SecondaryCaptureAttributes:
        return SecondaryCaptureAttributes(
            patient_name=self.patient_name,
            patient_id=self.patient_id,
            study_description=self.study_description,
            series_description=self.series_description,
            institution_name=self.institution_name,
            station_name=self.station_name,
        )

    def datasets(self, films: Sequence[Film]) -> list[Dataset]:
        return [
            film_dataset(film, self.attributes, implementation_class_uid=IMPLEMENTATION_CLASS_UID)
            for film in films
        ]

    def print_films(self, films: Sequence[Film], job: PrintJob) -> None:
        if not films:
            return
        datasets = self.datasets(films)
        if self.directory:
            self.write(datasets, job)
        if self.host:
            self.send(datasets)

    def write(self, datasets: Sequence[Dataset], job: PrintJob) -> list[Path]:
        folder = ensure_folder(Path(self.directory), folder_name(job.calling_ae_title))
        stamp = job.created.strftime("%Y%m%dT%H%M%S_%fZ")
        written = []
        for ds in datasets:
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            target = folder / f"{stamp}_{job_tag(job.job_id)}_{int(ds.InstanceNumber):02d}.dcm"
            write_atomic(target, buffer.getvalue(), fsync=self.fsync)
            written.append(target)
        if self.fsync:
            fsync_directory(folder)
        log.info("wrote %d Secondary Capture file(s) to %s", len(written), folder)
        return written

    def send(self, datasets: Sequence[Dataset]) -> None:
        from ..client_reports import PrintClientError
        from ..connection import requestor_guard
        from ..print_scu import associate, requestor

        peer = f"{self.called_ae_title}@{self.host}:{self.port}"
        ae = requestor(self.calling_ae_title, self.timeout)
        ae.add_requested_context(
            SECONDARY_CAPTURE_IMAGE_STORAGE,
            [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN],
        )
        ae.maximum_pdu_size = self.max_pdu
        ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
        ae.implementation_version_name = IMPLEMENTATION_VERSION_NAME
        try:
            assoc = associate(
                ae,
                self.host,
                self.port,
                self.called_ae_title,
                [requestor_guard()],
                self._tls_context,
                self.tls_server_name,
            )
        except PrintClientError as exc:  # rejected (and why), aborted, no connection
            raise DicomStoreError(str(exc)) from None
        try:
            for ds in datasets:
                status = assoc.send_c_store(ds)
                if not status or "Status" not in status:
                    raise DicomStoreError(f"no C-STORE response from {peer} (time-out or abort)")
                code = int(status.Status)
                if code == 0x0000:
                    continue
                if (code & 0xF000) == 0xB000 or code in _WARNINGS:
                    log.warning(
                        "%s stored film %s with warning 0x%04X", peer, ds.InstanceNumber, code
                    )
                    continue
                comment = status.get("ErrorComment", "")
                number = ds.InstanceNumber
                raise DicomStoreError(
                    f"{peer} refused film {number}: status 0x{code:04X} {comment}".strip()
                )
        finally:
            if assoc.is_established:
                assoc.release()
            ae.shutdown()
        log.info("stored %d film(s) on %s", len(datasets), peer)
