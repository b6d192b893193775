"""Per-project string state for models (`get`/`set`), kept where Label Studio's ML SDK keeps it.

Label Studio's SDK stores it in SQLite at `$MODEL_DIR/cache.db`, table `cache(project_id, key, value)`,
strings only. The same file and rules here mean a model ported from the SDK finds its state where it
left it, and every request (a fresh model instance each time, as in Label Studio) sees the last write,
across threads and processes.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache (project_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT, "
    "PRIMARY KEY (project_id, key))"
)


class Cache:
    def __init__(self, model_dir: str | Path):
        self.path = Path(model_dir) / "cache.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # One short connection per call: sqlite connections must not cross threads, and requests run on
        # a thread pool.
        return sqlite3.connect(self.path, timeout=30)

    def get(self, project_id: str, key: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT value FROM cache WHERE project_id = ? AND key = ?", (project_id, key)
            ).fetchone()
        return row[0] if row else None

    def set(self, project_id: str, key: str, value: str) -> None:
        if not isinstance(value, str):
            # ValueError, not TypeError: what Label Studio's SDK cache raises, so ported code catches it.
            raise ValueError(f"cache values must be strings, got {type(value).__name__} for {key!r}")
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO cache (project_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value",
                (project_id, key, value),
            )
