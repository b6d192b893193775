"""UTF-8 text written to a binary stream in chunks: writers produce many small strings, the stream (an S3
upload, a zip entry) wants fewer, larger writes."""

from __future__ import annotations

from typing import IO

_CHUNK_CHARS = 64 * 1024


class TextSink:
    """A write-only text stream; `csv.writer` accepts it. Call `flush()` when done."""

    def __init__(self, out: IO[bytes]):
        self._out = out
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _CHUNK_CHARS:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            self._out.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._size = 0
