"""The print session state machine: every status the library core promises."""

import numpy as np
import pytest
from pydicom import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from dicomprint import Printer, PrinterProfile, PrintError, PrintSession, Status, uids
from dicomprint.budget import PixelBudget
from dicomprint.values import quoted
from print_requests import (
    Driver,
    color_item,
    film_box_request,
    grayscale_item,
    image_box_request,
    referenced,
)


def status_of(call, *args, **kwargs) -> Status:
    try:
        return call(*args, **kwargs).status
    except PrintError as exc:
        return exc.status


@pytest.fixture
def driver():
    d = Driver()
    d.create_session()
    return d


def strict_driver(**profile_options) -> Driver:
    d = Driver(printer=Printer(PrinterProfile(strict=True, **profile_options)))
    d.create_session()
    return d


def lenient_driver(**profile_options) -> Driver:
    d = Driver(printer=Printer(PrinterProfile(**profile_options)))
    d.create_session()
    return d


# -- Film Session ---------------------------------------------------------------


def test_film_session_gets_a_generated_uid_and_echoes_defaults():
    d = Driver()
    reply = d.create_session(NumberOfCopies="3", FilmSessionLabel="CHEST")
    assert reply.status == Status.SUCCESS
    assert uids.is_valid_uid(reply.instance_uid) and len(reply.instance_uid) <= 64
    assert reply.dataset.NumberOfCopies == 3
    assert reply.dataset.FilmSessionLabel == "CHEST"
    assert reply.dataset.PrintPriority == "MED"
    assert reply.dataset.MediumType == "PAPER"


def test_film_session_keeps_the_uid_the_scu_chose():
    session = PrintSession()
    reply = session.n_create(uids.BasicFilmSession, Dataset(), instance_uid="1.2.3.4")
    assert reply.instance_uid == "1.2.3.4"
    assert session.film_session.SOPInstanceUID == "1.2.3.4"


def test_invalid_or_duplicate_instance_uids_are_refused():
    session = PrintSession()
    lut = Dataset()
    lut.PresentationLUTShape = "IDENTITY"
    session.n_create(uids.PresentationLUT, lut, instance_uid="1.2.3")
    assert status_of(session.n_create, uids.BasicFilmSession, Dataset(), "1.2.3") == 0x0111
    assert status_of(session.n_create, uids.BasicFilmSession, Dataset(), "1.02.3") == 0x0115


def test_second_film_session_in_one_association_is_a_duplicate(driver):
    assert status_of(driver.session.n_create, uids.BasicFilmSession, Dataset()) == 0x0111


@pytest.mark.parametrize(
    ("keyword", "value", "expected"),
    [
        ("NumberOfCopies", "0", 0x0106),
        ("NumberOfCopies", "-2", 0x0106),
        ("NumberOfCopies", b"two ", 0x0106),
        ("NumberOfCopies", b"1.5 ", 0x0106),
        ("NumberOfCopies", "32767", 0x0000),
        ("NumberOfCopies", "32768", 0x0116),
        ("PrintPriority", "URGENT", 0x0106),
        ("PrintPriority", "HIGH", 0x0000),
        ("MediumType", "BLUE FILM", 0x0000),
        ("MediumType", "PARCHMENT", 0x0116),
        ("FilmDestination", "BIN_12", 0x0000),
        ("FilmDestination", "BIN_0", 0x0106),
        ("FilmDestination", "BASKET", 0x0106),
        ("FilmSessionLabel", "x" * 65, 0x0106),
        ("OwnerID", "OWNER", 0x0000),
        ("MemoryAllocation", "1024", 0xB600),
        ("PatientName", "DOE^JOHN", 0x0107),
    ],
)
def test_film_session_attribute_statuses_lenient(keyword, value, expected):
    d = Driver()
    assert status_of(d.create_session, **{keyword: value}) == expected


@pytest.mark.parametrize(
    ("keyword", "value", "expected"),
    [
        ("NumberOfCopies", "32768", 0x0106),
        ("MediumType", "PARCHMENT", 0x0106),
        ("PatientName", "DOE^JOHN", 0x0105),
    ],
)
def test_film_session_attribute_statuses_strict(keyword, value, expected):
    d = Driver(printer=Printer(PrinterProfile(strict=True)))
    assert status_of(d.create_session, **{keyword: value}) == expected


def test_lenient_unsupported_value_takes_the_default():
    d = Driver()
    reply = d.create_session(NumberOfCopies="50000", MediumType="PARCHMENT")
    assert reply.status == Status.ATTRIBUTE_VALUE_OUT_OF_RANGE
    assert d.session.film_session.NumberOfCopies == 1
    assert d.session.film_session.MediumType == "PAPER"
    assert "NumberOfCopies" in reply.comment


def test_film_session_n_set_changes_attributes_and_unknown_uid_fails(driver):
    ds = Dataset()
    ds.NumberOfCopies = "4"
    assert driver.session.n_set(uids.BasicFilmSession, driver.session_uid, ds).status == 0
    assert driver.session.film_session.NumberOfCopies == 4
    assert status_of(driver.session.n_set, uids.BasicFilmSession, "1.2.9", ds) == 0x0112


