"""The agent's own SQLite state: what was sent, what was confirmed, cached file facts."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, facts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS assets (
    photos_uuid TEXT PRIMARY KEY, record_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    photos_uuid TEXT NOT NULL, kind TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (photos_uuid, kind)
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class AgentState:
    """One SQLite file; safe to call from the upload threads (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    # file facts (FactsCache)

    def get_facts(self, path: str, size: int, mtime_ns: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT size, mtime_ns, facts FROM files WHERE path = ?", (path,)
            ).fetchone()
        if row is None or row[0] != size or row[1] != mtime_ns:
            return None
        facts: dict[str, Any] = json.loads(row[2])
        return facts

    def put_facts(self, path: str, size: int, mtime_ns: int, facts: dict[str, Any]) -> None:
        merged = {**(self.get_facts(path, size, mtime_ns) or {}), **facts}
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO files (path, size, mtime_ns, facts) VALUES (?, ?, ?, ?)",
                (path, size, mtime_ns, json.dumps(merged)),
            )

    # metadata sent

    def record_hashes(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT photos_uuid, record_hash FROM assets"))

    def mark_sent(self, hashes: Iterable[tuple[str, str]]) -> None:
        with self._lock, self.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO assets (photos_uuid, record_hash) VALUES (?, ?)", list(hashes)
            )

    def forget_assets(self, photos_uuids: Iterable[str]) -> None:
        uuids = [(u,) for u in photos_uuids]
        with self._lock, self.transaction():
            self._db.executemany("DELETE FROM assets WHERE photos_uuid = ?", uuids)
            self._db.executemany("DELETE FROM uploads WHERE photos_uuid = ?", uuids)

    # binaries confirmed by the server

    def mark_uploaded(self, photos_uuid: str, kind: str, sha256: str, size: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO uploads (photos_uuid, kind, sha256, size) VALUES (?, ?, ?, ?)",
                (photos_uuid, kind, sha256, size),
            )

    # small values

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))


class _Transaction:
    """BEGIN/COMMIT around many writes (one fsync instead of thousands); nests as a no-op."""

    def __init__(self, state: AgentState) -> None:
        self.state = state
        self.outer = False

    def __enter__(self) -> None:
        self.state._lock.acquire()
        if not self.state._db.in_transaction:
            self.state._db.execute("BEGIN")
            self.outer = True

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            if self.outer:
                self.state._db.execute("ROLLBACK" if kind is not None else "COMMIT")
        finally:
            self.state._lock.release()
