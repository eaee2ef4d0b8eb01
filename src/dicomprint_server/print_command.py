"""``dicomprint print``, ``echo`` and ``status``: the print SCU on the command line.

``dicomprint print --host H --port P FILES...`` prints DICOM files (folders
are searched recursively; files that are not DICOM or hold no image are
skipped) on films of the chosen layout, one progress line per film.
``dicomprint echo`` checks that a printer answers (C-ECHO);
``dicomprint status`` shows its status and configuration. All speak DICOM
over TLS with ``--tls`` (and ``--tls-ca``, ``--tls-cert``, ``--tls-key``
for the certificates).

Register them with :func:`add_commands` on the ``dicomprint`` subparsers.
"""

from __future__ import annotations

import argparse
import logging
import string
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_INTEGER_VRS = {"IS", "US", "UL", "SS", "SL", "UV", "SV"}
_DECIMAL_VRS = {"DS", "FD", "FL"}


def add_commands(subparsers: Any) -> None:
    """Add ``print``, ``echo`` and ``status`` to the ``dicomprint`` command's subparsers."""
    printing = subparsers.add_parser(
        "print",
        help="print DICOM files on a DICOM printer",
        description="Print DICOM images (files or folders) on a DICOM print SCP: Modality "
        "and VOI LUT applied, films filled in order, each printed when full.",
    )
    _add_peer_options(printing)
    films = printing.add_argument_group("film")
    films.add_argument(
        "--format",
        default="STANDARD\\1,1",
        metavar="FORMAT",
        help="Image Display Format, e.g. 'STANDARD\\2,2' (columns, rows); default STANDARD\\1,1",
    )
    films.add_argument("--film-size", metavar="ID", help="Film Size ID, e.g. 14INX17IN, A4")
    films.add_argument("--orientation", type=str.upper, choices=("PORTRAIT", "LANDSCAPE"))
    films.add_argument(
        "--magnification",
        type=str.upper,
        choices=("REPLICATE", "BILINEAR", "CUBIC", "NONE"),
        help="Magnification Type",
    )
    films.add_argument("--color", action="store_true", help="print in colour (colour meta class)")
    films.add_argument("--copies", type=int, metavar="N", help="Number of Copies of each film")
    films.add_argument(
        "--session-print",
        action="store_true",
        help="print all films with one film session N-ACTION at the end (collated copies) "
        "instead of each film box when it is full",
    )
    films.add_argument(
        "--presentation-lut", metavar="SHAPE", help="Presentation LUT Shape, e.g. 'LIN OD'"
    )
    films.add_argument(
        "--annotation-format",
        metavar="ID",
        help="Annotation Display Format ID: the printer's name for a layout of annotation "
        "boxes (this project's server: BOTTOM, BOTTOM2, TOP_BOTTOM)",
    )
    films.add_argument(
        "--annotation",
        action="append",
        default=[],
        metavar="POSITION=TEXT",
        help="a line of text in annotation box POSITION of every film (repeatable; needs "
        "--annotation-format); {Keyword} is filled from the film's images, e.g. "
        "2='{PatientName} {PatientID}'",
    )
    films.add_argument(
        "--film-box",
        action="append",
        default=[],
        metavar="KEYWORD=VALUE",
        help="any other film box attribute, by DICOM keyword (repeatable)",
    )
    films.add_argument(
        "--film-session",
        action="append",
        default=[],
        metavar="KEYWORD=VALUE",
        help="any film session attribute, by DICOM keyword (repeatable)",
    )
    pixels = printing.add_argument_group("pixels")
    pixels.add_argument(
        "--bits", type=int, choices=(8, 12), default=12, help="grayscale bits (default 12)"
    )
    pixels.add_argument(
        "--max-size",
        type=int,
        default=4096,
        metavar="PX",
        help="reduce images with more rows or columns (default 4096)",
    )
    printing.add_argument(
        "--wait-for-print-jobs",
        type=float,
        default=0,
        metavar="SECONDS",
        help="propose the Print Job class and wait up to SECONDS at the end until the "
        "printer reports every job done (a failed job exits 1)",
    )
    printing.add_argument(
        "--no-status-check",
        action="store_true",
        help="do not ask the printer's status first (WARNING or FAILURE is reported, "
        "and printing goes on)",
    )
    printing.add_argument("files", nargs="+", type=Path, metavar="FILE", help="files or folders")
    printing.set_defaults(run=run_print)

    echo = subparsers.add_parser(
        "echo", help="check that a DICOM peer answers (C-ECHO)", description="Send a C-ECHO."
    )
    _add_peer_options(echo)
    echo.set_defaults(run=run_echo)
    status = subparsers.add_parser(
        "status",
        help="show a DICOM printer's status and configuration",
        description="Ask a DICOM printer its status (Printer N-GET) and, when it offers "
        "Printer Configuration Retrieval, its media, densities and layouts. Exit status "
        "0 when the printer is NORMAL, 1 for WARNING, FAILURE or no answer.",
    )
    _add_peer_options(status)
    status.set_defaults(run=run_status)


