import pytest

from dicomprint import FILM_SIZES_MM, DisplayFormat, Rect, film_size_mm, film_size_px
from dicomprint.layout import store_auto_layout
from dicomprint.profile import PrinterProfile


@pytest.mark.parametrize("columns", range(1, 11))
@pytest.mark.parametrize("rows", range(1, 11))
def test_standard_numbering_is_row_major_with_columns_first(columns, rows):
    layout = DisplayFormat.parse(f"STANDARD\\{columns},{rows}")
    assert layout.box_count == columns * rows
    for position in range(1, columns * rows + 1):
        assert layout.grid_position(position) == (
            (position - 1) // columns,
            (position - 1) % columns,
        )


def test_standard_cells_tile_the_area_left_to_right_then_down():
    layout = DisplayFormat.parse("STANDARD\\3,2")
    cells = layout.cells(Rect(0, 0, 300, 200))
    assert cells == [
        Rect(0, 0, 100, 100),
        Rect(100, 0, 100, 100),
        Rect(200, 0, 100, 100),
        Rect(0, 100, 100, 100),
        Rect(100, 100, 100, 100),
        Rect(200, 100, 100, 100),
    ]


def test_row_format_gives_each_row_its_own_count():
    cells = DisplayFormat.parse("ROW\\1,3").cells(Rect(10, 20, 300, 200))
    assert cells == [
        Rect(10, 20, 300, 100),
        Rect(10, 120, 100, 100),
        Rect(110, 120, 100, 100),
        Rect(210, 120, 100, 100),
    ]


def test_col_format_numbers_top_to_bottom_then_left_to_right():
    layout = DisplayFormat.parse("COL\\2,1")
    assert [layout.grid_position(p) for p in (1, 2, 3)] == [(0, 0), (0, 1), (1, 0)]
    cells = layout.cells(Rect(0, 0, 200, 300))
    assert cells == [Rect(0, 0, 100, 150), Rect(0, 150, 100, 150), Rect(100, 0, 100, 300)]


def test_cells_with_gap_never_overlap_and_stay_inside():
    area = Rect(5, 7, 1001, 777)
    for text in ("STANDARD\\7,3", "ROW\\2,5,1", "COL\\4,4,2"):
        cells = DisplayFormat.parse(text).cells(area, gap=9)
        for a in cells:
            assert area.x <= a.x and a.right <= area.right
            assert area.y <= a.y and a.bottom <= area.bottom
            for b in cells:
                if a is not b:
                    overlap_x = min(a.right, b.right) - max(a.x, b.x)
                    overlap_y = min(a.bottom, b.bottom) - max(a.y, b.y)
                    assert overlap_x <= 0 or overlap_y <= 0


def test_cells_without_gap_cover_every_pixel_once():
    area = Rect(0, 0, 103, 97)
    cells = DisplayFormat.parse("STANDARD\\7,6").cells(area)
    assert sum(c.width * c.height for c in cells) == 103 * 97


@pytest.mark.parametrize(
    "text",
    [
        "STANDARD\\0,2",
        "STANDARD\\2",
        "STANDARD 2,2",
        "ROW\\",
        "ROW\\1,0",
        "COL\\a",
        "GRID\\2,2",
        "",
    ],
)
def test_malformed_formats_are_rejected(text):
    with pytest.raises(ValueError):
        DisplayFormat.parse(text)


def test_profile_limits_and_custom_formats():
    profile = PrinterProfile(max_columns=5, max_rows=7, custom_formats={"CUSTOM\\1": "ROW\\1,2"})
    assert profile.display_format("STANDARD\\5,7").box_count == 35
    with pytest.raises(ValueError):
        profile.display_format("STANDARD\\6,1")
    with pytest.raises(ValueError):
        profile.display_format("COL\\8")
    custom = profile.display_format("CUSTOM\\1")
    assert (custom.kind, custom.counts, custom.text) == ("ROW", (1, 2), "CUSTOM\\1")
    with pytest.raises(ValueError):
        profile.display_format("SLIDE")


@pytest.mark.parametrize(
    ("film_size", "expected"),
    [
        ("8INX10IN", (203.2, 254.0)),
        ("8_5INX11IN", (215.9, 279.4)),
        ("10INX12IN", (254.0, 304.8)),
        ("10INX14IN", (257.0, 364.0)),
        ("11INX14IN", (279.4, 355.6)),
        ("11INX17IN", (279.4, 431.8)),
        ("14INX14IN", (355.6, 355.6)),
        ("14INX17IN", (355.6, 431.8)),
        ("24CMX24CM", (240.0, 240.0)),
        ("24CMX30CM", (240.0, 300.0)),
        ("A4", (210.0, 297.0)),
        ("A3", (297.0, 420.0)),
        ("14INX36IN", (355.6, 914.4)),
        ("8_5INX28IN", (215.9, 711.2)),
    ],
)
def test_every_film_size_has_its_physical_size(film_size, expected):
    width, height = film_size_mm(film_size, "PORTRAIT")
    assert (width, height) == pytest.approx(expected)
    assert film_size_mm(film_size, "LANDSCAPE") == pytest.approx(expected[::-1])
    px = film_size_px(film_size, "PORTRAIT", 300)
    assert px == (round(expected[0] / 25.4 * 300), round(expected[1] / 25.4 * 300))


def test_film_size_table_is_complete():
    assert len(FILM_SIZES_MM) == 14


@pytest.mark.parametrize(
    ("count", "formats"),
    [
        (0, []),
        (1, ["STANDARD\\1,1"]),
        (3, ["STANDARD\\1,1"] * 3),
        (4, ["STANDARD\\2,2"]),
        (5, ["STANDARD\\2,3"]),
        (6, ["STANDARD\\2,3"]),
        (7, ["STANDARD\\4,3"]),
        (12, ["STANDARD\\4,3"]),
        (13, ["STANDARD\\4,3"] * 2),
        (25, ["STANDARD\\4,3"] * 3),
    ],
)
def test_store_auto_layout(count, formats):
    films = store_auto_layout(count)
    assert [f.display_format for f in films] == formats
    assert sum(f.image_count for f in films) == count
    for film in films:
        assert film.image_count <= DisplayFormat.parse(film.display_format).box_count
