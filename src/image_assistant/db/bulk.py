"""Database-specific bulk statements: many rows in one round trip, long IN lists as one parameter.

psycopg is imported where PostgreSQL is in use (its dialect has loaded it then): on SQLite it
would be ~10 MiB of RSS for nothing; sqlite3 likewise where SQLite is.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Dialect,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import UTCDateTime

if TYPE_CHECKING:
    import psycopg


def one_of(dialect: str, column: ColumnElement[Any]) -> ColumnElement[bool]:
    """`column` (text or UUID) is one of the values in the parameter "values" (`values_param`):
    one short statement with one text parameter, the same for any number of values, so it is
    compiled once and the driver parses it once. PostgreSQL: `= ANY(string_to_array(...))`
    (dumping a list as an array costs more than the query); SQLite: `IN (SELECT value FROM
    json_each(...))`."""
    values = bindparam("values", type_=String())
    if dialect == "postgresql":
        listed: ColumnElement[Any] = func.string_to_array(values, ",")
        if isinstance(column.type, Uuid):
            listed = cast(listed, postgresql.ARRAY(Uuid()))
        return column == any_(listed)
    return column.in_(select(func.json_each(values).table_valued("value").c.value))


def values_param(dialect: str, values: Sequence[str | uuid.UUID]) -> str:
    """The "values" parameter of `one_of`: UUIDs as SQLite stores them (32 hex digits); on
    PostgreSQL no text may hold a comma (validated photos_uuids never do)."""
    texts = [value.hex if isinstance(value, uuid.UUID) else value for value in values]
    if dialect == "postgresql":
        if any("," in text for text in texts):
            raise ValueError("a value of one_of holds a comma")
        return ",".join(texts)
    return json.dumps(texts)


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
            texts = [i for i, oid in enumerate(types) if oid == JSON_OID]
            with cursor.copy(statement) as copy:
                copy.set_types([_SENT_AS.get(oid, oid) for oid in types])
                for row in rows:
                    values = [row[name] for name in columns]
                    for i in texts:
                        if values[i] is not None:
                            values[i] = _json_text(values[i])
                    copy.write_row(values)
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
TSVECTOR_OID, BYTEA_OID, JSON_OID, TEXT_OID = 3614, 17, 114, 25
# How a column's values are sent (in binary, the bytes the server's receive function reads):
# a tsvector's in its binary form, made by `tsvector_binary` (psycopg has no dumper for it;
# a bytea's bytes go as they are); a json value as its text, made here (`_json_text`: most are
# `[]`, psycopg's dumper would call json.dumps for each).
_SENT_AS = {TSVECTOR_OID: BYTEA_OID, JSON_OID: TEXT_OID}


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


def tsvector_binary(lexemes: Sequence[str]) -> bytes:
    """A tsvector of these lexemes (sorted, each once, no NUL) without positions, in the binary
    form COPY takes: their count, then each lexeme NUL-terminated and its number of positions (0)."""
    if not lexemes:
        return b"\0\0\0\0"
    return len(lexemes).to_bytes(4, "big") + ("\0\0\0".join(lexemes) + "\0\0\0").encode()


def _sqlite_executemany(driver: Any, dialect: Dialect, table: Table, rows: list[dict[str, Any]]) -> None:
    """The driver's executemany, each column's values converted to what SQLAlchemy would store
    (its executemany builds and processes a dict per row: twice the cost of the rows
    themselves for a batch of photos)."""
    import sqlite3

    assert isinstance(driver, sqlite3.Connection)
    columns = tuple(rows[0])
    statement, storage = _sqlite_insert(table, columns, dialect)
    # An object met again (the batch's owner, its time, a photo's taken_at as its sort_at) is
    # converted once.
    memos: dict[Callable[[Any], Any], dict[int, Any]] = {}
    values = []
    for name, stored in zip(columns, storage, strict=True):
        column = [row[name] for row in rows]
        if stored is not None:
            column = stored.values(column, memos.setdefault(stored.convert, {}))
        values.append(column)
    try:
        driver.executemany(statement, zip(*values, strict=True))
    except sqlite3.Error as exc:
        # As SQLAlchemy would raise it: a row created meanwhile by a concurrent batch is an
        # IntegrityError (409, retry), a locked database an OperationalError (503).
        raise DBAPIError.instance(f"INSERT INTO {table.name}", None, exc, sqlite3.Error) from exc


@functools.cache
def _sqlite_insert(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, list[SqliteStorage | None]]:
    """The INSERT for these columns and how each column is stored (made once per table and columns)."""
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES ({marks})"
    return statement, [sqlite_storage(table.c[name], dialect) for name in columns]


_NOTHING = object()


@dataclass(frozen=True)
class SqliteStorage:
    """How SQLAlchemy stores a column's values on SQLite: `convert` for a value, `null` for None."""

    convert: Callable[[Any], Any]
    null: Any = None

    def values(self, values: list[Any], memo: dict[int, Any]) -> list[Any]:
        """`values` as stored; `memo` keeps what each object (by id) became."""
        stored: list[Any] = []
        for value in values:
            if value is None:
                stored.append(self.null)
                continue
            text = memo.get(id(value), _NOTHING)
            if text is _NOTHING:
                text = memo[id(value)] = self.convert(value)
            stored.append(text)
        return stored


def sqlite_storage(column: Column[Any], dialect: Dialect) -> SqliteStorage | None:
    """How SQLite stores a column's values through SQLAlchemy (None: as they are). The same
    text for a UUID (32 hex digits), a UTC datetime ("YYYY-MM-DD HH:MM:SS.ffffff") and JSON
    (json.dumps) without SQLAlchemy's calls per value; other types use its bind processor."""
    kind = column.type
    if isinstance(kind, Uuid) and kind.as_uuid:
        return SqliteStorage(_uuid_hex)
    if isinstance(kind, UTCDateTime):
        return SqliteStorage(_utc_text)
    if isinstance(kind, JSON) and dialect._json_serializer is None:
        return SqliteStorage(_json_text, null=None if kind.none_as_null else "null")
    if isinstance(kind, Boolean):
        return SqliteStorage(_boolean)
    process = kind._cached_bind_processor(dialect)
    if process is None:
        return None
    return SqliteStorage(process, null=process(None))


def _uuid_hex(value: Any) -> str:
    return str(value.hex)


def _utc_text(value: Any) -> str:
    """SQLAlchemy's SQLite DATETIME text of the UTC instant (isoformat ends in "+00:00")."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
    return str(value.isoformat(" ", "microseconds")[:-6])


def _json_text(value: Any) -> str:
    return "[]" if value == [] else json.dumps(value)


def _boolean(value: Any) -> int:
    if value is not True and value is not False:
        raise TypeError(f"Not a boolean value: {value!r}")
    return int(value)