def _add_peer_options(parser: argparse.ArgumentParser) -> None:
    peer = parser.add_argument_group("printer")
    peer.add_argument("--host", default="127.0.0.1", help="printer address (default 127.0.0.1)")
    peer.add_argument("--port", type=int, default=11112, help="printer port (default 11112)")
    peer.add_argument("--called-ae", default="PRINTSCP", help="printer AE title (PRINTSCP)")
    peer.add_argument("--calling-ae", default="DICOMPRINT", help="our AE title (DICOMPRINT)")
    peer.add_argument("--timeout", type=float, default=60.0, help="seconds per message (60)")
    tls = parser.add_argument_group(
        "TLS", "DICOM over TLS; any of these options turns it on. Files are PEM."
    )
    tls.add_argument("--tls", action="store_true", help="connect with TLS")
    tls.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="CA certificates that signed the printer's certificate (default: the system's)",
    )
    tls.add_argument(
        "--tls-cert", metavar="FILE", help="our certificate, for printers that require one"
    )
    tls.add_argument(
        "--tls-key", metavar="FILE", help="our private key (if not in the --tls-cert file)"
    )
    tls.add_argument(
        "--tls-server-name",
        metavar="NAME",
        help="the name the printer's certificate must have (default: --host)",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        default="WARNING",
        choices=("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"),
        help="logging level (WARNING shows the printer's warnings)",
    )


# -- Commands ----------------------------------------------------------------------


def run_echo(args: argparse.Namespace) -> int:
    from .client import describe_status, echo

    failed, status = _ask(args, echo, f"C-ECHO {_where(args)}")
    if failed is not None:
        return failed
    category, meaning = describe_status(status)
    print(f"C-ECHO {_where(args)}: 0x{status:04X} {meaning}")
    return 0 if category == "Success" else 1


def run_status(args: argparse.Namespace) -> int:
    from .client import printer_information

    failed, answers = _ask(args, printer_information, _where(args))
    if failed is not None:
        return failed
    printer, configuration = answers
    state = str(printer.get("PrinterStatus") or "unknown")
    print(f"{_where(args)}: {state} ({printer.get('PrinterStatusInfo') or 'no detail'})")
    for line in _describe_printer(printer, configuration):
        print(line)
    return 0 if state == "NORMAL" else 1


def _ask(args: argparse.Namespace, ask: Any, what: str) -> tuple[int | None, Any]:
    """``ask(**printer options)``: (None, its answer), or (exit status, None) said on stderr.

    Bad options (a TLS file) exit 2; no answer exits 1, the message led by ``what``.
    """
    _configure_logging(args.log_level)
    from .client import PrintClientError

    try:
        peer = _peer(args)
    except ValueError as exc:
        print(f"dicomprint: {exc}", file=sys.stderr)
        return 2, None
    try:
        return None, ask(**peer)
    except PrintClientError as exc:
        print(f"dicomprint: {what}: {exc}", file=sys.stderr)
        return 1, None


def _describe_printer(printer: Any, configuration: Any) -> list[str]:
    """A few lines about a printer from its N-GET answers."""
    who = [
        str(printer.get(keyword) or "")
        for keyword in ("PrinterName", "Manufacturer", "ManufacturerModelName")
    ]
    lines = [f"printer: {', '.join(part for part in who if part) or 'unnamed'}"]
    if printer.get("SoftwareVersions"):
        lines.append(f"software: {printer.SoftwareVersions}")
    if configuration is None:
        lines.append("configuration: not offered (no Printer Configuration Retrieval)")
        return lines
    items = configuration.get("PrinterConfigurationSequence") or []
    if not items:
        return lines
    item = items[0]
    media = item.get("MediaInstalledSequence") or []
    if media:
        first = media[0]
        sizes = sorted({str(m.FilmSizeID) for m in media if "FilmSizeID" in m})
        types = sorted({str(m.MediumType) for m in media if "MediumType" in m})
        low, high = first.get("MinDensity"), first.get("MaxDensity")
        lines.append(f"default medium: {first.get('MediumType')} {first.get('FilmSizeID')}")
        lines.append(f"media: {', '.join(types)}; film sizes: {', '.join(sizes)}")
        if low is not None and high is not None:
            lines.append(f"densities: {int(low) / 100:.2f} to {int(high) / 100:.2f} OD")
    formats = item.get("SupportedImageDisplayFormatsSequence") or []
    if formats:
        names = list(dict.fromkeys(str(f.ImageDisplayFormat) for f in formats))
        lines.append(f"display formats: {', '.join(names)}")
    if "DefaultMagnificationType" in item:
        others = ", ".join(item.get("OtherMagnificationTypesAvailable") or [])
        lines.append(f"magnification: {item.DefaultMagnificationType} (others: {others})")
    return lines


