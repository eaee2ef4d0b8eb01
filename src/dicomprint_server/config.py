"""Server configuration: embedded TOML defaults, a config file, command-line overrides.

Precedence, lowest first: :data:`DEFAULT_CONFIG` (below), the ``--config``
file, then command-line options. Unknown keys are errors, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
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
# Seconds: association negotiation, waiting for a DIMSE message, idle connection.
acse_timeout = 30.0
dimse_timeout = 60.0
network_timeout = 300.0
log_level = "INFO"

[output]
# "jpeg" writes JPEG or PNG files; other names come from the dicomprint.printers
# entry-point group.
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
# dpi_high defaults to twice dpi_standard.
dpi_standard = 150
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
    acse_timeout: float = field(default=30.0, validator=_in_range(0.1, 3600))
    dimse_timeout: float = field(default=60.0, validator=_in_range(0.1, 3600))
    network_timeout: float = field(default=300.0, validator=_in_range(0.1, 86400))
    log_level: str = field(default="INFO", converter=str.upper, validator=_one_of(*LOG_LEVELS))


@frozen
class OutputSettings:
    """The [output] table: which printer backend and its options."""

    backend: str = "jpeg"
    directory: Path = field(default=Path("filmbox"), converter=Path)
    format: str = field(default="jpeg", converter=str.lower, validator=_one_of("jpeg", "png"))
    quality: int = field(default=90, validator=_in_range(1, 95))
    png_compress_level: int = field(default=3, validator=_in_range(0, 9))
    copies: str = field(default="record", validator=_one_of("record", "files"))
    fsync: bool = True


@frozen
class StoreSettings:
    """The [store] table: how images received with C-STORE print."""

    all_frames: bool = False
    other_classes: bool = True


@frozen
class ServerConfig:
    """Everything ``dicomprint serve`` needs."""

    server: ServerSettings = field(factory=ServerSettings)
    output: OutputSettings = field(factory=OutputSettings)
    store: StoreSettings = field(factory=StoreSettings)
    profile: PrinterProfile = field(factory=PrinterProfile)


#: Command-line option name -> (table, key).
OVERRIDES = {
    "port": ("server", "port"),
    "ae_title": ("server", "ae_title"),
    "host": ("server", "host"),
    "max_associations": ("server", "max_associations"),
    "max_pdu": ("server", "max_pdu"),
    "log_level": ("server", "log_level"),
    "output": ("output", "directory"),
    "format": ("output", "format"),
    "dpi": ("profile", "dpi_standard"),
}


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
    user_profile_keys: set[str] = set()
    if path is not None:
        try:
            with open(path, "rb") as handle:
                loaded = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        user_profile_keys = set(loaded.get("profile", {}))
        _merge(data, loaded, where="")
    for option, value in (overrides or {}).items():
        if value is None:
            continue
        if option not in OVERRIDES:
            raise ConfigError(f"unknown option {option!r}")
        table, key = OVERRIDES[option]
        data[table][key] = value
        if table == "profile":
            user_profile_keys.add(key)
    return from_mapping(data, derive_dpi_high="dpi_high" not in user_profile_keys)


def from_mapping(data: Mapping[str, Any], *, derive_dpi_high: bool = True) -> ServerConfig:
    """Build a :class:`ServerConfig` from a complete, merged mapping."""
    unknown = set(data) - {"server", "output", "store", "profile"}
    if unknown:
        raise ConfigError(f"unknown config table [{sorted(unknown)[0]}]")
    server = _build(ServerSettings, data.get("server", {}), "server")
    output = _build(OutputSettings, data.get("output", {}), "output")
    store = _build(StoreSettings, data.get("store", {}), "store")
    profile_data = dict(data.get("profile", {}))
    if derive_dpi_high and "dpi_standard" in profile_data:
        profile_data["dpi_high"] = 2 * int(profile_data["dpi_standard"])
    dpi = profile_data.get("dpi_standard", 150)
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 1200:
        raise ConfigError(f"dpi_standard = {dpi!r}: must be an integer in 10..1200")
    try:
        profile = PrinterProfile.from_mapping(profile_data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"[profile]: {exc}") from exc
    return ServerConfig(server=server, output=output, store=store, profile=profile)


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
