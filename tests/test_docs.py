"""The documentation keeps up with the code: API pages, pictures, benchmark figures."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Pictures are committed: keep them small.
MAX_PICTURE_BYTES = 80 * 1024


def public_modules(package: str) -> set[str]:
    """Every module of ``package`` whose dotted name has no part starting with ``_``."""
    found = {package}
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.add(info.name)
    return found


def documented_modules() -> list[str]:
    return [
        name
        for page in sorted((DOCS / "api").glob("*.md"))
        for name in re.findall(r"^\.\. automodule:: (\S+)$", page.read_text(), re.M)
    ]


def test_every_public_module_has_an_api_page_entry():
    documented = documented_modules()
    assert len(documented) == len(set(documented)), "a module is documented twice"
    expected = public_modules("dicomprint") | public_modules("dicomprint_server")
    assert set(documented) == expected


def markdown_pages() -> list[Path]:
    return [*DOCS.rglob("*.md"), ROOT / "README.md"]


def pictures_referenced() -> dict[Path, list[Path]]:
    found: dict[Path, list[Path]] = {}
    for page in markdown_pages():
        if "_build" in page.parts:
            continue
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                found.setdefault((page.parent / target).resolve(), []).append(page)
    return found


def test_pictures_exist_are_small_and_are_shown():
    referenced = pictures_referenced()
    for picture, pages in referenced.items():
        assert picture.is_file(), f"{picture} (shown in {pages[0].name}) is missing"
    for picture in (DOCS / "images").iterdir():
        assert picture.stat().st_size < MAX_PICTURE_BYTES, picture.name
        assert picture.resolve() in referenced, f"{picture.name} is not shown on any page"


def benchmark_rows(title_start: str) -> list[list[str]]:
    """The rows of the first table after the paragraph starting ``title_start``."""
    lines = (DOCS / "benchmarks.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title_start))
    start = next(i for i in range(start, len(lines)) if lines[i].startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_composite_figures_are_the_kept_run():
    run = json.loads((DOCS / "benchmarks" / "composite.json").read_text())
    rows = benchmark_rows("| case | dicomprint |")
    assert [row[0] for row in rows] == [case["case"] for case in run["cases"]]
    for row, case in zip(rows, run["cases"], strict=True):
        keys = ("dicomprint_ms", "opencv_ms", "pillow_ms", "skimage_ms", "floor_ms", "x_floor")
        assert row[1:] == [f"{case[key]:.1f}" for key in keys], case["case"]
        assert max(case["max_abs_diff"].values()) <= 1
    memory = run["memory"]
    (row,) = benchmark_rows("| raster | inputs |")
    assert row == [
        f"{memory['raster_bytes'] / 1e6:.1f} MB",
        f"{memory['input_bytes'] / 1e6:.1f} MB",
        f"{memory['peak_bytes'] / 1e6:.1f} MB",
        f"{memory['peak_in_rasters']:.2f}",
        f"{memory['budget_bytes'] / 1e6:.1f} MB",
    ]
    text = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    assert f"median of {run['repeat']} runs" in text
    assert run["targets"]["faster_than_every_baseline"], "update the targets sentence"
    assert run["targets"]["peak_memory_within_budget"], "update the targets sentence"
    fresh = benchmark_rows("| case | dicomprint on fresh memory |")
    assert fresh == [
        [case["case"]]
        + [f"{case[key]:.1f}" for key in ("fresh_dicomprint_ms", "fresh_floor_ms", "fresh_x_floor")]
        for case in run["cases"]
    ]
    # The page states this run's CT ratios, met on fresh memory and not on reused.
    ct = next(case for case in run["cases"] if case["case"].startswith("3x4 CT"))
    assert run["targets"]["ct_within_3x_floor_on_fresh_memory"]
    words = " ".join(text.split())
    assert f"met on fresh memory ({ct['fresh_x_floor']:.2f} in this run)" in words
    assert f"not met on reused memory ({ct['x_floor']:.2f} in this run)" in words


def test_server_figures_are_the_kept_run():
    run = json.loads((DOCS / "benchmarks" / "server.json").read_text())
    rows = benchmark_rows("| server | films/s |")
    assert rows == [
        [name, f"{result['films_per_s']:.2f}", f"{result['median_ms']:.0f}"]
        for name, result in run["films"].items()
    ]
    rows = benchmark_rows("| max receive PDU |")
    sizes = list(run["receive"]["dicomprint"])
    assert [row[0] for row in rows] == [("no limit" if s == "0" else s) for s in sizes]
    for row, size in zip(rows, sizes, strict=True):
        for column, server in ((1, "dicomprint"), (2, "dcmprscp")):
            assert row[column] == f"{run['receive'][server][size]['mb_per_s']:.1f}", (size, server)
    text = " ".join((DOCS / "benchmarks.md").read_text(encoding="utf-8").split())
    assert f"{run['films']['dicomprint']['films']} films" in text


def test_memory_figures_are_the_kept_run():
    run = json.loads((DOCS / "benchmarks" / "memory.json").read_text())
    lines = (DOCS / "reliability.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| scenario |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    expected = []
    for case in run["scenarios"]:
        budget = case["max_pixel_bytes"] or run["default_max_pixel_bytes"]
        budget_text = f"{budget // 2**30} GiB" if budget >= 2**30 else f"{budget // 2**20} MiB"
        expected.append(
            [
                case["scenario"],
                budget_text,
                str(case["images_accepted"]),
                f"{case['pixel_bytes_held_at_once'] / 1e6:.1f}",
                f"{case['peak_bytes'] / 1e6:.1f}",
                f"{case['load_bytes'] / 1e6:.1f}",
                ", ".join(f"{code} x{count}" for code, count in case["statuses"].items()),
            ]
        )
    assert rows == expected
    small = run["scenarios"][-1]
    assert small["pixel_bytes_held_at_once"] <= small["max_pixel_bytes"]
    assert {"0xA700", "0xC605"} <= set(small["statuses"])


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_pages_link_only_to_files_that_exist(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    for target in re.findall(r"(?<!!)\[[^\]]*\]\(([^)\s#]+)(?:#[^)]*)?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (DOCS / target).exists(), f"{page} links to {target}"


def test_the_first_film_page_runs(tmp_path, monkeypatch, capsys):
    page = (DOCS / "first-film.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", page, re.M | re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "first-film.md", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "0x0000 Success: Success"
    assert printed[1] == "2 BILINEAR"
    assert printed[4].startswith("True ")  # the PrintError with its comment
    assert printed[5].startswith("0xB605 Warning")
    assert printed[6] == "(1200, 1500) 150 8INX10IN"
    assert (tmp_path / "film.png").is_file()


#: Pages whose snippets have a test of their own (the plug-in must be installed).
OWN_TESTS = {"docs/writing-a-backend.md"}


def toml_snippets() -> list[tuple[str, str]]:
    """(page:line, text) of every ```toml block in the README and the docs."""
    found = []
    for page in [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]:
        name = str(page.relative_to(ROOT))
        if name in OWN_TESTS:
            continue
        text = page.read_text()
        for match in re.finditer(r"^```toml\n(.*?)^```$", text, re.M | re.S):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{name}:{line}", match.group(1)))
    return found


SNIPPETS = toml_snippets()


@pytest.mark.parametrize(("where", "text"), SNIPPETS, ids=[where for where, _ in SNIPPETS])
def test_every_configuration_snippet_loads(where, text, tmp_path, monkeypatch):
    """Each snippet, copied into a file as it stands, is a configuration the
    server accepts (every printer it routes to is defined, and so on), or a
    printer profile file when it starts with keys (a configuration starts
    with a table)."""
    from dicomprint import PrinterProfile
    from dicomprint_server import load_config
    from tls_support import Pki

    monkeypatch.chdir(tmp_path)
    Pki.create(tmp_path / "tls")  # the files the [tls] examples name
    path = tmp_path / "snippet.toml"
    path.write_text(text)
    first = next(line for line in text.splitlines() if line and not line.startswith("#"))
    if first.startswith("["):
        load_config(path)
    else:
        PrinterProfile.from_toml(path)
