"""Benchmark: compositing films, dicomprint against per-cell baselines.

Renders one 14INX17IN portrait film at 300 DPI for each case and prints the
median milliseconds per film of:

- dicomprint's pipeline (``render_job``),
- straightforward per-cell pipelines that resample with Pillow,
  scikit-image and OpenCV: the same inputs, layout and tone tables, and the
  same output (the table reports the largest pixel difference),
- the floor: one full write of a new film array (``np.full``),

then dicomprint and the floor again on fresh memory (glibc only: in a child
process where every large array is newly mapped, so that its first write
also faults its pages in), and dicomprint's peak memory (tracemalloc) for a
14INX17IN film at 600 DPI with ``STANDARD\\4,5`` of 512x512 12-bit images.

    python benchmarks/composite.py [--repeat N] [--json PATH]

Targets (reported, not asserted): dicomprint faster than every baseline in
every case, within 3x of the floor for the 3x4 CT case (reported for reused
and for fresh memory), and a peak under two film rasters plus the inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import PIL
from PIL import Image

from dicomprint import PrintSession, film_size_px, uids
from dicomprint.job import FilmJob, PrintJob
from dicomprint.luts import color_lut, grayscale_lut, inverts
from dicomprint.placement import film_layout, place_image
from dicomprint.printer import Printer
from dicomprint.profile import PrinterProfile
from dicomprint.render import density_value, display_scale, render_job

try:
    import skimage
    from skimage.transform import resize as skimage_resize
except ImportError:  # the bench extra is not installed
    skimage = None

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from print_requests import Driver, color_item, grayscale_item, image_box_request  # noqa: E402

PROFILE = PrinterProfile(dpi_standard=300, dpi_high=600)

#: name, display format, image count, (rows, columns), colour
CASES = (
    ("1x1 CR 2048x2500", "STANDARD\\1,1", 1, (2500, 2048), False),
    ("3x4 CT 512x512", "STANDARD\\3,4", 12, (512, 512), False),
    ("4x5 MR 256x256", "STANDARD\\4,5", 20, (256, 256), False),
    ("2x2 color US 640x480", "STANDARD\\2,2", 4, (480, 640), True),
)


def synthetic(shape: tuple[int, int], seed: int, color: bool) -> np.ndarray:
    """A smooth anatomy-like pattern with noise: 12-bit gray or 8-bit RGB."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    y, x = np.mgrid[0:rows, 0:cols]
    smooth = 0.5 + 0.4 * np.sin(x / (7 + seed)) * np.cos(y / 11)
    noisy = np.clip(smooth + rng.normal(0, 0.05, shape), 0, 1)
    if color:
        planes = [noisy, noisy[::-1], noisy[:, ::-1]]
        return (np.stack(planes, axis=-1) * 255).astype(np.uint8)
    return (noisy * 4095).astype(np.uint16)


def make_job(
    display_format: str,
    count: int,
    shape: tuple[int, int],
    color: bool,
    resolution: str = "STANDARD",
    profile: PrinterProfile = PROFILE,
) -> PrintJob:
    """A print job made the way an SCU makes one, through a PrintSession."""
    jobs: list[PrintJob] = []
    driver = Driver(PrintSession(Printer(profile), on_print=jobs.append))
    driver.create_session()
    driver.create_film_box(
        display_format, color=color, FilmSizeID="14INX17IN", RequestedResolutionID=resolution
    )
    for position in range(1, count + 1):
        pixels = synthetic(shape, position, color)
        item = color_item(pixels) if color else grayscale_item(pixels)
        sop_class = uids.BasicColorImageBox if color else uids.BasicGrayscaleImageBox
        driver.session.n_set(
            sop_class,
            driver.image_box_uids[position - 1],
            image_box_request(position, item, color=color),
        )
    driver.print_film_box()
    return jobs[0]


# -- Baselines: the obvious per-cell pipeline with a given resampler ---------------


def _pillow(src: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(src).resize(size, Image.Resampling.BILINEAR))


