"""A private CUPS scheduler with a cups-pdf virtual printer, for the CUPS printer tests.

The tests start their own ``cupsd`` (foreground, configuration and spool in
a temporary folder, listening only on a Unix domain socket there) and add a
queue using the ``cups-pdf`` backend of the Debian package
``printer-driver-cups-pdf``. Nothing of the system's CUPS is used or changed.

cups-pdf runs as root (its backend file is mode 0700), so the private
scheduler must too: elsewhere the tests are skipped with that reason.
cups-pdf writes its PDFs where ``/etc/cups/cups-pdf.conf`` says (``Out``,
``${HOME}/PDF`` by default) for the submitting user; the tests delete the
files they produced.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import frozen

from server_support import stop_process

CUPSD = Path("/usr/sbin/cupsd")
LPADMIN = Path("/usr/sbin/lpadmin")
LPSTAT = Path("/usr/bin/lpstat")
LP = Path("/usr/bin/lp")
CUPS_PDF_BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
CUPS_PDF_CONF = Path("/etc/cups/cups-pdf.conf")
PPD_CANDIDATES = (
    Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd"),
    Path("/usr/share/cups/model/CUPS-PDF_opt.ppd"),
)
PDFINFO = Path("/usr/bin/pdfinfo")
PDFTOPPM = Path("/usr/bin/pdftoppm")
QUEUE = "DICOMPRINT_TEST"
#: Bound for every wait (a liveness limit, not a timing test). cups-pdf runs
#: Ghostscript on every job, which takes a few seconds on a busy machine.
WAIT = 60.0


@frozen
class Cups:
    server: str  # the scheduler's domain socket, for lp -h
    queue: str
    output: Path  # where cups-pdf writes its PDFs
    page_log: Path
    error_log: Path


def missing() -> str | None:
    """Why the CUPS tests cannot run here, or None."""
    needed = [CUPSD, LPADMIN, LPSTAT, LP, CUPS_PDF_BACKEND, PDFINFO, PDFTOPPM]
    absent = [str(path) for path in needed if not path.exists()]
    if absent:
        return (
            f"{', '.join(absent)} missing: apt-get install cups printer-driver-cups-pdf"
            " (poppler-utils comes with it)"
        )
    if ppd() is None:
        return "the CUPS-PDF PPD of printer-driver-cups-pdf is missing"
    if os.geteuid() != 0:
        return "the cups-pdf backend runs only under a cupsd started as root"
    return None


def ppd() -> Path | None:
    return next((path for path in PPD_CANDIDATES if path.exists()), None)


def cups_pdf_output() -> Path:
    """cups-pdf's output folder for jobs of the current user."""
    out = "${HOME}/PDF"
    if CUPS_PDF_CONF.exists():
        for line in CUPS_PDF_CONF.read_text(errors="replace").splitlines():
            match = re.match(r"\s*Out\s+(\S+)", line)
            if match:
                out = match.group(1)
    user = pwd.getpwuid(os.getuid())
    return Path(out.replace("${HOME}", user.pw_dir).replace("${USER}", user.pw_name))


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=WAIT, check=False
    )


