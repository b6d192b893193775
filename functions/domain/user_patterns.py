"""Regular expressions written by users, compiled so that matching cannot stall the API.

Python's `re` backtracks: a nested quantifier such as `(a+)+$` takes time exponential in the text it
fails on (4 s for 26 characters, twice that for each one more), and one request holding a worker that
long is a denial of service. These patterns are compiled with RE2 instead, whose automata match in time
linear in the text. RE2 refuses what it cannot match that way (backreferences, lookaround); the caller
turns that into a 400 naming its field.

Linear is not yet cheap: when RE2's DFA runs out of states it costs about the program size per text
byte (`.{240}a.{240}c`, counted repetitions, compiles to about 3,900 instructions and took 10 s on 1 MB
of text). So the compiled program is bounded too, along with the pattern's own length.
"""

from __future__ import annotations

import functools

import re2

MAX_PATTERN_LENGTH = 1000
# RE2 instructions. Everyday filters compile to a few dozen (`^img_\d+\.png$` is 10, an e-mail shape
# 20); `.{60}a.{60}b` is about 1000. The worst case then stays near 2 s per MB of text.
MAX_PROGRAM_SIZE = 1000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's 400, not a line on stderr

# RE2's words for `(?=`, `(?<!`, `\1` and the like: syntax `re` has and linear-time matching cannot.
_UNSUPPORTED = "invalid perl operator", "invalid escape sequence"


class PatternRefused(ValueError):
    """A user pattern that is too long, too complex, or uses syntax linear-time matching cannot have."""


class UserPattern:
    """A compiled user pattern. Python's `re` semantics for `search` and `match`, RE2's syntax."""

    __slots__ = ("_regexp", "source")

    def __init__(self, source: str, regexp):
        self.source = source
        self._regexp = regexp

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in `text` (`re.search`)."""
        return self._regexp.search(_utf8(text)) is not None

    def match(self, text: str) -> bool:
        """Whether the pattern matches at the start of `text` (`re.match`)."""
        return self._regexp.match(_utf8(text)) is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserPattern) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def __repr__(self) -> str:
        return f"UserPattern({self.source!r})"


def _utf8(text: str) -> bytes:
    # Matching bytes, not str: task data may hold lone surrogates (JSON allows "\ud800"), which a strict
    # encode would turn into a 500. They stay bytes no UTF-8 character matches.
    return text.encode("utf-8", "surrogatepass")


# A storage sync checks every key of a listing against the same filter; the Data Manager re-sends its
# filters with every page.
@functools.lru_cache(maxsize=256)
def compile_user_pattern(source: str) -> UserPattern:
    """`source` compiled for linear-time matching; raises PatternRefused with a message for the user."""
    if len(source) > MAX_PATTERN_LENGTH:
        raise PatternRefused(
            f"the regular expression is {len(source)} characters long; the limit is {MAX_PATTERN_LENGTH}"
        )
    try:
        encoded = source.encode("utf-8")
    except UnicodeEncodeError:
        raise PatternRefused("the regular expression is not valid Unicode text") from None
    try:
        regexp = re2.compile(encoded, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        unsupported = any(words in str(reason) for words in _UNSUPPORTED)
        hint = " (the syntax is RE2's: no backreferences or lookaround)" if unsupported else ""
        raise PatternRefused(f"invalid regular expression: {reason}{hint}") from None
    if regexp.programsize > MAX_PROGRAM_SIZE:
        raise PatternRefused(
            f"the regular expression is too complex ({regexp.programsize} steps once compiled; the limit "
            f"is {MAX_PROGRAM_SIZE}): use fewer or smaller counted repetitions such as {{n}}"
        )
    return UserPattern(source, regexp)
