"""Third-party printer backends found through the ``dicomprint.printers`` entry-point group.

The plug-in here is a real distribution: a module and its ``.dist-info``
(METADATA, entry_points.txt) in a folder put on the import path, which is
what ``pip install`` leaves in site-packages. Nothing in dicomprint is
patched; importlib.metadata finds it as it finds any installed package.
"""

import os
import sys
import textwrap
from pathlib import Path

import pytest

from dicomprint import Status
from dicomprint_server import ConfigError, PrintServer, load_config
from dicomprint_server.backends import BackendError, backend_names, load_backend, plugins
from routing_support import Scu, serving_config
from server_support import WAIT, serve_process

PLUGIN = '''
"""A third-party dicomprint printer: one text file per film."""

from pathlib import Path


class TextPrinter:
    def __init__(self, directory, greeting):
        self.directory = Path(directory)
        self.greeting = greeting

    def print_films(self, films, job):
        self.directory.mkdir(parents=True, exist_ok=True)
        for film in films:
            name = f"{job.called_ae_title.strip()}_{film.index}.txt"
            (self.directory / name).write_text(
                f"{self.greeting} {film.film_size_id} {film.pixels.shape} copies={job.copies}"
            )


def make(options):
    unknown = set(options) - {"directory", "greeting"}
    if unknown:
        raise ValueError(f"unknown option {sorted(unknown)[0]!r}")
    return TextPrinter(options["directory"], options.get("greeting", "film"))


def broken(options):
    return object()  # no print_films
'''


@pytest.fixture
def plugin_path(tmp_path):
    """A folder holding the installed plug-in distribution ``dicomprint-textprinter``."""
    site = tmp_path / "site"
    info = site / "dicomprint_textprinter-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "dicomprint_textprinter.py").write_text(PLUGIN)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: dicomprint-textprinter\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [dicomprint.printers]
            textprinter = dicomprint_textprinter:make
            brokenprinter = dicomprint_textprinter:broken
            """
        )
    )
    (info / "RECORD").write_text("")
    return site


@pytest.fixture
def installed(plugin_path, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_path))
    yield plugin_path
    sys.modules.pop("dicomprint_textprinter", None)


def test_the_entry_point_is_found(installed):
    assert plugins()["textprinter"].value == "dicomprint_textprinter:make"
    assert {"textprinter", "jpeg", "pdf", "cups", "windows", "dicom"} <= set(backend_names())


def test_a_plugin_is_built_from_its_options(installed, tmp_path):
    backend = load_backend("textprinter", {"directory": str(tmp_path), "greeting": "hi"})
    assert type(backend).__name__ == "TextPrinter"
    with pytest.raises(BackendError, match="textprinter.*unknown option 'colour'"):
        load_backend("textprinter", {"directory": str(tmp_path), "colour": "red"})
    with pytest.raises(BackendError, match="no print_films"):
        load_backend("brokenprinter", {})


def test_a_plugin_printer_chosen_by_name_prints(installed, tmp_path):
    text = f"""
[server]
failed_jobs = "{tmp_path / "failed"}"
[printers.notes]
backend = "textprinter"
directory = "{tmp_path / "notes"}"
greeting = "printed"
[routing.called_ae_titles]
NOTES = "notes"
"""
    with serving_config(tmp_path, text) as server:
        with Scu(server.address, "NOTES") as scu:
            assert scu.print_film(film_size="8INX10IN", copies=2).Status == Status.SUCCESS
    note = (tmp_path / "notes" / "NOTES_1.txt").read_text()
    assert note == "printed 8INX10IN (1500, 1200) copies=2"


def test_a_plugin_refusing_its_options_stops_the_server_start(installed, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(f'[printers.notes]\nbackend = "textprinter"\ndirectory = "{tmp_path}"\nx = 1\n')
    config = load_config(path)  # plug-ins check their options when they are built
    with pytest.raises(ConfigError, match="printer 'notes'.*unknown option 'x'"):
        PrintServer(config)


def test_an_unknown_backend_is_a_configuration_error(tmp_path):
    path = tmp_path / "unknown.toml"
    path.write_text('[printers.notes]\nbackend = "textprinter"\n')
    with pytest.raises(ConfigError, match="unknown printer backend"):
        load_config(path)


def test_dicomprint_serve_loads_the_plugin_from_the_environment(plugin_path, tmp_path):
    """A separate process: the plug-in is found only because it is on PYTHONPATH."""
    config = tmp_path / "server.toml"
    config.write_text(
        f'[output]\nbackend = "textprinter"\ndirectory = "{tmp_path / "out"}"\n'
        f'[server]\nfailed_jobs = "{tmp_path / "failed"}"\n'
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), *sys.path])}
    process, port, _ = serve_process(
        tmp_path, "--config", str(config), "--port", "0", "--host", "127.0.0.1", env=env
    )
    try:
        with Scu(("127.0.0.1", port), "ANYONE") as scu:
            assert scu.print_film().Status == Status.SUCCESS
    finally:
        process.terminate()
        process.wait(timeout=WAIT * 3)
    assert (Path(tmp_path) / "out" / "ANYONE_1.txt").read_text().startswith("film 8INX10IN")
