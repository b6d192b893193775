"""The sqlite engine's write lock within one process: writers get it in the order they asked."""

from __future__ import annotations

import threading

from functions.store.sqlite.database import Database


def test_a_waiting_writer_goes_before_a_thread_that_writes_again_at_once(tmp_path):
    db = Database(tmp_path / "db.sqlite3")
    with db.write() as conn:
        conn.execute("CREATE TABLE log (who TEXT)")
    asked = threading.Event()
    in_first = threading.Event()
    stop = threading.Event()
    after_asking: list[int] = []

    def writes_in_a_loop() -> None:
        # A large import: one transaction after the other, taking the lock again as soon as it lets go.
        while not stop.is_set():
            with db.write() as conn:
                conn.execute("INSERT INTO log VALUES ('loop')")
                if asked.is_set():
                    after_asking.append(1)
                in_first.set()
                stop.wait(0.005)

    loop = threading.Thread(target=writes_in_a_loop)
    loop.start()
    in_first.wait(5)
    asked.set()
    with db.write() as conn:
        conn.execute("INSERT INTO log VALUES ('waiter')")
        taken_after = len(after_asking)
    stop.set()
    loop.join(5)

    # At most the transaction under way when the waiter asked (it may have started just after), not
    # every one the loop would have run before the lock happened to come free.
    assert taken_after <= 1
    rows = [who for (who,) in db.connection().execute("SELECT who FROM log")]
    assert "waiter" in rows
