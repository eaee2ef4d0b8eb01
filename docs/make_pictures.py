"""Render the example films shown in the documentation into docs/images/.

Run from the project root: ``python docs/make_pictures.py``. Every picture is
made by the project's own code from generated objects, then reduced for the
page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import Dataset
from pydicom.sequence import Sequence

from dicomprint import Printer, render_job
from dicomprint.store import StoreToFilm

HERE = Path(__file__).parent
OUT = HERE / "images"
WIDTH = 480  # pixels of the reduced picture


def phantom(size: int, seed: int) -> np.ndarray:
    """A CT-like slice in 12-bit stored values: body, organs, bone ring, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    image = np.full((size, size), 24.0)
    body = (x / 0.85) ** 2 + (y / 0.7) ** 2 < 1
    image[body] = 1040
    for cx, cy, r, value in ((-0.35, 0, 0.25, 850), (0.35, 0, 0.25, 850), (0, -0.3, 0.12, 1300)):
        image[(x - cx) ** 2 + (y - cy) ** 2 < r**2] = value
    ring = np.abs(np.hypot(x / 0.85, y / 0.7) - 0.93) < 0.04
    image[ring] = 2200 + 200 * seed
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 4095)


def ct(seed: int, size: int = 256) -> Dataset:
    from image_objects import grayscale_image

    ds = grayscale_image("CT", pixels=phantom(size, seed))
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40, 400
    return ds


def ultrasound(seed: int) -> Dataset:
    from image_objects import color_image

    ds = color_image("US", 240, 320)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:240, 0:320]
    speckle = rng.gamma(2.0, 40.0, (240, 320)).clip(0, 255)
    fan = np.abs(x - 160) < (y * 0.6 + 10)
    gray = np.where(fan, speckle, 0).astype(np.uint8)
    rgb = np.stack([gray] * 3, axis=-1)
    flow = ((x - 160) ** 2 + (y - 140) ** 2) < 30**2
    rgb[flow] = (220, 40, 30)
    rgb[flow & (x > 160)] = (40, 60, 230)
    ds.PixelData = rgb.tobytes()
    ds.PlanarConfiguration = 0
    return ds


def report() -> Dataset:
    from sr_documents import code, item, make_sr

    ds = make_sr(paragraphs=0)
    findings = item("CONTAINER", "Findings")
    findings.ContentSequence = Sequence(
        [
            item(
                "TEXT",
                "Lungs",
                TextValue="Clear. No focal consolidation, effusion or pneumothorax.",
            ),
            item("TEXT", "Heart", TextValue="Normal size and contour."),
            item("CODE", "Laterality", ConceptCodeSequence=Sequence([code("Bilateral")])),
        ]
    )
    ds.ContentSequence = Sequence(
        [findings, item("TEXT", "Impression", TextValue="No acute cardiopulmonary disease.")]
    )
    return ds


def store_films(objects: list[Dataset]) -> list[np.ndarray]:
    jobs = []
    store = StoreToFilm(Printer(), jobs.append, calling_ae_title="DOCS")
    for ds in objects:
        store.add(ds)
    store.finish()
    return [film.pixels for job in jobs for film in render_job(job)[0]]


def save(pixels: np.ndarray, name: str) -> None:
    image = Image.fromarray(pixels)
    height = round(image.height * WIDTH / image.width)
    image.resize((WIDTH, height), Image.Resampling.LANCZOS).save(OUT / name, quality=88)
    print(OUT / name)


def main() -> None:
    sys.path.insert(0, str(HERE.parent / "tests"))  # the generated-object builders
    OUT.mkdir(exist_ok=True)
    save(store_films([ct(seed) for seed in range(4)])[0], "store-2x2-ct.jpg")
    save(store_films([ct(seed % 5) for seed in range(12)])[0], "store-4x3-ct.jpg")
    save(store_films([ultrasound(seed) for seed in range(4)])[0], "store-2x2-us-color.jpg")
    save(store_films([report()])[0], "store-report.jpg")


if __name__ == "__main__":
    main()
