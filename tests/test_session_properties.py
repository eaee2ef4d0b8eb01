"""Random attribute lists never raise anything but PrintError."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from dicomprint import (
    DEFAULT_PROFILE,
    PrintError,
    Reply,
    annotation_box,
    film_box,
    film_session,
    image_box,
    presentation_lut,
    render_job,
    uids,
)
from print_requests import Driver, film_box_request, grayscale_item, image_box_request

#: Every attribute some print operation takes, from the rule tables
#: themselves, plus two that none takes.
KEYWORDS = sorted(
    {
        rule.keyword
        for rules in (
            film_session.RULES,
            film_box.N_CREATE_RULES,
            image_box.n_set_rules(DEFAULT_PROFILE, color=False),
            image_box.n_set_rules(DEFAULT_PROFILE, color=True),
            annotation_box.N_SET_RULES,
            presentation_lut.N_CREATE_RULES,
        )
        for rule in rules
    }
    | {"PatientName", "SpecificCharacterSet"}
)

SEQUENCES = {k for k in KEYWORDS if k.endswith("Sequence")}

raw_bytes = st.binary(max_size=24)
texts = st.sampled_from(
    [
        "",
        "STANDARD\\2,2",
        "ROW\\1,2",
        "COL\\3",
        "STANDARD\\0,0",
        "A4",
        "14INX17IN",
        "BLACK",
        "WHITE",
        "150",
        "-3",
        "YES",
        "NO",
        "HIGH",
        "IDENTITY",
        "LIN OD",
        "REVERSE",
        "1",
        "65536",
        "1.2.3",
        "ÄÖ",
        "CUSTOM\\1",
        "x" * 70,
    ]
) | st.text(max_size=12)


@st.composite
def sequence_items(draw):
    items = []
    for _ in range(draw(st.integers(0, 2))):
        item = Dataset()
        choice = draw(st.integers(0, 3))
        if choice == 0:
            item.ReferencedSOPClassUID = draw(
                st.sampled_from([uids.BasicFilmSession, uids.PresentationLUT, "1.2", "bogus"])
            )
            item.ReferencedSOPInstanceUID = draw(st.sampled_from(["1.2.3", "", "x.y"]))
        elif choice == 1:
            rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
            item = grayscale_item(np.zeros((rows, cols), np.uint16))
            for keyword in draw(
                st.lists(
                    st.sampled_from(
                        [
                            "Rows",
                            "Columns",
                            "BitsStored",
                            "HighBit",
                            "SamplesPerPixel",
                            "PixelRepresentation",
                            "PlanarConfiguration",
                        ]
                    ),
                    max_size=2,
                )
            ):
                setattr(item, keyword, draw(st.integers(0, 70000)))
            if draw(st.booleans()):
                item.PixelData = draw(raw_bytes)
        elif choice == 2:
            item.LUTDescriptor = draw(st.lists(st.integers(0, 65535), max_size=4))
            item.LUTData = draw(st.lists(st.integers(0, 65535), max_size=8))
        items.append(item)
    return Sequence(items)


@st.composite
def datasets(draw):
    ds = Dataset()
    for keyword in draw(st.lists(st.sampled_from(KEYWORDS), max_size=8, unique=True)):
        tag = Tag(tag_for_keyword(keyword))
        if keyword in SEQUENCES:
            ds[tag] = _element(tag, "SQ", draw(sequence_items()))
        elif draw(st.booleans()):
            value = draw(raw_bytes)
            ds[tag] = RawDataElement(tag, dictionary_VR(tag), len(value), value, 0, True, True)
        else:
            value = draw(texts).encode("utf-8", "replace")
            ds[tag] = RawDataElement(tag, dictionary_VR(tag), len(value), value, 0, True, True)
    return ds


def _element(tag, vr, value):
    from pydicom.dataelem import DataElement

    return DataElement(tag, vr, value)


def overlay(base: Dataset, extra: Dataset) -> Dataset:
    for tag in extra.keys():
        base[tag] = extra.get_item(tag)  # keeps raw elements undecoded
    return base


def call(fn, *args):
    try:
        reply = fn(*args)
    except PrintError:
        return None
    assert isinstance(reply, Reply | tuple)
    return reply


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    session_ds=datasets(),
    film_ds=datasets(),
    image_ds=datasets(),
    lut_ds=datasets(),
    set_ds=datasets(),
)
def test_random_requests_only_raise_print_errors(session_ds, film_ds, image_ds, lut_ds, set_ds):
    d = Driver()
    session = d.session
    reply = call(session.n_create, uids.BasicFilmSession, session_ds)
    if reply is None:
        reply = session.n_create(uids.BasicFilmSession, Dataset())
    session_uid = reply.instance_uid
    call(session.n_set, uids.BasicFilmSession, session_uid, set_ds)
    call(session.n_create, uids.PresentationLUT, lut_ds)
    # Random attributes over a valid request reach the deeper paths.
    film = call(
        session.n_create, uids.BasicFilmBox, overlay(film_box_request(session_uid), film_ds)
    )
    if film is None:
        film = session.n_create(uids.BasicFilmBox, film_box_request(session_uid, "STANDARD\\2,1"))
    call(session.n_set, uids.BasicFilmBox, film.instance_uid, set_ds)
    for position, item in enumerate(film.dataset.ReferencedImageBoxSequence, 1):
        valid = image_box_request(position, grayscale_item(np.zeros((2, 3), np.uint16)))
        request = overlay(valid, image_ds) if position == 1 else image_ds
        call(session.n_set, uids.BasicGrayscaleImageBox, item.ReferencedSOPInstanceUID, request)
    call(session.n_action, uids.BasicFilmBox, film.instance_uid, 1)
    call(session.n_action, uids.BasicFilmSession, session_uid, 1)
    call(session.n_delete, uids.BasicFilmSession, session_uid)
    # Whatever the session accepted renders, or fails with a status.
    for job in d.jobs:
        call(render_job, job)
