"""Integer ids from an atomic counter. Label Studio clients address objects by global integer ids."""

from __future__ import annotations

from functions.store.models import Counter


def reserve(name: str, count: int = 1) -> int:
    """Reserve `count` consecutive ids for `name` with one write; return the first.

    A bulk import of N tasks costs one counter write, not N.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    counter = Counter(name=name)
    counter.update(actions=[Counter.value.add(count)])
    return int(counter.value) - count + 1
