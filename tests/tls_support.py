"""Helpers for the TLS and access control tests: a private CA and its certificates,
a server from a TOML configuration, and a bare pynetdicom association."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attrs import frozen
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pynetdicom import AE

from dicomprint_server import PrintServer
from dicomprint_server.contexts import VERIFICATION
from server_support import WAIT, running_server

# -- A private PKI ------------------------------------------------------------------


def _key() -> rsa.RSAPrivateKey:
    # RSA: what DCMTK's default TLS profile (BCP 195) offers cipher suites for.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name, public_key: Any) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )


@frozen
class Authority:
    """A self-signed CA that issues server and client certificates."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, name: str) -> Authority:
        key = _key()
        certificate = (
            _builder(name, _name(name), key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def issue(self, name: str, *, server: bool) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """A certificate for a server (named localhost and 127.0.0.1) or a client."""
        key = _key()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _builder(name, self.certificate.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if server:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return key, builder.sign(self.key, hashes.SHA256())


def write_pem(
    path: Path, *, key: Any = None, certificate: Any = None, password: bytes = b""
) -> Path:
    data = b""
    if certificate is not None:
        data += certificate.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        encryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        data += key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    path.write_bytes(data)
    return path


@frozen
class Pki:
    """PEM files: our CA, the server's and a client's certificate and key, and a
    client certificate from another CA."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    stranger_cert: Path
    stranger_key: Path

    @classmethod
    def create(cls, folder: Path) -> Pki:
        folder.mkdir(parents=True, exist_ok=True)
        ca = Authority.create("dicomprint test CA")
        other = Authority.create("another CA")
        server_key, server_cert = ca.issue("PRINTSCP", server=True)
        client_key, client_cert = ca.issue("MODALITY", server=False)
        stranger_key, stranger_cert = other.issue("MODALITY", server=False)
        return cls(
            ca=write_pem(folder / "ca.pem", certificate=ca.certificate),
            server_cert=write_pem(folder / "server.pem", certificate=server_cert),
            server_key=write_pem(folder / "server.key", key=server_key),
            client_cert=write_pem(folder / "client.pem", certificate=client_cert),
            client_key=write_pem(folder / "client.key", key=client_key),
            other_ca=write_pem(folder / "other-ca.pem", certificate=other.certificate),
            stranger_cert=write_pem(folder / "stranger.pem", certificate=stranger_cert),
            stranger_key=write_pem(folder / "stranger.key", key=stranger_key),
        )

    def tls_table(self, **extra: Any) -> str:
        """A [tls] table for the server with these files."""
        lines = [
            "[tls]",
            "enabled = true",
            f"certificate = {str(self.server_cert)!r}",
            f"private_key = {str(self.server_key)!r}",
            f"ca_certificates = {str(self.ca)!r}",
        ]
        lines += [f"{key} = {toml_value(value)}" for key, value in extra.items()]
        return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


# -- A server from TOML, a bare association ----------------------------------------------


@contextlib.contextmanager
def configured_server(tmp_path: Path, toml: str = "", **overrides: Any) -> Iterator[PrintServer]:
    """A server on a free loopback port with ``toml`` as its configuration file."""
    path = tmp_path / "server.toml"
    path.write_text(toml)
    with running_server(tmp_path, config_path=path, **overrides) as server:
        yield server


def associate(
    address: tuple[str, int],
    *,
    calling: str = "TESTSCU",
    called: str = "PRINTSCP",
    bind: str | None = None,
    tls: ssl.SSLContext | None = None,
) -> Any:
    """A Verification association (established, rejected or failed), from ``bind`` if given."""
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = WAIT
    ae.connection_timeout = WAIT
    ae.add_requested_context(VERIFICATION)
    kwargs: dict[str, Any] = {}
    if bind is not None:
        kwargs["bind_address"] = (bind, 0)
    if tls is not None:
        kwargs["tls_args"] = (tls, address[0])
    return ae.associate(address[0], address[1], ae_title=called, **kwargs)


#: A-ASSOCIATE-RJ (result, source, reason) of each kind of refusal.
CALLING_NOT_RECOGNIZED = (1, 1, 3)  # rejected-permanent, service-user, reason 3
CALLED_NOT_RECOGNIZED = (1, 1, 7)  # rejected-permanent, service-user, reason 7
NO_REASON = (1, 1, 1)  # rejected-permanent, service-user, reason 1
LOCAL_LIMIT = (2, 3, 2)  # rejected-transient, service-provider (presentation), reason 2


def rejected_lines(caplog) -> list[str]:
    """The server's log lines about rejected associations."""
    return [r.getMessage() for r in caplog.records if "rejected:" in r.getMessage()]


def rejection(assoc: Any) -> tuple[int, int, int]:
    """(result, source, reason) of the A-ASSOCIATE-RJ an association received."""
    assert assoc.is_rejected, "the association was not rejected"
    reply = assoc.acceptor.primitive
    return reply.result, reply.result_source, reply.diagnostic


def echo_ok(assoc: Any) -> bool:
    """C-ECHO on an established association, then release it."""
    assert assoc.is_established, "the association was not established"
    try:
        return int(assoc.send_c_echo().Status) == 0
    finally:
        assoc.release()
