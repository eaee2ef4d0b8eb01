"""Sphinx configuration for the dicomprint documentation.

Build (from the project root, no network needed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The pages are Markdown (MyST), readable on GitHub as they are; the API
reference comes from the docstrings through autodoc.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Document the source tree even when the package is not installed.
sys.path.insert(0, str(ROOT / "src"))

import dicomprint  # noqa: E402

project = "dicomprint"
author = "dicomprint contributors"
copyright = "dicomprint contributors, MIT licence"
release = dicomprint.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

root_doc = "index"
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "benchmarks", "Thumbs.db", ".DS_Store"]

# MyST: GitHub-style anchors so "page.md#section" links work in both places.
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence", "deflist"]

# autodoc: members in source order, type hints in the description.
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
    "show-inheritance": True,
    # Document each object where it is defined: the packages' __all__ re-export
    # names from their modules, which would otherwise be described twice.
    "ignore-module-all": True,
}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# Everything is built from this repository: no intersphinx, no downloads.
nitpicky = False

html_theme = "furo"
html_title = f"dicomprint {release}"
html_static_path: list[str] = []
pygments_style = "sphinx"
