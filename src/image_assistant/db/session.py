"""Engine and session factory for SQLite (WAL) or PostgreSQL, and running migrations."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from image_assistant.errors import AppError, Conflict, Unavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: WAL and foreign keys on SQLite, a pool on Postgres."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Private like the JWT secret; SQLite gives its -wal and -shm files the same mode.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg sends one short INSERT per row in a pipeline and caches its parse; SQLAlchemy's
    # multi-row VALUES would be a new long statement for every batch size. No JIT: a search's
    # estimated cost crosses jit_above_cost and compiling took 1.2 s of a 1.4 s query at
    # 1,000,000 photos (bench/search.py); queries this short never win it back.
    return create_engine(
        url,
        connect_args={"options": "-c jit=off"},
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        use_insertmanyvalues=False,
        hide_parameters=True,  # statements' parameters (a pairing code, a password hash) never reach a log
    )


def database_error(exc: SQLAlchemyError) -> AppError | None:
    """The AppError a database error stands for, or None when it is not one we expect.

    A unique or foreign key violation is a concurrent change (409, retry); a lost or refused
    connection is 503.
    """
    if isinstance(exc, IntegrityError):
        return Conflict("a concurrent change conflicted; retry")
    if isinstance(exc, OperationalError):
        return Unavailable("the database is not reachable; retry", code="database_unavailable")
    return None


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a cursor result)."""
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # imported only where migrations run (~11 MiB)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Run every migration up to head (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


class GrowthAnalyzer:
    """ANALYZE a PostgreSQL table once it has grown a good part since its last statistics.

    A library's first sync adds tens of thousands of rows in minutes, faster than
    autovacuum (when it runs at all) refreshes statistics; without them the planner
    reads every row of the owner instead of using the unique (user_id, photos_uuid)
    index, and each batch gets slower as the table grows. Once statistics exist the planner
    scales them to the table's real size, so refreshing them each time the table doubles is
    enough (an ANALYZE reads up to 30,000 rows: more often costs more than it gains). The first
    comes early: until then each batch's lookup read every row (7 ms a batch of 100 at 300 to
    2,300 photos, 0.4 ms after), and ANALYZE of a few hundred rows costs a few milliseconds.
    """

    def __init__(self, engine: Engine, *, minimum: int = 200, fraction: float = 1.0) -> None:
        self._enabled = engine.dialect.name == "postgresql"
        self._engine = engine
        self._minimum = minimum
        self._fraction = fraction
        self._grown: dict[str, int] = {}
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()

    def due(self, table: str, rows: int) -> bool:
        """Count `rows` new rows; True when the table should be analyzed now."""
        if not self._enabled or rows <= 0:
            return False
        with self._lock:
            self._grown[table] = self._grown.get(table, 0) + rows
            known = self._known.get(table, 0)
            if self._grown[table] < max(self._minimum, int(known * self._fraction)):
                return False
            self._known[table] = known + self._grown[table]
            self._grown[table] = 0
            return True

    def analyze(self, table: str, columns: Sequence[str] = ()) -> None:
        """ANALYZE the table; with `columns`, only theirs (each column costs its share, and the
        others keep the statistics they had)."""
        names = ", ".join(f'"{name}"' for name in columns)
        listed = f" ({names})" if columns else ""
        with self._engine.connect() as connection:
            connection.execute(text(f'ANALYZE "{table}"{listed}'))
            connection.commit()
