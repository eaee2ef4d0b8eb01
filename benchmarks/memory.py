"""Peak memory of the print server under concurrent associations sending large images.

The server runs as its own process (``dicomprint serve`` with a config file,
JPEG printer into a temporary folder, films at 150 dpi); its peak resident
memory is the kernel's high-water mark (``VmHWM`` in ``/proc/PID/status``),
reset after a warm-up film so that start-up and imports are not counted.
Each scenario gets a fresh server.

Every association sends large images: a print association creates a film
session and a ``STANDARD\\2,2`` film box and N-SETs four 2048x2500 12-bit
images (10.24 MB of pixel data each); a store association sends four CR
images of the same size with C-STORE. All associations then wait for each
other, so every image accepted is held at the same moment, before the print
associations N-ACTION and everyone releases (store-to-film prints then).

Scenarios: one association of each kind alone; 20 at once (10 print, 10
store) with the default pixel budget (``[server] max_pixel_bytes``, 2 GiB);
the same 20 with a small budget, where the images beyond it are refused
(0xC605 for an image box N-SET, 0xA700 for a C-STORE) and memory stays near
the budget.

Run::

    python benchmarks/memory.py                   # table
    python benchmarks/memory.py --json out.json   # and JSON

Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom import _config as pynetdicom_config

from dicomprint import uids
from dicomprint_server.connection import no_delay, requestor_guard
from server import cpu_name, serve_process  # benchmarks/server.py: this folder is on sys.path

GRAY = uids.BasicGrayscalePrintManagementMeta
CR = "1.2.840.10008.5.1.4.1.1.1"
#: Bound for every network wait of the benchmark's SCUs.
TIMEOUT = 120.0
MB = 1e6
#: Where to copy each scenario's server log (--logs).
KEEP_LOGS: Path | None = None


# -- Requests --------------------------------------------------------------------------


def make_image(rows: int, columns: int) -> np.ndarray:
    """A 12-bit gradient with noise (a CR-like image)."""
    rng = np.random.default_rng(2500)
    ramp = np.linspace(0, 3800, columns)[None, :] + np.linspace(0, 200, rows)[:, None]
    return (ramp + rng.integers(0, 96, (rows, columns))).astype(np.uint16)


def pixel_module(ds: Dataset, pixels: np.ndarray) -> Dataset:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def image_box_request(position: int, pixels: np.ndarray) -> Dataset:
    request = Dataset()
    request.ImageBoxPosition = position
    request.BasicGrayscaleImageSequence = Sequence([pixel_module(Dataset(), pixels)])
    return request


def cr_image(pixels: np.ndarray) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CR
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = CR
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CR"
    ds.PatientName = "MEMORY^BENCHMARK"
    ds.PatientID = "M1"
    return pixel_module(ds, pixels)


def referenced(sop_class: str, uid: str) -> Sequence:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    return Sequence([item])


def associate(port: int, calling: str, context: str):
    ae = AE(ae_title=calling)
    ae.add_requested_context(context, [ExplicitVRLittleEndian])
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    assoc = ae.associate(
        "127.0.0.1",
        port,
        ae_title="PRINTSCP",
        max_pdu=0,
        evt_handlers=[(evt.EVT_CONN_OPEN, no_delay), requestor_guard()],
    )
    if not assoc.is_established:
        raise RuntimeError(f"{calling}: no association")
    return assoc


#: Tries of a scenario whose SCU lost a response (see run()).
ATTEMPTS = 3


class LostResponseError(RuntimeError):
    """A request of the benchmark's SCU got no response."""


def code(status: Dataset) -> str:
    """0xNNNN, or 'aborted' when no response came."""
    return f"0x{status.Status:04X}" if "Status" in status else "aborted"


def print_association(port: int, calling: str, requests: list[Dataset], meet) -> list[str]:
    """A film session, a 2x2 film box, its four images; N-ACTION after ``meet``."""
    assoc = associate(port, calling, GRAY)
    statuses = []
    try:
        session_uid, box_uid = uids.new_uid(), uids.new_uid()
        session = Dataset()
        session.NumberOfCopies = "1"
        status, _ = assoc.send_n_create(session, uids.BasicFilmSession, session_uid, meta_uid=GRAY)
        if code(status) != "0x0000":
            raise LostResponseError(f"{calling}: film session N-CREATE {code(status)}")
        box = Dataset()
        box.ImageDisplayFormat = "STANDARD\\2,2"
        box.FilmSizeID = "14INX17IN"
        box.ReferencedFilmSessionSequence = referenced(uids.BasicFilmSession, session_uid)
        status, reply = assoc.send_n_create(box, uids.BasicFilmBox, box_uid, meta_uid=GRAY)
        if code(status) == "aborted":
            raise LostResponseError(f"{calling}: film box N-CREATE")
        if code(status) != "0x0000":
            raise RuntimeError(f"{calling}: film box N-CREATE {code(status)}")
        boxes = [item.ReferencedSOPInstanceUID for item in reply.ReferencedImageBoxSequence]
        for uid, request in zip(boxes[: len(requests)], requests, strict=True):
            status, _ = assoc.send_n_set(request, uids.BasicGrayscaleImageBox, uid, meta_uid=GRAY)
            statuses.append(code(status))
        meet()
        if assoc.is_established:
            assoc.send_n_action(None, 1, uids.BasicFilmBox, box_uid, meta_uid=GRAY)
    finally:
        if assoc.is_established:
            assoc.release()
    return statuses


