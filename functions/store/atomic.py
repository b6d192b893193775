"""Several store writes as one unit where the engine can make them one.

On the `sqlite` engine the writes inside `atomic()` are one SQLite transaction: all of them or none, also
across a crash of the process. On `dynamodb` each write stands alone, as it always did there; the callers'
fixed write order and compensating writes (see child_writes.py) keep the data consistent when a write
fails, and what a Lambda crash between two writes can leave is what AWS's retries repair.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from functions.settings import get_settings


@contextmanager
def atomic() -> Iterator[None]:
    settings = get_settings()
    if settings.store_engine != "sqlite":
        yield
        return
    from functions.store.sqlite.database import open_database

    with open_database(settings.data_dir or ".").write():
        yield