def run_print(args: argparse.Namespace) -> int:
    _configure_logging(args.log_level)
    from .client import FilmReport, PrintClient, PrintClientError

    def progress(film: FilmReport) -> None:
        print(f"film {film.number}: {film.images} image(s) printed ({film.level} N-ACTION)")

    try:
        film_box = _film_box(args)
        film_session = _attributes(args.film_session)
        annotations = _annotations(args.annotation)
        if annotations and not film_box.get("AnnotationDisplayFormatID"):
            raise ValueError("--annotation needs --annotation-format")
        # Texts naming image attributes are filled in for each image's film;
        # the others are the same on every film ({{ and }} still mean braces).
        templates = {p: t for p, t in annotations.items() if _is_template(t)}
        annotations = {p: t.format() for p, t in annotations.items() if p not in templates}
        client = PrintClient(
            **_peer(args),
            color=args.color,
            film_session=film_session,
            film_box=film_box,
            copies=args.copies,
            presentation_lut=args.presentation_lut,
            annotations=annotations,
            wait_for_print_jobs=args.wait_for_print_jobs,
            print_level="film_session" if args.session_print else "film_box",
            bits=args.bits,
            max_image_size=args.max_size,
            check_printer=not args.no_status_check,
            on_film=progress,
        )
    except ValueError as exc:
        print(f"dicomprint: {exc}", file=sys.stderr)
        return 2
    try:
        paths = list(_image_files(args.files))
    except OSError as exc:
        print(f"dicomprint: {exc}", file=sys.stderr)
        return 1
    printed = skipped = failed = 0
    film_texts: dict[int, str] = {}
    try:
        with client:
            for path, dataset in _datasets(paths):
                if dataset is None:
                    skipped += 1
                    continue
                texts = {p: _filled(t, dataset) for p, t in templates.items()}
                try:
                    position = client.print_image(dataset, annotations=texts)
                except ValueError as exc:  # this image cannot be prepared; go on
                    print(f"dicomprint: cannot print {path}: {exc}", file=sys.stderr)
                    failed += 1
                    continue
                printed += 1
                if position == 1:
                    film_texts = texts
                elif texts != film_texts:  # say, images of two patients on one film
                    log.warning(
                        "%s: annotations %s, earlier images of its film %s: the film shows these",
                        path,
                        texts,
                        film_texts,
                    )
                    film_texts = texts
    except PrintClientError as exc:
        print(f"dicomprint: {exc}", file=sys.stderr)
        return 1
    for uid, state in client.print_jobs.items():
        print(f"print job {uid}: {state or 'no news'}")
    summary = f"printed {printed} image(s) on {len(client.films)} film(s)"
    for count, what in (
        (skipped, "file(s) skipped"),
        (failed, "failed"),
        (len(client.warnings), "warning(s)"),
    ):
        if count:
            summary += f", {count} {what}"
    print(summary)
    return 1 if failed else 0


# -- Helpers -----------------------------------------------------------------------------


def _configure_logging(level: str) -> None:
    from .cli import configure_logging  # here: cli imports this module

    configure_logging(level)


def _where(args: argparse.Namespace) -> str:
    """The printer as messages name it: ``AE@host:port``."""
    return f"{args.called_ae}@{args.host}:{args.port}"


def _peer(args: argparse.Namespace) -> dict[str, Any]:
    """The printer options as the keyword arguments of ``echo``,
    ``printer_information`` and ``PrintClient``; ValueError for bad TLS files."""
    return {
        "host": args.host,
        "port": args.port,
        "called_ae": args.called_ae,
        "calling_ae": args.calling_ae,
        "timeout": args.timeout,
        "tls": _tls_context(args),
        "tls_server_name": args.tls_server_name,
    }


def _tls_context(args: argparse.Namespace) -> Any:
    """The client's TLS context from the --tls options, or None without them.

    Raises ValueError (a :class:`~.tls.TlsError`) naming a file that cannot be used.
    """
    options = (args.tls_ca, args.tls_cert, args.tls_key, args.tls_server_name)
    if not args.tls and not any(options):
        return None
    from .tls import TlsError, client_context

    try:
        return client_context(args.tls_ca, args.tls_cert, args.tls_key)
    except TlsError as exc:
        raise TlsError(f"TLS: {exc}") from None