def test_film_session_n_action_without_film_box_is_c600(driver):
    assert status_of(driver.print_session) == 0xC600


def test_film_session_n_delete(driver):
    assert status_of(driver.session.n_delete, uids.BasicFilmSession, "1.2.9") == 0x0112
    driver.create_film_box("STANDARD\\2,2")
    assert driver.session.n_delete(uids.BasicFilmSession, driver.session_uid).status == 0
    assert driver.session.film_session is None
    assert status_of(driver.set_image, 1, np.zeros((2, 2), np.uint8)) == 0x0112


# -- Film Box -----------------------------------------------------------------------


def test_film_box_response_lists_image_boxes_in_position_order(driver):
    reply = driver.create_film_box("STANDARD\\3,2", FilmSizeID="8INX10IN")
    ds = reply.dataset
    assert reply.status == 0
    assert ds.ImageDisplayFormat == "STANDARD\\3,2"
    assert ds.FilmSizeID == "8INX10IN"
    assert ds.FilmOrientation == "PORTRAIT"
    assert ds.MagnificationType == "BILINEAR"
    assert ds.MaxDensity == 150
    assert ds.ReferencedFilmSessionSequence[0].ReferencedSOPInstanceUID == driver.session_uid
    items = ds.ReferencedImageBoxSequence
    assert len(items) == 6
    assert {i.ReferencedSOPClassUID for i in items} == {uids.BasicGrayscaleImageBox}
    assert len({i.ReferencedSOPInstanceUID for i in items}) == 6
    boxes = driver.session.film_session.film_boxes[-1].image_boxes
    assert [b.ImageBoxPosition for b in boxes] == [1, 2, 3, 4, 5, 6]
    assert [b.SOPInstanceUID for b in boxes] == [i.ReferencedSOPInstanceUID for i in items]
    assert "ReferencedBasicAnnotationBoxSequence" not in ds


def test_color_meta_class_creates_color_image_boxes(driver):
    reply = driver.create_film_box("ROW\\1,2", color=True)
    classes = {i.ReferencedSOPClassUID for i in reply.dataset.ReferencedImageBoxSequence}
    assert classes == {uids.BasicColorImageBox}
    assert len(reply.dataset.ReferencedImageBoxSequence) == 3


def test_grayscale_only_printer_refuses_color_film_boxes():
    d = lenient_driver(color=False)
    assert status_of(d.create_film_box, color=True) == 0x0122


def test_annotation_boxes_are_created_when_annotation_is_negotiated():
    d = Driver(annotation=True)
    d.create_session()
    reply = d.create_film_box(AnnotationDisplayFormatID="BOTTOM2")
    items = reply.dataset.ReferencedBasicAnnotationBoxSequence
    assert [i.ReferencedSOPClassUID for i in items] == [uids.BasicAnnotationBox] * 2
    text = Dataset()
    text.AnnotationPosition = 2
    text.TextString = "LEFT KNEE"
    uid = items[1].ReferencedSOPInstanceUID
    assert d.session.n_set(uids.BasicAnnotationBox, uid, text).status == 0
    assert d.session.film_session.film_boxes[-1].annotation_boxes[1].TextString == "LEFT KNEE"
    text.AnnotationPosition = 1
    assert status_of(d.session.n_set, uids.BasicAnnotationBox, uid, text) == 0x0106
    empty = Dataset()
    empty.AnnotationPosition = 2
    empty.TextString = ""
    assert d.session.n_set(uids.BasicAnnotationBox, uid, empty).status == 0
    assert d.session.film_session.film_boxes[-1].annotation_boxes[1].TextString == ""


def test_annotation_negotiated_without_format_gives_an_empty_sequence():
    d = Driver(annotation=True)
    d.create_session()
    reply = d.create_film_box()
    assert len(reply.dataset.ReferencedBasicAnnotationBoxSequence) == 0


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"FilmSizeID": "A4"}, 0x0000),
        ({"FilmSizeID": "13INX13IN"}, 0x0116),
        ({"FilmOrientation": "SIDEWAYS"}, 0x0106),
        ({"MagnificationType": "NONE"}, 0x0000),
        ({"MagnificationType": "FANCY"}, 0x0116),
        ({"BorderDensity": "WHITE"}, 0x0000),
        ({"BorderDensity": "150"}, 0x0000),
        ({"BorderDensity": "GREY"}, 0x0106),
        ({"EmptyImageDensity": "BLACK"}, 0x0000),
        ({"Trim": "MAYBE"}, 0x0106),
        ({"MaxDensity": 500}, 0xB605),
        ({"MaxDensity": 120}, 0x0000),
        ({"MinDensity": 20, "MaxDensity": 100}, 0x0000),
        ({"MinDensity": 100, "MaxDensity": 100}, 0x0106),
        ({"MinDensity": 120, "MaxDensity": 50}, 0x0106),
        ({"Illumination": 0}, 0x0106),
        ({"RequestedResolutionID": "HIGH"}, 0x0000),
        ({"RequestedResolutionID": "ULTRA"}, 0x0106),
        ({"Illumination": 2000, "ReflectedAmbientLight": 10}, 0x0000),
        ({"SmoothingType": "SHARP"}, 0x0000),
        ({"ConfigurationInformation": "CS000"}, 0x0000),
        ({"AnnotationDisplayFormatID": "NOWHERE"}, 0x0116),
    ],
)
def test_film_box_attribute_statuses(driver, attributes, expected):
    assert status_of(driver.create_film_box, **attributes) == expected


