"""Printer Configuration Retrieval SOP Class (PS3.4 H.4.11): what the printer can do.

One well-known instance answers N-GET with a Printer Configuration
Sequence of one item, built from the :class:`~dicomprint.PrinterProfile`:
the SOP classes, memory and bit depths, the media (every Medium Type and
Film Size ID the profile accepts, the default first), the supported
display formats, the magnification and smoothing types, and who the
printer is.

The profile accepts every STANDARD, ROW and COL layout up to its maximum on
every film size, thousands of combinations; the Supported Image Display
Formats Sequence lists the common ones: STANDARD up to
:data:`LISTED_COLUMNS` x :data:`LISTED_ROWS` and the profile's custom
formats, on the default film size, in both orientations and resolutions.
"""

from __future__ import annotations

from pydicom import Dataset

from . import uids
from .film_box import FilmBox
from .film_sizes import film_size_px
from .placement import film_layout
from .profile import PrinterProfile

#: The largest STANDARD grid listed (the profile may accept larger ones).
LISTED_COLUMNS, LISTED_ROWS = 4, 5
_MM_PER_INCH = 25.4


def supported_sop_classes(profile: PrinterProfile) -> list[str]:
    """The print SOP classes served, colour ones only for a colour printer."""
    classes = [uids.BasicGrayscalePrintManagementMeta]
    if profile.color:
        classes.append(uids.BasicColorPrintManagementMeta)
    classes += [uids.BasicFilmSession, uids.BasicFilmBox, uids.BasicGrayscaleImageBox]
    if profile.color:
        classes.append(uids.BasicColorImageBox)
    return classes + [
        uids.Printer,
        uids.BasicAnnotationBox,
        uids.PresentationLUT,
        uids.PrintJob,
        uids.PrinterConfigurationRetrieval,
    ]


def printer_configuration(profile: PrinterProfile) -> Dataset:
    """The N-GET answer: the Printer Configuration Sequence, the class's one attribute."""
    defaults = profile.film_box
    item = Dataset()
    item.SOPClassesSupported = supported_sop_classes(profile)
    item.MaximumMemoryAllocation = profile.max_session_pixel_bytes // 1024  # in KB
    item.MemoryBitDepth = max(profile.grayscale_bits_stored)
    item.PrintingBitDepth = 8
    item.MediaInstalledSequence = _media(profile)
    item.OtherMediaAvailableSequence = []
    item.SupportedImageDisplayFormatsSequence = _display_formats(profile)
    item.DefaultPrinterResolutionID = defaults.RequestedResolutionID
    item.DefaultMagnificationType = defaults.MagnificationType
    item.OtherMagnificationTypesAvailable = [
        kind for kind in profile.magnification_types if kind != defaults.MagnificationType
    ]
    item.DefaultSmoothingType = defaults.SmoothingType
    item.OtherSmoothingTypesAvailable = [
        kind for kind in profile.smoothing_types if kind and kind != defaults.SmoothingType
    ]
    item.ConfigurationInformationDescription = "Configuration Information is not interpreted."
    item.MaximumCollatedFilms = profile.max_film_boxes if profile.collation else 1
    # What an image too large for its box becomes when the SCU does not say.
    item.DecimateCropResult = "CROP" if defaults.MagnificationType == "NONE" else "DECIMATE"
    identity = profile.identity
    item.Manufacturer = identity.Manufacturer
    item.ManufacturerModelName = identity.ManufacturerModelName
    item.PrinterName = identity.PrinterName
    dataset = Dataset()
    dataset.PrinterConfigurationSequence = [item]
    return dataset  # Reply declares its character set


def _media(profile: PrinterProfile) -> list[Dataset]:
    """One item per Medium Type and Film Size ID; Item Number 1 is the default."""
    default = (profile.film_session.MediumType, profile.film_box.FilmSizeID)
    pairs = [(medium, size) for medium in profile.medium_types for size in profile.film_sizes]
    pairs.sort(key=lambda pair: pair != default)  # the default first, the rest in order
    items = []
    for number, (medium, size) in enumerate(pairs, 1):
        item = Dataset()
        item.ItemNumber = number
        item.MediumType = medium
        item.FilmSizeID = size
        item.MinDensity = profile.min_density
        item.MaxDensity = profile.max_density
        items.append(item)
    return items


def _display_formats(profile: PrinterProfile) -> list[Dataset]:
    texts = [
        f"STANDARD\\{columns},{rows}"
        for rows in range(1, min(LISTED_ROWS, profile.max_rows) + 1)
        for columns in range(1, min(LISTED_COLUMNS, profile.max_columns) + 1)
    ]
    texts += sorted(profile.custom_formats)
    items = []
    for resolution in ("STANDARD", "HIGH"):
        dpi = profile.dpi(resolution)
        for orientation in ("PORTRAIT", "LANDSCAPE"):
            for text in texts:
                items.append(_display_format(profile, text, orientation, resolution, dpi))
    return items


def _display_format(
    profile: PrinterProfile, text: str, orientation: str, resolution: str, dpi: int
) -> Dataset:
    size = profile.film_box.FilmSizeID
    box = FilmBox.with_defaults("", profile.display_format(text), profile)
    box.FilmOrientation = orientation
    width, height = film_size_px(size, orientation, dpi)
    cells = film_layout(box, width, height, dpi).cells
    item = Dataset()
    if len({(cell.width, cell.height) for cell in cells}) == 1:  # else left out (MC)
        item.Rows, item.Columns = cells[0].height, cells[0].width
    item.ImageDisplayFormat = text
    item.FilmOrientation = orientation
    item.FilmSizeID = size
    item.PrinterResolutionID = resolution
    spacing = round(_MM_PER_INCH / dpi, 6)
    item.PrinterPixelSpacing = [spacing, spacing]
    item.RequestedImageSizeFlag = "YES"  # Requested Image Size prints at true size
    return item
