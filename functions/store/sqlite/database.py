"""The SQLite database of the `sqlite` engine: one file in the data directory, in WAL mode.

Readers never wait for the writer (WAL); writers take the write lock up front (`BEGIN IMMEDIATE`), so a
read-check-write such as a conditional update or a lease is atomic without retries. `synchronous=NORMAL`
keeps every committed transaction through a crash of the process (`kill -9`); only a power loss can take
back the last ones, which is the trade Label Studio's own SQLite default makes too.

The schema is versioned with `PRAGMA user_version`: `MIGRATIONS[i]` moves a database from version i to
i + 1. A database from a newer labelstack is refused, never read with the wrong schema.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

FILE_NAME = "labelstack.sqlite3"

MIGRATIONS: list[str] = [
    # 1: DynamoDB's data model on SQLite. `tables` keeps each CreateTable request (keys, indexes, stream,
    # TTL); `items` one row per item, its document in DynamoDB's typed JSON; `index_entries` one row per
    # item present in a global secondary index, ordered like the index; `changes` the stream of tables
    # that have one (an outbox written in the writing transaction); `queues` and `queue_messages` the SQS
    # queues.
    """
    CREATE TABLE tables (name TEXT PRIMARY KEY, definition TEXT NOT NULL, ttl_attribute TEXT);
    CREATE TABLE items (
        tbl TEXT NOT NULL, hk NOT NULL, rk NOT NULL, doc TEXT NOT NULL, expires REAL,
        PRIMARY KEY (tbl, hk, rk)
    ) WITHOUT ROWID;
    CREATE INDEX items_expiry ON items (expires) WHERE expires IS NOT NULL;
    CREATE TABLE index_entries (
        tbl TEXT NOT NULL, idx TEXT NOT NULL, hk NOT NULL, rk NOT NULL, item_hk NOT NULL, item_rk NOT NULL,
        PRIMARY KEY (tbl, idx, hk, rk, item_hk, item_rk)
    ) WITHOUT ROWID;
    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, event TEXT NOT NULL,
        keys TEXT NOT NULL, old TEXT, new TEXT, at REAL NOT NULL
    );
    CREATE TABLE queues (name TEXT PRIMARY KEY, attributes TEXT NOT NULL);
    CREATE TABLE queue_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL, sent_at REAL NOT NULL, visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt TEXT
    );
    CREATE INDEX queue_messages_visible ON queue_messages (queue, visible_at, id);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchema(RuntimeError):
    """The data directory was written by a newer labelstack."""


class Database:
    """One data directory's database: a connection per thread, schema migrated on open."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        # The write lock within this process. SQLite's own lock, waited for with its busy handler, wakes a
        # waiting writer by polling (sleeps of up to 100 ms), so with many threads writing at once most of
        # their time went to sleeping past the moment the lock came free; this one is handed on at once, in
        # turn. SQLite's lock still orders this process's writes with other processes' (`--workers`).
        self._writing = HandOffLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        migrate(self.connection())

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database's write lock from its first statement. Inside another
        one (see `functions.store.atomic`) it is a savepoint: it can fail alone, and commits with it."""
        conn = self.connection()
        nested = conn.in_transaction
        with nullcontext() if nested else self._writing:
            conn.execute("SAVEPOINT inner" if nested else "BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK TO inner" if nested else "ROLLBACK")
                if nested:
                    conn.execute("RELEASE inner")
                raise
            conn.execute("RELEASE inner" if nested else "COMMIT")

    def backup(self, destination: Path) -> None:
        """A consistent copy while others write (SQLite's online backup)."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(destination)
        try:
            self.connection().backup(target)
        finally:
            target.close()


class HandOffLock:
    """A lock given to its waiters in the order they came. A thread writing in a loop (a large import)
    would otherwise take `threading.Lock` again the moment it let it go, and a request waiting to write
    on the event loop (`functions.api.auth.current_user`) would wait for the whole import."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the holder, handing the lock over: `_held` stays True

    def __exit__(self, *exc: object) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


def connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are opened explicitly (`Database.write`), so reads take no lock.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    # A small page cache per connection (a connection per server thread); the OS caches the file for all.
    conn.execute("PRAGMA cache_size=-8192")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to `SCHEMA_VERSION`; refuse one from a newer labelstack. Returns the version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise NewerSchema(
                f"this data directory's database has schema version {version}, and this labelstack reads "
                f"versions up to {SCHEMA_VERSION}: upgrade labelstack, or point --data-dir elsewhere"
            )
        for target in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[target].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target + 1}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return SCHEMA_VERSION


_OPEN: dict[Path, Database] = {}
_OPEN_LOCK = threading.Lock()


def open_database(data_dir: str | Path) -> Database:
    """The database of `data_dir`, opened (and migrated) once per process. A process works on one data
    directory at a time, so opening another one lets the previous one's connections go."""
    path = (Path(data_dir) / FILE_NAME).resolve()
    with _OPEN_LOCK:
        if path not in _OPEN:
            _OPEN.clear()
            _OPEN[path] = Database(path)
        return _OPEN[path]