def test_density_is_clamped_to_the_printers_range():
    d = lenient_driver(min_density=20, max_density=300)
    reply = d.create_film_box(MinDensity=5, MaxDensity=350)
    assert reply.status == Status.DENSITY_CLAMPED
    assert (reply.dataset.MinDensity, reply.dataset.MaxDensity) == (20, 300)


@pytest.mark.parametrize(
    "attributes",
    [
        {"MinDensity": 200, "MaxDensity": 300},
        {"MinDensity": 160},
        {"MinDensity": 10, "MaxDensity": 15},
    ],
)
def test_densities_clamped_to_one_value_print_at_it_with_a_warning(attributes):
    """The printer uses its own extreme instead (B605), even when that makes
    Min and Max Density equal: a flat film, not a failure."""
    d = lenient_driver(min_density=20, max_density=150)
    reply = d.create_film_box(**attributes)
    assert reply.status == Status.DENSITY_CLAMPED
    assert reply.dataset.MinDensity == reply.dataset.MaxDensity
    assert d.create_film_box(MinDensity=30, MaxDensity=120).status == Status.SUCCESS
    box = d.session.film_session.film_boxes[-1]
    reply = d.set_image(1, np.zeros((2, 2), np.uint8), MinDensity=170, MaxDensity=250)
    assert reply.status == Status.DENSITY_CLAMPED
    image_box = box.image_boxes[0]
    assert image_box.MinDensity == image_box.MaxDensity == 150


@pytest.mark.parametrize(
    ("display_format", "expected"),
    [
        ("STANDARD\\10,10", 0x0000),
        ("STANDARD\\11,1", 0x0106),
        ("ROW\\2,3,1", 0x0000),
        ("COL\\1,10", 0x0000),
        ("SLIDE", 0x0106),
        ("SUPERSLIDE", 0x0106),
        ("CUSTOM\\3", 0x0106),
        ("STANDARD\\2", 0x0106),
    ],
)
def test_display_formats(driver, display_format, expected):
    assert status_of(driver.create_film_box, display_format) == expected


def test_messages_quote_values_with_each_backslash_once(driver):
    with pytest.raises(PrintError) as info:
        driver.create_film_box("STANDARD\\11,1")
    backslash = chr(92)
    assert f"'STANDARD{backslash}11,1' exceeds 10 columns" in info.value.comment
    assert backslash * 2 not in info.value.comment
    assert quoted("SQUARE\nROOT") == "'SQUARE\\nROOT'"  # what does not print stays escaped


def test_an_unsupported_value_is_replaced_and_the_comment_says_by_what():
    d = lenient_driver(film_sizes=["14INX17IN"])
    reply = d.create_film_box(FilmSizeID="8INX10IN")
    assert reply.status == Status.ATTRIBUTE_VALUE_OUT_OF_RANGE
    assert reply.comment == "FilmSizeID '8INX10IN' not supported: '14INX17IN' used"
    assert reply.dataset.FilmSizeID == "14INX17IN"


def test_text_values_with_control_characters_are_invalid():
    d = Driver()
    assert status_of(d.create_session, FilmSessionLabel="CHEST\nPA") == 0x0106
    assert status_of(d.create_session, FilmSessionLabel="CHEST PA") == 0x0000


def test_custom_display_format_defined_by_the_profile():
    d = lenient_driver(custom_formats={"CUSTOM\\1": "STANDARD\\1,2"})
    reply = d.create_film_box("CUSTOM\\1")
    assert reply.dataset.ImageDisplayFormat == "CUSTOM\\1"
    assert len(reply.dataset.ReferencedImageBoxSequence) == 2


def test_film_box_missing_or_empty_mandatory_attributes(driver):
    create = driver.session.n_create
    no_format = film_box_request(driver.session_uid)
    del no_format.ImageDisplayFormat
    assert status_of(create, uids.BasicFilmBox, no_format) == 0x0120
    empty_format = film_box_request(driver.session_uid, "")
    assert status_of(create, uids.BasicFilmBox, empty_format) == 0x0121
    no_session = film_box_request(driver.session_uid)
    del no_session.ReferencedFilmSessionSequence
    assert status_of(create, uids.BasicFilmBox, no_session) == 0x0120
    other_session = film_box_request("1.2.3.4")
    assert status_of(create, uids.BasicFilmBox, other_session) == 0x0106
    wrong_class = film_box_request(driver.session_uid)
    wrong_class.ReferencedFilmSessionSequence = referenced(uids.BasicFilmBox, driver.session_uid)
    assert status_of(create, uids.BasicFilmBox, wrong_class) == 0x0106


def test_film_box_without_a_film_session_fails():
    session = PrintSession()
    assert status_of(session.n_create, uids.BasicFilmBox, film_box_request("1.2.3")) == 0x0106


