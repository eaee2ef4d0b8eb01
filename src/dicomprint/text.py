"""Annotation text: a line of text drawn into a slot of the film.

Pillow renders the glyphs (DejaVu Sans where installed, else Pillow's
built-in font) into a coverage mask the size of the slot; numpy blends the ink
over what the slot already shows.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

#: Text height as a share of the slot height.
_TEXT_SHARE = 0.6
_MIN_SIZE = 6


#: Tried first: wide Unicode coverage where installed (Pillow searches the
#: system font folders); else Pillow's built-in font.
FONT_NAMES = ("DejaVuSans.ttf",)


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in FONT_NAMES:
        try:
            return ImageFont.truetype(name, size)
        except (OSError, ImportError):
            continue
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # no FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _fits(text: str, width: int, size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    font = _font(size)
    length = font.getlength(text)
    if length > width and size > _MIN_SIZE:
        font = _font(max(_MIN_SIZE, int(size * width / length)))
    return font


def text_mask(text: str, width: int, height: int) -> np.ndarray:
    """Glyph coverage (0..255) of ``text`` centred in a ``width`` x ``height`` slot."""
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    font = _fits(text, width, max(_MIN_SIZE, int(height * _TEXT_SHARE)))
    if not isinstance(font, ImageFont.FreeTypeFont):
        # The bitmap font knows Latin-1 only.
        text = text.encode("latin-1", "replace").decode("latin-1")
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    origin = ((width - (right - left)) / 2 - left, (height - (bottom - top)) / 2 - top)
    draw.text(origin, text, fill=255, font=font)
    return np.asarray(mask)


def draw_text(view: np.ndarray, text: str, ink: int) -> None:
    """Draw ``text`` in ``ink`` (a raster value) over ``view``, in place."""
    if not text or view.size == 0:
        return
    coverage = text_mask(text, view.shape[1], view.shape[0]).astype(np.uint32)
    if view.ndim == 3:
        coverage = coverage[..., None]
    blended = (view * (255 - coverage) + ink * coverage + 127) // 255
    view[...] = blended.astype(np.uint8)
