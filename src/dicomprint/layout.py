"""Image Display Format (2010,0010): parsing, box numbering and cell geometry.

PS3.3 C.13.5.1 numbers image boxes from 1 at the top left: row-major
(left to right, then top to bottom) for STANDARD and ROW, column-major (top
to bottom, then left to right) for COL. In ``STANDARD\\C,R`` the first number
is the number of columns.

Also holds the store-to-film auto-layout rule.
"""

from __future__ import annotations

import re

from attrs import frozen

from .values import quoted

_STANDARD = re.compile(r"^STANDARD\\(\d+),(\d+)$")
_ROW_COL = re.compile(r"^(ROW|COL)\\(\d+(?:,\d+)*)$")
_CUSTOM = re.compile(r"^CUSTOM\\(\d+)$")


@frozen
class Rect:
    """A pixel rectangle: left, top, width, height."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height


@frozen
class DisplayFormat:
    """A parsed Image Display Format.

    ``kind`` is STANDARD, ROW, COL or CUSTOM (or SLIDE/SUPERSLIDE when a
    profile defines them). ``counts`` holds the numbers: (columns, rows) for
    STANDARD, boxes per row for ROW, boxes per column for COL. A CUSTOM or
    slide format carries the STANDARD grid the profile maps it to.
    """

    kind: str
    counts: tuple[int, ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> DisplayFormat:
        """Parse the standard families; raise ValueError for anything else."""
        value = text.strip()
        if match := _STANDARD.match(value):
            columns, rows = int(match[1]), int(match[2])
            if columns < 1 or rows < 1:
                raise ValueError(f"STANDARD needs at least one column and row: {quoted(text)}")
            return cls("STANDARD", (columns, rows), value)
        if match := _ROW_COL.match(value):
            counts = tuple(int(n) for n in match[2].split(","))
            if min(counts) < 1:
                raise ValueError(f"{match[1]} needs at least one box per line: {quoted(text)}")
            return cls(match[1], counts, value)
        if value in ("SLIDE", "SUPERSLIDE") or _CUSTOM.match(value):
            return cls(value.split("\\")[0], (), value)
        raise ValueError(f"not an Image Display Format: {quoted(text)}")

    @property
    def box_count(self) -> int:
        if self.kind == "STANDARD":
            return self.counts[0] * self.counts[1]
        return sum(self.counts)

    @property
    def lines(self) -> tuple[int, ...]:
        """Boxes per line: per row for STANDARD and ROW, per column for COL."""
        if self.kind == "STANDARD":
            columns, rows = self.counts
            return (columns,) * rows
        return self.counts

    def grid_position(self, position: int) -> tuple[int, int]:
        """(line, index within line) of a 1-based Image Box Position."""
        if not 1 <= position <= self.box_count:
            raise ValueError(f"position {position} outside 1..{self.box_count}")
        remaining = position - 1
        for line, count in enumerate(self.lines):
            if remaining < count:
                return line, remaining
            remaining -= count
        raise AssertionError("unreachable")

    def cells(self, area: Rect, gap: int = 0) -> list[Rect]:
        """The cell of each image box, in position order, tiling ``area``.

        Cells are separated by ``gap`` pixels; boundaries are rounded so that
        cells never overlap and leave no stray pixels at the edges.
        """
        if self.kind not in ("STANDARD", "ROW", "COL"):
            raise ValueError(f"{quoted(self.text)} has no geometry of its own")
        along_rows = self.kind != "COL"
        lines = self.lines
        outer = area.height if along_rows else area.width
        inner = area.width if along_rows else area.height
        outer_start = area.y if along_rows else area.x
        inner_start = area.x if along_rows else area.y
        result: list[Rect] = []
        for line_index, (o_start, o_len) in enumerate(_split(outer, len(lines), gap)):
            for i_start, i_len in _split(inner, lines[line_index], gap):
                if along_rows:
                    result.append(Rect(inner_start + i_start, outer_start + o_start, i_len, o_len))
                else:
                    result.append(Rect(outer_start + o_start, inner_start + i_start, o_len, i_len))
        return result


def _split(total: int, parts: int, gap: int) -> list[tuple[int, int]]:
    """Split ``total`` pixels into ``parts`` spans separated by ``gap``."""
    usable = max(total - gap * (parts - 1), parts)
    edges = [round(usable * k / parts) for k in range(parts + 1)]
    return [(edges[k] + gap * k, edges[k + 1] - edges[k]) for k in range(parts)]


@frozen
class StoreFilm:
    """One film of the store auto-layout: its format and how many images it holds."""

    display_format: str
    image_count: int


def store_auto_layout(image_count: int) -> list[StoreFilm]:
    """Films for ``image_count`` images received with C-STORE (PrintSCP's rule).

    1 to 3 images: one 1x1 film each; 4: one 2x2; 5 or 6: one 2x3 (two
    columns, three rows); 7 and more: as many 4x3 films as needed.
    """
    if image_count <= 0:
        return []
    if image_count <= 3:
        return [StoreFilm("STANDARD\\1,1", 1) for _ in range(image_count)]
    if image_count == 4:
        return [StoreFilm("STANDARD\\2,2", 4)]
    if image_count <= 6:
        return [StoreFilm("STANDARD\\2,3", image_count)]
    films = []
    for start in range(0, image_count, 12):
        films.append(StoreFilm("STANDARD\\4,3", min(12, image_count - start)))
    return films


#: Film Size ID the store path uses for images and for structured reports.
STORE_IMAGE_FILM_SIZE = "14INX17IN"
STORE_REPORT_FILM_SIZE = "8INX10IN"
STORE_ORIENTATION = "PORTRAIT"
