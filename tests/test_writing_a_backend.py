"""The worked example of docs/writing-a-backend.md, run as the page shows it."""

import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend_support import make_film, make_job
from dicomprint_server import load_config
from dicomprint_server.backends import BackendError, load_backend

PAGE = Path(__file__).resolve().parents[1] / "docs" / "writing-a-backend.md"


def block_after(text: str, caption: str, language: str) -> str:
    """The fenced ``language`` block that follows the line ``caption``."""
    match = re.search(
        rf"^{re.escape(caption)}\n\n```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL
    )
    assert match, f"no {language} block after {caption!r}"
    return match.group(1)


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The example package installed the way pip leaves it: module and dist-info."""
    text = PAGE.read_text()
    module = block_after(text, "`dicomprint_tiff.py`:", "python")
    pyproject = tomllib.loads(block_after(text, "`pyproject.toml`:", "toml"))
    site = tmp_path / "site"
    info = site / "dicomprint_tiff-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "dicomprint_tiff.py").write_text(module)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {pyproject['project']['name']}\n"
        f"Version: {pyproject['project']['version']}\n"
    )
    points = pyproject["project"]["entry-points"]["dicomprint.printers"]
    (info / "entry_points.txt").write_text(
        "[dicomprint.printers]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
    )
    monkeypatch.syspath_prepend(str(site))
    yield text
    sys.modules.pop("dicomprint_tiff", None)


def test_the_example_prints_a_multipage_tiff(installed, tmp_path):
    printer = load_backend("tiff", {"directory": tmp_path / "out", "compression": "tiff_deflate"})
    films = [make_film(90, index=1, dpi=30), make_film(200, index=2, color=True, dpi=30)]
    printer.print_films(films, make_job(copies=2))
    (path,) = (tmp_path / "out" / "MODALITY").iterdir()
    with Image.open(path) as tiff:
        assert tiff.n_frames == 2
        pages = []
        for frame in range(2):
            tiff.seek(frame)
            assert tuple(round(v) for v in tiff.info["dpi"]) == (30, 30)
            pages.append(np.asarray(tiff.convert(tiff.mode)))
    for film, page in zip(films, pages, strict=True):
        assert np.array_equal(page, film.pixels)


def test_the_example_checks_its_options(installed, tmp_path):
    with pytest.raises(BackendError, match="compression = 'zip'"):
        load_backend("tiff", {"directory": tmp_path, "compression": "zip"})
    with pytest.raises(BackendError, match="'directory' is required"):
        load_backend("tiff", {})


def test_the_example_configuration_loads(installed, tmp_path):
    snippet = block_after(installed, "Then choose it by name:", "toml")
    path = tmp_path / "server.toml"
    path.write_text(snippet)
    config = load_config(path)
    assert config.printers["archive"].backend == "tiff"
    assert config.routing.printer_for("ARCHIVE") == "archive"