def test_film_box_n_set_keeps_image_boxes_and_images(driver):
    driver.create_film_box("STANDARD\\2,1")
    driver.set_image(1, np.full((4, 4), 7, np.uint8))
    before = [b.SOPInstanceUID for b in driver.session.film_session.film_boxes[-1].image_boxes]
    ds = Dataset()
    ds.MagnificationType = "CUBIC"
    ds.Trim = "YES"
    assert driver.session.n_set(uids.BasicFilmBox, driver.film_box_uid, ds).status == 0
    box = driver.session.film_session.film_boxes[-1]
    assert (box.MagnificationType, box.Trim) == ("CUBIC", "YES")
    assert [b.SOPInstanceUID for b in box.image_boxes] == before
    assert box.image_boxes[0].image is not None


def test_film_box_n_set_of_a_create_only_attribute():
    lenient = lenient_driver()
    lenient.create_film_box()
    ds = Dataset()
    ds.ImageDisplayFormat = "STANDARD\\2,2"
    reply = lenient.session.n_set(uids.BasicFilmBox, lenient.film_box_uid, ds)
    assert reply.status == 0x0107
    assert len(lenient.session.film_session.film_boxes[-1].image_boxes) == 1
    strict = strict_driver()
    strict.create_film_box()
    assert status_of(strict.session.n_set, uids.BasicFilmBox, strict.film_box_uid, ds) == 0x0105


def test_only_the_latest_film_box_may_be_changed(driver):
    driver.create_film_box()
    first = driver.film_box_uid
    first_image_box = driver.image_box_uids[0]
    driver.create_film_box()
    session = driver.session
    ds = Dataset()
    ds.Trim = "YES"
    assert status_of(session.n_set, uids.BasicFilmBox, first, ds) == 0x0110
    assert status_of(session.n_action, uids.BasicFilmBox, first, 1) == 0x0110
    assert status_of(session.n_delete, uids.BasicFilmBox, first) == 0x0110
    request = image_box_request(1, grayscale_item(np.zeros((2, 2), np.uint8)))
    assert status_of(session.n_set, uids.BasicGrayscaleImageBox, first_image_box, request) == 0x0110
    assert status_of(session.n_set, uids.BasicFilmBox, "1.2.3", ds) == 0x0112


def test_film_box_n_action_prints_and_warns_on_empty_page(driver):
    driver.create_film_box("STANDARD\\2,1")
    assert driver.print_film_box().status == Status.FILM_BOX_EMPTY_PAGE
    assert len(driver.jobs) == 1
    driver.set_image(2, np.full((3, 3), 9, np.uint8))
    assert driver.print_film_box().status == Status.SUCCESS
    job = driver.jobs[-1]
    assert len(job.films) == 1
    assert job.films[0].film_box.image_boxes[1].image.pixels[0, 0] == 9


def test_film_box_n_delete_removes_it(driver):
    driver.create_film_box()
    assert driver.session.n_delete(uids.BasicFilmBox, driver.film_box_uid).status == 0
    assert driver.session.film_session.film_boxes == []
    assert status_of(driver.print_session) == 0xC600


def test_c616_when_session_printing_is_not_supported():
    d = lenient_driver(film_session_print=False)
    d.create_film_box()
    assert status_of(d.create_film_box) == 0xC616
    d.print_film_box()
    assert d.create_film_box().status == 0
    assert status_of(d.print_session) == 0x0211


# -- Image Box ------------------------------------------------------------------------


def test_image_box_n_set_stores_the_image(driver):
    driver.create_film_box("STANDARD\\2,2")
    pixels = np.arange(12, dtype=np.uint16).reshape(3, 4) * 300
    assert driver.set_image(3, pixels, Polarity="REVERSE").status == 0
    box = driver.session.film_session.film_boxes[-1].image_boxes[2]
    assert box.Polarity == "REVERSE"
    assert box.image.Rows == 3 and box.image.Columns == 4
    np.testing.assert_array_equal(box.image.pixels, pixels)


def test_bits_above_bits_stored_are_masked(driver):
    driver.create_film_box()
    pixels = np.array([[0xF123, 0x0FFF]], dtype=np.uint16)
    driver.set_image(1, pixels)
    stored = driver.session.film_session.film_boxes[-1].image_boxes[0].image.pixels
    assert stored.tolist() == [[0x0123, 0x0FFF]]


def test_new_image_replaces_and_empty_sequence_erases(driver):
    driver.create_film_box()
    driver.set_image(1, np.full((2, 2), 1, np.uint8))
    driver.set_image(1, np.full((5, 5), 2, np.uint8))
    box = driver.session.film_session.film_boxes[-1].image_boxes[0]
    assert box.image.Rows == 5
    assert driver.set_image(1, None).status == 0
    assert box.image is None


@pytest.mark.parametrize("planar", [0, 1])
def test_color_planar_configurations_give_the_same_pixels(driver, planar):
    driver.create_film_box(color=True)
    rgb = np.random.default_rng(planar).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    request = image_box_request(1, color_item(rgb, planar=planar), color=True)
    assert (
        driver.session.n_set(uids.BasicColorImageBox, driver.image_box_uids[0], request).status == 0
    )
    stored = driver.session.film_session.film_boxes[-1].image_boxes[0].image.pixels
    np.testing.assert_array_equal(stored, rgb)


