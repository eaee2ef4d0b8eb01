"""Paper printer geometry: paper choice, placement, copies as spooler documents."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicomprint.film_sizes import film_size_mm
from dicomprint_server.backends.page import (
    Document,
    PageArea,
    Paper,
    choose_paper,
    place_film,
    plan_documents,
)

A4 = Paper("A4", 210, 297, 9)
LETTER = Paper("Letter", 215.9, 279.4, 1)
A3 = Paper("A3", 297, 420, 8)
TABLOID = Paper("11x17", 279.4, 431.8, 3)
PAPERS = [A4, LETTER, A3, TABLOID]


def letter_page(dpi=600, landscape=False) -> PageArea:
    """Letter at ``dpi`` with a quarter-inch margin left/right, 5/24 in top/bottom."""
    width, height = round(8.5 * dpi), round(11 * dpi)
    printable = (width - dpi // 2, height - dpi * 5 // 12)
    offset = (dpi // 4, dpi * 5 // 24)
    if landscape:
        width, height = height, width
        printable, offset = printable[::-1], offset[::-1]
    return PageArea(width, height, *printable, *offset, dpi, dpi)


@pytest.mark.parametrize(
    "size, margin, paper",
    [
        ("8INX10IN", 5.0, LETTER),  # A4 is 210 mm wide: 203.2 mm + 2 x 5 mm does not fit
        ("8INX10IN", 0.0, LETTER),  # both hold it: Letter is the smaller sheet
        ("A4", 0.0, A4),
        ("A4", 5.0, TABLOID),  # 11x17 is a smaller sheet than A3
        ("10INX12IN", 5.0, TABLOID),
        ("14INX17IN", 5.0, A3),  # fits nothing: the largest paper
    ],
)
def test_choose_the_smallest_paper_holding_the_film(size, margin, paper):
    width, height = film_size_mm(size, "PORTRAIT")
    assert choose_paper(width, height, PAPERS, margin) == (paper, "PORTRAIT")


def test_landscape_films_turn_the_paper():
    width, height = film_size_mm("8INX10IN", "LANDSCAPE")
    assert choose_paper(width, height, PAPERS) == (LETTER, "LANDSCAPE")


def test_a_printer_without_paper_is_an_error():
    with pytest.raises(ValueError):
        choose_paper(100, 100, [])


def test_true_size_centred_on_the_sheet():
    page = letter_page(600)
    width, height = film_size_mm("8INX10IN", "PORTRAIT")
    placement = place_film(width, height, page)
    assert placement.true_size and not placement.rotate
    assert placement.rect == (0, 175, 4800, 6175)
    # On the sheet: 150 px (1/4 in) left and right, 300 px (1/2 in) top and bottom.
    assert placement.left + page.offset_x == page.width - (placement.right + page.offset_x)
    assert placement.top + page.offset_y == page.height - (placement.bottom + page.offset_y)


def test_landscape_film_on_a_portrait_sheet_is_turned():
    width, height = film_size_mm("8INX10IN", "LANDSCAPE")
    placement = place_film(width, height, letter_page(300))
    assert placement.rotate and placement.true_size
    assert (placement.right - placement.left, placement.bottom - placement.top) == (2400, 3000)


def test_landscape_film_on_a_landscape_sheet_is_not_turned():
    width, height = film_size_mm("8INX10IN", "LANDSCAPE")
    placement = place_film(width, height, letter_page(300, landscape=True))
    assert not placement.rotate and placement.true_size


def test_too_large_film_is_shrunk_to_the_printable_area():
    page = letter_page(300)
    width, height = film_size_mm("14INX17IN", "PORTRAIT")
    placement = place_film(width, height, page, "auto")
    assert placement.scale < 1 and not placement.rotate
    assert placement.left >= 0 and placement.top >= 0
    assert placement.right <= page.printable_width and placement.bottom <= page.printable_height
    # Limited by the width: it fills it.
    assert placement.right - placement.left == page.printable_width


def test_none_keeps_true_size_and_cuts():
    page = letter_page(300)
    width, height = film_size_mm("14INX17IN", "PORTRAIT")
    placement = place_film(width, height, page, "none")
    assert placement.true_size
    assert (placement.right - placement.left, placement.bottom - placement.top) == (4200, 5100)
    assert placement.left < 0 and placement.right > page.printable_width


def test_fit_enlarges_small_films():
    page = letter_page(300)
    placement = place_film(50.8, 50.8, page, "fit")  # 2 x 2 inches
    assert placement.scale > 1
    assert placement.right - placement.left == page.printable_width


def test_bad_scaling_is_refused():
    with pytest.raises(ValueError):
        place_film(100, 100, letter_page(), "stretch")


pages = st.builds(
    lambda w, h, mx, my, dpi: PageArea(w, h, w - 2 * mx, h - 2 * my, mx, my, dpi, dpi),
    st.integers(500, 8000),
    st.integers(500, 8000),
    st.integers(0, 200),
    st.integers(0, 200),
    st.sampled_from([72, 150, 300, 600]),
)


@given(pages, st.floats(20, 1000), st.floats(20, 1000))
def test_auto_is_true_size_or_inside_the_printable_area(page, width_mm, height_mm):
    placement = place_film(width_mm, height_mm, page, "auto")
    w, h = placement.right - placement.left, placement.bottom - placement.top
    film_w, film_h = (height_mm, width_mm) if placement.rotate else (width_mm, height_mm)
    if placement.true_size:
        assert w == pytest.approx(film_w / 25.4 * page.dpi_x, abs=1)
        assert h == pytest.approx(film_h / 25.4 * page.dpi_y, abs=1)
    else:
        assert placement.scale < 1
        # Nothing true size would fit, whichever way round.
        assert all(
            a / 25.4 * page.dpi_x > page.printable_width
            or b / 25.4 * page.dpi_y > page.printable_height
            for a, b in ((width_mm, height_mm), (height_mm, width_mm))
        )
    if w <= page.printable_width and h <= page.printable_height:
        assert 0 <= placement.left and placement.right <= page.printable_width
        assert 0 <= placement.top and placement.bottom <= page.printable_height
    # The aspect ratio survives (to a pixel of rounding).
    assert w * film_h == pytest.approx(h * film_w, rel=0.02, abs=film_w + film_h)


def expand(documents: list[Document]) -> list[int]:
    """The sheets the documents print, in order."""
    sheets = []
    for document in documents:
        if document.copies > 1 and document.collate:
            sheets += list(document.films) * document.copies
        else:
            sheets += [f for f in document.films for _ in range(document.copies)]
    return sheets


def job_sheets(count: int, copies: int, collate: bool) -> list[int]:
    films = list(range(count))
    if collate:
        return films * copies
    return [f for f in films for _ in range(copies)]


def test_device_makes_collated_copies_when_it_can():
    assert plan_documents(["a", "a"], 3, True, max_device_copies=99, device_collates=True) == [
        Document((0, 1), 3, collate=True)
    ]


def test_pages_repeat_when_the_device_cannot_collate():
    assert plan_documents(["a", "a"], 2, True, max_device_copies=99) == [Document((0, 1, 0, 1))]


def test_uncollated_copies_need_no_collating_device():
    assert plan_documents(["a", "a"], 2, False, max_device_copies=99) == [Document((0, 1), 2)]


def test_too_many_copies_for_the_device_repeat_pages():
    assert plan_documents(["a"], 3, True, max_device_copies=2) == [Document((0, 0, 0))]


def test_mixed_papers_collated_go_round_per_copy():
    documents = plan_documents(["a", "b"], 2, True, max_device_copies=99, device_collates=True)
    assert documents == [Document((0,)), Document((1,)), Document((0,)), Document((1,))]


@given(
    st.lists(st.sampled_from("abc"), min_size=1, max_size=6),
    st.integers(1, 4),
    st.booleans(),
    st.integers(1, 5),
    st.booleans(),
)
def test_documents_print_exactly_the_job_sheets(keys, copies, collate, device_max, collates):
    documents = plan_documents(
        keys, copies, collate, max_device_copies=device_max, device_collates=collates
    )
    assert expand(documents) == job_sheets(len(keys), copies, collate)
    for document in documents:
        assert len({keys[i] for i in document.films}) == 1  # one paper per document
        assert document.copies <= max(device_max, 1)
        assert not document.collate or collates
