"""Server configuration: embedded TOML defaults, a config file, command-line overrides.

Precedence, lowest first: :data:`DEFAULT_CONFIG` (below), the ``--config``
file, then command-line options. Unknown keys are errors, so a typo never
silently falls back to a default.

Printers: ``[output]`` (with ``[profile]``) is the printer named
``default``; ``[printers.NAME]`` tables add more, each with its backend, the
backend's options and a ``profile`` table laid over ``[profile]``.
``[routing]`` sends each association to a printer by the called AE title it
asked for, and every other title to ``routing.default``.

``[access]`` limits who may associate (calling AE titles, client addresses,
called AE titles, associations per address); ``[tls]`` turns on DICOM over
TLS. Both are off by default: any AE may print.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import ssl
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen

from dicomprint import PrinterProfile

#: The embedded defaults, in the same format a config file uses. Every key is
#: optional in a config file; ``dicomprint config`` prints this text.
DEFAULT_CONFIG = """\
# dicomprint server configuration. Every key is optional: these are the defaults.

[server]
ae_title = "PRINTSCP"
# All interfaces, so modalities on the network reach it; "127.0.0.1" serves this
# machine only.
host = "0.0.0.0"
port = 11112
# Further association requests are rejected (A-ASSOCIATE-RJ, local limit exceeded).
max_associations = 20
# Largest P-DATA PDU we receive, in bytes (0 = no limit).
max_pdu = 16384
# Pixel bytes all associations together may hold (image boxes and images
# received with C-STORE); beyond it an image box N-SET gets 0xC605 and a
# C-STORE 0xA700. Each session also has the profile's max_session_pixel_bytes.
max_pixel_bytes = 2147483648
# Seconds: association negotiation, waiting for a DIMSE message, idle connection.
acse_timeout = 30.0
dimse_timeout = 60.0
network_timeout = 300.0
log_level = "INFO"
# Jobs a printer backend failed to print are kept here (one folder per printer)
# for "dicomprint reprint".
failed_jobs = "failed-jobs"
# Seconds a printer backend may take to print one job. Beyond it the N-ACTION
# fails (0x0110, "printer did not answer within N s"), the job is kept for
# "dicomprint reprint" and the printer's status turns to FAILURE.
print_timeout = 120.0
# Seconds SIGTERM or Ctrl-C gives associations with a print job in progress to
# finish; idle associations are closed at once. A second signal stops sooner.
shutdown_grace = 60.0
# Films rendered, and images received with C-STORE decoded, at the same time,
# server-wide. Each takes several times its pixels in working memory and keeps
# a core busy: about the number of cores, lower when memory is short.
parallel_renders = 2
parallel_decodes = 2

[output]
# The printer named "default". Backends: "jpeg" (JPEG or PNG files), "pdf",
# "cups", "windows", "dicom", or a plug-in of the dicomprint.printers
# entry-point group. The options below are the jpeg backend's; with another
# backend only the options you set apply.
backend = "jpeg"
# One sub-folder per calling AE title under this folder (relative to the
# working directory).
directory = "filmbox"
format = "jpeg"           # "jpeg" or "png"
quality = 90              # JPEG quality, 1..95
png_compress_level = 3    # PNG zlib level, 0..9
# "record": one file per film, the copy count in its name and metadata;
# "files": one file per printed copy.
copies = "record"
# fsync every film and its folder before the N-ACTION reports success.
fsync = true

[store]
# Images and reports received with C-STORE print when their association ends
# (1 to 3 images: one film each; 4: 2x2; 5 or 6: 2x3; more: 4x3 films).
# Multi-frame images print their first frame; true prints every frame.
all_frames = false
# Accept image storage classes beyond the conformance statement's thirteen
# (enhanced CT/MR, DX/MG for processing, multi-frame US/SC ...) and SR documents.
other_classes = true

[profile]
# Printer capabilities and defaults: any dicomprint.PrinterProfile field, with
# [profile.film_box], [profile.film_session] and [profile.identity] tables.
# dpi_high defaults to twice dpi_standard. Every printer starts from this table.
dpi_standard = 150

[routing]
# The printer for associations whose called AE title is not listed below.
default = "default"

[routing.called_ae_titles]
# CALLED_AE_TITLE = "printer name", e.g.
# PAPER = "office"