def test_image_box_class_must_match_the_instance(driver):
    driver.create_film_box()
    request = image_box_request(1, color_item(np.zeros((2, 2, 3), np.uint8)), color=True)
    assert (
        status_of(driver.session.n_set, uids.BasicColorImageBox, driver.image_box_uids[0], request)
        == 0x0119
    )


def mutate_item(mutation):
    item = grayscale_item(np.zeros((4, 4), np.uint16))
    mutation(item)
    return item


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda i: setattr(i, "PixelData", b"\0" * 31), 0x0106),
        (lambda i: setattr(i, "PixelData", b"\0" * 33), 0x0106),
        (lambda i: delattr(i, "Rows"), 0x0120),
        (lambda i: delattr(i, "PixelData"), 0x0120),
        (lambda i: setattr(i, "BitsStored", 16) or setattr(i, "HighBit", 15), 0x0106),
        (lambda i: setattr(i, "BitsStored", 10) or setattr(i, "HighBit", 9), 0x0000),
        (lambda i: setattr(i, "HighBit", 7), 0x0106),
        (lambda i: setattr(i, "PixelRepresentation", 1), 0x0106),
        (lambda i: setattr(i, "PhotometricInterpretation", "MONOCHROME1"), 0x0000),
        (lambda i: setattr(i, "PhotometricInterpretation", "RGB"), 0x0106),
        (lambda i: setattr(i, "SamplesPerPixel", 3), 0x0106),
        (lambda i: setattr(i, "Rows", 0), 0x0106),
        (lambda i: setattr(i, "PixelAspectRatio", [1, 2]), 0x0000),
    ],
)
def test_image_pixel_module_checks(driver, mutation, expected):
    driver.create_film_box()
    request = image_box_request(1, mutate_item(mutation))
    result = status_of(
        driver.session.n_set, uids.BasicGrayscaleImageBox, driver.image_box_uids[0], request
    )
    assert result == expected


def test_odd_pixel_data_may_carry_one_pad_byte(driver):
    driver.create_film_box()
    item = grayscale_item(np.zeros((3, 3), np.uint8))
    item.PixelData = bytes(10)
    request = image_box_request(1, item)
    assert (
        driver.session.n_set(uids.BasicGrayscaleImageBox, driver.image_box_uids[0], request).status
        == 0
    )


def test_16_bit_grayscale_when_the_profile_allows_it():
    d = lenient_driver(grayscale_bits_stored=(8, 12, 16))
    d.create_film_box()
    item = grayscale_item(np.array([[65535]], np.uint16), bits_stored=16)
    reply = d.session.n_set(
        uids.BasicGrayscaleImageBox, d.image_box_uids[0], image_box_request(1, item)
    )
    assert reply.status == 0


def test_image_box_position_must_match(driver):
    driver.create_film_box("STANDARD\\2,1")
    item = grayscale_item(np.zeros((2, 2), np.uint8))
    wrong = image_box_request(2, item)
    set_ = driver.session.n_set
    assert status_of(set_, uids.BasicGrayscaleImageBox, driver.image_box_uids[0], wrong) == 0x0106
    missing = image_box_request(1, item)
    del missing.ImageBoxPosition
    assert status_of(set_, uids.BasicGrayscaleImageBox, driver.image_box_uids[0], missing) == 0x0120
    assert status_of(set_, uids.BasicGrayscaleImageBox, "1.2.3", wrong) == 0x0112


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"Polarity": "SIDEWAYS"}, 0x0106),
        ({"RequestedImageSize": "120.5"}, 0x0000),
        ({"RequestedImageSize": "-3"}, 0x0106),
        ({"RequestedDecimateCropBehavior": "CROP"}, 0x0000),
        ({"RequestedDecimateCropBehavior": "SHRINK"}, 0x0106),
        ({"MagnificationType": "REPLICATE"}, 0x0000),
        ({"MinDensity": 10, "MaxDensity": 1000}, 0xB605),
        ({"MinDensity": 140, "MaxDensity": 30}, 0x0106),
    ],
)
def test_image_box_attribute_statuses(driver, attributes, expected):
    driver.create_film_box()
    assert status_of(driver.set_image, 1, np.zeros((2, 2), np.uint8), **attributes) == expected


def test_image_fit_is_decided_at_n_set(driver):
    driver.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN", MagnificationType="NONE")
    big = np.zeros((3000, 3000), np.uint8)  # 20 in at 150 DPI: larger than the film
    assert status_of(driver.set_image, 1, big, RequestedDecimateCropBehavior="FAIL") == 0xC603
    assert status_of(driver.set_image, 1, big, RequestedDecimateCropBehavior="DECIMATE") == 0xC603
    assert driver.session.film_session.film_boxes[-1].image_boxes[0].image is None
    assert status_of(driver.set_image, 1, big, RequestedDecimateCropBehavior="CROP") == 0xB609
    # Attributes persist across N-SETs: CROP stays until replaced.
    decimate = {"MagnificationType": "BILINEAR", "RequestedDecimateCropBehavior": "DECIMATE"}
    assert status_of(driver.set_image, 1, big, **decimate) == 0xB60A


