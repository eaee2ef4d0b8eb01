"""Named printers and routing in the configuration; errors name the key."""

import subprocess
import sys
from pathlib import Path

import pytest

from dicomprint_server import ConfigError, load_config
from dicomprint_server.cli import main

PRINTERS = """
[profile]
dpi_standard = 100
[profile.identity]
Manufacturer = "Hospital"

[printers.office]
backend = "cups"
queue = "Office_Laser"
media = { A4 = "A4" }
[printers.office.profile]
film_sizes = ["A4", "8INX10IN"]
dpi_standard = 300
color = false
[printers.office.profile.film_box]
FilmSizeID = "A4"
[printers.office.profile.identity]
PrinterName = "Office"

[printers.archive]
backend = "dicom"
host = "pacs.example"
port = 104
called_ae_title = "ARCHIVE"

[routing]
default = "archive"
[routing.called_ae_titles]
PAPER = "office"
FILM = "default"
"""


def load(tmp_path, text, overrides=None):
    path = tmp_path / "printers.toml"
    path.write_text(text)
    return load_config(path, overrides)


def test_named_printers_with_their_options_and_profiles(tmp_path):
    config = load(tmp_path, PRINTERS)
    assert sorted(config.printers) == ["archive", "default", "office"]
    office = config.printers["office"]
    assert office.backend == "cups"
    assert office.queue == "Office_Laser"
    assert office.options["media"] == {"A4": "A4"}
    assert office.options["scaling"] == "auto"  # the backend's default, filled in
    # The printer's profile is laid over [profile].
    assert office.profile.film_sizes == ("A4", "8INX10IN")
    assert (office.profile.dpi_standard, office.profile.dpi_high) == (300, 600)
    assert office.profile.color is False
    assert office.profile.film_box.FilmSizeID == "A4"
    assert office.profile.identity.PrinterName == "Office"
    assert office.profile.identity.Manufacturer == "Hospital"
    archive = config.printers["archive"]
    assert (archive.profile.dpi_standard, archive.profile.dpi_high) == (100, 200)
    assert archive.port == 104
    # [output] and [profile] are the printer named "default".
    assert config.output.backend == "jpeg"
    assert config.output.profile is config.profile


@pytest.mark.parametrize(
    "called, printer",
    [("PAPER", "office"), ("PAPER  ", "office"), ("FILM", "default"), ("paper", "archive")],
)
def test_routing_by_called_ae_title(tmp_path, called, printer):
    config = load(tmp_path, PRINTERS)
    assert config.routing.printer_for(called) == printer
    assert config.printer_for(called).name == printer


def test_without_printers_everything_goes_to_default():
    config = load_config()
    assert list(config.printers) == ["default"]
    assert config.routing.printer_for("ANY") == "default"


def test_output_with_another_backend_drops_the_jpeg_defaults(tmp_path):
    config = load(tmp_path, '[output]\nbackend = "pdf"\ndirectory = "pdfs"\ncopies = "pages"\n')
    assert config.output.backend == "pdf"
    assert config.output.options == {
        "directory": Path("pdfs"),
        "copies": "pages",
        "quality": 95,
        "fsync": True,
    }


def test_output_option_from_the_command_line_reaches_another_backend(tmp_path):
    config = load(tmp_path, '[output]\nbackend = "pdf"\n', {"output": "elsewhere"})
    assert config.output.directory == Path("elsewhere")


@pytest.mark.parametrize(
    "text, message",
    [
        ('[printers.x]\nqueue = "Q"\n', "[printers.x] backend is required"),
        ('[printers.x]\nbackend = "laser"\n', "[printers.x] backend = 'laser': unknown"),
        ('[printers.x]\nbackend = "cups"\n', "[printers.x] option 'queue' is required"),
        (
            '[printers.x]\nbackend = "cups"\nqueue = "Q"\nqueu = "Q"\n',
            "[printers.x] unknown option 'queu'",
        ),
        ('[printers.x]\nbackend = "cups"\nqueue = 5\n', "[printers.x] queue = 5: expected"),
        (
            '[printers.x]\nbackend = "pdf"\ndirectory = "d"\ncopies = "all"\n',
            "[printers.x] copies = 'all'",
        ),
        ('[printers.default]\nbackend = "pdf"\n', "[printers.default]"),
        ('[printers."a b"]\nbackend = "pdf"\n', "[printers.a b]"),
        (
            '[printers.x]\nbackend = "pdf"\ndirectory = "d"\n[printers.x.profile]\nwidth = 1\n',
            "[printers.x.profile]: unknown printer profile key: 'width'",
        ),
        (
            '[printers.x]\nbackend = "pdf"\ndirectory = "d"\n'
            "[printers.x.profile]\ndpi_standard = 5\n",
            "[printers.x.profile] dpi_standard",
        ),
        ('[routing]\ndefault = "nowhere"\n', "[routing] default = 'nowhere'"),
        ('[routing]\ndefualt = "default"\n', "unknown key in [routing]: 'defualt'"),
        (
            '[routing.called_ae_titles]\nPAPER = "office"\n',
            "[routing.called_ae_titles] 'PAPER' = 'office': no printer",
        ),
        (
            '[routing.called_ae_titles]\nWAY_TOO_LONG_AE_TITLE = "default"\n',
            "'WAY_TOO_LONG_AE_TITLE': not an AE title",
        ),
        ('[output]\nbackend = "pdf"\n', "[output] option 'directory' is required"),
        ('[output]\nbackend = "dicom"\nport = 104\n', "[output] set directory"),
        ("[printers]\nx = 1\n", "[printers.x] must be a table"),
    ],
)
def test_bad_printer_config_names_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert message in str(info.value)


def test_serve_refuses_a_bad_printer_without_starting(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[printers.office]\nbackend = "cups"\nqueue = "Q"\nscaling = "big"\n')
    assert main(["serve", "--config", str(path), "--port", "0"]) == 2
    assert "[printers.office] scaling = 'big'" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="checks the message shown elsewhere")
def test_serve_refuses_a_windows_printer_elsewhere(tmp_path):
    path = tmp_path / "windows.toml"
    path.write_text(
        '[printers.ward]\nbackend = "windows"\nprinter = "Ward 3"\n'
        '[routing.called_ae_titles]\nWARD = "ward"\n'
    )
    # A process of its own: serve configures logging for the whole process.
    result = subprocess.run(
        [sys.executable, "-m", "dicomprint_server", "serve", "--config", str(path)]
        + ["--port", "0", "--host", "127.0.0.1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "printer 'ward'" in result.stderr and "Windows" in result.stderr