def _film_box(args: argparse.Namespace) -> dict[str, Any]:
    film_box: dict[str, Any] = {"ImageDisplayFormat": args.format}
    for keyword, value in (
        ("FilmSizeID", args.film_size),
        ("FilmOrientation", args.orientation),
        ("MagnificationType", args.magnification),
        ("AnnotationDisplayFormatID", args.annotation_format),
    ):
        if value is not None:
            film_box[keyword] = value
    film_box.update(_attributes(args.film_box))
    return film_box


def _annotations(pairs: Sequence[str]) -> dict[int, str]:
    """POSITION=TEXT pairs; TEXT may name attributes of the images, ``{PatientName}``.

    The text around the fields follows the client's rules for annotation texts.
    """
    from pydicom.datadict import tag_for_keyword

    from .client import checked_annotations

    result = {}
    for pair in pairs:
        position, sep, text = pair.partition("=")
        if not sep or not position.strip().isdigit():
            raise ValueError(f"{pair!r}: expected POSITION=TEXT, e.g. 1='ACME HOSPITAL'")
        try:
            fields = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ValueError(f"{pair!r}: {exc} (write {{{{ and }}}} for braces)") from None
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            # Keywords only ("" is a tag to pydicom): no index, format or conversion.
            if not name.isidentifier() or tag_for_keyword(name) is None or spec or conversion:
                raise ValueError(
                    f"{pair!r}: {{{name}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}} is not {{Keyword}} with a DICOM keyword"
                )
        checked_annotations({int(position): "".join(literal for literal, *_ in fields)})
        result[int(position)] = text
    return result


def _fields(text: str) -> list[str]:
    """The names of the ``{Keyword}`` fields of an annotation text."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _is_template(text: str) -> bool:
    return bool(_fields(text))


def _filled(template: str, dataset: Any) -> str:
    """``template`` with each ``{Keyword}`` replaced by the image's value (empty if absent).

    The result is cut to the 64 characters of an annotation.
    """
    values = {name: _field_text(dataset.get(name)) for name in _fields(template)}
    return template.format_map(values)[:64]


def _field_text(value: Any) -> str:
    """A value as annotation text: person names read ``FAMILY, GIVEN MIDDLE``,
    multiple values are joined with ``/``, binary values and sequences are
    left out, and control characters dropped."""
    from pydicom.multival import MultiValue
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.valuerep import PersonName

    from dicomprint.report_text import person_name

    if value is None or isinstance(value, bytes | bytearray | DicomSequence):
        return ""
    if isinstance(value, PersonName):
        text = person_name(value)
    elif isinstance(value, list | tuple | MultiValue):
        text = "/".join(_field_text(v) for v in value)
    else:
        text = str(value)
    return "".join(c for c in text.replace("\\", "/") if c >= " ")


def _attributes(pairs: Sequence[str]) -> dict[str, Any]:
    """KEYWORD=VALUE pairs as DICOM values (numbers for numeric VRs)."""
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    result: dict[str, Any] = {}
    for pair in pairs:
        keyword, sep, text = pair.partition("=")
        keyword = keyword.strip()
        tag = tag_for_keyword(keyword)
        if not sep or tag is None:
            raise ValueError(f"{pair!r}: expected KEYWORD=VALUE with a DICOM keyword")
        vr = dictionary_VR(tag)
        try:
            value: Any = (
                int(text) if vr in _INTEGER_VRS else float(text) if vr in _DECIMAL_VRS else text
            )
        except ValueError:
            raise ValueError(f"{pair!r}: {keyword} needs a number") from None
        result[keyword] = value
    return result


def _image_files(arguments: Sequence[Path]) -> Iterator[Path]:
    """The files named, and every file under the folders named, in name order."""
    for argument in arguments:
        if argument.is_dir():
            yield from sorted(p for p in argument.rglob("*") if p.is_file())
        elif argument.is_file():
            yield argument
        else:
            raise FileNotFoundError(f"no such file or folder: {argument}")


def _datasets(paths: Sequence[Path]) -> Iterator[tuple[Path, Any]]:
    """(path, dataset) for each file; dataset None for files that are not images."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    for path in paths:
        try:
            dataset = dcmread(path)
        except (InvalidDicomError, OSError) as exc:
            log.info("skipping %s: not a DICOM file (%s)", path, exc)
            yield path, None
            continue
        if "PixelData" not in dataset and "FloatPixelData" not in dataset:
            log.info("skipping %s: no image in it", path)
            yield path, None
            continue
        yield path, dataset
