"""Interoperability with DCMTK as a third-party print SCU.

``dcmpsprt`` renders DICOM images into a print job (a Stored Print object and
Hardcopy Grayscale images in its database folder); ``dcmprscu`` sends that
job to the printer named in the same configuration file (the format of
DCMTK's ``dcmpstat.cfg`` / ``printers.cfg``). ``echoscu`` checks C-ECHO.
"""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

from dicomprint import uids
from fault_support import FlakyBackend
from server_support import load_image, output_files, running_server

DCMPSPRT = Path("/usr/bin/dcmpsprt")
DCMPRSCU = Path("/usr/bin/dcmprscu")
ECHOSCU = Path("/usr/bin/echoscu")  # not a PATH lookup: pyenv shims may shadow it
MISSING = [tool.name for tool in (DCMPSPRT, DCMPRSCU, ECHOSCU) if not tool.exists()]

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"DCMTK tools not installed ({', '.join(MISSING)}): apt-get install dcmtk"
)

CALLING = "DCMPRSCU"
BRIGHT, DARK = 4000, 100  # 12-bit values

CONFIG = """\
[[GENERAL]]
[NETWORK]
aetitle = {calling}
[PRINT]
Directory = {root}/spool
DeletePrintJobs = false
[DATABASE]
Directory = {root}/database
[LUT]
Directory = {root}/lut

[[COMMUNICATION]]
[DICOMPRINT]
Aetitle = PRINTSCP
Description = dicomprint reference print server
Hostname = 127.0.0.1
Port = {port}
Type = PRINTER
MaxPDU = 16384
ImplicitOnly = false
DisableNewVRs = false
Supports12Bit = true
SupportsPresentationLUT = true
PresentationLUTinFilmSession = false
DisplayFormat = 1,1\\2,2
FilmSizeID = 8INX10IN\\14INX17IN
MagnificationType = BILINEAR\\REPLICATE
MediumType = PAPER
"""


def write_image(path: Path, value: int) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = uids.new_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uids.new_uid(), uids.new_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "PRINT^TEST", "1", "OT"
    ds.Rows = ds.Columns = 256
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = np.full((256, 256), value, dtype="<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


class Dcmtk:
    """A DCMTK print SCU set-up in a temporary folder, aimed at one port."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        for folder in ("spool", "database", "lut"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        self.config = root / "dcmpstat.cfg"
        self.config.write_text(CONFIG.format(calling=CALLING, root=root, port=port))
        self.bright = write_image(root / "bright.dcm", BRIGHT)
        self.dark = write_image(root / "dark.dcm", DARK)

    def run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, timeout=60, cwd=self.root
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def print_job(
        self, columns: int, rows: int, images: list[Path], *options: str, check: bool = True
    ) -> subprocess.CompletedProcess:
        """Render the images with dcmpsprt, then send the job with dcmprscu."""
        database = self.root / "database"
        before = set(database.glob("SP_*.dcm"))
        layout = ["--layout", str(columns), str(rows)]
        self.run(DCMPSPRT, "-c", self.config, "-p", "DICOMPRINT", *layout, *images)
        (stored_print,) = set(database.glob("SP_*.dcm")) - before
        return self.run(
            DCMPRSCU, "-c", self.config, "-p", "DICOMPRINT", *options, stored_print, check=check
        )


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path) as srv:
        yield srv


@pytest.fixture
def dcmtk(tmp_path, server):
    return Dcmtk(tmp_path / "dcmtk", server.address[1])


def centre_means(pixels: np.ndarray, columns: int, rows: int) -> list[float]:
    height, width = pixels.shape
    means = []
    for r in range(rows):
        for c in range(columns):
            y, x = int((r + 0.5) * height / rows), int((c + 0.5) * width / columns)
            means.append(float(pixels[y - 10 : y + 10, x - 10 : x + 10].mean()))
    return means


@pytest.mark.parametrize("session_print", [False, True], ids=["film-box", "film-session"])
def test_1x1_job(dcmtk, tmp_path, session_print, caplog):
    options = ["--session-print"] if session_print else []
    with caplog.at_level("INFO", logger="dicomprint_server.scp"):
        dcmtk.print_job(1, 1, [dcmtk.bright], *options)
    level = "Film Session" if session_print else "Film Box"
    assert any(f"N-ACTION Basic {level} SOP Class" in r.message for r in caplog.records)
    (film,) = output_files(tmp_path / "filmbox" / CALLING)
    pixels = load_image(film)
    assert pixels.ndim == 2 and pixels.shape[0] > pixels.shape[1]  # portrait
    assert centre_means(pixels, 1, 1)[0] > 200
    assert pixels[:20, :20].mean() < 60  # black border around the image


@pytest.mark.parametrize("session_print", [False, True], ids=["film-box", "film-session"])
def test_2x2_job(dcmtk, tmp_path, session_print):
    options = ["--session-print"] if session_print else []
    images = [dcmtk.bright, dcmtk.dark, dcmtk.dark, dcmtk.bright]
    dcmtk.print_job(2, 2, images, *options)
    (film,) = output_files(tmp_path / "filmbox" / CALLING)
    bright = [mean > 150 for mean in centre_means(load_image(film), 2, 2)]
    assert bright == [True, False, False, True]


def test_copies_are_recorded(dcmtk, tmp_path):
    dcmtk.print_job(1, 1, [dcmtk.dark], "--session-print", "--copies", "3")
    (film,) = output_files(tmp_path / "filmbox" / CALLING)
    assert film.name.endswith("_x3.jpg")
    assert centre_means(load_image(film), 1, 1)[0] < 100


def test_several_jobs_in_a_row(dcmtk, tmp_path, server):
    for _ in range(3):
        dcmtk.print_job(1, 1, [dcmtk.bright])
    assert len(output_files(tmp_path / "filmbox" / CALLING)) == 3
    assert server.scp.open_associations == 0


def test_dcmprscu_reports_no_errors(dcmtk):
    result = dcmtk.print_job(1, 1, [dcmtk.bright])
    errors = [line for line in result.stderr.splitlines() if line.startswith(("E:", "F:"))]
    assert errors == []


def test_echoscu(server):
    host, port = server.address
    result = subprocess.run(
        [str(ECHOSCU), "-aec", "PRINTSCP", host, str(port)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_a_failed_print_does_not_trouble_dcmprscus_release(tmp_path, caplog):
    """The printer turns to FAILURE during the N-ACTION; its N-EVENT-REPORT must not
    cross the A-RELEASE-RQ that dcmprscu sends right after the failure response."""
    backend = FlakyBackend(OSError("queue stopped"))
    with running_server(tmp_path, backend=backend) as server:
        dcmtk = Dcmtk(tmp_path / "dcmtk", server.address[1])
        for _ in range(3):
            result = dcmtk.print_job(1, 1, [dcmtk.bright], check=False)
            errors = [line for line in result.stderr.splitlines() if line.startswith("E:")]
            # The print failed, and that is all that went wrong (no "release ... failed").
            assert errors == ["E: spooler: printer communication failed, unable to print"], (
                result.stderr
            )
        assert server.printer.PrinterStatus == "FAILURE"
    assert "ConnectionResetError" not in caplog.text