[access]
# Who may associate; rejected requests get an A-ASSOCIATE-RJ and a log line.
# Calling AE titles allowed, e.g. ["CT_ROOM_1", "MR_3T"]; others are rejected
# (permanent, calling AE title not recognized). Empty: any calling AE title.
calling_ae_titles = []
# Client addresses allowed: IPv4 or IPv6 addresses and networks, e.g.
# ["10.1.20.0/24", "192.168.0.7", "fd00:12::/64"]; others are rejected
# (permanent, no reason given). Empty: any address.
client_addresses = []
# true: only [server] ae_title and the titles of [routing.called_ae_titles]
# may be called; others are rejected (permanent, called AE title not recognized).
strict_called_ae_title = false
# Associations one client address may have open at once (0: no limit but
# [server] max_associations); more are rejected (transient, local limit exceeded).
max_associations_per_address = 0

[access.calling_ae_addresses]
# The addresses (and networks) a calling AE title may associate from, e.g.
# CT_ROOM_1 = ["10.1.20.5"]
# MR_3T = ["10.1.30.0/28", "fd00:12::7"]
# A listed title calling from elsewhere is rejected (permanent, calling AE
# title not recognized); titles not listed may call from any allowed address.

[access.calling_ae_certificates]
# With [tls]: the names, one of which a calling AE title's client certificate
# must have (its subject Common Name or a DNS subject alternative name), e.g.
# CT_ROOM_1 = ["ct1.radiology.example.org"]
# A listed title with another certificate, or none, is rejected (permanent,
# calling AE title not recognized); titles not listed need no particular one.

[tls]
# DICOM over TLS: every connection must start with a TLS handshake (plain
# DICOM peers cannot connect). The usual port for it is 2762. Files are PEM,
# relative to the working directory; the private key must not be encrypted.
enabled = false
certificate = ""                   # the server's certificate (and its chain)
private_key = ""                   # its private key (empty: in the certificate file)
ca_certificates = ""               # the CAs that sign the clients' certificates
require_client_certificate = true  # false: clients may connect without one
minimum_version = "1.2"            # "1.2" or "1.3"