def test_pixel_budget_of_a_session():
    d = lenient_driver(max_session_pixel_bytes=100)
    d.create_film_box("STANDARD\\2,1")
    assert d.set_image(1, np.zeros((8, 8), np.uint8)).status == 0
    assert status_of(d.set_image, 2, np.zeros((8, 8), np.uint8)) == 0x0213
    # Replacing an image releases what the old one held.
    assert d.set_image(1, np.zeros((9, 9), np.uint8)).status == 0


# -- Presentation LUT ----------------------------------------------------------------


def lut_request(shape=None, table=None, descriptor=None):
    ds = Dataset()
    if shape is not None:
        ds.PresentationLUTShape = shape
    if table is not None:
        item = Dataset()
        item.LUTDescriptor = descriptor or [len(table), 0, 12]
        item.LUTData = list(table)
        ds.PresentationLUTSequence = Sequence([item])
    return ds


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (lut_request("IDENTITY"), 0x0000),
        (lut_request("LIN OD"), 0x0000),
        (lut_request("INVERSE"), 0x0000),
        (lut_request("LOG"), 0x0106),
        (lut_request(), 0x0120),
        (lut_request("IDENTITY", table=range(256)), 0x0106),
        (lut_request(table=range(256)), 0x0000),
        (lut_request(table=range(256), descriptor=[4096, 0, 12]), 0x0106),
        (lut_request(table=[5000] * 256), 0x0106),
        (lut_request(table=range(256), descriptor=[256, 0, 20]), 0x0106),
    ],
)
def test_presentation_lut_n_create(request_, expected):
    assert status_of(PrintSession().n_create, uids.PresentationLUT, request_) == expected


def test_presentation_lut_life_cycle(driver):
    session = driver.session
    film_lut = session.n_create(uids.PresentationLUT, lut_request("LIN OD")).instance_uid
    image_lut = session.n_create(uids.PresentationLUT, lut_request(table=range(4096))).instance_uid
    missing = referenced(uids.PresentationLUT, "1.2.3")
    assert status_of(driver.create_film_box, ReferencedPresentationLUTSequence=missing) == 0x0106
    driver.create_film_box(
        "STANDARD\\2,1",
        ReferencedPresentationLUTSequence=referenced(uids.PresentationLUT, film_lut),
    )
    driver.set_image(
        1,
        np.zeros((2, 2), np.uint16),
        ReferencedPresentationLUTSequence=referenced(uids.PresentationLUT, image_lut),
    )
    driver.set_image(2, np.zeros((2, 2), np.uint16))
    # Referenced LUTs cannot be deleted.
    assert status_of(session.n_delete, uids.PresentationLUT, film_lut) == 0x0110
    assert status_of(session.n_delete, uids.PresentationLUT, image_lut) == 0x0110
    driver.print_film_box()
    film = driver.jobs[-1].films[0]
    first, second = film.film_box.image_boxes
    assert film.presentation_lut(first).SOPInstanceUID == image_lut  # image box wins
    assert film.presentation_lut(second).PresentationLUTShape == "LIN OD"
    session.n_delete(uids.BasicFilmBox, driver.film_box_uid)
    assert session.n_delete(uids.PresentationLUT, film_lut).status == 0
    assert session.n_delete(uids.PresentationLUT, image_lut).status == 0
    assert status_of(session.n_delete, uids.PresentationLUT, film_lut) == 0x0112
    assert session.presentation_luts == {}


def test_luts_outlive_the_session_and_become_deletable(driver):
    lut = driver.session.n_create(uids.PresentationLUT, lut_request("IDENTITY")).instance_uid
    driver.create_film_box(ReferencedPresentationLUTSequence=referenced(uids.PresentationLUT, lut))
    assert status_of(driver.session.n_delete, uids.PresentationLUT, lut) == 0x0110
    driver.session.n_delete(uids.BasicFilmSession, driver.session_uid)
    assert driver.session.n_delete(uids.PresentationLUT, lut).status == 0


# -- Printing ----------------------------------------------------------------------------


def test_session_print_collates_copies_and_warns_on_empty_pages():
    d = Driver()
    d.create_session(NumberOfCopies="2")
    d.create_film_box()
    d.set_image(1, np.full((2, 2), 1, np.uint8))
    d.create_film_box()
    assert d.print_session().status == Status.FILM_SESSION_EMPTY_PAGE
    job = d.jobs[-1]
    assert job.copies == 2
    sheets = [f.film_box.SOPInstanceUID for f in job.sheets()]
    first, second = (b.SOPInstanceUID for b in d.session.film_session.film_boxes)
    assert sheets == [first, second, first, second]


def test_non_collating_printer_warns_b601():
    d = lenient_driver(collation=False)
    ds = Dataset()
    ds.NumberOfCopies = "2"
    d.session.n_set(uids.BasicFilmSession, d.session_uid, ds)
    d.create_film_box()
    d.set_image(1, np.zeros((2, 2), np.uint8))
    d.create_film_box()
    d.set_image(1, np.zeros((2, 2), np.uint8))
    assert d.print_session().status == Status.FILM_SESSION_PRINTING_NOT_SUPPORTED
    sheets = [f.film_box.SOPInstanceUID for f in d.jobs[-1].sheets()]
    assert sheets[0] == sheets[1] != sheets[2]


