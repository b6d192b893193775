"""Requests at the same moment, through the real app, in the interleaving that races are made of."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor


def in_parallel(calls):
    """Start every call at once, each on its own thread; their answers, in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def reads_meet(monkeypatch, module, name: str, parties: int) -> None:
    """Hold each of the next `parties` calls of `module.name` (a store read) after it has read, until all
    of them have: every request then works from the same view of the object before any writes. Requests
    in one process seldom overlap that much by themselves; read-modify-write fails every time this way.
    The read itself is the real one; later calls pass straight through."""
    real = getattr(module, name)
    arrived = itertools.count(1)
    all_read = threading.Event()

    def read_then_meet(*args, **kwargs):
        found = real(*args, **kwargs)
        if next(arrived) >= parties:
            all_read.set()
        all_read.wait(timeout=10)
        return found

    monkeypatch.setattr(module, name, read_then_meet)
