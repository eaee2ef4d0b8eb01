"""Printer backends by name.

Built-in backends are listed in :data:`BUILTIN`; third-party packages add
theirs through the ``dicomprint.printers`` entry-point group. An entry point
names a callable that takes the ``[output]`` options (a mapping) and
returns a :class:`dicomprint.backend.PrinterBackend`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from dicomprint.backend import PrinterBackend

from .jpeg import JpegPrinter

BackendFactory = Callable[[Mapping[str, Any]], PrinterBackend]

ENTRY_POINT_GROUP = "dicomprint.printers"

BUILTIN: dict[str, BackendFactory] = {"jpeg": JpegPrinter.from_options}


def load_backend(name: str, options: Mapping[str, Any]) -> PrinterBackend:
    """The backend called ``name``, built from ``options``; ValueError if unknown."""
    factory = BUILTIN.get(name)
    if factory is None:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not found:
            known = sorted({*BUILTIN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})
            raise ValueError(f"unknown printer backend {name!r}; known: {', '.join(known)}")
        factory = found[0].load()
    backend = factory(options)
    if not isinstance(backend, PrinterBackend):
        raise ValueError(f"printer backend {name!r} has no print_films method")
    return backend


__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "JpegPrinter", "load_backend"]
