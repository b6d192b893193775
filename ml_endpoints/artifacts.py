"""Model artifacts on disk: written atomically, loaded once, reloaded when the file changes.

Why a stat per request rather than a `/reload` route: a new artifact arrives by several roads (a local
training run writing into the model dir, `fit` in this process, a SageMaker model update), and checking
the file's identity (inode, size, mtime) costs microseconds and needs no caller to remember a second
call. Writers replace the file with `os.replace`, so a reader sees the old artifact or the new one,
never half of one.

Artifacts are JSON: they may come from places we do not control, and unpickling runs code.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_loaded: dict[Path, tuple[tuple, Any]] = {}
_lock = threading.Lock()


def write_json(path: str | Path, document: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: str | Path) -> dict | None:
    path = Path(path)
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as source:
        return json.load(source)


def load(path: str | Path, build: Callable[[dict], Any]) -> Any | None:
    """`build(document)` for the artifact at `path`, rebuilt only when the file changed; None if absent."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except FileNotFoundError:
        with _lock:
            _loaded.pop(path, None)
        return None
    identity = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _lock:
        cached = _loaded.get(path)
        if cached and cached[0] == identity:
            return cached[1]
    document = read_json(path)
    if document is None:  # removed since the stat
        return None
    built = build(document)
    with _lock:
        _loaded[path] = (identity, built)
    return built
