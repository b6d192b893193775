"""Password rules and hashing: scrypt from the standard library, a random salt per password.

A stored hash names its own parameters (`scrypt$<n>$<r>$<p>$<salt>$<hash>`, base64 without padding), so
the parameters can be raised later without breaking the hashes already stored: a sign-in that checks an
older hash stores it again with the current ones (`needs_rehash`).

The parameters are OWASP's equal-strength variant of scrypt with a small memory footprint (N=2^14, r=8,
p=5: 16 MiB, about 0.2 s on one core), so a sign-in fits in a Lambda's memory and time while an offline
guess costs as much as the recommended N=2^17, p=1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

from functions.domain.errors import ValidationFailed

# Label Studio's minimum (users/forms.py PASS_MIN_LENGTH). The maximum bounds the work of one hash while
# leaving room for passphrases (NIST SP 800-63B asks for at least 64).
MIN_LENGTH = 8
MAX_LENGTH = 128

_N, _R, _P = 2**14, 8, 5
_SALT_BYTES = 16
_KEY_BYTES = 32
_SCHEME = "scrypt"
# What one hash may use: 128 * N * r bytes, with room; a stored hash whose parameters need more is refused
# rather than allowed to exhaust the process.
_MAX_MEMORY = 64 * 1024 * 1024


def check_rules(password: object, field: str = "password") -> str:
    """The password if it may be used, else a ValidationFailed naming `field`."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed.field(field, "This field is required.")
    if len(password) < MIN_LENGTH:
        raise ValidationFailed.field(field, f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed.field(field, f"Use at most {MAX_LENGTH} characters.")
    if not password.strip():
        raise ValidationFailed.field(field, "A password cannot be only spaces.")
    return password


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=_KEY_BYTES)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(_derive(password, salt, _N, _R, _P))}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME or not all(p.isdigit() for p in parts[1:4]):
        return None
    n, r, p = (int(v) for v in parts[1:4])
    try:
        return n, r, p, _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return None


@cache
def _no_password() -> str:
    """Checked when there is no stored hash (an unknown email, a user without a password), so that
    answering "no" takes as long as checking a real password: the time of an answer does not tell which
    emails exist. Made on first use, not at import (a Lambda's cold start pays nothing for it)."""
    return hash_password(secrets.token_urlsafe(16))


def verify(password: str, stored: str | None) -> bool:
    """Whether `password` matches the stored hash, compared in constant time. `stored` None (no password
    set) is never a match, and takes a hash's time to say so."""
    parsed = _parse(stored or _no_password())
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    try:
        derived = _derive(password, salt, n, r, p)
    except (ValueError, MemoryError):  # parameters no sane hash has
        return False
    return hmac.compare_digest(derived, expected) and stored is not None


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with other parameters than the current ones."""
    parsed = _parse(stored)
    return parsed is None or parsed[:3] != (_N, _R, _P) or len(parsed[3]) != _SALT_BYTES
