"""Generated request sequences against the DIMSE handlers of a running server.

One server per module on 127.0.0.1; hypothesis draws, for each example, one
association (calling AE title, transfer syntax) and a sequence of N-CREATE,
N-SET, N-GET, N-ACTION, N-DELETE and C-STORE requests: print SOP classes and
unknown ones, instance UIDs the association created, made-up or malformed
ones, and data sets built from valid requests and then damaged (attributes
dropped or added, values of the wrong VR or garbage bytes, pixel data that
does not match its description, absurd image sizes), in any order.

The requests are encoded here, element by element, and sent as raw DIMSE
messages, so values pydicom would refuse to write still reach the server.

Properties: every request gets a response whose status is one the
conformance statement lists for that operation (or for any request); every
failure carries an Error Comment; the association stays established and
answers a C-ECHO after the sequence; nothing is left held once it is
released; the server then still prints a normal job correctly, and no file
is written outside its output folders.
"""

from __future__ import annotations

import copy
import struct
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.filewriter import correct_ambiguous_vr
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pynetdicom import AE, evt
from pynetdicom.dimse_primitives import C_STORE, N_ACTION, N_CREATE, N_DELETE, N_GET, N_SET
from pynetdicom.dsutils import decode, encode

from dicomprint import Status, uids
from dicomprint_server import PrintClient as RealPrintClient
from dicomprint_server.contexts import EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN
from image_objects import STORAGE_CLASSES, color_image, grayscale_image
from print_requests import color_item, film_box_request, grayscale_item, referenced
from server_support import WAIT, load_image, no_delay, output_files, running_server, wait_until
from test_conformance_doc import code_of, status_tables
from test_session_properties import KEYWORDS as RULE_KEYWORDS

EXAMPLES = 100
STEPS = 12

GRAY = uids.BasicGrayscalePrintManagementMeta
COLOR = uids.BasicColorPrintManagementMeta
CT = STORAGE_CLASSES["CT"]
US = STORAGE_CLASSES["US"]
SR = STORAGE_CLASSES["SR"]
VERIFICATION = "1.2.840.10008.1.1"
#: A print SOP class this server does not implement (the retired VOI LUT Box).
VOI_LUT_BOX = "1.2.840.10008.5.1.1.22"

#: The contexts the generated associations propose.
CONTEXTS = (
    VERIFICATION,
    GRAY,
    COLOR,
    uids.PresentationLUT,
    uids.BasicAnnotationBox,
    CT,
    US,
    SR,
)

CLASS_NAMES = {
    uids.BasicFilmSession: "Basic Film Session",
    uids.BasicFilmBox: "Basic Film Box",
    uids.BasicGrayscaleImageBox: "Basic Grayscale Image Box",
    uids.BasicColorImageBox: "Basic Color Image Box",
    uids.BasicAnnotationBox: "Basic Annotation Box",
    uids.PresentationLUT: "Presentation LUT",
    uids.Printer: "Printer",
    uids.PrintJob: "Print Job",
    uids.PrinterConfigurationRetrieval: "Printer Configuration Retrieval",
}

#: Requested SOP classes of the generated N-requests: the print classes and
#: three this server does not serve (another print class, a storage class,
#: a made-up UID).
N_CLASSES = (*CLASS_NAMES, VOI_LUT_BOX, CT, "1.2.3.4.5.6")

#: Instance UIDs that are not the association's: made up, malformed, empty.
STRANGE_UIDS = ("1.2.3.4", "1..2", "1.02.3", "abc", "1.2.3.", "", "9" * 64)

AE_TITLES = ("PROPS", "..", "../..", "a/b", "C:x", "*?", "  LEADING", "~/x")


def allowed(operation: str, sop_class: str) -> set[int]:
    """Statuses the conformance statement lists for ``operation`` on ``sop_class``."""
    tables = status_tables()
    codes = {code_of(row["Code"]) for row in tables["any request"]}
    name = "C-STORE" if operation == "C-STORE" else f"{CLASS_NAMES.get(sop_class)} {operation}"
    codes |= {code_of(row["Code"]) for row in tables.get(name, [])}
    return codes


# -- Encoding data sets by hand -------------------------------------------------

_LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def raw_element(tag: int, vr: str, value: bytes, implicit: bool) -> bytes:
    """One element exactly as given: any VR, any bytes (lengths as they are)."""
    group, element = tag >> 16, tag & 0xFFFF
    if implicit:
        return struct.pack("<HHI", group, element, len(value)) + value
    if vr in _LONG_VRS:
        return struct.pack("<HH2sHI", group, element, vr.encode(), 0, len(value)) + value
    value = value[:0xFFFF]
    return struct.pack("<HH2sH", group, element, vr.encode(), len(value)) + value


def sequence_bytes(tag: int, items: list[bytes], implicit: bool, undefined: bool) -> bytes:
    """A sequence of already encoded items, of defined or undefined length."""
    if undefined:
        body = b"".join(
            struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
            + item
            + struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
            for item in items
        )
        body += struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
        length = 0xFFFFFFFF
    else:
        body = b"".join(struct.pack("<HHI", 0xFFFE, 0xE000, len(item)) + item for item in items)
        length = len(body)
    group, element = tag >> 16, tag & 0xFFFF
    if implicit:
        return struct.pack("<HHI", group, element, length) + body
    return struct.pack("<HH2sHI", group, element, b"SQ", 0, length) + body


def element_bytes(element: DataElement, implicit: bool) -> bytes:
    single = Dataset()
    single.add(element)
    return encode(single, implicit, True)


class Encoded:
    """A data set as a map of tag -> encoded element, damaged element by element."""

    def __init__(self, ds: Dataset | None, implicit: bool) -> None:
        self.implicit = implicit
        self.elements: dict[int, bytes] = {}
        ds = copy.deepcopy(ds) if ds is not None else Dataset()
        try:  # OB or OW, US or SS ... from the data set's own description
            correct_ambiguous_vr(ds, True)
        except (AttributeError, ValueError):
            pass  # a description broken on purpose: the first choice below
        for element in ds.iterall():
            if " or " in element.VR:
                element.VR = element.VR.split(" or ")[0]
        for element in ds:
            self.elements[int(element.tag)] = element_bytes(element, implicit)

    def bytes(self) -> bytes:
        return b"".join(self.elements[tag] for tag in sorted(self.elements))


# -- Strategies ------------------------------------------------------------------

#: Keywords requests may carry: those of every print operation (from the rule
#: tables), two that none takes, and two of the image pixel module.
KEYWORDS = (*RULE_KEYWORDS, "Rows", "PixelData")
VRS = ("US", "SS", "UL", "FD", "FL", "IS", "DS", "CS", "LO", "ST", "UI", "AT", "OB", "UN", "SQ")
TEXTS = (
    "",
    "STANDARD\\2,2",
    "ROW\\1,2",
    "COL\\3",
    "STANDARD\\0,0",
    "STANDARD\\99,99",
    "14INX17IN",
    "A4",
    "BLACK",
    "150",
    "-3",
    "1.5",
    "65536",
    "HIGH",
    "IDENTITY",
    "LIN OD",
    "REPLICATE",
    "x" * 70,
    "ÄÖ",
    "a\\b\\c",
)


def value_for(vr: str, data: Any) -> bytes:
    """Bytes that are a plausible value of ``vr``, or plain garbage."""
    kind = data.draw(st.integers(0, 3), label="value kind")
    if kind == 0:
        return data.draw(st.binary(max_size=16), label="garbage")
    if vr in ("US", "SS"):
        return struct.pack("<H", data.draw(st.integers(0, 0xFFFF)))
    if vr in ("UL", "AT"):
        return struct.pack("<I", data.draw(st.integers(0, 0xFFFFFFFF)))
    if vr in ("FD", "FL"):
        number = data.draw(st.sampled_from([0.0, -1.0, 1e30, float("nan"), float("inf")]))
        return struct.pack("<d" if vr == "FD" else "<f", number)
    text = data.draw(st.sampled_from(TEXTS)).encode("utf-8")
    return text + b" " * (len(text) % 2)


