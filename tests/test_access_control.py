"""[access]: allow-lists of calling AE titles and client addresses, strict called AE
titles and a limit per address, each refused with the A-ASSOCIATE-RJ PS3.8 gives it.

Real associations on loopback (127.0.0.1, and 127.0.0.2 as a second client
address), from pynetdicom, this project's client and command line, and DCMTK.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import subprocess
from pathlib import Path

import pytest

from dicomprint_server import ConfigError, load_config
from dicomprint_server.access import AccessPolicy, Rejection
from dicomprint_server.cli import main
from dicomprint_server.client import PrintClient, PrintClientError
from server_support import WAIT, output_files, wait_until
from tls_support import (
    CALLED_NOT_RECOGNIZED,
    CALLING_NOT_RECOGNIZED,
    LOCAL_LIMIT,
    NO_REASON,
    associate,
    configured_server,
    echo_ok,
    rejected_lines,
    rejection,
)

ECHOSCU = Path("/usr/bin/echoscu")


def loopback_alias_works() -> bool:
    """127.0.0.2 can be a source address (all of 127.0.0.0/8 is loopback on Linux)."""
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


needs_second_address = pytest.mark.skipif(
    not loopback_alias_works(), reason="127.0.0.2 is not a usable loopback address here"
)


# -- The default: anyone ----------------------------------------------------------------------


def test_default_configuration_accepts_any_calling_and_called_ae_title(tmp_path):
    assert AccessPolicy.from_config(load_config()).is_open
    with configured_server(tmp_path) as server:
        for calling, called in (("ANYONE", "PRINTSCP"), ("X", "NOT_OUR_TITLE"), ("ANY_AE", "Z")):
            assert echo_ok(associate(server.address, calling=calling, called=called))


# -- Calling AE titles ---------------------------------------------------------------------------


def test_calling_ae_title_not_listed_is_rejected_with_reason_3(tmp_path, caplog):
    toml = '[access]\ncalling_ae_titles = ["CT_ROOM_1", "MR_3T"]\n'
    with caplog.at_level(logging.INFO), configured_server(tmp_path, toml) as server:
        assoc = associate(server.address, calling="INTRUDER")
        assert rejection(assoc) == CALLING_NOT_RECOGNIZED
        # Listed titles get in, before and after a rejection.
        assert echo_ok(associate(server.address, calling="CT_ROOM_1"))
        assert echo_ok(associate(server.address, calling="MR_3T"))
        assert rejection(associate(server.address, calling="ct_room_1")) == CALLING_NOT_RECOGNIZED
        assert wait_until(lambda: server.scp.open_associations == 0)
    lines = rejected_lines(caplog)
    assert len(lines) == 2, lines  # one line per rejection
    assert lines[0] == (
        "association from 'INTRUDER'@127.0.0.1 (called 'PRINTSCP') rejected: "
        "calling AE title 'INTRUDER' is not in [access] calling_ae_titles; "
        "A-ASSOCIATE-RJ rejected-permanent, service-user, reason 3 "
        "(calling AE title not recognized)"
    )


def test_print_client_names_the_rejection(tmp_path):
    toml = '[access]\ncalling_ae_titles = ["CT_ROOM_1"]\n'
    with configured_server(tmp_path, toml) as server:
        host, port = server.address
        with pytest.raises(PrintClientError) as info:
            PrintClient(host, port, calling_ae="WARD_PC").open()
        assert "rejected: rejected-permanent, service-user, reason 3" in str(info.value)
        assert "calling AE title not recognized" in str(info.value)
        with PrintClient(host, port, calling_ae="CT_ROOM_1", timeout=WAIT) as client:
            client.print_image(_image())
        assert len(output_files(tmp_path / "filmbox")) == 1


def test_echo_command_reports_the_rejection(tmp_path, capsys):
    toml = '[access]\ncalling_ae_titles = ["CT_ROOM_1"]\n'
    with configured_server(tmp_path, toml) as server:
        host, port = server.address
        peer = ["--host", host, "--port", str(port), "--timeout", str(WAIT)]
        assert main(["echo", *peer, "--calling-ae", "WARD_PC"]) == 1
        assert "calling AE title not recognized" in capsys.readouterr().err
        assert main(["echo", *peer, "--calling-ae", "CT_ROOM_1"]) == 0
        assert "0x0000" in capsys.readouterr().out


@pytest.mark.skipif(not ECHOSCU.exists(), reason="DCMTK's echoscu is not installed")
def test_dcmtk_echoscu_sees_the_calling_ae_title_rejection(tmp_path):
    toml = '[access]\ncalling_ae_titles = ["CT_ROOM_1"]\n'
    with configured_server(tmp_path, toml) as server:
        host, port = server.address

        def echoscu(calling: str) -> subprocess.CompletedProcess:
            command = [str(ECHOSCU), "-aet", calling, "-aec", "PRINTSCP", host, str(port)]
            return subprocess.run(command, capture_output=True, text=True, timeout=WAIT * 3)

        refused = echoscu("INTRUDER")
        assert refused.returncode != 0
        output = refused.stdout + refused.stderr
        assert "Association Rejected" in output
        assert "Rejected Permanent, Source: Service User" in output
        assert "Calling AE Title Not Recognized" in output
        assert echoscu("CT_ROOM_1").returncode == 0


# -- Client addresses --------------------------------------------------------------------------


def test_address_outside_the_allowed_networks_is_rejected_with_reason_1(tmp_path, caplog):
    toml = '[access]\nclient_addresses = ["10.0.0.0/8", "fd00::/8"]\n'
    with caplog.at_level(logging.INFO), configured_server(tmp_path, toml) as server:
        assert rejection(associate(server.address)) == NO_REASON
        assert wait_until(lambda: len(rejected_lines(caplog)) == 1)
    (line,) = rejected_lines(caplog)
    assert "address 127.0.0.1 is not in [access] client_addresses" in line
    assert "rejected-permanent, service-user, reason 1 (no reason given)" in line


@needs_second_address
def test_allowed_address_gets_in_and_another_does_not(tmp_path):
    toml = '[access]\nclient_addresses = ["127.0.0.1"]\n'
    with configured_server(tmp_path, toml) as server:
        assert echo_ok(associate(server.address, bind="127.0.0.1"))
        assert rejection(associate(server.address, bind="127.0.0.2")) == NO_REASON
        assert echo_ok(associate(server.address, bind="127.0.0.1"))


@needs_second_address
def test_networks_match_by_prefix(tmp_path):
    toml = '[access]\nclient_addresses = ["127.0.0.2/31"]\n'  # .2 and .3
    with configured_server(tmp_path, toml) as server:
        assert echo_ok(associate(server.address, bind="127.0.0.2"))
        assert echo_ok(associate(server.address, bind="127.0.0.3"))
        assert rejection(associate(server.address, bind="127.0.0.1")) == NO_REASON


@needs_second_address
def test_calling_ae_title_bound_to_its_addresses(tmp_path, caplog):
    toml = (
        "[access.calling_ae_addresses]\n"
        'CT_ROOM_1 = ["127.0.0.1"]\n'
        'MR_3T = ["127.0.0.2/31", "fd00::7"]\n'
    )
    with caplog.at_level(logging.INFO), configured_server(tmp_path, toml) as server:
        # Each bound title from its own address gets in, from the other's does not.
        assert echo_ok(associate(server.address, calling="CT_ROOM_1", bind="127.0.0.1"))
        assert echo_ok(associate(server.address, calling="MR_3T", bind="127.0.0.3"))
        refused = associate(server.address, calling="CT_ROOM_1", bind="127.0.0.2")
        assert rejection(refused) == CALLING_NOT_RECOGNIZED
        refused = associate(server.address, calling="MR_3T", bind="127.0.0.1")
        assert rejection(refused) == CALLING_NOT_RECOGNIZED
        # A title that is not bound calls from anywhere.
        assert echo_ok(associate(server.address, calling="US_2", bind="127.0.0.2"))
        assert wait_until(lambda: len(rejected_lines(caplog)) == 2)
    first = rejected_lines(caplog)[0]
    assert "calling AE title 'CT_ROOM_1' may not associate from 127.0.0.2" in first
    assert "calling AE title not recognized" in first
    starting = [r.getMessage() for r in caplog.records if "MR_3T only from" in r.getMessage()]
    assert starting and "127.0.0.2/31, fd00::7/128" in starting[0]


def test_address_check_comes_before_the_ae_titles(tmp_path):
    toml = '[access]\nclient_addresses = ["10.0.0.0/8"]\ncalling_ae_titles = ["CT"]\n'
    with configured_server(tmp_path, toml) as server:
        assert rejection(associate(server.address, calling="OTHER")) == NO_REASON


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_client_addresses(tmp_path):
    with configured_server(tmp_path, '[access]\nclient_addresses = ["::1"]\n', host="::1") as s:
        assert echo_ok(associate(s.address))
    with configured_server(
        tmp_path, '[access]\nclient_addresses = ["fd00::/8"]\n', host="::1"
    ) as s:
        assert rejection(associate(s.address)) == NO_REASON


# -- Called AE titles --------------------------------------------------------------------------


def test_strict_called_ae_title_accepts_ours_and_routed_ones_only(tmp_path, caplog):
    toml = (
        '[access]\nstrict_called_ae_title = true\n[routing.called_ae_titles]\nPAPER = "default"\n'
    )
    with caplog.at_level(logging.INFO), configured_server(tmp_path, toml) as server:
        assert echo_ok(associate(server.address, called="PRINTSCP"))
        assert echo_ok(associate(server.address, called="PAPER"))
        assert rejection(associate(server.address, called="UNKNOWN")) == CALLED_NOT_RECOGNIZED
        assert rejection(associate(server.address, called="printscp")) == CALLED_NOT_RECOGNIZED
        assert wait_until(lambda: len(rejected_lines(caplog)) == 2)
    line = rejected_lines(caplog)[0]
    assert "(called 'UNKNOWN') rejected: called AE title 'UNKNOWN' is neither ours" in line
    assert "reason 7 (called AE title not recognized)" in line


def test_strict_called_ae_title_follows_the_ae_title_option(tmp_path):
    toml = "[access]\nstrict_called_ae_title = true\n"
    with configured_server(tmp_path, toml, ae_title="FILMROOM") as server:
        assert echo_ok(associate(server.address, called="FILMROOM"))
        assert rejection(associate(server.address, called="PRINTSCP")) == CALLED_NOT_RECOGNIZED


# -- Limits ------------------------------------------------------------------------------------


@needs_second_address
def test_associations_per_address_are_limited(tmp_path, caplog):
    toml = "[access]\nmax_associations_per_address = 2\n"
    with caplog.at_level(logging.INFO), configured_server(tmp_path, toml) as server:
        first = associate(server.address)
        second = associate(server.address)
        assert first.is_established and second.is_established
        assert rejection(associate(server.address)) == LOCAL_LIMIT
        # Another address is not held up by this one's associations.
        assert echo_ok(associate(server.address, bind="127.0.0.2"))
        first.release()
        assert wait_until(lambda: server.scp.open_associations == 1)
        assert echo_ok(associate(server.address))
        second.release()
    (line,) = rejected_lines(caplog)
    assert "2 association(s) from 127.0.0.1 already open" in line
    assert "max_associations_per_address = 2" in line
    assert "rejected-transient, service-provider (presentation), reason 2" in line


def test_half_open_connections_count_against_their_address(tmp_path):
    # Connections that have not sent their A-ASSOCIATE-RQ yet hold slots too,
    # until the ACSE time-out closes them.
    toml = "[server]\nacse_timeout = 3.0\n[access]\nmax_associations_per_address = 1\n"
    with configured_server(tmp_path, toml) as server:
        with socket.create_connection(server.address, timeout=WAIT):
            assert wait_until(lambda: len(server.ae.active_associations) == 1)
            assert rejection(associate(server.address)) == LOCAL_LIMIT
            assert wait_until(lambda: not server.ae.active_associations)
            assert echo_ok(associate(server.address))


def test_max_associations_rejection_is_logged_with_its_reason(tmp_path, caplog):
    with caplog.at_level(logging.INFO), configured_server(tmp_path, max_associations=1) as server:
        held = associate(server.address)
        assert held.is_established
        assert rejection(associate(server.address, calling="LATE")) == LOCAL_LIMIT
        held.release()
    (line,) = rejected_lines(caplog)
    assert line.startswith("association from 'LATE'@127.0.0.1 (called 'PRINTSCP') rejected:")
    assert "1 associations open ([server] max_associations = 1)" in line
    assert "rejected-transient, service-provider (presentation), reason 2" in line


# -- The policy and its configuration ----------------------------------------------------------


def test_policy_checks_in_order():
    policy = AccessPolicy(
        frozenset({"CT"}),
        (ipaddress.ip_network("192.168.1.0/24"),),
        frozenset({"PRINTSCP"}),
        1,
    )
    assert policy.check("192.168.1.7", "CT", "PRINTSCP", 0) is None
    assert policy.check("192.168.2.7", "CT", "PRINTSCP", 0).reason == 1
    assert policy.check("::ffff:192.168.1.7", "CT", "PRINTSCP", 0) is None  # IPv4-mapped
    assert policy.check("not an address", "CT", "PRINTSCP", 0).reason == 1
    assert policy.check("192.168.1.7", "MR", "PRINTSCP", 0).reason == 3
    assert policy.check("192.168.1.7", " CT ", "PRINTSCP  ", 0) is None  # padding
    assert policy.check("192.168.1.7", "CT", "OTHER", 0).reason == 7
    limited = policy.check("192.168.1.7", "CT", "PRINTSCP", 1)
    assert (limited.result, limited.source, limited.reason) == (2, 3, 2)
    assert str(Rejection(1, 1, 3, "")) == (
        "rejected-permanent, service-user, reason 3 (calling AE title not recognized)"
    )


def test_access_table_is_read(tmp_path):
    path = tmp_path / "access.toml"
    path.write_text(
        "[access]\n"
        'calling_ae_titles = ["CT_ROOM_1", " MR_3T "]\n'
        'client_addresses = ["10.1.20.0/24", "192.168.0.7", "fd00:12::/64"]\n'
        "strict_called_ae_title = true\n"
        "max_associations_per_address = 4\n"
        "[access.calling_ae_addresses]\n"
        'CT_ROOM_1 = ["10.1.20.5", "10.1.21.0/28"]\n'
    )
    access = load_config(path).access
    assert {k: [str(n) for n in v] for k, v in access.calling_ae_addresses.items()} == {
        "CT_ROOM_1": ["10.1.20.5/32", "10.1.21.0/28"]
    }
    assert access.calling_ae_titles == ("CT_ROOM_1", "MR_3T")
    assert [str(n) for n in access.client_addresses] == [
        "10.1.20.0/24",
        "192.168.0.7/32",
        "fd00:12::/64",
    ]
    assert access.strict_called_ae_title is True
    assert access.max_associations_per_address == 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("[access]\ncalling_ae_title = []\n", "unknown key in [access]: 'calling_ae_title'"),
        ('[access]\ncalling_ae_titles = "CT"\n', "calling_ae_titles = 'CT': a list of AE titles"),
        (
            '[access]\ncalling_ae_titles = ["WAY_TOO_LONG_AE_TITLE"]\n',
            "[access] calling_ae_titles: 'WAY_TOO_LONG_AE_TITLE' is not an AE title",
        ),
        (
            '[access]\nclient_addresses = ["printers.example.org"]\n',
            "'printers.example.org' is not an IP address or network",
        ),
        (
            '[access]\nclient_addresses = ["10.1.20.7/24"]\n',
            "'10.1.20.7/24' is not an IP address or network; the network is 10.1.20.0/24",
        ),
        ("[access]\nclient_addresses = [10]\n", "a list of addresses and networks"),
        ('[access]\nstrict_called_ae_title = "yes"\n', "expected bool"),
        ("[access]\nmax_associations_per_address = -1\n", "max_associations_per_address"),
        ("access = 3\n", "[access] must be a table"),
        (
            '[access.calling_ae_addresses]\nCT = "10.1.20.5"\n',
            "calling_ae_addresses.CT = '10.1.20.5': a list of addresses and networks",
        ),
        (
            "[access.calling_ae_addresses]\nCT = []\n",
            "calling_ae_addresses.CT: list at least one address",
        ),
        (
            '[access.calling_ae_addresses]\nCT = ["ct.example.org"]\n',
            "calling_ae_addresses.CT: 'ct.example.org' is not an IP address or network",
        ),
        (
            '[access.calling_ae_addresses]\nWAY_TOO_LONG_AE_TITLE = ["10.1.20.5"]\n',
            "calling_ae_addresses: 'WAY_TOO_LONG_AE_TITLE' is not an AE title",
        ),
        ('[access]\ncalling_ae_addresses = ["CT"]\n', "a table of AE title = [addresses]"),
        (
            '[access.calling_ae_addresses]\nCT = ["10.1.20.5"]\n" CT " = ["10.1.20.6"]\n',
            "calling_ae_addresses: 'CT' is listed twice",
        ),
    ],
)
def test_bad_access_table_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)


def _image():
    import numpy as np

    return np.tile(np.arange(64, dtype=np.uint16) * 64, (64, 1))


def test_conformance_statement_rejection_table_is_the_policy():
    from dicomprint_server.access import REASONS, RESULTS, SOURCES
    from test_conformance_doc import DOC

    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index("**Table 4.2-7a. Association rejections**") + 2
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    policy = AccessPolicy(
        frozenset({"CT", "MR"}),
        (ipaddress.ip_network("10.0.0.0/8"),),
        frozenset({"PRINTSCP"}),
        1,
        {"MR": (ipaddress.ip_network("10.0.0.9/32"),)},
        {"MR": ("mr.example.org",)},
    )
    mr = frozenset({"mr.example.org"})
    # Each request breaks this rule and every later one: the first rule listed decides.
    expected = [
        ("`[access] client_addresses`", policy.check("192.168.0.1", "US", "OTHER", 5)),
        ("`[access] calling_ae_titles`", policy.check("10.0.0.1", "US", "OTHER", 5)),
        ("`[access.calling_ae_addresses]`", policy.check("10.0.0.1", "MR", "OTHER", 5)),
        ("`[access.calling_ae_certificates]`", policy.check("10.0.0.9", "MR", "OTHER", 5)),
        ("`[access] strict_called_ae_title`", policy.check("10.0.0.9", "MR", "OTHER", 5, mr)),
        ("`[access] max_associations_per_address`", policy.check("10.0.0.1", "CT", "PRINTSCP", 5)),
        ("`[server] max_associations`", Rejection(*LOCAL_LIMIT, "pynetdicom's own")),
    ]
    assert [row[4] for row in rows] == [key for key, _ in expected]
    for row, (key, rejected) in zip(rows, expected, strict=True):
        numbers = [int(cell.split()[0]) for cell in row[1:4]]
        assert numbers == [rejected.result, rejected.source, rejected.reason], key
        words = [cell.split(maxsplit=1)[1] for cell in row[1:4]]
        assert words[0] == RESULTS[rejected.result], key
        assert words[1] == SOURCES[rejected.source], key
        meaning = REASONS[rejected.source][rejected.reason]
        assert words[2].replace("-", " ").lower() == meaning.lower(), key
