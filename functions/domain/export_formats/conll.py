"""CONLL2003: `token -X- _ tag` lines per item, IOB tags from the first `<Labels>` control's spans
(label-studio-sdk `Converter.convert_to_conll2003`, `utils.create_tokens_and_tags`).

The SDK tokenizes with nltk's `TreebankWordTokenizer().span_tokenize`, after replacing the tokenizer's
PUNCTUATION rules with its own (which also split on "/"). The rules are reproduced here with `re`; none of
them uses a construct where nltk's `regex` engine and `re` disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import IO

from functions.domain.export_formats.items import iter_items
from functions.domain.export_formats.sink import TextSink

_STARTING_QUOTES = [
    (re.compile(r"^\""), r"``"),
    (re.compile(r"(``)"), r" \1 "),
    (re.compile(r"([ \(\[{<])(\"|\'{2})"), r"\1 `` "),
]
_PUNCTUATION = [  # the SDK's replacement (converter/utils.py)
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.\.\."), r" ... "),
    (re.compile(r"[;@#$/%&]"), r" \g<0> "),
    (re.compile(r'([^\.])(\.)([\]\)}>"\']*)\s*$'), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"([^'])' "), r"\1 ' "),
]
_PARENS_BRACKETS = (re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> ")
_DOUBLE_DASHES = (re.compile(r"--"), r" -- ")
_ENDING_QUOTES = [
    (re.compile(r"''"), " '' "),
    (re.compile(r'"'), " '' "),
    (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 "),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 "),
]
_CONTRACTIONS = [
    re.compile(p)
    for p in (
        r"(?i)\b(can)(not)\b",
        r"(?i)\b(d)('ye)\b",
        r"(?i)\b(gim)(me)\b",
        r"(?i)\b(gon)(na)\b",
        r"(?i)\b(got)(ta)\b",
        r"(?i)\b(lem)(me)\b",
        r"(?i)\b(more)('n)\b",
        r"(?i)\b(wan)(na)(?=\s)",
        r"(?i) ('t)(is)\b",
        r"(?i) ('t)(was)\b",
    )
]
_QUOTES = re.compile(r"``|'{2}|\"")


def write_conll(tasks: Callable[[], Iterable[dict]], parsed: dict, data_key: str, out: IO[bytes]) -> None:
    sink = TextSink(out)
    sink.write("-DOCSTART- -X- O\n")
    for item in iter_items(tasks(), parsed):
        spans = next(
            (values for values in item.output.values() if values[0]["type"].lower() == "labels"), None
        )
        text = item.data.get(data_key)
        if not isinstance(text, str):
            text = "" if text is None else str(text)  # the SDK fails the export on these
        for token, tag in zip(*tokens_and_tags(text, spans), strict=True):
            sink.write(f"{token} -X- _ {tag}\n")
        sink.write("\n")
    sink.flush()


def tokens_and_tags(text: str, spans: list[dict] | None) -> tuple[list[str], list[str]]:
    """The SDK's `create_tokens_and_tags`, quirks included: a token is tagged when it overlaps the current
    span, and spans are only advanced past once a token starts after the current one's end."""
    tokens_and_starts = [(text[start:end], start) for start, end in span_tokenize(text)]
    if not (spans and all(s.get("start") is not None and s.get("end") is not None for s in spans)):
        tokens = [token for token, _ in tokens_and_starts]
        return tokens, ["O"] * len(tokens)

    pending = sorted(spans, key=lambda s: s["start"])
    span = pending.pop(0)
    span_start, span_end = span["start"], span["end"] - 1
    prefix = "B-"
    tokens, tags = [], []
    for token, token_start in tokens_and_starts:
        tokens.append(token)
        token_end = token_start + len(token) - 1
        if token_start > span_end:
            while pending:
                span = pending.pop(0)
                span_start, span_end = span["start"], span["end"] - 1
                prefix = "B-"
                if token_start <= span_end:
                    break
        if not span or token_end < span_start or not span.get("labels"):
            tags.append("O")
        elif span_start <= token_end and span_end >= token_start:
            tags.append(prefix + span["labels"][0])
            prefix = "I-"
        else:
            tags.append("O")
    return tokens, tags


def span_tokenize(text: str) -> list[tuple[int, int]]:
    """nltk `TreebankWordTokenizer.span_tokenize` with the SDK's punctuation rules."""
    raw_tokens = _tokenize(text)
    if '"' in text or "''" in text:
        # The tokenizer turns quotes into `` and ''; put back the originals so they can be found in text.
        originals = iter(m.group() for m in _QUOTES.finditer(text))
        tokens = [next(originals, token) if token in ('"', "``", "''") else token for token in raw_tokens]
    else:
        tokens = raw_tokens
    offsets = []
    point = 0
    for token in tokens:
        start = text.index(token, point)  # ValueError, as in nltk, if tokenizing changed the text
        point = start + len(token)
        offsets.append((start, point))
    return offsets


def _tokenize(text: str) -> list[str]:
    for pattern, substitution in _STARTING_QUOTES:
        text = pattern.sub(substitution, text)
    for pattern, substitution in _PUNCTUATION:
        text = pattern.sub(substitution, text)
    text = _PARENS_BRACKETS[0].sub(_PARENS_BRACKETS[1], text)
    text = _DOUBLE_DASHES[0].sub(_DOUBLE_DASHES[1], text)
    text = " " + text + " "
    for pattern, substitution in _ENDING_QUOTES:
        text = pattern.sub(substitution, text)
    for pattern in _CONTRACTIONS:
        text = pattern.sub(r" \1 \2 ", text)
    return text.split()