def test_print_job_is_a_snapshot(driver):
    driver.create_film_box()
    driver.set_image(1, np.full((2, 2), 5, np.uint8))
    driver.print_film_box()
    driver.set_image(1, np.full((2, 2), 6, np.uint8))
    ds = Dataset()
    ds.Trim = "YES"
    driver.session.n_set(uids.BasicFilmBox, driver.film_box_uid, ds)
    printed = driver.jobs[0].films[0].film_box
    assert printed.image_boxes[0].image.pixels[0, 0] == 5
    assert printed.Trim == "NO"


def test_print_callback_warnings_and_failures_reach_the_caller():
    outcomes = [Status.IMAGE_DEMAGNIFIED, PrintError(Status.IMAGE_LARGER_THAN_BOX)]

    def on_print(job):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    d = Driver(PrintSession(on_print=on_print, calling_ae_title="CT1"))
    d.create_session()
    d.create_film_box()
    d.set_image(1, np.zeros((2, 2), np.uint8))
    assert d.print_film_box().status == Status.IMAGE_DEMAGNIFIED
    assert status_of(d.print_film_box) == 0xC603


def test_unknown_action_type_and_sop_classes(driver):
    driver.create_film_box()
    session = driver.session
    assert status_of(session.n_action, uids.BasicFilmBox, driver.film_box_uid, 2) == 0x0123
    assert status_of(session.n_get, uids.BasicFilmBox, driver.film_box_uid, []) == 0x0211
    assert status_of(session.n_create, "1.2.840.10008.5.1.4.1.1.2", Dataset()) == 0x0118


def test_close_releases_everything(driver):
    driver.session.n_create(uids.PresentationLUT, lut_request("IDENTITY"))
    driver.create_film_box()
    driver.session.close()
    assert driver.session.film_session is None
    assert driver.session.presentation_luts == {}


# -- Printer ---------------------------------------------------------------------------------


def test_printer_n_get_ignores_unknown_attributes():
    session = PrintSession()
    tags = [0x21100010, 0x21100030, 0x00181200, 0x00181201, 0x00080070, 0x00091001]
    reply = session.n_get(uids.Printer, uids.PrinterInstance, tags)
    assert reply.status == 0
    assert reply.dataset.PrinterStatus == "NORMAL"
    assert reply.dataset.PrinterName == "dicomprint"
    assert reply.dataset.Manufacturer == "dicomprint"
    assert "DateOfLastCalibration" not in reply.dataset


def test_printer_n_get_without_attributes_gives_status():
    reply = PrintSession().n_get(uids.Printer, uids.PrinterInstance, [])
    assert (reply.dataset.PrinterStatus, reply.dataset.PrinterStatusInfo) == ("NORMAL", "NORMAL")


def test_printer_n_get_of_another_instance_fails():
    assert status_of(PrintSession().n_get, uids.Printer, "1.2.3", []) == 0x0112


def test_printer_status_changes_reach_listeners():
    printer = Printer()
    events = []
    unsubscribe = printer.subscribe(lambda p: events.append(p.event_report()))
    printer.set_status("WARNING", "SUPPLY LOW")
    printer.set_status("NORMAL")
    unsubscribe()
    printer.set_status("FAILURE", "FILM JAM")
    assert [event_type for event_type, _ in events] == [2, 1]
    assert events[0][1].PrinterStatusInfo == "SUPPLY LOW"
    reply = PrintSession(printer).n_get(
        uids.Printer, uids.PrinterInstance, [0x21100010, 0x21100020]
    )
    assert (reply.dataset.PrinterStatus, reply.dataset.PrinterStatusInfo) == ("FAILURE", "FILM JAM")
    with pytest.raises(ValueError):
        printer.set_status("BROKEN")


# -- Printer Configuration Retrieval ---------------------------------------------------------


def test_printer_configuration_describes_the_profile():
    profile = PrinterProfile(
        film_sizes=["14INX17IN", "A4"],
        medium_types=["BLUE FILM", "PAPER"],
        max_columns=3,
        max_rows=2,
        color=False,
        min_density=20,
        max_density=300,
        custom_formats={"CUSTOM\\1": "ROW\\1,2"},
    )
    session = PrintSession(Printer(profile))
    reply = session.n_get(
        uids.PrinterConfigurationRetrieval, uids.PrinterConfigurationRetrievalInstance, []
    )
    (item,) = reply.dataset.PrinterConfigurationSequence
    assert uids.BasicColorPrintManagementMeta not in item.SOPClassesSupported
    assert uids.PrintJob in item.SOPClassesSupported
    assert item.MaximumMemoryAllocation == 512 * 1024  # KB
    assert (item.MemoryBitDepth, item.PrintingBitDepth) == (12, 8)
    media = [(m.ItemNumber, m.MediumType, m.FilmSizeID) for m in item.MediaInstalledSequence]
    assert media == [  # the default first (Item Number 1), then every other pair
        (1, "PAPER", "14INX17IN"),
        (2, "BLUE FILM", "14INX17IN"),
        (3, "BLUE FILM", "A4"),
        (4, "PAPER", "A4"),
    ]
    assert {(m.MinDensity, m.MaxDensity) for m in item.MediaInstalledSequence} == {(20, 300)}
    formats = item.SupportedImageDisplayFormatsSequence
    standard = [f for f in formats if f.PrinterResolutionID == "STANDARD"]
    portrait = [f.ImageDisplayFormat for f in standard if f.FilmOrientation == "PORTRAIT"]
    assert portrait == [
        "STANDARD\\1,1",
        "STANDARD\\2,1",
        "STANDARD\\3,1",
        "STANDARD\\1,2",
        "STANDARD\\2,2",
        "STANDARD\\3,2",
        "CUSTOM\\1",
    ]
    one = standard[0]  # a whole 14x17 in film at 150 dpi, less its margins
    assert (one.Columns, one.Rows) == (2052, 2502) and one.PrinterPixelSpacing == [0.169333] * 2
    assert len(formats) == 2 * 2 * 7  # two resolutions, two orientations
    assert item.DefaultMagnificationType == "BILINEAR"
    assert "BILINEAR" not in item.OtherMagnificationTypesAvailable
    assert (item.DecimateCropResult, item.PrinterName) == ("DECIMATE", "dicomprint")
    wrong = (uids.PrinterConfigurationRetrieval, uids.PrinterInstance, [])
    assert status_of(session.n_get, *wrong) == Status.NO_SUCH_SOP_INSTANCE