# More printers: [printers.NAME] with a backend, its options and a profile.
# [printers.office]
# backend = "cups"
# queue = "Office_Laser"
# [printers.office.profile]
# film_sizes = ["A4", "8INX10IN"]
# color = false
"""

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_MAX_PORT = 65535


class ConfigError(ValueError):
    """A configuration value or key that cannot be used."""


def _ae_title(instance: Any, attribute: attrs.Attribute, value: str) -> None:
    text = value.strip()
    if not 0 < len(text) <= 16 or "\\" in text or not text.isascii() or not text.isprintable():
        raise ConfigError(f"ae_title {value!r}: 1 to 16 printable ASCII characters, no backslash")


def _in_range(low: float, high: float):
    def check(instance: Any, attribute: attrs.Attribute, value: float) -> None:
        if isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(f"{attribute.name} = {value!r}: must be in {low}..{high}")

    return check


def _max_pdu(instance: Any, attribute: attrs.Attribute, value: int) -> None:
    if isinstance(value, bool) or not (value == 0 or 4096 <= value <= 0xFFFFFFFF):
        raise ConfigError(f"max_pdu = {value!r}: 0 (no limit) or 4096..4294967295 bytes")


def _one_of(*choices: str):
    def check(instance: Any, attribute: attrs.Attribute, value: str) -> None:
        if value not in choices:
            raise ConfigError(f"{attribute.name} = {value!r}: one of {', '.join(choices)}")

    return check


@frozen
class ServerSettings:
    """The [server] table."""

    ae_title: str = field(default="PRINTSCP", validator=_ae_title)
    host: str = "0.0.0.0"
    port: int = field(default=11112, validator=_in_range(0, _MAX_PORT))
    max_associations: int = field(default=20, validator=_in_range(1, 1000))
    max_pdu: int = field(default=16384, validator=_max_pdu)
    max_pixel_bytes: int = field(default=2 * 1024**3, validator=_in_range(1024, 2**48))
    acse_timeout: float = field(default=30.0, validator=_in_range(0.1, 3600))
    dimse_timeout: float = field(default=60.0, validator=_in_range(0.1, 3600))
    network_timeout: float = field(default=300.0, validator=_in_range(0.1, 86400))
    log_level: str = field(default="INFO", converter=str.upper, validator=_one_of(*LOG_LEVELS))
    failed_jobs: Path = field(default=Path("failed-jobs"), converter=Path)
    print_timeout: float = field(default=120.0, validator=_in_range(0.1, 86400))
    shutdown_grace: float = field(default=60.0, validator=_in_range(0, 86400))
    parallel_renders: int = field(default=2, validator=_in_range(1, 256))
    parallel_decodes: int = field(default=2, validator=_in_range(1, 256))


@frozen
class StoreSettings:
    """The [store] table: how images received with C-STORE print."""

    all_frames: bool = False
    other_classes: bool = True


#: The name of the printer ``[output]`` and ``[profile]`` describe.
DEFAULT_PRINTER = "default"
_PRINTER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@frozen
class PrinterSettings:
    """One configured printer: its backend, the backend's options, its profile.

    The options read as attributes too (``config.output.directory``).
    """

    name: str
    backend: str
    #: The backend's options; for built-in backends after their converters
    #: (paths as :class:`~pathlib.Path`, defaults filled in).
    options: Mapping[str, Any] = field(factory=dict)
    profile: PrinterProfile = field(factory=PrinterProfile, repr=False)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_") or key in ("name", "backend", "options", "profile"):
            raise AttributeError(key)
        try:
            return self.options[key]
        except KeyError:
            raise AttributeError(f"printer {self.name!r} has no option {key!r}") from None


@frozen
class Routing:
    """The [routing] table: which printer serves which called AE title."""

    default: str = DEFAULT_PRINTER
    called_ae_titles: Mapping[str, str] = field(factory=dict)

    def printer_for(self, called_ae_title: str) -> str:
        """The printer name for an association that called ``called_ae_title``."""
        return self.called_ae_titles.get(called_ae_title.strip(), self.default)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ae_titles(value: Any, key: str = "calling_ae_titles") -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} = {value!r}: a list of AE titles")
    titles: list[str] = []
    for title in value:
        try:
            _ae_title(None, None, title)  # type: ignore[arg-type]
        except ConfigError:
            raise ConfigError(
                f"{key}: {title!r} is not an AE title "
                "(1 to 16 printable ASCII characters, no backslash)"
            ) from None
        if title.strip() not in titles:
            titles.append(title.strip())
    return tuple(titles)


def _networks(value: Any, key: str = "client_addresses") -> tuple[IPNetwork, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} = {value!r}: a list of addresses and networks")
    networks: list[IPNetwork] = []
    for text in value:
        try:
            network = ipaddress.ip_network(text.strip())
        except ValueError:
            try:
                hint = f"; the network is {ipaddress.ip_network(text.strip(), strict=False)}"
            except ValueError:
                hint = " (e.g. 192.168.1.20, 10.1.0.0/16, fd00::/8; host names are not resolved)"
            raise ConfigError(f"{key}: {text!r} is not an IP address or network{hint}") from None
        if network not in networks:
            networks.append(network)
    return tuple(networks)


def _per_title(
    value: Any, key: str, items: tuple[str, str], parse: Callable[[Any, str], tuple[Any, ...]]
) -> Mapping[str, tuple[Any, ...]]:
    """A table of calling AE title = [item, ...], each list read by ``parse``.

    ``items`` names one item and several, for the messages.
    """
    one, several = items
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} = {value!r}: a table of AE title = [{several}]")
    bound: dict[str, tuple[Any, ...]] = {}
    for title, values in value.items():
        (title,) = _ae_titles([title], key)
        if title in bound:
            raise ConfigError(f"{key}: {title!r} is listed twice")
        parsed = parse(values, f"{key}.{title}")
        if not parsed:
            raise ConfigError(f"{key}.{title}: list at least one {one}")
        bound[title] = parsed
    return bound


def _ae_addresses(value: Any) -> Mapping[str, tuple[IPNetwork, ...]]:
    return _per_title(value, "calling_ae_addresses", ("address", "addresses"), _networks)


def _certificate_names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(n, str) for n in value):
        raise ConfigError(f"{where} = {value!r}: a list of certificate names")
    return tuple(dict.fromkeys(n.strip() for n in value if n.strip()))


def _ae_certificates(value: Any) -> Mapping[str, tuple[str, ...]]:
    names = ("certificate name", "certificate names")
    return _per_title(value, "calling_ae_certificates", names, _certificate_names)


@frozen
class AccessSettings:
    """The [access] table: who may associate. Empty lists and 0 allow everyone."""

    #: Calling AE titles allowed (empty: any).
    calling_ae_titles: tuple[str, ...] = field(default=(), converter=_ae_titles)
    #: Networks client addresses must be in (empty: any); an address is a /32 or /128.
    client_addresses: tuple[IPNetwork, ...] = field(default=(), converter=_networks)
    #: Accept only [server] ae_title and the titles of [routing.called_ae_titles].
    strict_called_ae_title: bool = False
    #: Associations one client address may have open at once (0: no limit).
    max_associations_per_address: int = field(default=0, validator=_in_range(0, 1000))
    #: The networks each listed calling AE title may associate from.
    calling_ae_addresses: Mapping[str, tuple[IPNetwork, ...]] = field(
        factory=dict, converter=_ae_addresses
    )
    #: The names (subject Common Name or DNS subject alternative name) one of
    #: which the TLS client certificate of each listed calling AE title must have.
    calling_ae_certificates: Mapping[str, tuple[str, ...]] = field(
        factory=dict, converter=_ae_certificates
    )


@frozen
class TlsSettings:
    """The [tls] table: DICOM over TLS. File paths are relative to the working directory."""

    enabled: bool = False
    #: PEM: the server's certificate, followed by any intermediate CA certificates.
    certificate: str = ""
    #: PEM: its private key (not encrypted); empty: in the certificate file.
    private_key: str = ""
    #: PEM: the CA certificates client certificates must be signed by.
    ca_certificates: str = ""
    require_client_certificate: bool = True
    minimum_version: str = field(default="1.2", validator=_one_of("1.2", "1.3"))

    def __attrs_post_init__(self) -> None:
        if not self.enabled:
            return
        if not self.certificate:
            raise ConfigError("certificate is required when TLS is enabled")
        if self.require_client_certificate and not self.ca_certificates:
            raise ConfigError(
                "ca_certificates is required to verify client certificates "
                "(or set require_client_certificate = false)"
            )

    def server_context(self) -> ssl.SSLContext:
        """The server's :class:`ssl.SSLContext`; :class:`ConfigError` names a bad file."""
        from .tls import TlsError, server_context

        try:
            return server_context(
                self.certificate,
                self.private_key or self.certificate,
                self.ca_certificates or None,
                require_client_certificate=self.require_client_certificate,
                minimum_version=self.minimum_version,
            )
        except TlsError as exc:
            raise ConfigError(f"[tls] {exc}") from None


