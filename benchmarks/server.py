"""End-to-end print server benchmark, with DCMTK's dcmprscp for comparison.

Two measurements, each against ``dicomprint serve`` running as its own
process (as in production) and, when DCMTK is installed, against DCMTK's
``dcmprscp`` driven by the same pynetdicom SCU:

1. **films/s**: for every film a new association, N-CREATE film session,
   N-CREATE film box ``STANDARD\\4,3``, twelve N-SETs of 512x512 12-bit
   images, N-ACTION (our server: the JPEG is on disk when it answers), release.
2. **MB/s** of pixel data received: one N-SET of a 2048x2500 12-bit image
   (10.24 MB), with the server's maximum receive PDU at 16 KB and larger.

Run::

    python benchmarks/server.py                 # table
    python benchmarks/server.py --json out.json # and JSON
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydicom import Dataset
from pydicom.sequence import Sequence
from pynetdicom import AE, evt
from pynetdicom import _config as pynetdicom_config

from dicomprint import uids
from dicomprint_server.connection import no_delay, requestor_guard

DCMPRSCP = Path("/usr/bin/dcmprscp")
GRAY = uids.BasicGrayscalePrintManagementMeta
LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
STARTUP_TIMEOUT = 30.0

DCMPRSCP_CONFIG = """\
[[GENERAL]]
[DATABASE]
Directory = {root}/database
[PRINT]
Directory = {root}/spool
[[COMMUNICATION]]
[BENCH]
Aetitle = PRINTSCP
Description = benchmark peer
Hostname = 127.0.0.1
Port = {port}
Type = LOCALPRINTER
MaxPDU = {max_pdu}
ImplicitOnly = false
DisableNewVRs = false
Supports12Bit = true
SupportsPresentationLUT = true
DisplayFormat = 1,1\\4,3
FilmSizeID = 14INX17IN
MagnificationType = REPLICATE\\BILINEAR\\CUBIC\\NONE
MediumType = PAPER
"""


# -- Requests -------------------------------------------------------------------


def referenced(sop_class: str, uid: str) -> Sequence:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    return Sequence([item])


def image_request(position: int, pixels: np.ndarray) -> Dataset:
    item = Dataset()
    item.SamplesPerPixel = 1
    item.PhotometricInterpretation = "MONOCHROME2"
    item.Rows, item.Columns = pixels.shape
    item.BitsAllocated, item.BitsStored, item.HighBit, item.PixelRepresentation = 16, 12, 11, 0
    item.PixelData = pixels.astype("<u2").tobytes()
    request = Dataset()
    request.ImageBoxPosition = position
    request.BasicGrayscaleImageSequence = Sequence([item])
    return request


def make_image(rows: int, columns: int, seed: int) -> np.ndarray:
    """A 12-bit gradient with noise: something a resampler has to work on."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 3800, columns)[None, :] + np.linspace(0, 200, rows)[:, None]
    return (ramp + rng.integers(0, 96, (rows, columns))).astype(np.uint16)


