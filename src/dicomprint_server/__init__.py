"""dicomprint_server: the network side of dicomprint.

A pynetdicom print SCP around :class:`dicomprint.PrintSession`, printer
backends (JPEG/PNG files), the print SCU client, configuration and the
``dicomprint`` command.
"""

from .client import PrintClient, PrintClientError
from .config import DEFAULT_CONFIG, ConfigError, ServerConfig, load_config
from .contexts import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from .server import PrintServer

__all__ = [
    "DEFAULT_CONFIG",
    "IMPLEMENTATION_CLASS_UID",
    "IMPLEMENTATION_VERSION_NAME",
    "ConfigError",
    "PrintClient",
    "PrintClientError",
    "PrintServer",
    "ServerConfig",
    "load_config",
]
