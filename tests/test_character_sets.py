"""Text beyond ASCII on the wire: requests decoded by their Specific Character Set,
responses and printer events naming UTF-8 when their text needs it, and the
product client declaring what it sends. Real associations on loopback.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom import Dataset

from client_support import RecordingPrinter, no_render
from dicomprint import uids
from dicomprint.character_set import LATIN1, UTF8, character_set_for, declare_character_set
from dicomprint_server.client import PrintClient as ProductClient
from dicomprint_server.print_scu import _outgoing
from server_support import PrintClient, running_server

#: (the request's character set, its text, the character set of the reply)
LABELS = [
    ("ISO_IR 100", "Größe Ærø", LATIN1),
    ("ISO_IR 192", "Größe", LATIN1),
    ("ISO_IR 192", "山田 Größe", UTF8),
    ("ISO 2022 IR 6\\ISO 2022 IR 87", "山田^太郎", UTF8),
    ("ISO_IR 144", "Иванов", UTF8),
]


def session_request(charset: str | None, label: str) -> Dataset:
    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    ds.FilmSessionLabel = label
    ds.NumberOfCopies = 1
    return ds


@pytest.mark.parametrize(("charset", "label", "replied_in"), LABELS)
def test_film_session_text_comes_back_as_sent(tmp_path, charset, label, replied_in):
    with running_server(tmp_path) as server, PrintClient(server.address) as client:
        status, _, reply = client.create(uids.BasicFilmSession, session_request(charset, label))
        assert status == 0x0000
        # The reply's text decodes to what was sent, whatever it was sent in.
        assert reply.FilmSessionLabel == label
        # Latin-1 where it suffices (most devices read it), UTF-8 beyond.
        assert reply.SpecificCharacterSet == replied_in


def test_ascii_replies_name_no_character_set(tmp_path):
    with running_server(tmp_path) as server, PrintClient(server.address) as client:
        status, _, reply = client.create(uids.BasicFilmSession, session_request(None, "WARD 7"))
        assert status == 0x0000
        assert reply.FilmSessionLabel == "WARD 7"
        assert "SpecificCharacterSet" not in reply


def test_printer_name_beyond_ascii_in_get_and_events(tmp_path):
    config = tmp_path / "dicomprint.toml"
    config.write_text('[profile.identity]\nPrinterName = "Röntgen Süd"\n', encoding="utf-8")
    with running_server(tmp_path, config_path=config) as server:
        with PrintClient(server.address) as client:
            status, reply = client.get(uids.Printer, uids.PrinterInstance, [0x21100030])
            assert status == 0x0000
            assert reply.PrinterName == "Röntgen Süd"
            assert reply.SpecificCharacterSet == LATIN1
            server.printer.set_status("WARNING", "FILM JAM")
            events = client.wait_for_events(1)
        assert events, "no N-EVENT-REPORT arrived"
        event_type, info = events[0]
        assert event_type == 2
        assert info.PrinterName == "Röntgen Süd" and info.PrinterStatusInfo == "FILM JAM"


def test_product_client_declares_what_it_sends(tmp_path):
    printer = RecordingPrinter()
    session = {"FilmSessionLabel": "山田 Größe"}
    with running_server(tmp_path, backend=printer, render=no_render) as server:
        host, port = server.address
        with ProductClient(host, port, "PRINTSCP", "CLIENT_TEST", film_session=session) as client:
            client.print_image(np.full((8, 8), 40, np.uint8))
    assert printer.jobs[0].session.FilmSessionLabel == "山田 Größe"


def test_the_print_scu_sends_a_declared_copy():
    request = Dataset()
    request.FilmSessionLabel = "山田"
    sent = _outgoing(request)
    assert sent.SpecificCharacterSet == UTF8 and sent.FilmSessionLabel == "山田"
    assert "SpecificCharacterSet" not in request  # the caller's data set is left alone
    ascii_only = Dataset()
    ascii_only.FilmSessionLabel = "WARD 7"
    assert _outgoing(ascii_only) is ascii_only


def test_declare_leaves_a_chosen_character_set_and_looks_into_sequences():
    chosen = Dataset()
    chosen.SpecificCharacterSet = "ISO_IR 100"
    chosen.FilmSessionLabel = "Größe"
    assert declare_character_set(chosen).SpecificCharacterSet == "ISO_IR 100"

    item = Dataset()
    item.TextString = "Ærø"
    outer = Dataset()
    outer.ReferencedImageBoxSequence = [item]
    assert character_set_for(outer) == LATIN1
    assert declare_character_set(outer).SpecificCharacterSet == LATIN1
    item.TextString = "Ærø 山"
    del outer.SpecificCharacterSet
    assert declare_character_set(outer).SpecificCharacterSet == UTF8

    plain = Dataset()
    plain.FilmSessionLabel = "WARD 7"
    plain.ImageDisplayFormat = "STANDARD\\1,1"
    assert "SpecificCharacterSet" not in declare_character_set(plain)