class Scu:
    """One association of a pynetdicom print SCU."""

    def __init__(self, port: int) -> None:
        ae = AE(ae_title="BENCHSCU")
        ae.add_requested_context(GRAY)
        ae.dimse_timeout = ae.acse_timeout = ae.network_timeout = 120
        self.assoc = ae.associate(
            "127.0.0.1",
            port,
            ae_title="PRINTSCP",
            max_pdu=0,
            # TCP_NODELAY, or the SCU's Nagle latency would be measured.
            evt_handlers=[(evt.EVT_CONN_OPEN, no_delay), requestor_guard()],
        )
        if not self.assoc.is_established:
            raise RuntimeError(f"association with port {port} failed")

    def check(self, status: Dataset, what: str) -> None:
        code = status.get("Status", -1)
        if code not in (0x0000, 0xB603) and not 0xB600 <= code <= 0xB6FF:
            raise RuntimeError(f"{what} failed: 0x{code:04X} {status.get('ErrorComment', '')}")

    def film(self, layout: str, film_size: str = "14INX17IN") -> tuple[str, list[str]]:
        session_uid, box_uid = uids.new_uid(), uids.new_uid()
        session = Dataset()
        session.NumberOfCopies = "1"
        status, _ = self.assoc.send_n_create(
            session, uids.BasicFilmSession, session_uid, meta_uid=GRAY
        )
        self.check(status, "film session N-CREATE")
        box = Dataset()
        box.ImageDisplayFormat = layout
        box.FilmSizeID = film_size
        box.ReferencedFilmSessionSequence = referenced(uids.BasicFilmSession, session_uid)
        status, reply = self.assoc.send_n_create(box, uids.BasicFilmBox, box_uid, meta_uid=GRAY)
        self.check(status, "film box N-CREATE")
        return box_uid, [i.ReferencedSOPInstanceUID for i in reply.ReferencedImageBoxSequence]

    def set_image(self, uid: str, request: Dataset) -> None:
        status, _ = self.assoc.send_n_set(request, uids.BasicGrayscaleImageBox, uid, meta_uid=GRAY)
        self.check(status, "image box N-SET")

    def print_film_box(self, box_uid: str) -> None:
        status, _ = self.assoc.send_n_action(None, 1, uids.BasicFilmBox, box_uid, meta_uid=GRAY)
        self.check(status, "film box N-ACTION")

    def release(self) -> None:
        self.assoc.release()


# -- Servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_process(arguments: list[str], log_path: Path) -> Iterator[tuple[int, int]]:
    """``dicomprint serve`` with ``arguments`` as a process, logging to ``log_path``
    (its folder is the working directory); yields (pid, port) once it listens."""
    log = log_path.open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "dicomprint_server", "serve", *arguments],
        stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        port = None
        while port is None and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            log.seek(0)
            match = LISTENING.search(log.read())
            port = int(match.group(1)) if match else None
        if port is None:
            log.seek(0)
            raise RuntimeError("dicomprint serve did not start:\n" + log.read())
        yield process.pid, port
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


@contextmanager
def dicomprint_server(root: Path, max_pdu: int) -> Iterator[int]:
    arguments = ["--host", "127.0.0.1", "--port", "0", "--max-pdu", str(max_pdu)]
    arguments += ["--output", str(root / "filmbox")]
    with serve_process(arguments, root / f"dicomprint-{max_pdu}.log") as (_, port):
        yield port