def damage(encoded: Encoded, data: Any) -> None:
    """Drop, add, retype or garble a few top-level elements."""
    for _ in range(data.draw(st.sampled_from([0, 0, 0, 1, 2, 3]), label="damages")):
        action = data.draw(st.sampled_from(["drop", "add", "wrong VR", "garbage"]))
        tags = sorted(encoded.elements)
        if action == "drop" and tags:
            del encoded.elements[data.draw(st.sampled_from(tags))]
            continue
        if action == "add" or not tags:
            tag = int(Tag(tag_for_keyword(data.draw(st.sampled_from(KEYWORDS)))))
        else:
            tag = data.draw(st.sampled_from(tags))
        vr = dictionary_VR(tag) if action != "wrong VR" else data.draw(st.sampled_from(VRS))
        if vr == "SQ" and data.draw(st.booleans()):
            # A sequence whose one item is garbage, or that is really no sequence.
            item = data.draw(st.binary(max_size=24))
            encoded.elements[tag] = sequence_bytes(
                tag, [item], encoded.implicit, data.draw(st.booleans())
            )
        else:
            encoded.elements[tag] = raw_element(tag, vr, value_for(vr, data), encoded.implicit)


def image_item(data: Any, color: bool) -> Dataset:
    """A small image of the image box's kind, perhaps broken."""
    rows = data.draw(st.integers(1, 24), label="rows")
    columns = data.draw(st.integers(1, 24), label="columns")
    if color:
        item = color_item(np.full((rows, columns, 3), 90, np.uint8))
    else:
        dtype = data.draw(st.sampled_from([np.uint8, np.uint16]))
        item = grayscale_item(np.full((rows, columns), 7, dtype))
    for _ in range(data.draw(st.sampled_from([0, 0, 0, 1, 2]), label="pixel damages")):
        flaw = data.draw(
            st.sampled_from(
                [
                    "absurd size",
                    "short pixel data",
                    "long pixel data",
                    "no pixel data",
                    "bits",
                    "samples",
                    "photometric",
                    "representation",
                ]
            )
        )
        if flaw == "absurd size":
            item.Rows = data.draw(st.sampled_from([0, 16385, 65535]))
            item.Columns = data.draw(st.sampled_from([1, 30000, 65535]))
        elif flaw == "short pixel data" and "PixelData" in item:
            item.PixelData = item.PixelData[: len(item.PixelData) // 2]
        elif flaw == "long pixel data" and "PixelData" in item:
            item.PixelData = item.PixelData + b"\0" * 64
        elif flaw == "no pixel data":
            item.pop(0x7FE00010, None)
        elif flaw == "bits":
            item.BitsAllocated = data.draw(st.sampled_from([1, 12, 32]))
            item.BitsStored = data.draw(st.sampled_from([0, 16, 40]))
        elif flaw == "samples":
            item.SamplesPerPixel = data.draw(st.sampled_from([0, 3, 4]))
        elif flaw == "photometric":
            item.PhotometricInterpretation = data.draw(
                st.sampled_from(["RGB", "YBR_FULL", "PALETTE COLOR", "MONOCHROME1", ""])
            )
        else:
            item.PixelRepresentation = 1
    return item


class Pool:
    """The instances the association created (as the responses named them)."""

    def __init__(self) -> None:
        self.by_class: dict[str, list[str]] = {}
        #: Image boxes a job step has set, and the meta class of the film box.
        self.set_boxes: set[str] = set()
        #: Image Box Position of each image box.
        self.positions: dict[str, int] = {}
        self.meta: str | None = None

    def add(self, sop_class: str, uid: str | None) -> None:
        if uid:
            self.by_class.setdefault(sop_class, []).append(str(uid))

    def of(self, sop_class: str) -> list[str]:
        return self.by_class.get(sop_class, [])

    def all(self) -> list[str]:
        return [uid for uids_ in self.by_class.values() for uid in uids_]


def draw_class(data: Any, usual: str) -> str:
    """Mostly the class the operation is meant for, sometimes any other."""
    if data.draw(st.integers(0, 4), label="class choice") > 0:
        return usual
    return data.draw(st.sampled_from(N_CLASSES), label="sop class")


def draw_instance(data: Any, pool: Pool, sop_class: str) -> str:
    own = pool.of(sop_class)
    choice = data.draw(st.integers(0, 5), label="instance choice")
    if choice <= 2 and own:
        return data.draw(st.sampled_from(own))
    if choice == 3 and pool.all():
        return data.draw(st.sampled_from(pool.all()))
    if choice == 4:
        return uids.PrinterInstance
    return data.draw(st.sampled_from(STRANGE_UIDS))


def film_session_ds(data: Any) -> Dataset:
    ds = Dataset()
    ds.NumberOfCopies = data.draw(st.integers(1, 3))
    ds.PrintPriority = data.draw(st.sampled_from(["MED", "HIGH", "URGENT"]))
    ds.MediumType = data.draw(st.sampled_from(["PAPER", "BLUE FILM", "GOLD"]))
    return ds


def film_box_ds(data: Any, pool: Pool) -> Dataset:
    sessions = pool.of(uids.BasicFilmSession) or ["1.2.3.4"]
    display_format = data.draw(
        st.sampled_from(
            ["STANDARD\\1,1", "STANDARD\\2,1", "ROW\\1,2", "COL\\2", "STANDARD\\11,1", "X"]
        )
    )
    ds = film_box_request(data.draw(st.sampled_from(sessions)), display_format)
    ds.FilmSizeID = data.draw(
        st.sampled_from(["8INX10IN", "A4", "14INX17IN", "8INX10IN", "99INX99IN"])
    )
    if data.draw(st.booleans()):
        ds.AnnotationDisplayFormatID = data.draw(st.sampled_from(["BOTTOM", "BOTTOM", "NONE"]))
    luts = pool.of(uids.PresentationLUT)
    if luts and data.draw(st.booleans()):
        ds.ReferencedPresentationLUTSequence = referenced(
            uids.PresentationLUT, data.draw(st.sampled_from(luts))
        )
    return ds


def image_box_ds(data: Any, color: bool, position: int) -> Dataset:
    ds = Dataset()
    ds.ImageBoxPosition = data.draw(st.sampled_from([position] * 4 + [1, 2, 0, 99]))
    keyword = "BasicColorImageSequence" if color else "BasicGrayscaleImageSequence"
    items = [image_item(data, color)] if data.draw(st.integers(0, 5)) else []
    setattr(ds, keyword, Sequence(items))
    if data.draw(st.booleans()):
        ds.MagnificationType = data.draw(st.sampled_from(["NONE", "CUBIC", "ZOOM"]))
    if data.draw(st.booleans()):
        ds.RequestedDecimateCropBehavior = data.draw(st.sampled_from(["CROP", "FAIL"]))
        ds.RequestedImageSize = data.draw(st.sampled_from(["1", "1000", "0"]))
    return ds


def lut_ds(data: Any) -> Dataset:
    ds = Dataset()
    if data.draw(st.booleans()):
        ds.PresentationLUTShape = data.draw(st.sampled_from(["IDENTITY", "LIN OD", "CURVY"]))
    else:
        item = Dataset()
        entries = data.draw(st.sampled_from([0, 2, 256, 4096]))
        item.LUTDescriptor = [entries, 0, data.draw(st.sampled_from([8, 12, 16]))]
        item.add_new(0x00283006, "US", list(range(data.draw(st.sampled_from([entries, 3])))))
        ds.PresentationLUTSequence = Sequence([item])
    return ds


def store_dataset(data: Any) -> tuple[str, Dataset]:
    """(context, object) for a C-STORE: an image, perhaps broken, or a report."""
    kind = data.draw(st.sampled_from(["CT", "CT", "US", "SR", "mismatch"]))
    rows = data.draw(st.integers(1, 32))
    if kind == "US":
        ds = color_image("US", rows, data.draw(st.integers(1, 32)))
    elif kind == "SR":
        ds = Dataset()
        ds.SOPClassUID = SR
        ds.SOPInstanceUID = "1.2.3.4.5"
        ds.Modality = "SR"
        if data.draw(st.booleans()):
            ds.ContentSequence = Sequence([Dataset()])
        return SR, ds
    else:
        ds = grayscale_image("CT", rows, data.draw(st.integers(1, 32)))
    if kind == "mismatch":
        ds.SOPClassUID = US  # sent on the CT context
    for _ in range(data.draw(st.integers(0, 2))):
        flaw = data.draw(
            st.sampled_from(["absurd size", "short", "no pixels", "bits", "frames", "photometric"])
        )
        if flaw == "absurd size":
            ds.Rows = data.draw(st.sampled_from([0, 65535]))
            ds.Columns = data.draw(st.sampled_from([1, 65535]))
        elif flaw == "short" and "PixelData" in ds:
            ds.PixelData = ds.PixelData[:3]
        elif flaw == "no pixels":
            ds.pop(0x7FE00010, None)
        elif flaw == "bits":
            ds.BitsAllocated = data.draw(st.sampled_from([0, 1, 32, 64]))
        elif flaw == "frames":
            ds.NumberOfFrames = data.draw(st.sampled_from([0, 2, 100000]))
        else:
            ds.PhotometricInterpretation = data.draw(st.sampled_from(["YBR_FULL_422", "ABC"]))
    return (US if kind == "US" else CT), ds


# -- Raw DIMSE -----------------------------------------------------------------------


class Peer:
    """One association; sends raw DIMSE requests and keeps what came back."""

    def __init__(self, address, calling: str, transfer_syntaxes: list[str]) -> None:
        self.ae = AE(ae_title=calling)
        # Loopback answers come in milliseconds: a missing one fails fast.
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = WAIT / 2
        for context in CONTEXTS:
            self.ae.add_requested_context(context, transfer_syntaxes)
        self.last_command: Dataset | None = None
        self.assoc = self.ae.associate(
            *address,
            ae_title="PRINTSCP",
            evt_handlers=[(evt.EVT_CONN_OPEN, no_delay), (evt.EVT_DIMSE_RECV, self._received)],
        )
        assert self.assoc.is_established, "the server refused the association"
        self.message_id = 0
        self.reply: Dataset | None = None

    def _received(self, event: Any) -> None:
        self.last_command = event.message.command_set

    def context(self, abstract_syntax: str):
        return next(
            cx for cx in self.assoc.accepted_contexts if cx.abstract_syntax == abstract_syntax
        )

    def implicit(self, abstract_syntax: str) -> bool:
        return self.context(abstract_syntax).transfer_syntax[0].is_implicit_VR

    def send(self, request: Any, abstract_syntax: str) -> Dataset:
        """Send ``request`` on the context and wait for its response's status."""
        self.message_id += 1
        request.MessageID = self.message_id
        assoc = self.assoc
        assoc._reactor_checkpoint.clear()
        while not assoc._is_paused:
            time.sleep(0.0001)
        try:
            assoc.dimse.send_msg(request, self.context(abstract_syntax).context_id)
            _, response = assoc.dimse.get_msg(block=True)
        finally:
            assoc._reactor_checkpoint.set()
        assert response is not None, f"no response to {type(request).__name__}"
        assert type(response) is type(request), f"{type(response).__name__} answered"
        self.reply = None
        attribute_list = getattr(response, "AttributeList", None)
        if attribute_list is not None and attribute_list.getvalue():
            self.reply = decode(attribute_list, self.implicit(abstract_syntax), True)
        return assoc._check_received_status(response)


def with_data(request: Any, attribute: str, data: bytes) -> Any:
    # An empty data set is sent as none: "present but empty" is no DIMSE message.
    setattr(request, attribute, BytesIO(data) if data else None)
    return request


# -- The property --------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("scp-properties")
    with running_server(root, dpi=20) as running:
        running.root = root
        yield running


def check(status: Dataset, operation: str, sop_class: str, log: list) -> int:
    assert "Status" in status, f"{operation}: no status in the response ({log})"
    code = int(status.Status)
    assert code in allowed(operation, sop_class), (
        f"{operation} {sop_class}: status 0x{code:04X} is not documented ({log})"
    )
    if Status(code).is_failure:
        assert str(status.get("ErrorComment", "")).strip(), f"0x{code:04X} without comment {log}"
    name = CLASS_NAMES.get(sop_class, sop_class)
    log.append(f"{operation} {name} -> 0x{code:04X}")
    event(f"{operation} {name}: {Status(code).category.value}")
    return code


def next_in_job(pool: Pool) -> tuple[str, str, str | None]:
    """(operation, SOP class, instance) a normal print job would send next."""
    if not pool.of(uids.BasicFilmSession):
        return "N-CREATE", uids.BasicFilmSession, None
    if not pool.of(uids.BasicFilmBox):
        return "N-CREATE", uids.BasicFilmBox, None
    boxes = [(c, u) for c in IMAGE_BOXES for u in pool.of(c) if u not in pool.set_boxes]
    if boxes:
        return "N-SET", *boxes[0]
    return "N-ACTION", uids.BasicFilmBox, pool.of(uids.BasicFilmBox)[-1]


IMAGE_BOXES = (uids.BasicGrayscaleImageBox, uids.BasicColorImageBox)


def run_step(peer: Peer, pool: Pool, data: Any, log: list) -> None:
    operation = data.draw(
        st.sampled_from(
            ["next in job"] * 6
            + ["N-CREATE"] * 3
            + ["N-SET"] * 3
            + ["N-GET", "N-ACTION", "N-ACTION", "N-DELETE"]
            + ["C-STORE"] * 2
        ),
        label="operation",
    )
    meta = data.draw(st.sampled_from([GRAY, GRAY, COLOR]), label="meta")
    planned: tuple[str, str | None] | None = None
    if operation == "next in job":
        operation, sop_class, uid = next_in_job(pool)
        planned = sop_class, uid
        meta = pool.meta or meta
    if operation == "C-STORE":
        context, ds = store_dataset(data)
        encoded = Encoded(ds, peer.implicit(context))
        damage(encoded, data)
        request = C_STORE()
        request.AffectedSOPClassUID = context
        request.AffectedSOPInstanceUID = str(ds.get("SOPInstanceUID", "1.2.3"))
        request.Priority = 2
        with_data(request, "DataSet", encoded.bytes())
        check(peer.send(request, context), operation, context, log)
        return

    if operation == "N-CREATE":
        if planned:
            sop_class = planned[0]
        else:
            usual = data.draw(
                st.sampled_from([uids.BasicFilmSession, uids.BasicFilmBox, uids.PresentationLUT])
            )
            sop_class = draw_class(data, usual)
        context = uids.PresentationLUT if sop_class == uids.PresentationLUT else meta
        if sop_class == uids.BasicFilmSession:
            ds = film_session_ds(data)
        elif sop_class == uids.BasicFilmBox:
            ds = film_box_ds(data, pool)
        elif sop_class == uids.PresentationLUT:
            ds = lut_ds(data)
        else:
            ds = Dataset()
        encoded = Encoded(ds, peer.implicit(context))
        damage(encoded, data)
        request = N_CREATE()
        request.AffectedSOPClassUID = sop_class
        requested = None
        if data.draw(st.integers(0, 4)) == 0:
            requested = data.draw(st.sampled_from([*STRANGE_UIDS[:5], *pool.all()[:3]]))
            request.AffectedSOPInstanceUID = requested or None
        with_data(request, "AttributeList", encoded.bytes())
        code = check(peer.send(request, context), operation, sop_class, log)
        if not Status(code).is_failure:
            command = peer.last_command
            created = requested or (command.get("AffectedSOPInstanceUID") if command else None)
            pool.add(sop_class, created)
            if sop_class == uids.BasicFilmBox:
                pool.meta = meta
            reply = peer.reply
            for keyword, kind in (
                ("ReferencedImageBoxSequence", None),
                ("ReferencedBasicAnnotationBoxSequence", uids.BasicAnnotationBox),
            ):
                items = reply.get(keyword, []) if reply is not None else []
                for position, item in enumerate(items, 1):
                    uid = str(item.ReferencedSOPInstanceUID)
                    pool.add(kind or str(item.ReferencedSOPClassUID), uid)
                    pool.positions[uid] = position
        return

    usual = {
        "N-SET": (
            uids.BasicFilmSession,
            uids.BasicFilmBox,
            uids.BasicGrayscaleImageBox,
            uids.BasicGrayscaleImageBox,
            uids.BasicColorImageBox,
            uids.BasicAnnotationBox,
        ),
        "N-GET": (uids.Printer,),
        "N-ACTION": (uids.BasicFilmBox, uids.BasicFilmSession),
        "N-DELETE": (uids.BasicFilmBox, uids.BasicFilmSession, uids.PresentationLUT),
    }[operation]
    if planned:
        sop_class, uid = planned
    else:
        sop_class = draw_class(data, data.draw(st.sampled_from(usual)))
        uid = draw_instance(data, pool, sop_class)
    context = uids.PresentationLUT if sop_class == uids.PresentationLUT else meta
    if sop_class == uids.BasicAnnotationBox:
        context = uids.BasicAnnotationBox
    if operation == "N-SET":
        if sop_class == uids.BasicFilmSession:
            ds = film_session_ds(data)
        elif sop_class == uids.BasicFilmBox:
            ds = Dataset()
            ds.MagnificationType = data.draw(st.sampled_from(["CUBIC", "NONE", "ZOOM"]))
        elif sop_class in (uids.BasicGrayscaleImageBox, uids.BasicColorImageBox):
            position = pool.positions.get(uid, 1)
            ds = image_box_ds(data, sop_class == uids.BasicColorImageBox, position)
        elif sop_class == uids.BasicAnnotationBox:
            ds = Dataset()
            ds.AnnotationPosition = data.draw(st.sampled_from([1, 2]))
            ds.TextString = data.draw(st.sampled_from(TEXTS))
        else:
            ds = Dataset()
            ds.PatientName = "X"
        encoded = Encoded(ds, peer.implicit(context))
        damage(encoded, data)
        request = N_SET()
        with_data(request, "ModificationList", encoded.bytes())
    elif operation == "N-GET":
        request = N_GET()
        tags = data.draw(
            st.lists(st.sampled_from([0x21100010, 0x21100020, 0x00080070, 0x7FE00010, 0]))
        )
        request.AttributeIdentifierList = tags or None
    elif operation == "N-ACTION":
        request = N_ACTION()
        request.ActionTypeID = data.draw(st.sampled_from([1, 1, 1, 2, 0, 0xFFFF]))
        if data.draw(st.integers(0, 5)) == 0:
            encoded = Encoded(Dataset(), peer.implicit(context))
            damage(encoded, data)
            with_data(request, "ActionInformation", encoded.bytes())
    else:
        request = N_DELETE()
    request.RequestedSOPClassUID = sop_class
    request.RequestedSOPInstanceUID = uid
    check(peer.send(request, context), operation, sop_class, log)
    if operation == "N-SET" and planned:
        pool.set_boxes.add(uid)  # the job goes on, whatever the outcome


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_request_sequences_get_documented_statuses_and_leave_the_server_sound(
    server, data
):
    calling = data.draw(st.sampled_from(AE_TITLES), label="calling AE title")
    syntaxes = data.draw(
        st.sampled_from(
            [
                [EXPLICIT_VR_LITTLE_ENDIAN],
                [IMPLICIT_VR_LITTLE_ENDIAN],
                [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN],
            ]
        ),
        label="transfer syntaxes",
    )
    peer = Peer(server.address, calling, syntaxes)
    pool = Pool()
    log: list[str] = []
    try:
        for _ in range(data.draw(st.integers(1, STEPS), label="steps")):
            run_step(peer, pool, data, log)
            assert peer.assoc.is_established, f"association ended after {log}"
        echo = peer.assoc.send_c_echo()
        assert echo.get("Status") == 0x0000, f"C-ECHO after {log}"
    finally:
        if peer.assoc.is_established:
            peer.assoc.release()
    # Released: its print objects and what it sent with C-STORE are let go.
    assert wait_until(lambda: server.scp.open_associations == 0)
    assert wait_until(lambda: server.budget.held == 0)


def test_after_the_generated_sequences_the_server_prints_a_normal_job(server):
    """Runs after the property (file order): the server is alive and prints right."""
    root: Path = server.root
    pixels = np.zeros((64, 64), np.uint8)
    pixels[:, 32:] = 255
    layout = {"ImageDisplayFormat": "STANDARD\\1,1", "FilmSizeID": "8INX10IN"}
    host, port = server.address
    with RealPrintClient(host, port, "PRINTSCP", "AFTERWARDS", film_box=layout) as client:
        client.print_image(pixels)
    films = output_files(root / "filmbox" / "AFTERWARDS")
    assert len(films) == 1
    film = load_image(films[0]).astype(float)
    if film.ndim == 3:
        film = film.mean(axis=2)
    height, width = film.shape
    assert (width, height) == (160, 200)  # 8x10 inches at 20 dpi
    middle = film[height // 2 - 10 : height // 2 + 10]
    left, right = middle[:, width // 4 - 10 : width // 4], middle[:, 3 * width // 4 :][:, :10]
    assert left.mean() < 64 and right.mean() > 192  # black stays black, white white
    # Nothing outside the output folders, whatever the calling AE titles were.
    written = [p for p in root.rglob("*") if p.is_file()]
    outside = [p for p in written if not p.is_relative_to(root / "filmbox")]
    outside = [p for p in outside if not p.is_relative_to(root / "failed-jobs")]
    assert not outside
    for path in written:
        assert path.resolve().is_relative_to(root.resolve())


# -- Requests pynetdicom alone would abort on or leave unanswered -----------------
# Found by the property above: each now gets a response of its own kind with a
# failure status and an Error Comment, and the association goes on.


def n_request(kind, sop_class: str, uid: str | None = "1.2.3.4"):
    request = kind()
    if kind is N_CREATE:
        request.AffectedSOPClassUID = sop_class
    else:
        request.RequestedSOPClassUID = sop_class
        request.RequestedSOPInstanceUID = uid
    return request


def c_store(sop_class: str, data: bytes | None):
    request = C_STORE()
    request.AffectedSOPClassUID = sop_class
    request.AffectedSOPInstanceUID = "1.2.3.4"
    request.Priority = 2
    request.DataSet = BytesIO(data) if data is not None else None
    return request


def ct_bytes() -> bytes:
    return Encoded(grayscale_image("CT", 4, 4), implicit=False).bytes()


def film_session_bytes() -> bytes:
    ds = Dataset()
    ds.NumberOfCopies = 1
    return Encoded(ds, implicit=False).bytes()


UNDISPATCHABLE = {
    "N-SET of an unknown SOP class": (
        lambda: n_request(N_SET, "1.2.3.4.5.6"),
        GRAY,
        0x0118,
    ),
    "N-SET of an unknown SOP class, with a data set": (
        lambda: with_data(
            n_request(N_SET, "1.2.3.4.5.6"), "ModificationList", film_session_bytes()
        ),
        GRAY,
        0x0118,
    ),
    "N-CREATE of a storage SOP class": (
        lambda: with_data(n_request(N_CREATE, CT), "AttributeList", film_session_bytes()),
        GRAY,
        0x0118,
    ),
    "N-ACTION of a verification SOP class": (
        lambda: setattr(r := n_request(N_ACTION, VERIFICATION), "ActionTypeID", 1) or r,
        GRAY,
        0x0118,
    ),
    "N-SET with an empty Requested SOP Instance UID": (
        lambda: with_data(
            n_request(N_SET, uids.BasicFilmSession, ""), "ModificationList", film_session_bytes()
        ),
        GRAY,
        0x0110,
    ),
    "C-STORE of a print SOP class": (
        lambda: c_store(uids.BasicFilmBox, ct_bytes()),
        CT,
        0x0122,
    ),
}


@pytest.mark.parametrize("case", list(UNDISPATCHABLE))
def test_undispatchable_requests_get_a_failure_and_the_association_goes_on(server, case):
    make, context, expected = UNDISPATCHABLE[case]
    peer = Peer(server.address, "GUARD", [EXPLICIT_VR_LITTLE_ENDIAN])
    try:
        status = peer.send(make(), context)  # asserts a response of the request's kind
        assert status.Status == expected
        assert str(status.get("ErrorComment", "")).strip()
        # The association goes on: a film session, then a C-ECHO.
        create = with_data(
            n_request(N_CREATE, uids.BasicFilmSession), "AttributeList", film_session_bytes()
        )
        assert peer.send(create, GRAY).Status == 0x0000
        assert peer.assoc.send_c_echo().Status == 0x0000
    finally:
        peer.assoc.release()


def test_c_echo_of_another_sop_class_is_refused_not_aborted(server):
    from pynetdicom.dimse_primitives import C_ECHO

    peer = Peer(server.address, "GUARD", [EXPLICIT_VR_LITTLE_ENDIAN])
    try:
        request = C_ECHO()
        request.AffectedSOPClassUID = uids.BasicFilmSession
        status = peer.send(request, VERIFICATION)
        assert status.Status == 0x0122
        assert peer.assoc.send_c_echo().Status == 0x0000
    finally:
        peer.assoc.release()