def _skimage(src: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    # Edge replication at the borders, as OpenCV and Pillow do.
    out = skimage_resize(
        src, (size[1], size[0]), order=1, mode="edge", preserve_range=True, anti_aliasing=False
    )
    return np.rint(out).astype(np.uint8)


def _opencv(src: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(src, size, interpolation=cv2.INTER_LINEAR)


ENGINES: dict[str, Callable[[np.ndarray, tuple[int, int]], np.ndarray]] = {
    "opencv": _opencv,
    "pillow": _pillow,
}
if skimage is not None:
    ENGINES["skimage"] = _skimage


def baseline(job: PrintJob, engine: Callable) -> np.ndarray:
    """Fill the film, then per cell: look up, resample, paste."""
    film_job: FilmJob = job.films[0]
    box = film_job.film_box
    dpi = job.profile.dpi(box.RequestedResolutionID)
    width, height = film_size_px(box.FilmSizeID, box.FilmOrientation, dpi)
    layout = film_layout(box, width, height, dpi)
    scale = display_scale(box, job.profile)
    shape = (height, width, 3) if box.is_color else (height, width)
    film = np.full(shape, density_value(box.BorderDensity, scale), dtype=np.uint8)
    for image_box in box.image_boxes:
        image = image_box.image
        if image is None:
            continue
        placement = place_image(
            image,
            layout.image_area(image_box.ImageBoxPosition),
            dpi,
            film_job.magnification_type(image_box),
        )
        if image.is_color:
            table = color_lut(image_box.Polarity == "REVERSE").table
        else:
            table = grayscale_lut(
                image.BitsStored,
                inverts(image.PhotometricInterpretation, image_box.Polarity),
                film_job.presentation_lut(image_box),
                film_job.min_density(image_box) / 100,
                film_job.max_density(image_box) / 100,
                scale,
            ).table
        t = placement.target
        film[t.y : t.bottom, t.x : t.right] = engine(table[image.pixels], (t.width, t.height))
    return film


def floor(job: PrintJob) -> np.ndarray:
    box = job.films[0].film_box
    dpi = job.profile.dpi(box.RequestedResolutionID)
    width, height = film_size_px(box.FilmSizeID, box.FilmOrientation, dpi)
    shape = (height, width, 3) if box.is_color else (height, width)
    return np.full(shape, 255, dtype=np.uint8)


# -- Measurement ------------------------------------------------------------------------


def median_ms(fn: Callable[[], Any], repeat: int, budget_s: float = 20.0) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs (fewer if slow), after a warm-up."""
    return paired_median_ms([fn], repeat, budget_s)[0]


def paired_median_ms(
    fns: list[Callable[[], Any]], repeat: int, budget_s: float = 20.0
) -> list[float]:
    """Median wall time of each of ``fns``, run in turn round after round.

    Taking turns puts every function through the same moments of a shared
    machine's load, so their ratio holds better than if each ran its rounds
    alone.
    """
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    started = time.perf_counter()
    while len(times[0]) < repeat:
        for fn, spent in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - t0)
        if len(times[0]) >= 3 and time.perf_counter() - started > budget_s:
            break
    return [statistics.median(spent) * 1000 for spent in times]


#: glibc maps arrays from 128 KiB up anew and unmaps them when freed. By
#: default it raises that threshold (up to 32 MiB) once a large block is freed
#: and keeps freed blocks, so later films land on memory already faulted in.
FRESH_MEMORY = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def against_floor(job: PrintJob, repeat: int) -> list[float]:
    """dicomprint's and the floor's median ms, taking turns: their ratio is a target."""
    return paired_median_ms([lambda: render_job(job), lambda: floor(job)], repeat)


def paired_cases(repeat: int) -> list[list[float]]:
    return [against_floor(make_job(*case[1:]), repeat) for case in CASES]


def fresh_memory_cases(repeat: int) -> list[list[float]] | None:
    """:func:`paired_cases` in a process where every film is newly mapped memory.

    None where the C library is not glibc, which the settings are for.
    """
    if platform.libc_ver()[0] != "glibc":
        return None
    child = subprocess.run(
        [sys.executable, __file__, "--paired-only", "--repeat", str(repeat)],
        env=os.environ | FRESH_MEMORY,
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:  # the rest of the run still counts
        print(f"fresh memory not measured:\n{child.stderr}", file=sys.stderr)
        return None
    return json.loads(child.stdout)


def run_case(name: str, display_format: str, count: int, shape, color: bool, repeat: int) -> dict:
    job = make_job(display_format, count, shape, color)
    ours = render_job(job)[0][0].pixels
    row: dict[str, Any] = {"case": name, "film": list(ours.shape)}
    row["dicomprint_ms"], row["floor_ms"] = against_floor(job, repeat)
    row["max_abs_diff"] = {}
    for engine_name, engine in ENGINES.items():
        row[f"{engine_name}_ms"] = median_ms(lambda e=engine: baseline(job, e), repeat)
        other = baseline(job, engine)
        row["max_abs_diff"][engine_name] = int(
            np.abs(other.astype(np.int16) - ours.astype(np.int16)).max()
        )
    row["x_floor"] = row["dicomprint_ms"] / row["floor_ms"]
    return row


def peak_memory() -> dict:
    job = make_job("STANDARD\\4,5", 20, (512, 512), False, resolution="HIGH")
    box = job.films[0].film_box
    inputs = box.pixel_bytes
    width, height = film_size_px(box.FilmSizeID, box.FilmOrientation, PROFILE.dpi_high)
    raster = width * height
    render_job(job)  # warm caches (fonts, OpenCV) outside the measurement
    tracemalloc.start()
    films, _ = render_job(job)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del films
    return {
        "case": "14INX17IN 600 DPI STANDARD\\4,5 CT 512x512",
        "film": [height, width],
        "raster_bytes": raster,
        "input_bytes": inputs,
        "peak_bytes": peak,
        "budget_bytes": 2 * raster + inputs,
        "peak_in_rasters": peak / raster,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per measurement")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--paired-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.paired_only:  # the fresh-memory child
        print(json.dumps(paired_cases(args.repeat)))
        return 0

    rows = [run_case(*case, repeat=args.repeat) for case in CASES]
    memory = peak_memory()
    fresh = fresh_memory_cases(args.repeat)
    for row, (dicomprint_ms, floor_ms) in zip(rows, fresh or [], strict=bool(fresh)):
        row["fresh_dicomprint_ms"], row["fresh_floor_ms"] = dicomprint_ms, floor_ms
        row["fresh_x_floor"] = dicomprint_ms / floor_ms
    engines = list(ENGINES)

    header = ["case", "dicomprint", *engines, "floor", "x floor", "max |diff|"]
    if fresh:
        header += ["fresh", "floor", "x floor"]
    print(" | ".join(f"{h:>20}" if i == 0 else f"{h:>10}" for i, h in enumerate(header)))
    for row in rows:
        cells = [f"{row['case']:>20}", f"{row['dicomprint_ms']:10.1f}"]
        cells += [f"{row[f'{e}_ms']:10.1f}" for e in engines]
        cells += [f"{row['floor_ms']:10.1f}", f"{row['x_floor']:10.1f}"]
        cells.append(f"{max(row['max_abs_diff'].values()):>10}")
        if fresh:
            cells += [f"{row[key]:10.1f}" for key in ("fresh_dicomprint_ms", "fresh_floor_ms")]
            cells.append(f"{row['fresh_x_floor']:10.1f}")
        print(" | ".join(cells))
    print("(median ms per film, 14INX17IN portrait at 300 DPI; 'fresh': on newly mapped memory)")
    print(
        f"peak memory, {memory['case']}: {memory['peak_bytes'] / 1e6:.1f} MB "
        f"= {memory['peak_in_rasters']:.2f} film rasters of {memory['raster_bytes'] / 1e6:.1f} MB "
        f"(budget {memory['budget_bytes'] / 1e6:.1f} MB: two rasters plus "
        f"{memory['input_bytes'] / 1e6:.1f} MB of inputs)"
    )

    ct = next(row for row in rows if row["case"].startswith("3x4 CT"))
    targets = {
        "faster_than_every_baseline": all(
            row["dicomprint_ms"] < row[f"{e}_ms"] for row in rows for e in engines
        ),
        "ct_within_3x_floor": ct["x_floor"] <= 3.0,
        "ct_within_3x_floor_on_fresh_memory": bool(fresh) and ct["fresh_x_floor"] <= 3.0,
        "peak_memory_within_budget": memory["peak_bytes"] + memory["input_bytes"]
        <= memory["budget_bytes"],
    }
    for target, met in targets.items():
        print(f"target {target}: {'met' if met else 'NOT met'}")

    if args.json:
        result = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "numpy": np.__version__,
                "opencv": cv2.__version__,
                "opencv_threads": cv2.getNumThreads(),
                "pillow": PIL.__version__,
                "scikit-image": getattr(skimage, "__version__", None),
            },
            "unit": "median milliseconds per film",
            "repeat": args.repeat,
            "cases": rows,
            "memory": memory,
            "targets": targets,
        }
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
