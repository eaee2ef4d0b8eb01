"""Structured reports as printable text pages.

A received SR document (Basic Text SR and other SR IODs) prints as readable
text: a header with patient name and ID, study date and document title, then
the content tree, one line per content item with its concept name and value,
indented by nesting depth, wrapped to the page and continued on further
pages. Glyphs come from the font Pillow ships (no system font needed).

The input is untrusted: nesting depth and line count are bounded.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np
from attrs import frozen
from PIL import Image, ImageDraw, ImageFont
from pydicom import Dataset

MAX_DEPTH = 32
MAX_LINES = 20000
_POINTS_PER_INCH = 72


@frozen
class ReportLine:
    """One line of the report: its text, nesting depth and whether it is a heading."""

    text: str
    depth: int = 0
    heading: bool = False


def _first(ds: Dataset, sequence: str, keyword: str) -> str:
    items = ds.get(sequence) or []
    if not items:
        return ""
    return str(items[0].get(keyword, "") or "")


def _concept_name(item: Dataset) -> str:
    return _first(item, "ConceptNameCodeSequence", "CodeMeaning")


def _value(item: Dataset) -> str:
    """The content item's value as text, by Value Type (PS3.3 C.17.3)."""
    value_type = str(item.get("ValueType", "") or "")
    if value_type == "TEXT":
        return str(item.get("TextValue", "") or "")
    if value_type == "CODE":
        return _first(item, "ConceptCodeSequence", "CodeMeaning")
    if value_type == "NUM":
        measured = (item.get("MeasuredValueSequence") or [None])[0]
        if measured is None:
            return ""
        units = _first(measured, "MeasurementUnitsCodeSequence", "CodeValue")
        number = str(measured.get("NumericValue", "") or "")
        return f"{number} {units}".strip()
    if value_type in ("DATE", "TIME", "DATETIME"):
        keyword = {"DATE": "Date", "TIME": "Time", "DATETIME": "DateTime"}[value_type]
        return str(item.get(keyword, "") or "")
    if value_type == "PNAME":
        return person_name(item.get("PersonName"))
    if value_type == "UIDREF":
        return str(item.get("UID", "") or "")
    if value_type in ("COMPOSITE", "IMAGE", "WAVEFORM"):
        uid = _first(item, "ReferencedSOPSequence", "ReferencedSOPInstanceUID")
        return f"[{value_type.lower()} {uid}]" if uid else f"[{value_type.lower()}]"
    if value_type == "CONTAINER":
        return ""
    return f"[{value_type.lower()}]" if value_type else ""


def _content_lines(items, depth: int) -> Iterator[ReportLine]:
    for item in items or []:
        if depth >= MAX_DEPTH:
            yield ReportLine("[content nested too deeply: not shown]", depth)
            return
        name, value = _concept_name(item), _value(item)
        is_container = str(item.get("ValueType", "") or "") == "CONTAINER"
        text = f"{name}: {value}" if name and value else (name or value)
        if text:
            yield ReportLine(text, depth, heading=is_container)
        yield from _content_lines(item.get("ContentSequence"), depth + 1)


def report_lines(ds: Dataset) -> list[ReportLine]:
    """The header and content tree of an SR document as report lines."""
    title = _concept_name(ds) or "Structured Report"
    header = [
        ReportLine(title, heading=True),
        ReportLine(f"Patient: {person_name(ds.get('PatientName'))}"),
        ReportLine(f"Patient ID: {ds.get('PatientID', '') or ''}"),
        ReportLine(f"Study date: {_format_date(str(ds.get('StudyDate', '') or ''))}"),
        ReportLine(""),
    ]
    lines = header
    for line in _content_lines(ds.get("ContentSequence"), 0):
        if len(lines) >= MAX_LINES:
            lines.append(ReportLine("[report truncated]"))
            break
        lines.append(line)
    return lines


def person_name(value) -> str:
    """A Person Name as people read it: ``FAMILY, GIVEN MIDDLE`` (else as given)."""
    if not value:
        return ""
    parts = [getattr(value, name, "") for name in ("family_name", "given_name", "middle_name")]
    if not any(parts):
        return str(value)
    given = " ".join(part for part in parts[1:] if part)
    return ", ".join(part for part in (parts[0], given) if part)


def _format_date(value: str) -> str:
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def _wrap(text: str, font, width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; words longer than a line are split."""
    if not text:
        return [""]
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while font.getlength(word) > width and len(word) > 1:
            cut = max(1, int(len(word) * width / font.getlength(word)) - 1)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    lines.append(current)
    return lines


def render_pages(
    lines: list[ReportLine], width: int, height: int, dpi: int, point_size: float = 11
) -> list[np.ndarray]:
    """Lay the report out on as many pages as it needs.

    Each page is a ``(height, width)`` uint8 array, white paper and black ink,
    with half-inch margins and a "page i of n" footer.
    """
    size = max(8, round(point_size * dpi / _POINTS_PER_INCH))
    body, heading = _font(size), _font(round(size * 1.3))
    margin = dpi // 2
    indent = size * 2
    line_height = round(size * 1.5)
    usable_height = height - 2 * margin - line_height  # room for the footer
    per_page = max(1, usable_height // line_height)

    laid_out: list[tuple[int, str, bool]] = []  # (x offset, text, heading)
    for line in lines:
        font = heading if line.heading else body
        x = min(line.depth * indent, (width - 2 * margin) // 2)
        for part in _wrap(line.text, font, width - 2 * margin - x):
            laid_out.append((x, part, line.heading))

    pages = [laid_out[i : i + per_page] for i in range(0, len(laid_out), per_page)] or [[]]
    rasters = []
    for number, page in enumerate(pages, start=1):
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        for row, (x, text, is_heading) in enumerate(page):
            draw.text(
                (margin + x, margin + row * line_height),
                _printable(text, heading if is_heading else body),
                fill=0,
                font=heading if is_heading else body,
            )
        footer = f"page {number} of {len(pages)}"
        footer_x = width - margin - body.getlength(footer)
        draw.text((footer_x, height - margin), footer, fill=0, font=body)
        rasters.append(np.asarray(image))
    return rasters


def _printable(text: str, font) -> str:
    if isinstance(font, ImageFont.FreeTypeFont):
        return text
    return text.encode("latin-1", "replace").decode("latin-1")
