"""The DICOM printer: films as Secondary Capture files and C-STORE to DCMTK's storescp."""

import attrs
import numpy as np
import pytest
from pydicom import dcmread

from backend_support import make_film, make_job
from dicomprint.secondary_capture import (
    SECONDARY_CAPTURE_IMAGE_STORAGE,
    SecondaryCaptureAttributes,
    derived_uid,
    film_dataset,
)
from dicomprint_server.backends import OptionError, load_backend
from dicomprint_server.backends.dicom import DicomPrinter, DicomStoreError
from dicomprint_server.contexts import IMPLEMENTATION_CLASS_UID
from storescp_support import free_port, needs_storescp, running_storescp


def test_grayscale_film_as_secondary_capture():
    film = make_film(180, size="8INX10IN", dpi=30, index=2, copies=3)
    ds = film_dataset(film, SecondaryCaptureAttributes(patient_id="P1", patient_name="DOE^J"))
    assert ds.SOPClassUID == SECONDARY_CAPTURE_IMAGE_STORAGE
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert (ds.Rows, ds.Columns) == film.pixels.shape
    assert (ds.SamplesPerPixel, ds.PhotometricInterpretation) == (1, "MONOCHROME2")
    assert np.array_equal(ds.pixel_array, film.pixels)
    assert ds.InstanceNumber == 2
    assert (ds.PatientID, str(ds.PatientName)) == ("P1", "DOE^J")
    assert float(ds.NominalScannedPixelSpacing[0]) == pytest.approx(25.4 / 30)
    assert "copies=3" in ds.ImageComments and "8INX10IN" in ds.ImageComments
    assert ds.ConversionType == "WSD" and ds.Modality == "OT"


def test_colour_film_as_rgb():
    film = make_film(255, color=True)
    ds = film_dataset(film)
    assert (ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration) == (
        3,
        "RGB",
        0,
    )
    assert np.array_equal(ds.pixel_array, film.pixels)


def test_uids_follow_the_job_so_a_reprint_replaces():
    first = film_dataset(make_film(index=1))
    again = film_dataset(make_film(index=1))
    second = film_dataset(make_film(index=2))
    other_job = film_dataset(make_film(index=1, job_id="2.25.5"))
    assert first.SOPInstanceUID == again.SOPInstanceUID != second.SOPInstanceUID
    assert first.SeriesInstanceUID == second.SeriesInstanceUID
    assert first.StudyInstanceUID == second.StudyInstanceUID != other_job.StudyInstanceUID
    assert len(derived_uid("x" * 200)) <= 64


def test_labels_off_the_wire_stay_printable():
    film = attrs.evolve(make_film(), film_session_label="Ström\\\x07ray")
    ds = film_dataset(film)
    assert ds.StudyDescription == "Ström??ray"


def test_text_beyond_ascii_is_written_as_utf8(tmp_path):
    film = attrs.evolve(make_film(), film_session_label="山田 Größe")
    ds = film_dataset(film, SecondaryCaptureAttributes(patient_name="Ærøskøbing^Åse"))
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    path = tmp_path / "film.dcm"
    ds.save_as(path, enforce_file_format=True)
    raw = path.read_bytes()
    assert "山田 Größe".encode() in raw and "Ærøskøbing^Åse".encode() in raw
    back = dcmread(path)
    assert back.StudyDescription == "山田 Größe"
    assert back.PatientName == "Ærøskøbing^Åse"


def test_ascii_text_names_no_character_set():
    assert "SpecificCharacterSet" not in film_dataset(make_film())


def test_secondary_capture_files_in_a_folder(tmp_path):
    printer = load_backend("dicom", {"directory": str(tmp_path)})
    films = [make_film(100, index=1), make_film(200, index=2, color=True)]
    printer.print_films(films, make_job())
    paths = sorted((tmp_path / "MODALITY").iterdir())
    assert [p.name[-7:] for p in paths] == ["_01.dcm", "_02.dcm"]
    for path, film in zip(paths, films, strict=True):
        ds = dcmread(path)
        assert ds.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
        assert np.array_equal(ds.pixel_array, film.pixels)


@needs_storescp
def test_c_store_to_storescp(tmp_path):
    with running_storescp(tmp_path) as pacs:
        printer = DicomPrinter(
            host="127.0.0.1", port=pacs.port, called_ae_title=pacs.ae_title, timeout=10
        )
        films = [make_film(60, index=1), make_film(250, index=2, color=True)]
        printer.print_films(films, make_job(copies=2))
        received = sorted(pacs.directory.iterdir())
    assert len(received) == 2
    stored = {ds.InstanceNumber: ds for ds in map(dcmread, received)}
    for film in films:
        ds = stored[film.index]
        assert ds.SOPClassUID == SECONDARY_CAPTURE_IMAGE_STORAGE
        assert np.array_equal(ds.pixel_array, film.pixels)
    assert stored[1].StudyInstanceUID == stored[2].StudyInstanceUID


@needs_storescp
def test_folder_and_pacs_together(tmp_path):
    with running_storescp(tmp_path) as pacs:
        printer = DicomPrinter(
            directory=str(tmp_path / "sc"),
            host="127.0.0.1",
            port=pacs.port,
            called_ae_title=pacs.ae_title,
            timeout=10,
        )
        printer.print_films([make_film()], make_job())
        received = list(pacs.directory.iterdir())
    (written,) = (tmp_path / "sc" / "MODALITY").iterdir()
    assert len(received) == 1
    assert dcmread(written).SOPInstanceUID == dcmread(received[0]).SOPInstanceUID


@needs_storescp
def test_refused_association_raises(tmp_path):
    with running_storescp(tmp_path, "--refuse", ready=False) as pacs:
        printer = DicomPrinter(host="127.0.0.1", port=pacs.port, timeout=5)
        # storescp closes the connection right after its A-ASSOCIATE-RJ, and now
        # and then pynetdicom sees the close first and reports an abort.
        refused = "rejected: rejected-permanent, service-user|aborted"
        with pytest.raises(DicomStoreError, match=refused):
            printer.print_films([make_film()], make_job())
        assert list(pacs.directory.iterdir()) == []


def test_an_unreachable_pacs_is_not_called_an_abort(tmp_path):
    port = free_port()
    printer = DicomPrinter(host="127.0.0.1", port=port, timeout=5)
    with pytest.raises(DicomStoreError, match=f"cannot connect to ANY-SCP@127.0.0.1:{port}"):
        printer.print_films([make_film()], make_job())


@needs_storescp
def test_abort_before_the_response_raises(tmp_path):
    with running_storescp(tmp_path, "--abort-after") as pacs:
        printer = DicomPrinter(host="127.0.0.1", port=pacs.port, timeout=5)
        with pytest.raises(DicomStoreError, match="no C-STORE response"):
            printer.print_films([make_film()], make_job())


def test_nobody_listening_raises():
    printer = DicomPrinter(host="127.0.0.1", port=free_port(), timeout=2)
    with pytest.raises(DicomStoreError):
        printer.print_films([make_film()], make_job())


@pytest.mark.parametrize(
    "options, key",
    [
        ({}, "directory"),
        ({"host": "pacs", "port": 0}, "port"),
        ({"host": "pacs", "called_ae_title": "A" * 17}, "called_ae_title"),
        ({"directory": "x", "patient": "x"}, "patient"),
    ],
)
def test_bad_options_name_the_key(options, key):
    with pytest.raises(OptionError, match=key):
        load_backend("dicom", options)
