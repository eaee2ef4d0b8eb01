"""DICOM over TLS: [tls] with a private CA on loopback.

A client with a certificate of the server's CA prints; one without a
certificate, with another CA's certificate or without TLS at all is refused
at the handshake, logged, and the server goes on serving. A connection that
never completes its handshake holds up nobody and is closed at the ACSE
time-out.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from backend_support import make_film, make_job
from dicomprint_server import ConfigError, load_config
from dicomprint_server.access import certificate_names
from dicomprint_server.backends._options import OptionError
from dicomprint_server.backends.dicom import DicomPrinter, DicomStoreError
from dicomprint_server.cli import main
from dicomprint_server.client import PrintClient, PrintClientError, echo
from dicomprint_server.tls import TlsError, client_context, server_context
from server_support import WAIT, output_files, serve_process, stop_process, wait_until
from test_client_cli import write_image
from tls_support import (
    CALLING_NOT_RECOGNIZED,
    Pki,
    associate,
    configured_server,
    echo_ok,
    rejected_lines,
    rejection,
    write_pem,
)

ECHOSCU = Path("/usr/bin/echoscu")


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki.create(tmp_path_factory.mktemp("pki"))


def good_client(pki: Pki) -> ssl.SSLContext:
    return client_context(pki.ca, pki.client_cert, pki.client_key)


def handshake_failures(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "TLS handshake with" in r.getMessage()]


def image():
    import numpy as np

    return np.tile(np.arange(64, dtype=np.uint16) * 64, (64, 1))


def test_client_with_a_certificate_of_our_ca_prints_a_film(tmp_path, pki, caplog):
    with caplog.at_level(logging.INFO), configured_server(tmp_path, pki.tls_table()) as server:
        host, port = server.address
        with PrintClient(host, port, tls=good_client(pki), timeout=WAIT) as client:
            client.print_image(image())
        assert len(client.films) == 1
    (film,) = output_files(tmp_path / "filmbox")
    assert film.parent.name == "DICOMPRINT"  # filed under the calling AE title
    messages = [r.getMessage() for r in caplog.records]
    assert any("listening on 127.0.0.1" in m and "with TLS" in m for m in messages)
    assert any(
        m.startswith("TLS from 127.0.0.1:") and "client certificate commonName=MODALITY" in m
        for m in messages
    ), messages


@pytest.mark.parametrize(
    "who", ["no certificate", "another CA's certificate", "no TLS", "does not trust the server"]
)
def test_refused_clients_are_logged_and_the_server_goes_on(tmp_path, pki, caplog, who):
    contexts = {
        "no certificate": lambda: client_context(pki.ca),
        "another CA's certificate": lambda: client_context(
            pki.ca, pki.stranger_cert, pki.stranger_key
        ),
        "no TLS": lambda: None,
        "does not trust the server": lambda: client_context(
            pki.other_ca, pki.client_cert, pki.client_key
        ),
    }
    with caplog.at_level(logging.INFO), configured_server(tmp_path, pki.tls_table()) as server:
        assoc = associate(server.address, tls=contexts[who]())
        assert not assoc.is_established
        assert wait_until(lambda: handshake_failures(caplog)), who
        assert server.scp.open_associations == 0
        # The next good client is served.
        assert echo_ok(associate(server.address, tls=good_client(pki)))
    (line,) = handshake_failures(caplog)
    assert line.startswith("TLS handshake with 127.0.0.1:")
    assert "failed, connection closed" in line
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and "dicomprint" in r.name]


def test_print_client_without_a_certificate_fails_cleanly(tmp_path, pki):
    with configured_server(tmp_path, pki.tls_table()) as server:
        host, port = server.address
        with pytest.raises(PrintClientError, match="TLS handshake failed"):
            PrintClient(host, port, tls=client_context(pki.ca), timeout=WAIT).open()
        with pytest.raises(PrintClientError):
            PrintClient(host, port, timeout=WAIT).open()  # no TLS at all
        assert echo(host, port, tls=good_client(pki), timeout=WAIT) == 0


def test_the_dicom_printer_stores_over_tls(tmp_path, pki):
    # Print to PACS over TLS: our own server takes the Secondary Capture images
    # (store-to-film) and prints them.
    with configured_server(tmp_path, pki.tls_table()) as server:
        host, port = server.address
        options = {
            "host": host,
            "port": port,
            "called_ae_title": "PRINTSCP",
            "timeout": WAIT,
            "tls": True,
            "tls_ca_certificates": str(pki.ca),
            "tls_certificate": str(pki.client_cert),
            "tls_private_key": str(pki.client_key),
        }
        DicomPrinter.from_options(options).print_films([make_film(90)], make_job())
        assert wait_until(lambda: len(output_files(tmp_path / "filmbox")) == 1)
        # Without a client certificate the server refuses it, and the backend says why.
        bare = DicomPrinter.from_options({**options, "tls_certificate": "", "tls_private_key": ""})
        with pytest.raises(DicomStoreError, match="TLS handshake failed"):
            bare.print_films([make_film(90)], make_job())
    with pytest.raises(OptionError, match="tls_"):
        DicomPrinter.from_options({**options, "tls": False})


def test_optional_client_certificate(tmp_path, pki):
    toml = pki.tls_table(require_client_certificate=False)
    with configured_server(tmp_path, toml) as server:
        assert echo_ok(associate(server.address, tls=client_context(pki.ca)))
        assert echo_ok(associate(server.address, tls=good_client(pki)))
        # A certificate presented is still verified.
        stranger = client_context(pki.ca, pki.stranger_cert, pki.stranger_key)
        assert not associate(server.address, tls=stranger).is_established


def test_minimum_version_1_3_refuses_a_tls_1_2_client(tmp_path, pki, caplog):
    old = good_client(pki)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    toml = pki.tls_table(minimum_version="1.3")
    with caplog.at_level(logging.INFO), configured_server(tmp_path, toml) as server:
        assert not associate(server.address, tls=old).is_established
        assert wait_until(lambda: handshake_failures(caplog))
        assert echo_ok(associate(server.address, tls=good_client(pki)))
    assert any("TLSv1.3" in r.getMessage() for r in caplog.records if "TLS from" in r.getMessage())


def test_silent_connection_holds_up_nobody_and_is_closed_at_the_acse_timeout(tmp_path, pki, caplog):
    toml = "[server]\nacse_timeout = 5.0\n" + pki.tls_table()
    with caplog.at_level(logging.INFO), configured_server(tmp_path, toml) as server:
        with socket.create_connection(server.address, timeout=WAIT) as silent:
            started = time.monotonic()
            # pynetdicom alone would handshake on the thread that accepts
            # connections and serve nobody until this one spoke.
            assert echo_ok(associate(server.address, tls=good_client(pki)))
            silent.setblocking(False)
            with pytest.raises(BlockingIOError):
                silent.recv(1)  # still open: the good client did not wait for it
            silent.settimeout(WAIT)
            assert silent.recv(1) == b""  # closed by the server
            assert time.monotonic() - started > 4.5
    assert any("timed out" in line for line in handshake_failures(caplog))


def test_shutdown_does_not_wait_for_a_pending_handshake(tmp_path, pki):
    with configured_server(tmp_path, pki.tls_table()) as server:
        silent = socket.create_connection(server.address, timeout=WAIT)
        time.sleep(0.2)  # accepted, handshaking
        started = time.monotonic()
        done = threading.Event()
        threading.Thread(target=lambda: (server.shutdown(grace=1.0), done.set())).start()
        assert done.wait(WAIT)
        assert time.monotonic() - started < 5.0  # not the 30 s ACSE time-out
        silent.close()


def test_access_rules_apply_over_tls(tmp_path, pki):
    toml = '[access]\ncalling_ae_titles = ["CT_ROOM_1"]\n' + pki.tls_table()
    with configured_server(tmp_path, toml) as server:
        refused = associate(server.address, calling="INTRUDER", tls=good_client(pki))
        assert refused.is_rejected
        reply = refused.acceptor.primitive
        assert (reply.result, reply.result_source, reply.diagnostic) == (1, 1, 3)
        assert echo_ok(associate(server.address, calling="CT_ROOM_1", tls=good_client(pki)))


def test_print_and_echo_commands_with_tls(tmp_path, pki, capsys):
    for n in (1, 2):
        write_image(tmp_path / "images" / f"{n}.dcm", 60 * n)
    with configured_server(tmp_path, pki.tls_table()) as server:
        host, port = server.address
        peer = ["--host", host, "--port", str(port), "--timeout", str(WAIT)]
        certs = ["--tls-ca", str(pki.ca), "--tls-cert", str(pki.client_cert)]
        certs += ["--tls-key", str(pki.client_key)]
        assert main(["echo", *peer, *certs]) == 0
        assert "0x0000" in capsys.readouterr().out
        assert main(["echo", *peer, "--tls-ca", str(pki.ca)]) == 1  # no certificate
        assert "TLS handshake failed" in capsys.readouterr().err
        layout = ["--format", "STANDARD\\2,1"]
        assert main(["print", *peer, *certs, *layout, str(tmp_path / "images")]) == 0
        assert "printed 2 image(s) on 1 film(s)" in capsys.readouterr().out
    assert len(output_files(tmp_path / "filmbox")) == 1


def test_echo_command_names_a_bad_tls_file(tmp_path, pki, capsys):
    status = main(["echo", "--port", "1", "--tls-cert", str(tmp_path / "absent.pem")])
    assert status == 2
    assert "TLS: certificate" in capsys.readouterr().err


def echoscu_has_tls() -> bool:
    if not ECHOSCU.exists():
        return False
    help_text = subprocess.run([str(ECHOSCU), "--help"], capture_output=True, text=True).stdout
    return "--enable-tls" in help_text


@pytest.mark.skipif(not echoscu_has_tls(), reason="DCMTK's echoscu with TLS is not installed")
def test_dcmtk_echoscu_over_tls(tmp_path, pki):
    with configured_server(tmp_path, pki.tls_table()) as server:
        host, port = server.address

        def echoscu(*options: str) -> subprocess.CompletedProcess:
            command = [str(ECHOSCU), *options, host, str(port)]
            return subprocess.run(command, capture_output=True, text=True, timeout=WAIT * 3)

        with_certificate = ("+tls", str(pki.client_key), str(pki.client_cert), "+cf", str(pki.ca))
        good = echoscu(*with_certificate)
        assert good.returncode == 0, good.stdout + good.stderr
        assert echoscu("+tla", "+cf", str(pki.ca)).returncode != 0  # TLS, no certificate
        assert echoscu().returncode != 0  # no TLS
        assert echoscu(*with_certificate).returncode == 0  # still served


# -- Configuration -------------------------------------------------------------------------


def test_tls_table_is_read(tmp_path, pki):
    path = tmp_path / "tls.toml"
    path.write_text(pki.tls_table(minimum_version="1.3"))
    tls = load_config(path).tls
    assert (tls.enabled, tls.certificate, tls.minimum_version) == (
        True,
        str(pki.server_cert),
        "1.3",
    )
    assert tls.require_client_certificate is True
    context = tls.server_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert load_config().tls.enabled is False


def test_only_forward_secret_aead_cipher_suites(pki):
    for context in (server_context(pki.server_cert, pki.server_key, pki.ca), good_client(pki)):
        suites = context.get_ciphers()
        assert suites
        for suite in suites:
            assert suite["aead"], suite["name"]
            assert suite["protocol"] == "TLSv1.3" or suite["kea"] in ("kx-ecdhe", "kx-dhe")
            assert "DSS" not in suite["name"]
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_relative_paths_are_from_the_working_directory(tmp_path, pki, monkeypatch):
    monkeypatch.chdir(pki.ca.parent)
    path = tmp_path / "tls.toml"
    path.write_text(
        '[tls]\nenabled = true\ncertificate = "server.pem"\nprivate_key = "server.key"\n'
        'ca_certificates = "ca.pem"\n'
    )
    assert load_config(path).tls.server_context().verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    "extra, message",
    [
        ("[tls]\nenable = true\n", "unknown key in [tls]: 'enable'"),
        ("[tls]\nenabled = true\n", "[tls] certificate is required when TLS is enabled"),
        (
            '[tls]\nenabled = true\ncertificate = "c.pem"\n',
            "[tls] ca_certificates is required to verify client certificates",
        ),
        ('[tls]\nminimum_version = "1.1"\n', "minimum_version = '1.1': one of 1.2, 1.3"),
        ("[tls]\nminimum_version = 1.2\n", "expected str"),
        ('[tls]\nenabled = "yes"\n', "expected bool"),
    ],
)
def test_bad_tls_table_is_a_clear_error(tmp_path, extra, message):
    path = tmp_path / "bad.toml"
    path.write_text(extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)


def tls_files_error(tmp_path: Path, **files: object) -> str:
    lines = ["[tls]", "enabled = true"] + [f"{k} = {str(v)!r}" for k, v in files.items()]
    path = tmp_path / "tls.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_unusable_tls_files_are_named(tmp_path, pki):
    good = {
        "certificate": pki.server_cert,
        "private_key": pki.server_key,
        "ca_certificates": pki.ca,
    }
    absent = tmp_path / "absent.pem"
    message = tls_files_error(tmp_path, **{**good, "certificate": absent})
    assert (
        message == f"[tls] certificate {str(absent)!r}: cannot read it (No such file or directory)"
    )
    message = tls_files_error(tmp_path, **{**good, "ca_certificates": absent})
    assert message.startswith(f"[tls] ca_certificates {str(absent)!r}: cannot read it")
    message = tls_files_error(tmp_path, **{**good, "private_key": pki.client_key})
    assert "is not the key of certificate" in message
    message = tls_files_error(tmp_path, **{**good, "certificate": pki.server_key})
    assert "no PEM certificate in it" in message
    message = tls_files_error(tmp_path, **{**good, "private_key": pki.server_cert})
    assert "no PEM private key in it" in message
    message = tls_files_error(tmp_path, **{**good, "ca_certificates": pki.server_key})
    assert "[tls] ca_certificates" in message and "no usable PEM certificate" in message
    message = tls_files_error(tmp_path, certificate=pki.server_cert, private_key=pki.server_key)
    assert "ca_certificates is required to verify client certificates" in message


def test_encrypted_private_key_is_refused_not_prompted_for(tmp_path, pki):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pki.server_key.read_bytes(), None)
    encrypted = write_pem(tmp_path / "encrypted.key", key=key, password=b"secret")
    with pytest.raises(TlsError, match="is encrypted: store it without a password"):
        server_context(pki.server_cert, encrypted, pki.ca)


def test_serve_command_refuses_bad_tls_files_at_start(tmp_path, capsys):
    path = tmp_path / "tls.toml"
    path.write_text(
        '[tls]\nenabled = true\ncertificate = "absent.pem"\nprivate_key = "absent.key"\n'
        "require_client_certificate = false\n"
    )
    assert main(["serve", "--config", str(path), "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert "configuration error: [tls] certificate 'absent.pem': cannot read it" in error


@pytest.mark.skipif(not Path("/usr/bin/openssl").exists(), reason="openssl is not installed")
def test_the_security_page_openssl_recipe_makes_working_certificates(tmp_path):
    page = (Path(__file__).resolve().parents[1] / "docs" / "security.md").read_text()
    (recipe,) = [
        block
        for block in re.findall(r"^```sh\n(.*?)^```", page, re.M | re.S)
        if "openssl req" in block
    ]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        ["/bin/bash", "-e", "-c", recipe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    table = (
        "[tls]\nenabled = true\n"
        f'certificate = "{tmp_path / "server.pem"}"\nprivate_key = "{tmp_path / "server.key"}"\n'
        f'ca_certificates = "{tmp_path / "ca.pem"}"\n'
    )
    with configured_server(tmp_path, table) as server:
        host, port = server.address
        tls = client_context(tmp_path / "ca.pem", tmp_path / "ct1.pem", tmp_path / "ct1.key")
        with PrintClient(
            host, port, tls=tls, tls_server_name="printscp.example.org", timeout=WAIT
        ) as client:
            client.print_image(image())
        assert len(client.films) == 1
        # The certificate names printscp.example.org and 10.1.20.5, not 127.0.0.1.
        with pytest.raises(PrintClientError):
            echo(host, port, tls=tls, timeout=WAIT)


def test_serve_takes_the_tls_files_on_the_command_line(tmp_path, pki):
    files = ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key)]
    files += ["--tls-ca", str(pki.ca)]
    process, port, lines = serve_process(tmp_path, "--host", "127.0.0.1", "--port", "0", *files)
    try:
        assert echo("127.0.0.1", port, tls=good_client(pki), timeout=WAIT) == 0
        with pytest.raises(PrintClientError):  # no TLS: nothing is served
            echo("127.0.0.1", port, timeout=WAIT)
    finally:
        stop_process(process)
    # A certificate file that holds the key too needs no --tls-key.
    combined = tmp_path / "server-and-key.pem"
    combined.write_text(pki.server_cert.read_text() + pki.server_key.read_text())
    only = ["--tls-cert", str(combined), "--tls-ca", str(pki.ca)]
    process, port, lines = serve_process(tmp_path, "--host", "127.0.0.1", "--port", "0", *only)
    try:
        assert echo("127.0.0.1", port, tls=good_client(pki), timeout=WAIT) == 0
    finally:
        stop_process(process)
    # The key must match the certificate: a configuration error, exit 2.
    wrong = ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.client_key)]
    assert main(["serve", "--port", "0", *wrong, "--tls-ca", str(pki.ca)]) == 2


def test_calling_ae_titles_bound_to_certificate_names(tmp_path, pki, caplog):
    toml = pki.tls_table(require_client_certificate=False) + (
        "[access.calling_ae_certificates]\n"
        'CT_ROOM_1 = ["Modality"]\n'  # the client certificate's Common Name, any case
        'MR_3T = ["mr3t.radiology.example.org"]\n'
    )
    with caplog.at_level(logging.INFO), configured_server(tmp_path, toml) as server:
        good = good_client(pki)
        assert echo_ok(associate(server.address, calling="CT_ROOM_1", tls=good))
        refused = associate(server.address, calling="MR_3T", tls=good)
        assert rejection(refused) == CALLING_NOT_RECOGNIZED
        anonymous = client_context(pki.ca)  # no client certificate at all
        refused = associate(server.address, calling="CT_ROOM_1", tls=anonymous)
        assert rejection(refused) == CALLING_NOT_RECOGNIZED
        # Titles not bound need no particular certificate.
        assert echo_ok(associate(server.address, calling="US_2", tls=anonymous))
        assert wait_until(lambda: len(rejected_lines(caplog)) == 2)
    first, second = rejected_lines(caplog)
    assert (
        "calling AE title 'MR_3T' needs a certificate of mr3t.radiology.example.org; "
        "the client's names: modality" in first
    )
    assert "the client's names: none" in second
    assert any(
        "CT_ROOM_1 only with a certificate of Modality" in r.getMessage() for r in caplog.records
    )


def test_certificate_names_are_the_common_name_and_dns_alternative_names():
    peer = {
        "subject": ((("countryName", "CH"),), (("commonName", "CT1.example.org "),)),
        "subjectAltName": (("DNS", "ct1"), ("IP Address", "10.0.0.1"), ("DNS", "CT1-b")),
    }
    assert certificate_names(peer) == {"ct1.example.org", "ct1", "ct1-b"}
    assert certificate_names({}) == frozenset() and certificate_names(None) == frozenset()


def test_certificate_bindings_need_tls(tmp_path):
    path = tmp_path / "server.toml"
    path.write_text('[access.calling_ae_certificates]\nCT = ["ct.example.org"]\n')
    with pytest.raises(ConfigError, match="needs DICOM over TLS"):
        load_config(path)
    path.write_text("[access.calling_ae_certificates]\nCT = []\n")
    with pytest.raises(ConfigError, match="list at least one certificate name"):
        load_config(path)


def test_certificate_bindings_need_the_clients_ca(tmp_path, pki):
    # Without CA certificates the server asks clients for no certificate at all.
    path = tmp_path / "server.toml"
    table = pki.tls_table(require_client_certificate=False)
    path.write_text(
        table.replace(f"ca_certificates = {str(pki.ca)!r}", 'ca_certificates = ""')
        + '[access.calling_ae_certificates]\nCT = ["modality"]\n'
    )
    with pytest.raises(ConfigError, match=r"needs \[tls\] ca_certificates"):
        load_config(path)
    path.write_text(table + '[access.calling_ae_certificates]\nCT = ["modality"]\n')
    assert load_config(path).access.calling_ae_certificates == {"CT": ("modality",)}
