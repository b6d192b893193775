"""JSON text exactly as Label Studio's exporters write it.

The SDK converter and Label Studio serialize with `ujson`, whose output differs from the standard library's
in three visible ways: no spaces after separators when there is no indent, `/` escaped as `\\/`, and
negative exponents without zero padding (`1e-7`, where `json` writes `1e-07`). CSV cells carry this text
verbatim, so matching it is what makes our CSV byte-identical to Label Studio's.
"""

from __future__ import annotations

import json
import math


def dumps(value, *, indent: int | None = None, ensure_ascii: bool = False, level: int = 0) -> str:
    """`ujson.dumps(value, indent=indent, ensure_ascii=ensure_ascii)`; `level` is the nesting depth the
    text starts at, so a streamed document can emit its members one at a time with the right indent."""
    parts: list[str] = []
    _encode(value, indent, ensure_ascii, level, parts)
    return "".join(parts)


def string(text: str, *, ensure_ascii: bool = False) -> str:
    if ensure_ascii and "\x7f" in text:
        # The one character the two disagree on: ujson leaves DEL as is even when escaping non-ASCII.
        pieces = (json.dumps(piece, ensure_ascii=True)[1:-1] for piece in text.split("\x7f"))
        return ('"' + "\x7f".join(pieces) + '"').replace("/", "\\/")
    return json.dumps(text, ensure_ascii=ensure_ascii).replace("/", "\\/")


def _encode(value, indent: int | None, ensure_ascii: bool, level: int, parts: list[str]) -> None:
    if isinstance(value, str):
        parts.append(string(value, ensure_ascii=ensure_ascii))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float(value))
    elif isinstance(value, dict):
        _container("{", "}", [(_key(k), v) for k, v in value.items()], indent, ensure_ascii, level, parts)
    elif isinstance(value, (list, tuple)):
        _container("[", "]", [(None, v) for v in value], indent, ensure_ascii, level, parts)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _container(opening: str, closing: str, members: list, indent, ensure_ascii, level, parts) -> None:
    if not members:
        parts.append(opening + closing)
        return
    if indent:
        inner = "\n" + " " * (indent * (level + 1))
        separator, colon, end = "," + inner, ": ", "\n" + " " * (indent * level)
    else:
        inner, separator, colon, end = "", ",", ":", ""
    parts.append(opening + inner)
    for i, (key, member) in enumerate(members):
        if i:
            parts.append(separator)
        if key is not None:
            parts.append(string(key, ensure_ascii=ensure_ascii) + colon)
        _encode(member, indent, ensure_ascii, level + 1, parts)
    parts.append(end + closing)


def _float(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    # Python pads the exponent to two digits (1e-07); ujson does not (1e-7). Positive exponents only
    # appear from e+16 up, so they need no change.
    return float.__repr__(number).replace("e-0", "e-")


def _key(key) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
