"""TLS contexts for DICOM over TLS: the server's, from ``[tls]``, and the print client's.

Only the standard :mod:`ssl` module; the server side is wired to pynetdicom in
:mod:`.access`. Both sides speak TLS 1.2 or later (1.3 when both support it)
with the cipher suites of :data:`CIPHERS`, and verify the peer's certificate
against the CA certificates given.

Files are PEM. A private key must not be encrypted (protect it with file
permissions instead): a key asking for a password is an error rather than a
prompt on the server's terminal.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

__all__ = [
    "CIPHERS",
    "TLS_VERSIONS",
    "TlsError",
    "client_context",
    "error_text",
    "server_context",
    "tls_args",
]

#: ``minimum_version`` values and the protocol versions they mean.
TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
#: TLS 1.2 cipher suites (OpenSSL syntax): forward-secret key exchange and
#: AEAD ciphers only, as RFC 9325 (BCP 195) recommends. TLS 1.3 suites are
#: OpenSSL's, all of them AEAD.
CIPHERS = "@SECLEVEL=2:ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL:!aDSS"


class TlsError(ValueError):
    """A certificate, key or CA file that cannot be used; the message names it."""


def server_context(
    certificate: str | Path,
    private_key: str | Path,
    ca_certificates: str | Path | None = None,
    *,
    require_client_certificate: bool = True,
    minimum_version: str = "1.2",
    names: tuple[str, str, str] = ("certificate", "private_key", "ca_certificates"),
) -> ssl.SSLContext:
    """The server's context: its certificate and key, the CAs its clients' certificates need.

    With ``require_client_certificate`` a client without a certificate signed
    by one of ``ca_certificates`` fails the handshake; without it a client
    may present none (one it presents is still verified when CA certificates
    are given). ``names`` are the words error messages use for the three files.
    """
    if require_client_certificate and not ca_certificates:
        raise TlsError(
            f"{names[2]} is needed to verify client certificates "
            "(or do not require client certificates)"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _version(minimum_version)
    context.set_ciphers(CIPHERS)
    _load_chain(context, certificate, private_key, names[0], names[1])
    if ca_certificates:
        _load_cas(context, ca_certificates, names[2])
        context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_OPTIONAL
    else:
        context.verify_mode = ssl.CERT_NONE
    return context


def client_context(
    ca_certificates: str | Path | None = None,
    certificate: str | Path | None = None,
    private_key: str | Path | None = None,
    *,
    minimum_version: str = "1.2",
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A print client's context: the server's certificate is always verified.

    ``ca_certificates``: the CAs that signed the server's certificate (the
    system's trusted CAs when None). ``certificate`` and ``private_key``: the
    client's own, for servers that require one (``private_key`` may be left
    out when the certificate file holds the key too). ``check_hostname``:
    the server's certificate must name the host connected to (or the server
    name given to the client).
    """
    if private_key and not certificate:
        raise TlsError("a private key without its certificate")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = _version(minimum_version)
    context.set_ciphers(CIPHERS)
    context.check_hostname = check_hostname
    if ca_certificates:
        _load_cas(context, ca_certificates, "CA certificates")
    if certificate:
        _load_chain(context, certificate, private_key or certificate, "certificate", "private key")
    return context


def tls_args(host: str, context: ssl.SSLContext | None, server_name: str | None) -> dict[str, Any]:
    """``AE.associate`` keyword arguments for DICOM over TLS (none without a context).

    ``server_name``: the name the server's certificate must have (``host`` by default).
    """
    return {} if context is None else {"tls_args": (context, server_name or host)}


def _version(name: str) -> ssl.TLSVersion:
    try:
        return TLS_VERSIONS[name]
    except KeyError:
        raise TlsError(f"minimum TLS version {name!r}: one of {', '.join(TLS_VERSIONS)}") from None


def _read(path: str | Path, name: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsError(f"{name} {str(path)!r}: cannot read it ({exc.strerror})") from None


def _load_chain(
    context: ssl.SSLContext, certificate: str | Path, key: str | Path, cert_name: str, key_name: str
) -> None:
    cert_text = _read(certificate, cert_name)
    key_text = _read(key, key_name)
    if b"-----BEGIN CERTIFICATE-----" not in cert_text:
        raise TlsError(f"{cert_name} {str(certificate)!r}: no PEM certificate in it")
    if b"PRIVATE KEY-----" not in key_text:
        raise TlsError(f"{key_name} {str(key)!r}: no PEM private key in it")

    def no_password() -> bytes:
        raise TlsError(f"{key_name} {str(key)!r} is encrypted: store it without a password")

    try:
        context.load_cert_chain(certificate, key, password=no_password)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsError(
                f"{key_name} {str(key)!r} is not the key of {cert_name} {str(certificate)!r}"
            ) from None
        raise TlsError(
            f"{cert_name} {str(certificate)!r} and {key_name} {str(key)!r}: {error_text(exc)}"
        ) from None


def _load_cas(context: ssl.SSLContext, path: str | Path, name: str) -> None:
    _read(path, name)
    try:
        context.load_verify_locations(cafile=str(path))
    except ssl.SSLError as exc:
        raise TlsError(
            f"{name} {str(path)!r}: no usable PEM certificate ({error_text(exc)})"
        ) from None


def error_text(exc: BaseException) -> str:
    """An SSL error in a few words: its reason code, else its message."""
    reason = getattr(exc, "reason", None)
    if not reason:
        return str(exc)
    text = str(reason).replace("_", " ").lower()
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        text += f": {exc.verify_message}"
    elif reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNSUPPORTED_PROTOCOL"):
        text += " (a client without TLS, or an older TLS version?)"
    return text
