"""Small media files for tests: images made here, so a test states what it uploads."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib


def png(width: int, height: int, rgb: tuple[int, int, int] = (242, 165, 65)) -> bytes:
    """A PNG of one colour (orange unless told), written by hand: the format needs no library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int, rgb: tuple[int, int, int] = (60, 120, 200)) -> bytes:
    """A JPEG of one colour (blue unless told), encoded by Pillow (label-studio-sdk's dependency, in the
    test environment only: the product reads no image)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), rgb).save(out, format="JPEG", quality=90)
    return out.getvalue()


def wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of a tone (the standard library writes it)."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(frames)
    return out.getvalue()
