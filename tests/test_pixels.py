"""Image box pixels: bits above High Bit are not part of a value (PS3.5 8.1.1)."""

from __future__ import annotations

import numpy as np
from pydicom.sequence import Sequence

from dicomprint import PrinterProfile
from dicomprint.pixels import parse_image_sequence
from print_requests import grayscale_item


def parse(item):
    return parse_image_sequence(Sequence([item]), PrinterProfile(), color=False)


def test_bits_above_high_bit_are_masked():
    values = np.array([[0x0000, 0x0FFF], [0xF123, 0x8FFF]], dtype=np.uint16)
    image = parse(grayscale_item(values, bits_stored=12))
    assert image.pixels.tolist() == [[0x000, 0xFFF], [0x123, 0xFFF]]
    assert not image.pixels.flags.writeable


def test_clean_pixels_are_the_received_bytes_not_a_copy():
    values = np.arange(4096, dtype=np.uint16).reshape(64, 64)
    item = grayscale_item(values, bits_stored=12)
    image = parse(item)
    assert np.array_equal(image.pixels, values)
    received = np.frombuffer(item.PixelData, dtype=np.uint8)
    assert np.shares_memory(image.pixels, received)
    assert not image.pixels.flags.writeable
