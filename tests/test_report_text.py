import numpy as np
from pydicom import Dataset
from pydicom.sequence import Sequence

from dicomprint.report_text import MAX_DEPTH, render_pages, report_lines
from sr_documents import code, item, make_sr


def test_header_and_content_tree_become_indented_lines():
    ds = make_sr(paragraphs=1)
    ds.ContentSequence.append(
        item("NUM", "Heart rate", MeasuredValueSequence=Sequence([_measured("72", "/min")]))
    )
    ds.ContentSequence.append(
        item("CODE", "Laterality", ConceptCodeSequence=Sequence([code("Left")]))
    )
    ds.ContentSequence.append(item("PNAME", "Reader", PersonName="ROE^RICHARD^A"))
    lines = report_lines(ds)
    texts = [(line.text, line.depth) for line in lines]
    assert texts[:4] == [
        ("Chest X-ray report", 0),
        ("Patient: DOE, JANE", 0),
        ("Patient ID: PID42", 0),
        ("Study date: 2026-11-20", 0),
    ]
    assert ("Findings", 0) in texts
    assert ("Finding: The lungs are clear.", 1) in [(t.strip(), d) for t, d in texts]
    assert ("Impression: No acute disease.", 0) in texts
    assert ("Heart rate: 72 /min", 0) in texts
    assert ("Laterality: Left", 0) in texts
    assert ("Reader: ROE, RICHARD A", 0) in texts  # as annotation fields read names


def _measured(number, units):
    measured = Dataset()
    measured.NumericValue = number
    measured.MeasurementUnitsCodeSequence = Sequence([code(units, units, "UCUM")])
    return measured


def test_deep_nesting_is_bounded():
    ds = make_sr(paragraphs=0)
    node = ds
    for depth in range(MAX_DEPTH + 10):
        child = item("CONTAINER", f"Level {depth}")
        node.ContentSequence = Sequence([child])
        node = child
    lines = report_lines(ds)
    assert max(line.depth for line in lines) == MAX_DEPTH
    assert "nested too deeply" in lines[-1].text


def test_long_reports_continue_on_further_pages_with_ink_inside_the_margins():
    dpi = 100
    short = render_pages(report_lines(make_sr(paragraphs=2)), 800, 1000, dpi)
    long = render_pages(report_lines(make_sr(paragraphs=60)), 800, 1000, dpi)
    assert len(short) == 1
    assert len(long) > 2
    for page in long:
        assert page.shape == (1000, 800) and page.dtype == np.uint8
        ink = np.argwhere(page < 128)
        assert len(ink) > 0
        # Text stays inside the half-inch margins.
        assert ink[:, 1].min() >= dpi // 2 - 2
        assert ink[:, 1].max() <= 800 - dpi // 2 + 2
        assert ink[:, 0].min() >= dpi // 2 - 2


def test_a_single_long_word_is_split_not_lost():
    ds = make_sr(paragraphs=0)
    ds.ContentSequence = Sequence([item("TEXT", "Note", TextValue="X" * 500)])
    pages = render_pages(report_lines(ds), 400, 600, 72)
    ink_rows = np.unique(np.argwhere(pages[0] < 128)[:, 0])
    # Several wrapped lines of the word: ink spread over many rows.
    assert ink_rows.max() - ink_rows.min() > 60
