"""The ``dicomprint`` command line.

``dicomprint serve`` runs the print server in the foreground until Ctrl-C or
SIGTERM: the first stops it gracefully (:meth:`.PrintServer.shutdown`), the
second aborts the associations still open, the third exits at once.
``dicomprint config`` prints the embedded default configuration;
``dicomprint reprint`` prints failed jobs again. Further subcommands register
themselves in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from .config import DEFAULT_CONFIG, LOG_LEVELS, ConfigError, load_config
from .failed_jobs import FailedJobs
from .print_command import add_commands as add_print_commands
from .reprint import SHARED_OPTIONS as REPRINT_OPTIONS
from .reprint import add_command as add_reprint_command
from .reprint import add_shared_options as add_shared_reprint_options
from .reprint import command as reprint_command

log = logging.getLogger("dicomprint_server")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dicomprint", description="DICOM Print Management: reference print server and tools"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the print server in the foreground",
        description="Run the DICOM print server. Options override the --config file, "
        "which overrides the embedded defaults (see 'dicomprint config').",
    )
    add_shared_reprint_options(serve)  # --config, --output, --format
    serve.add_argument("--port", type=int, help="TCP port (default 11112; 0 picks a free one)")
    serve.add_argument("--host", help="address to listen on (default 0.0.0.0, all interfaces)")
    serve.add_argument("--ae-title", help="our AE title (default PRINTSCP)")
    serve.add_argument("--dpi", type=int, help="film resolution for STANDARD, dots per inch")
    serve.add_argument("--max-associations", type=int, help="simultaneous associations (20)")
    serve.add_argument("--max-pdu", type=int, help="largest PDU received, bytes (16384)")
    serve.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, help="logging level (INFO)"
    )
    tls = serve.add_argument_group("DICOM over TLS (any of these turns [tls] on)")
    tls.add_argument("--tls-cert", metavar="FILE", help="the server's certificate (PEM)")
    tls.add_argument("--tls-key", metavar="FILE", help="its private key, if not in --tls-cert")
    tls.add_argument("--tls-ca", metavar="FILE", help="the CAs that sign the clients' certificates")
    serve.set_defaults(run=run_serve)

    config = commands.add_parser("config", help="print the default configuration file")
    add_print_commands(commands)  # print, echo: the print SCU
    add_reprint_command(commands)  # reprint: failed jobs
    config.set_defaults(run=run_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


def run_config(args: argparse.Namespace) -> int:
    sys.stdout.write(DEFAULT_CONFIG)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    overrides = {
        "port": args.port,
        "host": args.host,
        "ae_title": args.ae_title,
        "output": args.output,
        "format": args.format,
        "dpi": args.dpi,
        "max_associations": args.max_associations,
        "max_pdu": args.max_pdu,
        "log_level": args.log_level,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "tls_ca": args.tls_ca,
    }
    if any((args.tls_cert, args.tls_key, args.tls_ca)):
        overrides["tls"] = True
    try:
        config = load_config(args.config, overrides)
    except ConfigError as exc:
        print(f"dicomprint: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.server.log_level)

    from .server import PrintServer  # pynetdicom is imported only to serve

    options = {name: getattr(args, name) for name in REPRINT_OPTIONS}
    reprint = reprint_command(options, Path.cwd())
    try:
        server = PrintServer(config, reprint_command=reprint)
    except ConfigError as exc:  # a printer backend that cannot be built
        print(f"dicomprint: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except (OSError, ValueError) as exc:
        log.error("cannot start the server: %s", exc)
        return 1
    # The handler only records the signal; the main thread acts on the list.
    # (Logging or taking a lock in a handler can deadlock or fail when the
    # signal interrupts the main thread in the middle of the same.)
    received: list[str] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signal.Signals(signum).name)

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    directory = config.output.options.get("directory")
    if directory:
        log.info("output folder %s", Path(directory).absolute())
    log.info("failed jobs are kept in %s", config.server.failed_jobs.absolute())
    log_kept_jobs(server.failed_jobs)
    try:
        while not received:
            time.sleep(0.2)
        log.info(
            "%s: shutting down (print jobs in progress get %g s; the signal again stops sooner)",
            received[0],
            config.server.shutdown_grace,
        )
    finally:
        # In a thread of its own: a shutdown can wait on a lock (a print in
        # progress), and the main thread must stay free to handle the next
        # signals, which Python only does between short waits.
        stopping = threading.Thread(target=server.shutdown, name="shutdown")
        stopping.start()
        hurried = False
        while stopping.is_alive():
            stopping.join(0.2)
            if len(received) >= 2 and not hurried:
                hurried = True
                log.warning("%s again: aborting the associations still open", received[1])
                server.hurry()
            if len(received) >= 3:
                log.error(
                    "%s a third time: exiting now, print jobs in progress are lost", received[2]
                )
                os._exit(1)
    return 0


def log_kept_jobs(failed_jobs: FailedJobs) -> None:
    """At start-up: the jobs kept from earlier failures, per printer, and how to print them.

    Folders a crash left half kept or half removed are dealt with first.
    """
    try:
        for what, folder in failed_jobs.recover_interrupted():
            if what == "kept":
                log.warning("finished keeping a failed job interrupted by a crash: %s", folder)
            else:
                log.warning("removed an unfinished failed-job folder left by a crash: %s", folder)
        counts = failed_jobs.counts()
    except OSError as exc:
        log.error("cannot read the failed-jobs folder %s: %s", failed_jobs.directory, exc)
        return
    command = failed_jobs.reprint_command
    for printer, count in counts.items():
        log.warning(
            "%d failed job(s) of printer %r kept in %s: '%s --list' shows them, '%s' "
            "prints them again",
            count,
            printer,
            failed_jobs.directory / printer,
            command,
            command,
        )


def configure_logging(level: str) -> None:
    from pynetdicom import _config as pynetdicom_config

    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", force=True
    )
    # pynetdicom's INFO is a full dump of every association; show it only when debugging.
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if level == "DEBUG" else "WARNING")
    # Its per-message log handlers also cost time and raise on an N-GET without
    # attribute list (pynetdicom 3.0.4); bind them only when debugging.
    pynetdicom_config.LOG_HANDLER_LEVEL = "standard" if level == "DEBUG" else "none"
