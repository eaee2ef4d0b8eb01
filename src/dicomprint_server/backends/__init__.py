"""Printer backends by name.

Built-in backends are listed in :data:`BUILTIN`: ``jpeg`` (JPEG or PNG
files), ``pdf``, ``cups``, ``windows`` and ``dicom``. Third-party packages
add theirs through the ``dicomprint.printers`` entry-point group: an entry
point names a callable that takes the printer's options (a mapping: the
keys of its ``[printers.NAME]`` table, or of ``[output]``, other than
``backend`` and ``profile``) and returns a
:class:`dicomprint.backend.PrinterBackend`. A built-in name wins over an
entry point of the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from dicomprint.backend import PrinterBackend

from ._options import OptionError
from .cups import CupsPrinter
from .dicom import DicomPrinter
from .jpeg import JpegPrinter
from .pdf import PdfPrinter
from .windows import WindowsPrinter, require_pywin32

BackendFactory = Callable[[Mapping[str, Any]], PrinterBackend]

ENTRY_POINT_GROUP = "dicomprint.printers"


def _windows(options: Mapping[str, Any]) -> WindowsPrinter:
    printer = WindowsPrinter.from_options(options)
    require_pywin32()
    return printer


#: Factories of the built-in backends.
BUILTIN: dict[str, BackendFactory] = {
    "jpeg": JpegPrinter.from_options,
    "pdf": PdfPrinter.from_options,
    "cups": CupsPrinter.from_options,
    "windows": _windows,
    "dicom": DicomPrinter.from_options,
}

#: Option validation of the built-in backends, without touching the system
#: (the configuration is checked everywhere; a Windows printer only runs on Windows).
VALIDATORS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "jpeg": JpegPrinter.from_options,
    "pdf": PdfPrinter.from_options,
    "cups": CupsPrinter.from_options,
    "windows": WindowsPrinter.from_options,
    "dicom": DicomPrinter.from_options,
}


class BackendError(ValueError):
    """An unknown backend, bad options or a backend that cannot run here."""


def plugins() -> dict[str, EntryPoint]:
    """Entry points of the ``dicomprint.printers`` group, by name (first one wins)."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def backend_names() -> list[str]:
    """Every backend name this installation knows."""
    return sorted({*BUILTIN, *plugins()})


def is_known(name: str) -> bool:
    return name in BUILTIN or name in plugins()


def validate_options(name: str, options: Mapping[str, Any]) -> None:
    """Check a built-in backend's options (plug-ins check theirs when loaded).

    Raises :class:`BackendError` for an unknown backend name and
    :class:`~._options.OptionError` naming a bad option.
    """
    options = {key: value for key, value in options.items() if key != "backend"}
    if name in VALIDATORS:
        VALIDATORS[name](options)
    elif name not in plugins():
        raise BackendError(f"unknown printer backend {name!r}; known: {', '.join(backend_names())}")


def load_backend(name: str, options: Mapping[str, Any]) -> PrinterBackend:
    """The backend called ``name``, built from ``options``.

    Raises :class:`BackendError` (a ValueError) when the name is unknown, the
    plug-in cannot be loaded or built, or the backend cannot run here, and
    :class:`~._options.OptionError` (a ValueError) for a bad option.
    """
    # The printer's table may be passed whole: its backend key is not an option.
    options = {key: value for key, value in options.items() if key != "backend"}
    factory = BUILTIN.get(name)
    if factory is None:
        entry = plugins().get(name)
        if entry is None:
            raise BackendError(
                f"unknown printer backend {name!r}; known: {', '.join(backend_names())}"
            )
        try:
            factory = entry.load()
        except Exception as exc:
            raise BackendError(
                f"printer backend {name!r} ({entry.value}) cannot be loaded: {exc}"
            ) from exc
    try:
        backend = factory(options)
    except (OptionError, BackendError):
        raise
    except Exception as exc:  # a plug-in's own complaint about its options
        raise BackendError(f"printer backend {name!r}: {exc}") from exc
    if not isinstance(backend, PrinterBackend):
        raise BackendError(f"printer backend {name!r} has no print_films method")
    return backend


__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "BackendError",
    "CupsPrinter",
    "DicomPrinter",
    "JpegPrinter",
    "OptionError",
    "PdfPrinter",
    "WindowsPrinter",
    "backend_names",
    "load_backend",
    "plugins",
    "validate_options",
]
