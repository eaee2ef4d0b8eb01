"""Store-to-film in the library: collection, auto-layout, reports, bad objects."""

import numpy as np
import pytest

from dicomprint import Printer, PrinterProfile, PrintError, Status
from dicomprint.render import render_job
from dicomprint.store import StoreToFilm
from image_objects import color_image, ct_with_rescale_and_window, grayscale_image
from sr_documents import make_sr


def collector(**options):
    jobs = []
    store = StoreToFilm(Printer(), jobs.append, calling_ae_title="MODALITY", **options)
    return store, jobs


def laid_out(jobs):
    return [
        (
            film.film_box.ImageDisplayFormat.text,
            film.film_box.FilmSizeID,
            film.film_box.FilmOrientation,
            sum(b.image is not None for b in film.film_box.image_boxes),
        )
        for job in jobs
        for film in job.films
    ]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, [("STANDARD\\1,1", 1)]),
        (3, [("STANDARD\\1,1", 1)] * 3),
        (4, [("STANDARD\\2,2", 4)]),
        (5, [("STANDARD\\2,3", 5)]),
        (6, [("STANDARD\\2,3", 6)]),
        (7, [("STANDARD\\4,3", 7)]),
        (12, [("STANDARD\\4,3", 12)]),
        (13, [("STANDARD\\4,3", 12), ("STANDARD\\4,3", 1)]),
    ],
)
def test_image_counts_give_the_seed_layouts(count, expected):
    store, jobs = collector()
    for _ in range(count):
        store.add(grayscale_image("CT", 16, 16))
    replies = store.finish()
    assert all(r.status == Status.SUCCESS for r in replies)
    assert laid_out(jobs) == [(f, "14INX17IN", "PORTRAIT", n) for f, n in expected]
    assert {job.calling_ae_title for job in jobs} == {"MODALITY"}


def test_images_keep_their_order_and_window():
    store, jobs = collector()
    store.add(ct_with_rescale_and_window())
    bright = grayscale_image("CR", 8, 8, pixels=np.full((8, 8), 4095))
    store.add(bright)
    store.finish()
    first, second = (job.films[0].film_box.image_boxes[0].image for job in jobs)
    # The CT ramp crosses the soft-tissue window: dark on the left, white on the right.
    assert first.pixels[0, 0] == 0 and first.pixels[0, -1] == 4095
    assert second.pixels.min() == 4095


def test_color_images_print_on_a_color_film():
    store, jobs = collector()
    store.add(color_image(planar=1))
    store.add(grayscale_image("MR", 16, 16))
    store.add(grayscale_image("MR", 16, 16))
    store.add(grayscale_image("MR", 16, 16))
    store.finish()
    (job,) = jobs
    boxes = job.films[0].film_box.image_boxes
    assert all(box.is_color for box in boxes)
    assert boxes[0].image.pixels[0, 0, 0] == 200
    films, _ = render_job(job)
    assert films[0].is_color


def test_reports_print_as_text_on_their_own_films():
    store, jobs = collector()
    store.add(make_sr(paragraphs=2))
    store.add(grayscale_image("CT", 16, 16))
    store.finish()
    assert laid_out(jobs) == [
        ("STANDARD\\1,1", "14INX17IN", "PORTRAIT", 1),
        ("STANDARD\\1,1", "8INX10IN", "PORTRAIT", 1),
    ]
    films, _ = render_job(jobs[1])
    page = films[0].pixels
    # Mostly white paper with dark text on it.
    assert np.mean(page > 200) > 0.8
    assert np.sum(page < 60) > 500


def test_long_reports_continue_on_more_films():
    store, jobs = collector()
    store.add(make_sr(paragraphs=60))
    store.finish()
    assert len(jobs) > 2
    assert {film.film_box.FilmSizeID for job in jobs for film in job.films} == {"8INX10IN"}


def test_corrupt_object_fails_alone():
    store, jobs = collector()
    store.add(grayscale_image("CT", 16, 16))
    broken = grayscale_image("CT", 16, 16)
    broken.PixelData = broken.PixelData[:-10]
    with pytest.raises(PrintError) as excinfo:
        store.add(broken)
    assert excinfo.value.status == Status.CANNOT_UNDERSTAND
    no_pixels = grayscale_image("CT", 16, 16)
    del no_pixels.PixelData
    with pytest.raises(PrintError) as excinfo:
        store.add(no_pixels)
    assert excinfo.value.status == Status.DATASET_DOES_NOT_MATCH_SOP_CLASS
    store.add(grayscale_image("CT", 16, 16))
    store.finish()
    assert laid_out(jobs) == [("STANDARD\\1,1", "14INX17IN", "PORTRAIT", 1)] * 2


def test_multi_frame_prints_first_frame_or_every_frame():
    first_only, jobs = collector()
    first_only.add(grayscale_image("XA", 8, 8, frames=5))
    first_only.finish()
    assert len(laid_out(jobs)) == 1
    every, jobs = collector(all_frames=True)
    every.add(grayscale_image("XA", 8, 8, frames=5))
    every.finish()
    assert laid_out(jobs) == [("STANDARD\\2,3", "14INX17IN", "PORTRAIT", 5)]


def test_a_failing_printer_does_not_stop_the_other_films():
    calls = []

    def flaky(job):
        calls.append(job)
        if len(calls) == 1:
            raise PrintError(Status.PROCESSING_FAILURE, "printer jammed")

    store = StoreToFilm(Printer(PrinterProfile()), flaky)
    for _ in range(2):
        store.add(grayscale_image("CT", 8, 8))
    outcomes = store.finish()
    assert isinstance(outcomes[0], PrintError)
    assert outcomes[1].status == Status.SUCCESS
    assert len(calls) == 2


def test_aborted_association_prints_what_was_received(caplog):
    store, jobs = collector()
    store.add(grayscale_image("CT", 8, 8))
    store.finish(aborted=True)
    assert len(jobs) == 1
    assert "aborted" in caplog.text


def test_store_to_film_counts_against_the_server_budget():
    from dicomprint.budget import PixelBudget

    budget = PixelBudget(3 * 16 * 16 * 2)  # three 16x16 images at 12 bits
    jobs = []
    store = StoreToFilm(Printer(), jobs.append, budget=budget)
    for _ in range(3):
        store.add(grayscale_image("CT", 16, 16))
    with pytest.raises(PrintError) as excinfo:
        store.add(grayscale_image("CT", 16, 16))
    assert excinfo.value.status == Status.OUT_OF_RESOURCES
    store.finish()
    assert len(jobs) == 3 and budget.held == 0