@contextlib.contextmanager
def private_cupsd() -> Iterator[Cups]:
    """A cupsd of our own with a cups-pdf queue; stopped and removed at the end."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    # Not under pytest's tmp_path: filters run as user lp and must reach the spool.
    root = Path(tempfile.mkdtemp(prefix="dicomprint-cups-"))
    process = None
    try:
        root.chmod(0o755)
        for name in ("etc", "spool", "spool/tmp", "cache", "state", "log", "run"):
            (root / name).mkdir(exist_ok=True)
            (root / name).chmod(0o755)
        socket_path = root / "run" / "cups.sock"
        (root / "etc" / "cups-files.conf").write_text(
            f"ServerRoot {root / 'etc'}\n"
            f"RequestRoot {root / 'spool'}\n"
            f"TempDir {root / 'spool' / 'tmp'}\n"
            f"CacheDir {root / 'cache'}\n"
            f"StateDir {root / 'state'}\n"
            f"ErrorLog {root / 'log' / 'error_log'}\n"
            f"AccessLog {root / 'log' / 'access_log'}\n"
            f"PageLog {root / 'log' / 'page_log'}\n"
            "SystemGroup root\n"
        )
        (root / "etc" / "cupsd.conf").write_text(
            "LogLevel info\n"
            f"Listen {socket_path}\n"
            "Browsing No\n"
            "WebInterface No\n"
            "DefaultAuthType None\n"
            "PreserveJobFiles No\n"
            "<Location />\n  Order allow,deny\n  Allow from @LOCAL\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
        )
        with open(root / "log" / "cupsd.out", "wb") as out:
            process = subprocess.Popen(
                [
                    str(CUPSD),
                    "-f",
                    "-c",
                    str(root / "etc" / "cupsd.conf"),
                    "-s",
                    str(root / "etc" / "cups-files.conf"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + WAIT
        while "is running" not in _run(LPSTAT, "-h", socket_path, "-r").stdout:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cupsd did not start: {_logs(root)}")
            time.sleep(0.1)
        added = _run(LPADMIN, "-h", socket_path, "-p", QUEUE, "-E", "-v", "cups-pdf:/", "-P", ppd())
        if added.returncode != 0:
            raise RuntimeError(f"lpadmin failed: {added.stderr}\n{_logs(root)}")
        yield Cups(
            server=str(socket_path),
            queue=QUEUE,
            output=cups_pdf_output(),
            page_log=root / "log" / "page_log",
            error_log=root / "log" / "error_log",
        )
    finally:
        if process is not None:
            stop_process(process)
        shutil.rmtree(root, ignore_errors=True)


def _logs(root: Path) -> str:
    texts = []
    for name in ("cupsd.out", "error_log"):
        path = root / "log" / name
        if path.exists():
            texts.append(path.read_text(errors="replace")[-3000:])
    return "\n".join(texts)


def wait_for_pdfs(cups: Cups, title_prefix: str, count: int = 1) -> list[Path]:
    """The PDFs cups-pdf wrote for jobs whose title starts with ``title_prefix``.

    Waits until the scheduler reports those jobs completed, so the files are whole.
    """
    deadline = time.monotonic() + WAIT
    while True:
        found = (
            sorted(cups.output.glob(f"{title_prefix}*-job_*.pdf")) if cups.output.exists() else []
        )
        done = completed_jobs(cups)
        if len(found) >= count and all(job_number(pdf) in done for pdf in found):
            return found
        if time.monotonic() > deadline:
            return [pdf for pdf in found if job_number(pdf) in done]
        time.sleep(0.2)


def completed_jobs(cups: Cups) -> set[int]:
    out = _run(LPSTAT, "-h", cups.server, "-W", "completed", "-o", cups.queue).stdout
    return {int(n) for n in re.findall(rf"^{re.escape(cups.queue)}-(\d+)\s", out, re.MULTILINE)}


def job_number(pdf: Path) -> int:
    return int(re.search(r"-job_(\d+)\.pdf$", pdf.name).group(1))


def page_log_entry(cups: Cups, job: int) -> dict[str, str]:
    """The page log line of a finished job: copies and media as CUPS recorded them."""
    deadline = time.monotonic() + WAIT
    pattern = re.compile(
        rf"^{re.escape(cups.queue)} \S+ {job} \[[^\]]*\] (?P<page>\S+) (?P<copies>\d+) \S+ "
        r"\S+ (?P<title>\S+) (?P<media>\S+) (?P<sides>\S+)$",
        re.MULTILINE,
    )
    while True:
        text = cups.page_log.read_text(errors="replace") if cups.page_log.exists() else ""
        match = pattern.search(text)
        if match or time.monotonic() > deadline:
            if not match:
                raise AssertionError(f"no page log entry for job {job}:\n{text}")
            return match.groupdict()
        time.sleep(0.2)


def pdf_page_sizes(pdf: Path) -> list[tuple[float, float]]:
    """Page sizes in points, as poppler's pdfinfo reads them."""
    out = _run(PDFINFO, "-f", "1", "-l", "999", pdf).stdout
    return [
        (float(w), float(h))
        for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out)
    ]


def render_gray(pdf: Path, dpi: int, folder: Path):
    """The first page rendered by poppler at ``dpi``, as a numpy array."""
    import numpy as np
    from PIL import Image

    stem = folder / "page"
    _run(PDFTOPPM, "-r", str(dpi), "-gray", "-singlefile", "-f", "1", "-l", "1", pdf, stem)
    with Image.open(f"{stem}.pgm") as image:
        return np.asarray(image)
