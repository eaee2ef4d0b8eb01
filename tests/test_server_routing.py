"""Routing by called AE title: each printer with its backend, profile, status and events."""

import json

import pytest
from pydicom import Dataset, dcmread
from pynetdicom import AE

from backend_support import pdf_pages
from dicomprint import Status, uids
from image_objects import grayscale_image
from print_requests import film_box_request
from routing_support import GRAY, WAIT, Scu, serving_config
from server_support import output_files, wait_until
from storescp_support import free_port


def config_text(tmp_path, **extra_printers: str) -> str:
    text = f"""
[server]
failed_jobs = "{tmp_path / "failed"}"

[output]
directory = "{tmp_path / "film"}"

[printers.paper]
backend = "pdf"
directory = "{tmp_path / "paper"}"
[printers.paper.profile]
film_sizes = ["A4", "8INX10IN"]
dpi_standard = 50
[printers.paper.profile.film_box]
FilmSizeID = "A4"
[printers.paper.profile.identity]
PrinterName = "Paper printer"

[printers.pacs]
backend = "dicom"
directory = "{tmp_path / "sc"}"
"""
    for name, table in extra_printers.items():
        text += f"\n[printers.{name}]\n{table}\n"
    text += """
[routing]
default = "default"
[routing.called_ae_titles]
PAPER = "paper"
PACS = "pacs"
"""
    for name in extra_printers:
        text += f'{name.upper()} = "{name}"\n'
    return text


@pytest.fixture
def server(tmp_path):
    with serving_config(tmp_path, config_text(tmp_path)) as server:
        yield server


@pytest.mark.parametrize(
    "called, folder, pattern",
    [
        ("PRINTSCP", "film", "*.jpg"),
        ("SOMEONE", "film", "*.jpg"),  # not listed: the default printer
        ("PAPER", "paper", "*.pdf"),
        ("PACS", "sc", "*.dcm"),
    ],
)
def test_associations_print_on_the_printer_of_their_called_ae_title(
    tmp_path, server, called, folder, pattern
):
    with Scu(server.address, called) as scu:
        assert scu.print_film().Status == Status.SUCCESS
    written = [p for p in (tmp_path).rglob(pattern) if "failed" not in p.parts]
    assert [p.relative_to(tmp_path).parts[:2] for p in written] == [(folder, "MODALITY")]


def test_each_printer_has_its_own_profile(tmp_path, server):
    with Scu(server.address, "PAPER") as paper, Scu(server.address, "PRINTSCP") as film:
        assert paper.printer_attributes().PrinterName == "Paper printer"
        assert film.printer_attributes().PrinterName == "dicomprint"
        for scu, expected in ((paper, Status.ATTRIBUTE_VALUE_OUT_OF_RANGE), (film, Status.SUCCESS)):
            session_uid = uids.new_uid()
            session = Dataset()
            session.NumberOfCopies = 1
            scu.assoc.send_n_create(session, uids.BasicFilmSession, session_uid, meta_uid=GRAY)
            status, _ = scu.assoc.send_n_create(
                film_box_request(session_uid, FilmSizeID="14INX17IN"),
                uids.BasicFilmBox,
                uids.new_uid(),
                meta_uid=GRAY,
            )
            assert status.Status == expected
    with Scu(server.address, "PAPER") as paper:
        assert paper.print_film(film_size="A4").Status == Status.SUCCESS
    # The paper printer's profile: 50 dpi.
    ((size, image),) = pdf_pages(next((tmp_path / "paper").rglob("*.pdf")).read_bytes())
    assert size == pytest.approx((595.3, 841.9), abs=0.1)
    assert image.shape == (585, 413)


def test_status_events_reach_only_the_printers_associations(server):
    with Scu(server.address, "PAPER") as paper, Scu(server.address, "PRINTSCP") as film:
        server.routes["paper"].printer.set_status("WARNING", "PAPER LOW")
        ((event_type, info),) = paper.wait_for_events(1)
        assert (event_type, info.PrinterStatusInfo, info.PrinterName) == (
            2,
            "PAPER LOW",
            "Paper printer",
        )
        server.printer.set_status("FAILURE", "FILM JAM")
        ((event_type, info),) = film.wait_for_events(1)
        assert (event_type, info.PrinterStatusInfo) == (3, "FILM JAM")
        # Each saw only its own printer: a request flushes anything still queued.
        assert film.printer_attributes().PrinterStatus == "FAILURE"
        assert paper.printer_attributes().PrinterStatus == "WARNING"
        assert [e for e, _ in film.events] == [3] and [e for e, _ in paper.events] == [2]
        server.printer.set_status("NORMAL")
        server.routes["paper"].printer.set_status("NORMAL")


def test_store_to_film_prints_on_the_routed_printer(tmp_path, server):
    image = grayscale_image("CT")
    ae = AE(ae_title="MODALITY")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = WAIT * 3
    ae.add_requested_context(image.SOPClassUID, [image.file_meta.TransferSyntaxUID])
    assoc = ae.associate(*server.address, ae_title="PACS")
    assert assoc.is_established
    try:
        assert assoc.send_c_store(image).Status == 0x0000
    finally:
        assoc.release()
    folder = tmp_path / "sc" / "MODALITY"
    assert wait_until(lambda: len(output_files(folder, "*.dcm")) == 1)
    assert output_files(tmp_path / "film", "*.jpg") == []
    ds = dcmread(output_files(folder, "*.dcm")[0])
    assert ds.Rows > ds.Columns  # a 14INX17IN portrait film


def test_failing_printer_keeps_the_job_and_fails_the_action(tmp_path):
    port = free_port()  # nobody listens there
    broken = f'backend = "dicom"\nhost = "127.0.0.1"\nport = {port}\ntimeout = 2'
    with serving_config(tmp_path, config_text(tmp_path, broken=broken)) as server:
        with Scu(server.address, "BROKEN") as scu:
            status = scu.print_film(copies=2)
            assert status.Status == Status.PROCESSING_FAILURE
            assert "printer failed" in status.ErrorComment
            ((event_type, info),) = scu.wait_for_events(1)
            assert (event_type, info.PrinterStatusInfo) == (3, "CHECK PRINTER")
        assert server.routes["broken"].printer.PrinterStatus == "FAILURE"
        assert server.printer.PrinterStatus == "NORMAL"  # the other printers are fine
    (folder,) = (tmp_path / "failed" / "broken").iterdir()
    metadata = json.loads((folder / "job.json").read_text())
    assert metadata["printer"] == "broken"
    assert metadata["copies"] == 2
    assert metadata["calling_ae_title"] == "MODALITY"
    assert metadata["called_ae_title"] == "BROKEN"
    assert "DicomStoreError" in metadata["error"]
    assert [f["file"] for f in metadata["films"]] == ["film_01.png"]
    assert (folder / "film_01.png").is_file()