def store_association(port: int, calling: str, images: list[Dataset], meet) -> list[str]:
    """Four C-STOREs; the release (and so the store-to-film print) after ``meet``."""
    assoc = associate(port, calling, CR)
    statuses = []
    try:
        for image in images:
            image.SOPInstanceUID = image.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            statuses.append(code(assoc.send_c_store(image)))
        meet()
    finally:
        if assoc.is_established:
            assoc.release()
    return statuses


# -- The server ---------------------------------------------------------------------------


@contextmanager
def server_process(root: Path, name: str, max_pixel_bytes: int | None) -> Iterator[tuple]:
    """``dicomprint serve`` on a free loopback port; yields (pid, port, log path)."""
    folder = root / name
    folder.mkdir()
    config = folder / "server.toml"
    lines = ["[server]", 'host = "127.0.0.1"', "port = 0", "max_associations = 20"]
    if max_pixel_bytes is not None:
        lines.append(f"max_pixel_bytes = {max_pixel_bytes}")
    lines += [f'failed_jobs = "{(folder / "failed-jobs").as_posix()}"']
    lines += ["[output]", f'directory = "{(folder / "filmbox").as_posix()}"', "fsync = false"]
    config.write_text("\n".join(lines) + "\n")
    log_path = folder / "server.log"
    try:
        with serve_process(["--config", str(config)], log_path) as (pid, port):
            yield pid, port, folder
    finally:
        if KEEP_LOGS is not None:
            KEEP_LOGS.mkdir(parents=True, exist_ok=True)
            (KEEP_LOGS / f"{name}.log").write_text(log_path.read_text())


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class Sampler:
    """VmRSS every 10 ms, as a cross-check of VmHWM."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            try:
                self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            except (OSError, RuntimeError):
                return

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def films_written(folder: Path) -> int:
    return len(list((folder / "filmbox").rglob("*.jpg")))


def scenario(
    root: Path,
    name: str,
    *,
    printing: int,
    storing: int,
    max_pixel_bytes: int | None,
    pixels: np.ndarray,
    images: int,
) -> dict:
    requests = [image_box_request(position, pixels) for position in range(1, images + 1)]
    with server_process(root, name, max_pixel_bytes) as (pid, port, folder):
        # Warm up: imports, caches, the first film; then reset the high-water mark.
        small = make_image(64, 64)
        warm_up = [image_box_request(position, small) for position in (1, 2, 3, 4)]
        print_association(port, "WARMUP", warm_up, lambda: None)
        time.sleep(1.0)  # its association ends on the server too: all 20 slots free
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        baseline_kb = status_kb(pid, "VmRSS")
        count = printing + storing
        barrier = threading.Barrier(count, timeout=TIMEOUT)
        results: dict[str, list[str]] = {}
        errors: list[BaseException] = []

        def worker(index: int) -> None:
            try:
                if index < printing:
                    calling = f"PRINT{index}"
                    results[calling] = print_association(port, calling, requests, barrier.wait)
                else:
                    calling = f"STORE{index - printing}"
                    stored = [cr_image(pixels) for _ in range(images)]
                    results[calling] = store_association(port, calling, stored, barrier.wait)
            except BaseException as exc:  # reported after the join
                errors.append(exc)
                barrier.abort()

        start = time.perf_counter()
        with Sampler(pid) as sampler:
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=TIMEOUT)
            # The warm-up film, one per print association, one per store association
            # that had an image accepted.
            expected = 1 + sum(
                calling.startswith("PRINT") or "0x0000" in row for calling, row in results.items()
            )
            deadline = time.monotonic() + TIMEOUT
            while films_written(folder) < expected and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
        seconds = time.perf_counter() - start
        lost = [e for e in errors if isinstance(e, LostResponseError)]
        lost += [
            LostResponseError(f"{calling}: a request")
            for calling, row in results.items()
            if "aborted" in row
        ]
        if lost:
            raise lost[0]
        if errors:
            raise RuntimeError(f"{name}: {errors[0]!r}") from errors[0]
        peak_kb = status_kb(pid, "VmHWM")
        written = films_written(folder) - 1
    statuses = Counter(s for row in results.values() for s in row)
    # Success, and the warnings of an image kept (0xB604: printed demagnified).
    accepted = sum(n for s, n in statuses.items() if s == "0x0000" or s.startswith("0xB6"))
    image_bytes = pixels.size * 2
    return {
        "scenario": name,
        "print_associations": printing,
        "store_associations": storing,
        "images_per_association": images,
        "max_pixel_bytes": max_pixel_bytes,
        "baseline_bytes": baseline_kb * 1024,
        "peak_bytes": peak_kb * 1024,
        "sampled_peak_bytes": sampler.peak_kb * 1024,
        "load_bytes": (peak_kb - baseline_kb) * 1024,
        "images_sent": count * images,
        "images_accepted": accepted,
        "pixel_bytes_held_at_once": accepted * image_bytes,
        "statuses": dict(sorted(statuses.items())),
        "films_written": written,
        "seconds": seconds,
    }


# -- Run and report ------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict:
    # The SCUs' own warnings (a lost response, say) go to stderr.
    pynetdicom_config.LOG_HANDLER_LEVEL = "none"
    logging.basicConfig(level=logging.WARNING, format="SCU %(levelname)s %(name)s: %(message)s")
    pixels = make_image(args.rows, args.columns)
    image_bytes = pixels.size * 2
    half = args.associations // 2
    plans = [
        ("1 print association", 1, 0, None),
        ("1 store association", 0, 1, None),
        (f"{args.associations} associations", half, args.associations - half, None),
        (
            f"{args.associations} associations, small budget",
            half,
            args.associations - half,
            args.small_budget,
        ),
    ]
    results: dict = {
        "machine": f"{platform.machine()} {cpu_name()}".strip(),
        "python": platform.python_version(),
        "image": {
            "rows": args.rows,
            "columns": args.columns,
            "bits_allocated": 16,
            "bits_stored": 12,
            "pixel_bytes": image_bytes,
        },
        "default_max_pixel_bytes": 2 * 1024**3,
        "scenarios": [],
    }
    with tempfile.TemporaryDirectory(prefix="dicomprint-memory-") as tmp:
        for index, (name, printing, storing, budget) in enumerate(plans):
            for attempt in range(1, ATTEMPTS + 1):
                print(f"running: {name} ...", file=sys.stderr, flush=True)
                try:
                    row = scenario(
                        Path(tmp),
                        f"s{index}-{attempt}",
                        printing=printing,
                        storing=storing,
                        max_pixel_bytes=budget,
                        pixels=pixels,
                        images=args.images,
                    )
                except LostResponseError as exc:
                    # A response that never reached its send_*() call: the
                    # client's fault, not the server's (requestor_guard closes
                    # the race known to cause it; this stays as a safety net).
                    print(f"  the SCU lost a response ({exc}); again", file=sys.stderr)
                    continue
                row["scenario"], row["attempt"] = name, attempt
                results["scenarios"].append(row)
                break
            else:
                raise RuntimeError(f"{name}: the SCU lost a response {ATTEMPTS} times")
    return results


def report(results: dict) -> str:
    image = results["image"]
    lines = [
        f"machine: {results['machine']}, Python {results['python']}",
        f"images: {image['columns']}x{image['rows']} 12-bit, "
        f"{image['pixel_bytes'] / MB:.2f} MB of pixel data each",
        "",
        f"{'scenario':<36} {'budget':>9} {'sent':>5} {'held':>5} {'held MB':>8} "
        f"{'baseline MB':>12} {'peak MB':>8} {'load MB':>8}  statuses",
    ]
    for row in results["scenarios"]:
        budget = row["max_pixel_bytes"] or results["default_max_pixel_bytes"]
        statuses = ", ".join(f"{k} x{v}" for k, v in row["statuses"].items())
        lines.append(
            f"{row['scenario']:<36} {budget / 2**20:>7.0f}Mi {row['images_sent']:>5} "
            f"{row['images_accepted']:>5} {row['pixel_bytes_held_at_once'] / MB:>8.1f} "
            f"{row['baseline_bytes'] / MB:>12.1f} {row['peak_bytes'] / MB:>8.1f} "
            f"{row['load_bytes'] / MB:>8.1f}  {statuses}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--associations", type=int, default=20, help="concurrent (20)")
    parser.add_argument("--images", type=int, default=4, help="images per association (4)")
    parser.add_argument("--rows", type=int, default=2500)
    parser.add_argument("--columns", type=int, default=2048)
    parser.add_argument(
        "--small-budget",
        type=int,
        default=128 * 1024 * 1024,
        help="max_pixel_bytes of the small-budget scenario (128 MiB)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--logs", metavar="DIR", help="keep the server logs in DIR")
    args = parser.parse_args(argv)
    global KEEP_LOGS
    KEEP_LOGS = Path(args.logs) if args.logs else None
    if not Path("/proc/self/status").exists():
        parser.error("needs Linux /proc to read the server's memory")
    if not 2 <= args.associations <= 20 or not 1 <= args.images <= 4:
        parser.error("--associations 2..20 (the server's maximum), --images 1..4")
    results = run(args)
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
