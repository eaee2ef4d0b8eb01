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

from dicomprint import Printer, PrintSession, prepare_image, render_job, uids
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


def ramp() -> np.ndarray:
    """A left-to-right ramp of every 12-bit value, in 16 visible steps."""
    steps = np.repeat(np.arange(16) * 273, 32)
    return np.repeat(steps[None, :], 128, axis=0).astype(np.uint16)


def print_film(
    images: list[np.ndarray | Dataset],
    *,
    lut: str | None = None,
    annotations: tuple[str, ...] = (),
    color: bool = False,
    **film_box: str,
) -> np.ndarray:
    """Drive a print session as an SCU would, print one film box, render it.

    ``images`` fill the boxes in position order (prepared as a print SCU
    does, to 12-bit P-values or 8-bit RGB); ``film_box`` holds film box
    attributes by keyword; ``annotations`` are the Text Strings of the
    annotation boxes (BOTTOM for one, TOP_BOTTOM for two).
    """
    jobs = []
    session = PrintSession(Printer(), on_print=jobs.append, annotation=bool(annotations))
    meta = uids.BasicColorPrintManagementMeta if color else uids.BasicGrayscalePrintManagementMeta
    session_uid = session.n_create(uids.BasicFilmSession, Dataset()).instance_uid
    request = Dataset()
    for keyword, value in film_box.items():
        setattr(request, keyword, value)
    request.ReferencedFilmSessionSequence = Sequence(
        [_reference(uids.BasicFilmSession, session_uid)]
    )
    if lut:
        shape = Dataset()
        shape.PresentationLUTShape = lut
        lut_uid = session.n_create(uids.PresentationLUT, shape).instance_uid
        request.ReferencedPresentationLUTSequence = Sequence(
            [_reference(uids.PresentationLUT, lut_uid)]
        )
    if annotations:
        request.AnnotationDisplayFormatID = "TOP_BOTTOM" if len(annotations) == 2 else "BOTTOM"
    box = session.n_create(uids.BasicFilmBox, request, meta_sop_class_uid=meta)
    box_class = uids.IMAGE_BOX_CLASS_FOR_META[meta]
    for position, (item, source) in enumerate(
        zip(box.dataset.ReferencedImageBoxSequence, images, strict=False), start=1
    ):
        prepared = prepare_image(source, bits=12, color=color)
        image_box = Dataset()
        image_box.ImageBoxPosition = position
        sequence = "BasicColorImageSequence" if color else "BasicGrayscaleImageSequence"
        setattr(image_box, sequence, Sequence([prepared.image_sequence_item()]))
        session.n_set(box_class, item.ReferencedSOPInstanceUID, image_box)
    for position, (item, text) in enumerate(
        zip(box.dataset.get("ReferencedBasicAnnotationBoxSequence", []), annotations, strict=True),
        start=1,
    ):
        annotation = Dataset()
        annotation.AnnotationPosition = position
        annotation.TextString = text
        session.n_set(uids.BasicAnnotationBox, item.ReferencedSOPInstanceUID, annotation)
    session.n_action(uids.BasicFilmBox, box.instance_uid, 1)
    films, _ = render_job(jobs[0])
    return films[0].pixels


def _reference(sop_class: str, uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    return item


def side_by_side(*films: np.ndarray, gap: int = 24) -> np.ndarray:
    """Films of one size next to each other on a light gray background."""
    height = max(film.shape[0] for film in films)
    spacer = np.full((height, gap, *films[0].shape[2:]), 200, np.uint8)
    parts = []
    for film in films:
        parts += [film, spacer]
    return np.concatenate(parts[:-1], axis=1)


def save(pixels: np.ndarray, name: str, width: int = WIDTH) -> None:
    image = Image.fromarray(pixels)
    height = round(image.height * width / image.width)
    image.resize((width, height), Image.Resampling.LANCZOS).save(OUT / name, quality=88)
    print(OUT / name, (OUT / name).stat().st_size // 1024, "KB")


def main() -> None:
    sys.path.insert(0, str(HERE.parent / "tests"))  # the generated-object builders
    OUT.mkdir(exist_ok=True)
    save(store_films([ct(seed) for seed in range(4)])[0], "store-2x2-ct.jpg")
    save(store_films([ct(seed % 5) for seed in range(12)])[0], "store-4x3-ct.jpg")
    save(store_films([ultrasound(seed) for seed in range(4)])[0], "store-2x2-us-color.jpg")
    save(store_films([report()])[0], "store-report.jpg")

    small = {"FilmSizeID": "8INX10IN", "FilmOrientation": "PORTRAIT"}
    pair = [ramp(), ct(0)]
    identity = print_film(
        pair, lut="IDENTITY", annotations=("IDENTITY",), ImageDisplayFormat="STANDARD\\1,2", **small
    )
    lin_od = print_film(
        pair, lut="LIN OD", annotations=("LIN OD",), ImageDisplayFormat="STANDARD\\1,2", **small
    )
    save(side_by_side(identity, lin_od), "lut-identity-vs-lin-od.jpg", width=640)

    cts = [ct(seed % 5) for seed in range(6)]
    save(print_film(cts[:4], ImageDisplayFormat="ROW\\1,3", **small), "layout-row-1-3.jpg")
    save(print_film(cts[:3], ImageDisplayFormat="COL\\2,1", **small), "layout-col-2-1.jpg")
    save(
        print_film(
            cts[:2],
            ImageDisplayFormat="STANDARD\\3,1",
            Trim="YES",
            EmptyImageDensity="WHITE",
            annotations=("CHEST PA  2026-11-20", "dicomprint"),
            FilmSizeID="8INX10IN",
            FilmOrientation="LANDSCAPE",
        ),
        "annotation-trim.jpg",
        width=640,
    )
    save(
        print_film(
            [ultrasound(seed) for seed in range(2)] + [ct(1)],
            color=True,
            ImageDisplayFormat="STANDARD\\3,1",
            FilmSizeID="8INX10IN",
            FilmOrientation="LANDSCAPE",
        ),
        "color-print.jpg",
    )


if __name__ == "__main__":
    main()