@contextmanager
def dcmtk_server(root: Path, max_pdu: int) -> Iterator[int]:
    folder = root / f"dcmprscp-{max_pdu}"
    for sub in ("database", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "dcmprscp.cfg"
    # 0 (unlimited) is not a DCMTK setting; 128 KB is its largest.
    config.write_text(DCMPRSCP_CONFIG.format(root=folder, port=port, max_pdu=max_pdu or 131072))
    process = subprocess.Popen(
        [str(DCMPRSCP), "-c", str(config), "-p", "BENCH"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


# -- Measurements ----------------------------------------------------------------------------


def films_per_second(port: int, films: int, images: list[Dataset]) -> dict:
    times = []
    for _ in range(films):
        start = time.perf_counter()
        scu = Scu(port)
        box_uid, boxes = scu.film("STANDARD\\4,3")
        for uid, request in zip(boxes, images, strict=True):
            scu.set_image(uid, request)
        scu.print_film_box(box_uid)
        scu.release()
        times.append(time.perf_counter() - start)
    return {
        "films": films,
        "films_per_s": films / sum(times),
        "median_ms": statistics.median(times) * 1000,
    }


def receive_rate(port: int, request: Dataset, repeats: int) -> dict:
    scu = Scu(port)
    try:
        _, (box,) = scu.film("STANDARD\\1,1")
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            scu.set_image(box, request)
            times.append(time.perf_counter() - start)
    finally:
        scu.release()
    megabytes = len(request.BasicGrayscaleImageSequence[0].PixelData) / 1e6
    best = min(times)
    return {"megabytes": megabytes, "best_s": best, "mb_per_s": megabytes / best}


def run(args: argparse.Namespace) -> dict:
    pynetdicom_config.LOG_HANDLER_LEVEL = "none"  # the SCU's own logging is not measured
    images = [image_request(p, make_image(512, 512, p)) for p in range(1, 13)]
    big = image_request(1, make_image(2500, 2048, 99))
    servers: dict[str, Callable] = {"dicomprint": dicomprint_server}
    if DCMPRSCP.exists() and not args.no_dcmtk:
        servers["dcmprscp"] = dcmtk_server
    results: dict = {
        "machine": f"{platform.machine()} {platform.processor()} {cpu_name()}".strip(),
        "python": platform.python_version(),
        "films": {},
        "receive": {},
    }
    with tempfile.TemporaryDirectory(prefix="dicomprint-bench-") as tmp:
        root = Path(tmp)
        for name, server in servers.items():
            with server(root, 16384) as port:
                films_per_second(port, 2, images)  # warm up (imports, caches)
                results["films"][name] = films_per_second(port, args.films, images)
            for max_pdu in args.pdu_sizes:
                with server(root, max_pdu) as port:
                    receive_rate(port, big, 1)  # warm up
                    results["receive"].setdefault(name, {})[str(max_pdu)] = receive_rate(
                        port, big, args.repeats
                    )
        written = len(list((root / "filmbox").rglob("*.jpg")))
        if written != args.films + 2:  # the measured films and two warm-up films
            raise RuntimeError(f"expected {args.films + 2} JPEG files, found {written}")
        results["jpegs_written"] = written
    if "dcmprscp" in results["receive"] and "0" in results["receive"]["dcmprscp"]:
        results["notes"] = ["max PDU 0 runs dcmprscp at 128 KB, the largest value DCMTK accepts"]
    return results


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def report(results: dict) -> str:
    lines = [f"machine: {results['machine']}, Python {results['python']}", ""]
    films = results["films"]
    lines.append("End to end, STANDARD\\4,3 with twelve 512x512 12-bit images per film")
    lines.append(f"{'server':<12} {'films/s':>8} {'median ms':>10}")
    for name, row in films.items():
        lines.append(f"{name:<12} {row['films_per_s']:>8.2f} {row['median_ms']:>10.1f}")
    if "dcmprscp" in films:
        ratio = films["dicomprint"]["films_per_s"] / films["dcmprscp"]["films_per_s"]
        lines.append(f"dicomprint / dcmprscp: {ratio:.2f}x")
    lines.append("")
    lines.append("Pixel data received, one N-SET of 2048x2500 12-bit (10.24 MB), best of runs")
    receive = results["receive"]
    sizes = list(next(iter(receive.values())))
    header = f"{'max PDU':>10} " + " ".join(f"{name + ' MB/s':>16}" for name in receive)
    if "dcmprscp" in receive:
        header += f" {'ratio':>7}"
    lines.append(header)
    for size in sizes:
        label = "unlimited*" if size == "0" else f"{int(size) // 1024} KB"
        row = f"{label:>10} " + " ".join(f"{receive[n][size]['mb_per_s']:>16.1f}" for n in receive)
        if "dcmprscp" in receive:
            ratio = receive["dicomprint"][size]["mb_per_s"] / receive["dcmprscp"][size]["mb_per_s"]
            row += f" {ratio:>6.2f}x"
        lines.append(row)
    lines += [f"* {note}" for note in results.get("notes", [])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=20, help="films per server (20)")
    parser.add_argument("--repeats", type=int, default=5, help="N-SETs per PDU size (5)")
    parser.add_argument(
        "--pdu-sizes",
        type=lambda text: [int(v) for v in text.split(",")],
        default=[16384, 65536, 262144, 0],
        help="server max receive PDU sizes, comma-separated; 0 = unlimited",
    )
    parser.add_argument("--no-dcmtk", action="store_true", help="skip the dcmprscp comparison")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.films < 1 or args.repeats < 1:
        parser.error("--films and --repeats must be at least 1")
    results = run(args)
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