# -- Print Job -------------------------------------------------------------------------------


def printed_job(**session_attributes):
    d = Driver(print_job=True, calling_ae_title="CT_ROOM_1 ")
    d.create_session(**session_attributes)
    d.create_film_box()
    d.set_image(1, np.zeros((2, 2), np.uint8))
    return d, d.print_film_box()


def test_a_print_creates_a_print_job_that_is_done():
    d, reply = printed_job(PrintPriority="HIGH", FilmSessionLabel="CHEST")
    (reference,) = reply.dataset.ReferencedPrintJobSequencePullStoredPrint
    assert reference.ReferencedSOPClassUID == uids.PrintJob
    uid = reference.ReferencedSOPInstanceUID
    assert uid == d.jobs[0].job_id  # the job the backend printed
    everything = d.session.n_get(uids.PrintJob, uid, []).dataset
    created = d.jobs[0].created.astimezone()
    assert (everything.ExecutionStatus, everything.ExecutionStatusInfo) == ("DONE", "NORMAL")
    assert everything.PrintPriority == "HIGH"
    assert everything.CreationDate == created.strftime("%Y%m%d")
    assert everything.CreationTime == created.strftime("%H%M%S")
    assert (everything.PrinterName, everything.Originator) == ("dicomprint", "CT_ROOM_1")
    # Asked-for attributes only; ones the class does not have are left out.
    some = d.session.n_get(uids.PrintJob, uid, [0x21000020, 0x00100010]).dataset
    assert list(some.keys()) == [Tag(0x2100, 0x0020)]
    event_type, info = d.session.print_jobs[uid].event_report()
    assert event_type == 3  # Done
    assert (info.ExecutionStatusInfo, info.FilmSessionLabel, info.PrinterName) == (
        "NORMAL",
        "CHEST",
        "dicomprint",
    )
    # Once the SCU has answered that event the instance is gone.
    d.session.forget_print_job(uid)
    assert status_of(d.session.n_get, uids.PrintJob, uid, []) == Status.NO_SUCH_SOP_INSTANCE


def test_film_session_printing_creates_a_print_job_too():
    d = Driver(print_job=True)
    d.create_session()
    d.create_film_box()
    reply = d.print_session()
    assert reply.status == Status.FILM_SESSION_EMPTY_PAGE
    (reference,) = reply.dataset.ReferencedPrintJobSequencePullStoredPrint
    assert reference.ReferencedSOPInstanceUID in d.session.print_jobs


def test_without_the_print_job_class_the_reply_has_no_data_set():
    d = Driver()
    d.create_session()
    d.create_film_box()
    assert d.print_film_box().dataset is None
    assert d.session.print_jobs == {}


# -- Limits shared between associations -------------------------------------------------


def test_server_wide_pixel_budget_is_shared_and_released():
    budget = PixelBudget(150)
    first = Driver(PrintSession(budget=budget))
    second = Driver(PrintSession(budget=budget))
    for d in (first, second):
        d.create_session()
        d.create_film_box("STANDARD\\2,1")
    assert first.set_image(1, np.zeros((10, 10), np.uint8)).status == 0
    assert status_of(second.set_image, 1, np.zeros((8, 8), np.uint8)) == 0xC605
    assert budget.held == 100
    assert second.set_image(1, np.zeros((7, 7), np.uint8)).status == 0
    first.set_image(1, None)  # erasing frees its share
    assert budget.held == 49
    assert second.set_image(2, np.zeros((10, 10), np.uint8)).status == 0
    second.session.n_delete(uids.BasicFilmBox, second.film_box_uid)
    assert budget.held == 0
    first.set_image(2, np.zeros((10, 10), np.uint8))
    first.session.close()
    assert budget.held == 0


def test_film_boxes_per_session_are_limited():
    d = lenient_driver(max_film_boxes=2)
    d.create_film_box()
    d.create_film_box()
    assert status_of(d.create_film_box) == 0x0213
