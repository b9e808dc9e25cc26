"""Database-specific bulk statements: many rows in one round trip, long IN lists as one parameter.

psycopg is imported where PostgreSQL is in use (its dialect has loaded it then): on SQLite it
would be ~10 MiB of RSS for nothing; sqlite3 likewise where SQLite is.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Dialect,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import UTCDateTime

if TYPE_CHECKING:
    import psycopg


def one_of(dialect: str, column: ColumnElement[str]) -> ColumnElement[bool]:
    """`column` is one of the values in the text parameter "values" (`values_param`): one
    short statement with one parameter, the same for any number of values, so it is compiled
    once and the driver parses it once. PostgreSQL: `= ANY(string_to_array(...))` (dumping a
    list as an array costs more than the query); SQLite: `IN (SELECT value FROM json_each(...))`."""
    values = bindparam("values", type_=String())
    if dialect == "postgresql":
        return column == any_(func.string_to_array(values, ","))
    return column.in_(select(func.json_each(values).table_valued("value").c.value))


def values_param(dialect: str, values: list[str]) -> str:
    """The "values" parameter of `one_of` (on PostgreSQL no value may hold a comma: validated
    photos_uuids never do)."""
    if dialect == "postgresql":
        if any("," in value for value in values):
            raise ValueError("a value of one_of holds a comma")
        return ",".join(values)
    return json.dumps(values)


def insert_rows(db: DbSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """New rows (every row with the same columns; a column they leave out takes the table's
    server default) in one round trip: a binary COPY on PostgreSQL (a fifth of the server's
    cost of one INSERT per row, see bench/ingest.py), one executemany of the driver on SQLite."""
    connection = db.connection()
    if connection.dialect.name == "sqlite":
        _sqlite_executemany(connection.connection.driver_connection, connection.dialect, table, rows)
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    import psycopg

    columns = tuple(rows[0])
    statement = _copy_statement(table.name, columns)
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor:
            types = _column_types(cursor, table.name, columns)
            with cursor.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row([row[name] for name in columns])
    except psycopg.Error as exc:
        # As SQLAlchemy would raise it: a row created meanwhile by a concurrent batch is an
        # IntegrityError (409, retry), a lost connection an OperationalError (503).
        raise DBAPIError.instance(f"COPY {table.name}", None, exc, psycopg.Error) from exc


@functools.cache
def _copy_statement(table: str, columns: tuple[str, ...]) -> str:
    """The COPY for these columns, composed once (quoting names costs as much as the rows)."""
    from psycopg import sql

    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table), names).as_string()


_COLUMN_TYPES: dict[str, dict[str, int]] = {}


def _column_types(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str]) -> list[int]:
    """The PostgreSQL type oid of each column (asked once per table and process)."""
    known = _COLUMN_TYPES.get(table)
    if known is None:
        found = cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            (table,),
        )
        known = _COLUMN_TYPES[table] = {str(name): int(oid) for name, oid in found.fetchall()}
    return [known[name] for name in columns]


Converter = Callable[[list[Any]], list[Any]]


def _sqlite_executemany(driver: Any, dialect: Dialect, table: Table, rows: list[dict[str, Any]]) -> None:
    """The driver's executemany with each column's values converted once, in a list, to what
    SQLAlchemy would store (its executemany builds and processes a dict per row: twice the
    cost of the rows themselves for a batch of photos)."""
    import sqlite3

    assert isinstance(driver, sqlite3.Connection)
    columns = tuple(rows[0])
    statement, converters = _sqlite_insert(table, columns, dialect)
    values = [convert([row[name] for row in rows]) for name, convert in zip(columns, converters, strict=True)]
    try:
        driver.executemany(statement, zip(*values, strict=True))
    except sqlite3.Error as exc:
        # As SQLAlchemy would raise it: a row created meanwhile by a concurrent batch is an
        # IntegrityError (409, retry), a locked database an OperationalError (503).
        raise DBAPIError.instance(f"INSERT INTO {table.name}", None, exc, sqlite3.Error) from exc


@functools.cache
def _sqlite_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[str, list[Converter]]:
    """The INSERT for these columns and each column's converter (made once per table and columns)."""
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES ({marks})"
    return statement, [sqlite_values(table.c[name], dialect) for name in columns]


def sqlite_values(column: Column[Any], dialect: Dialect) -> Converter:
    """A column's values as SQLite stores them through SQLAlchemy: the same text for a UUID
    (32 hex digits), a UTC datetime ("YYYY-MM-DD HH:MM:SS.ffffff") and JSON (json.dumps), so
    reads see no difference; other types go through SQLAlchemy's own bind processor."""
    kind = column.type
    if isinstance(kind, Uuid) and kind.as_uuid:
        return _uuid_hex
    if isinstance(kind, UTCDateTime):
        return _utc_text
    if isinstance(kind, JSON) and dialect._json_serializer is None:  # type: ignore[attr-defined]
        return _json_nulls if kind.none_as_null else _json_texts
    process = kind._cached_bind_processor(dialect)
    if process is None:
        return _as_they_are
    return lambda values: [process(value) for value in values]


def _as_they_are(values: list[Any]) -> list[Any]:
    return values


def _uuid_hex(values: list[Any]) -> list[Any]:
    return [None if value is None else value.hex for value in values]


def _utc_text(values: list[Any]) -> list[Any]:
    return [None if value is None else _utc_naive(value).isoformat(" ", "microseconds") for value in values]


def _utc_naive(value: Any) -> Any:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None)


_EMPTY_LIST = "[]"


def _json_texts(values: list[Any]) -> list[Any]:
    """JSON columns that store None as JSON `null`."""
    return [_EMPTY_LIST if value == [] else json.dumps(value) for value in values]


def _json_nulls(values: list[Any]) -> list[Any]:
    """JSON columns that store None as SQL NULL (`none_as_null`)."""
    return [None if value is None else _EMPTY_LIST if value == [] else json.dumps(value) for value in values]