def _default_printers() -> dict[str, PrinterSettings]:
    from .backends import JpegPrinter
    from .backends._options import normalized

    options = normalized(JpegPrinter(Path("filmbox")))
    return {DEFAULT_PRINTER: PrinterSettings(DEFAULT_PRINTER, "jpeg", options)}


@frozen
class ServerConfig:
    """Everything ``dicomprint serve`` needs."""

    server: ServerSettings = field(factory=ServerSettings)
    store: StoreSettings = field(factory=StoreSettings)
    #: The [profile] table: the default printer's profile, and the base of
    #: every other printer's.
    profile: PrinterProfile = field(factory=PrinterProfile)
    printers: Mapping[str, PrinterSettings] = field(factory=_default_printers)
    routing: Routing = field(factory=Routing)
    access: AccessSettings = field(factory=AccessSettings)
    tls: TlsSettings = field(factory=TlsSettings)

    def __attrs_post_init__(self) -> None:
        # The default printer's profile is [profile]: keep them one, also
        # after attrs.evolve(config, profile=...).
        default = self.printers[DEFAULT_PRINTER]
        if default.profile is not self.profile:
            printers = dict(self.printers)
            printers[DEFAULT_PRINTER] = attrs.evolve(default, profile=self.profile)
            object.__setattr__(self, "printers", printers)

    @property
    def output(self) -> PrinterSettings:
        """The printer of [output] and [profile], named ``default``."""
        return self.printers[DEFAULT_PRINTER]

    def printer_for(self, called_ae_title: str) -> PrinterSettings:
        return self.printers[self.routing.printer_for(called_ae_title)]


