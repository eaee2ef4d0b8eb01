"""``dicomprint reprint``: print the jobs a printer backend failed on again.

The server keeps the rendered films of every job its backend could not print
(:mod:`.failed_jobs`). This command reads the same configuration as
``dicomprint serve`` (run in the same folder with the same ``--config``,
``--output`` and ``--format``; :func:`command` spells it out for a server's
log), hands each
kept job to its printer's backend (or to ``--printer``) and deletes it once
that succeeds; a job that fails again stays, with the new error and attempt
count in its ``job.json``.

Each backend call gets ``[server] print_timeout``, as in the server. A
printer that does not answer in time fails that job and is given no more
jobs in this run; the job stays kept. (Should that call still print later,
before the command exits, the job prints again at the next reprint: a
duplicate film rather than a lost one.)
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs
from attrs import frozen

from dicomprint.backend import PrinterBackend

from .config import LOG_LEVELS, ConfigError, ServerConfig, load_config
from .failed_jobs import FailedJobError, FailedJobs
from .printing import PrintTimeoutError
from .routing import build_backend

log = logging.getLogger(__name__)


@frozen
class Outcome:
    folder: Path
    printer: str
    films: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def reprint(
    config: ServerConfig,
    folders: Iterable[Path],
    *,
    printer: str | None = None,
    backends: Mapping[str, PrinterBackend] | None = None,
) -> list[Outcome]:
    """Print each failed-job folder again; remove the ones that print.

    ``printer`` sends every job to that printer instead of its own;
    ``backends`` replaces the configured backends by printer name.
    """
    store = FailedJobs(config.server.failed_jobs)
    built: dict[str, PrinterBackend] = dict(backends or {})
    hung: set[str] = set()  # printers that did not answer in time
    outcomes = []
    for folder in folders:
        name = printer or "?"
        try:
            with store.lock(folder):
                failed = store.load(folder)
                name = printer or failed.printer
                if name not in config.printers:
                    raise FailedJobError(f"no printer named {name!r} in the configuration")
                if name in hung:
                    raise FailedJobError(f"printer {name!r} did not answer an earlier job")
                settings = config.printers[name]
                if name not in built:
                    built[name] = build_backend(settings)
                job = attrs.evolve(failed.job, profile=settings.profile)
                try:
                    _print_within(built[name], failed.films, job, config.server.print_timeout)
                except Exception as exc:
                    if isinstance(exc, PrintTimeoutError):
                        hung.add(name)
                    error = f"{type(exc).__name__}: {exc}"
                    store.failed_again(folder, error)
                    log.error("reprinting %s on %r failed: %s", folder, name, error)
                    outcomes.append(Outcome(folder, name, len(failed.films), error))
                    continue
                store.remove(folder)
                log.info("reprinted %s on %r", folder, name)
                outcomes.append(Outcome(folder, name, len(failed.films)))
        except (FailedJobError, ConfigError) as exc:
            outcomes.append(Outcome(folder, name, 0, str(exc)))
    return outcomes


def _print_within(backend: PrinterBackend, films, job, timeout: float) -> None:
    """``backend.print_films`` or :class:`PrintTimeoutError` after ``timeout`` seconds."""
    error: list[BaseException] = []

    def call() -> None:
        try:
            backend.print_films(list(films), job)
        except BaseException as exc:  # raised below, in the caller's thread
            error.append(exc)

    # A daemon: a printer that never answers must not keep the command alive.
    thread = threading.Thread(target=call, name="reprint", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise PrintTimeoutError(timeout)
    if error:
        raise error[0]


#: The ``serve`` options that change where a kept job prints; reprint takes them too.
SHARED_OPTIONS = ("config", "output", "format")


def add_shared_options(parser: argparse.ArgumentParser) -> None:
    """Add :data:`SHARED_OPTIONS` to ``serve`` or ``reprint``, alike in both."""
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument(
        "--output", metavar="DIR", help="output folder of the default printer (default ./filmbox)"
    )
    parser.add_argument("--format", choices=("jpeg", "png"), help="its file format (jpeg)")


#: Whether commands are written for ``cmd.exe``.
WINDOWS = os.name == "nt"


def command(options: Mapping[str, str | None], folder: Path, *, windows: bool = WINDOWS) -> str:
    """The shell command that reprints for a server started in ``folder`` with ``options``.

    ``options`` maps :data:`SHARED_OPTIONS` to their values (None: not
    given). The command changes to ``folder`` first: relative paths, in the
    options and in the configuration file, mean what they meant to the
    server. ``windows``: for ``cmd.exe`` rather than a POSIX shell.
    """
    words = ["dicomprint", "reprint"]
    for name in SHARED_OPTIONS:
        if options.get(name) is not None:
            words += [f"--{name}", str(options[name])]
    if windows:
        return f'cd /d "{folder}" && {subprocess.list2cmdline(words)}'
    return f"cd {shlex.quote(str(folder))} && {shlex.join(words)}"


def add_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "reprint",
        help="print the jobs a printer failed on again",
        description="Print the jobs kept in the failed-jobs folder again, each on its own "
        "printer (or --printer), and delete the ones that print. Reads the same "
        "configuration as 'dicomprint serve'.",
    )
    parser.add_argument(
        "jobs", nargs="*", metavar="JOB", help="job folders (default: every kept job)"
    )
    add_shared_options(parser)  # as given to serve
    parser.add_argument(
        "--failed-jobs", metavar="DIR", help="failed-jobs folder (default: from the config)"
    )
    parser.add_argument("--printer", metavar="NAME", help="print on this configured printer")
    parser.add_argument("--list", action="store_true", help="list the kept jobs and print nothing")
    parser.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, default="WARNING", help="(WARNING)"
    )
    parser.set_defaults(run=run_reprint)


def run_reprint(args: argparse.Namespace) -> int:
    try:
        config = load_config(
            args.config,
            {"failed_jobs": args.failed_jobs, "output": args.output, "format": args.format},
        )
    except ConfigError as exc:
        print(f"dicomprint: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level, format="%(levelname)-7s %(name)s: %(message)s")
    if args.printer and args.printer not in config.printers:
        known = ", ".join(sorted(config.printers))
        print(
            f"dicomprint: no printer named {args.printer!r} (configured: {known})", file=sys.stderr
        )
        return 2
    store = FailedJobs(config.server.failed_jobs)
    folders = [_folder(store, job) for job in args.jobs] if args.jobs else store.folders()
    if args.list:
        return _list(store, folders)
    if not folders:
        print(f"no failed jobs in {store.directory}")
        return 0
    outcomes = reprint(config, folders, printer=args.printer)
    for outcome in outcomes:
        if outcome.ok:
            print(
                f"reprinted {outcome.folder.name}: {outcome.films} film(s) on {outcome.printer!r}"
            )
        else:
            print(f"FAILED {outcome.folder}: {outcome.error}", file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


def _folder(store: FailedJobs, job: str) -> Path:
    """A job given as a folder path, or as the name of a folder in the store."""
    path = Path(job)
    if path.is_dir():
        return path
    matches = [folder for folder in store.folders() if folder.name == job]
    return matches[0] if len(matches) == 1 else path


def _list(store: FailedJobs, folders: list[Path]) -> int:
    if not folders:
        print(f"no failed jobs in {store.directory}")
        return 0
    status = 0
    for folder in folders:
        try:
            job = store.load(folder)
        except FailedJobError as exc:
            print(f"{folder}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(
            f"{folder}  printer={job.printer} films={len(job.films)} copies={job.job.copies} "
            f"calling={job.job.calling_ae_title.strip()} attempts={job.attempts} "
            f"failed_at={job.failed_at}\n    {job.error}"
        )
    return status