#: Command-line option name -> (table, key).
OVERRIDES = {
    "port": ("server", "port"),
    "ae_title": ("server", "ae_title"),
    "host": ("server", "host"),
    "max_associations": ("server", "max_associations"),
    "max_pdu": ("server", "max_pdu"),
    "log_level": ("server", "log_level"),
    "failed_jobs": ("server", "failed_jobs"),
    "output": ("output", "directory"),
    "format": ("output", "format"),
    "dpi": ("profile", "dpi_standard"),
    "tls": ("tls", "enabled"),
    "tls_cert": ("tls", "certificate"),
    "tls_key": ("tls", "private_key"),
    "tls_ca": ("tls", "ca_certificates"),
}

_TABLES = ("server", "output", "store", "profile", "routing", "printers", "access", "tls")


def default_mapping() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_CONFIG)


def load_config(
    path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> ServerConfig:
    """Defaults, then the TOML file at ``path``, then ``overrides`` (None values skipped).

    ``overrides`` uses the command-line names of :data:`OVERRIDES`.
    Raises :class:`ConfigError` with a message fit for the user.
    """
    data = default_mapping()
    user_keys: dict[str, set[str]] = {"profile": set(), "output": set()}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                loaded = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        for table in user_keys:
            if isinstance(loaded.get(table), Mapping):
                user_keys[table] = set(loaded[table])
        _merge(data, loaded, where="")
    for option, value in (overrides or {}).items():
        if value is None:
            continue
        if option not in OVERRIDES:
            raise ConfigError(f"unknown option {option!r}")
        table, key = OVERRIDES[option]
        data[table][key] = value
        if table in user_keys:
            user_keys[table].add(key)
    output = data.get("output")
    if isinstance(output, dict) and output.get("backend", "jpeg") != "jpeg":
        # The embedded [output] defaults are the jpeg backend's options.
        data["output"] = {
            k: v for k, v in output.items() if k == "backend" or k in user_keys["output"]
        }
    return from_mapping(data, derive_dpi_high="dpi_high" not in user_keys["profile"])


def from_mapping(data: Mapping[str, Any], *, derive_dpi_high: bool = True) -> ServerConfig:
    """Build a :class:`ServerConfig` from a complete, merged mapping."""
    unknown = set(data) - set(_TABLES)
    if unknown:
        raise ConfigError(f"unknown config table [{sorted(unknown)[0]}]")
    server = _build(ServerSettings, data.get("server", {}), "server")
    store = _build(StoreSettings, data.get("store", {}), "store")
    base_profile = _table(data.get("profile", {}), "profile")
    base_profile = dict(base_profile)
    if derive_dpi_high and "dpi_standard" in base_profile:
        base_profile["dpi_high"] = 2 * _dpi(base_profile["dpi_standard"], "[profile]")
    profile = _profile(base_profile, "[profile]")
    output = dict(_table(data.get("output", {}), "output"))
    printers = {DEFAULT_PRINTER: _printer(DEFAULT_PRINTER, output, profile, "[output]")}
    for name, table in _table(data.get("printers", {}), "printers").items():
        where = f"[printers.{name}]"
        if not _PRINTER_NAME.fullmatch(name):
            raise ConfigError(f"{where}: printer names are 1 to 64 letters, digits, - or _")
        if name == DEFAULT_PRINTER:
            raise ConfigError(f"{where}: 'default' is the printer of [output]; choose another name")
        table = dict(_table(table, f"printers.{name}"))
        if "backend" not in table:
            raise ConfigError(f"{where} backend is required")
        own_profile = _table(table.pop("profile", {}), f"printers.{name}.profile")
        merged = copy.deepcopy(base_profile)
        _merge(merged, own_profile, where="")
        if "dpi_standard" in own_profile and "dpi_high" not in own_profile:
            merged["dpi_high"] = 2 * _dpi(own_profile["dpi_standard"], f"[printers.{name}.profile]")
        printer_profile = _profile(merged, f"[printers.{name}.profile]")
        printers[name] = _printer(name, table, printer_profile, where)
    routing = _routing(_table(data.get("routing", {}), "routing"), printers)
    access = _build(AccessSettings, data.get("access", {}), "access")
    tls = _build(TlsSettings, data.get("tls", {}), "tls")
    if access.calling_ae_certificates and not tls.enabled:
        raise ConfigError(
            "[access.calling_ae_certificates] needs DICOM over TLS: set [tls] enabled = true"
        )
    if access.calling_ae_certificates and not tls.ca_certificates:
        # Without CAs the server asks for no client certificate: none could match.
        raise ConfigError(
            "[access.calling_ae_certificates] needs [tls] ca_certificates, the CAs that "
            "sign the clients' certificates"
        )
    if tls.enabled:
        tls.server_context()  # unreadable or mismatched files stop the server here
    return ServerConfig(
        server=server,
        store=store,
        profile=profile,
        printers=printers,
        routing=routing,
        access=access,
        tls=tls,
    )


def _table(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _dpi(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 1200:
        raise ConfigError(f"{where} dpi_standard = {value!r}: must be an integer in 10..1200")
    return value


def _profile(data: Mapping[str, Any], where: str) -> PrinterProfile:
    _dpi(data.get("dpi_standard", 150), where)
    try:
        return PrinterProfile.from_mapping(data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _printer(
    name: str, table: Mapping[str, Any], profile: PrinterProfile, where: str
) -> PrinterSettings:
    from .backends import VALIDATORS, BackendError, OptionError, is_known, validate_options
    from .backends._options import normalized

    backend = table.get("backend", "jpeg")
    if not isinstance(backend, str) or not backend:
        raise ConfigError(f"{where} backend = {backend!r}: the name of a printer backend")
    options = {key: value for key, value in table.items() if key != "backend"}
    if not is_known(backend):
        from .backends import backend_names

        raise ConfigError(
            f"{where} backend = {backend!r}: unknown printer backend; "
            f"known: {', '.join(backend_names())}"
        )
    try:
        validate_options(backend, options)
    except OptionError as exc:
        raise ConfigError(f"{where} {exc}") from exc
    except BackendError as exc:
        raise ConfigError(f"{where} backend: {exc}") from exc
    if backend in VALIDATORS:
        options = normalized(VALIDATORS[backend](options))
    return PrinterSettings(name, backend, options, profile)


def _routing(table: Mapping[str, Any], printers: Mapping[str, PrinterSettings]) -> Routing:
    unknown = set(table) - {"default", "called_ae_titles"}
    if unknown:
        raise ConfigError(f"unknown key in [routing]: {sorted(unknown)[0]!r}")
    default = table.get("default", DEFAULT_PRINTER)
    if default not in printers:
        raise ConfigError(f"[routing] default = {default!r}: no printer of that name")
    routes: dict[str, str] = {}
    for title, name in _table(
        table.get("called_ae_titles", {}), "routing.called_ae_titles"
    ).items():
        where = f"[routing.called_ae_titles] {title!r}"
        try:
            _ae_title(None, None, title)  # type: ignore[arg-type]
        except ConfigError as exc:
            raise ConfigError(
                f"{where}: not an AE title (1 to 16 printable ASCII characters, no backslash)"
            ) from exc
        if not isinstance(name, str) or name not in printers:
            raise ConfigError(f"{where} = {name!r}: no printer of that name")
        if title.strip() in routes:
            raise ConfigError(f"{where}: listed twice")
        routes[title.strip()] = name
    return Routing(default, routes)


def _build(cls: type, table: Any, name: str) -> Any:
    if not isinstance(table, Mapping):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name for f in attrs.fields(cls)}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"unknown key in [{name}]: {sorted(unknown)[0]!r}")
    for f in attrs.fields(cls):
        if f.name in table and not _type_ok(table[f.name], f.default):
            raise ConfigError(
                f"[{name}] {f.name} = {table[f.name]!r}: expected {type(f.default).__name__}"
            )
    try:
        return cls(**table)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"[{name}] {exc}") from exc


def _type_ok(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, str | Path):
        return isinstance(value, str | Path)
    return True


def _merge(base: dict[str, Any], update: Mapping[str, Any], where: str) -> None:
    """Deep-merge ``update`` into ``base`` (tables merge, values replace)."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value, f"{where}{key}.")
        else:
            base[key] = copy.deepcopy(value)
