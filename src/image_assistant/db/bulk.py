"""Database-specific bulk statements: many rows in one round trip, long IN lists as one parameter.

psycopg is imported where PostgreSQL is in use (its dialect has loaded it then): on SQLite it
would be ~10 MiB of RSS for nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, func, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as DbSession

if TYPE_CHECKING:
    import psycopg


def one_of(db: DbSession, column: ColumnElement[str], values: list[str]) -> ColumnElement[bool]:
    """`column IN (...)`; on PostgreSQL `= ANY(string_to_array(...))`: one short statement
    psycopg parses once, with one text parameter (dumping a list as an array costs more than
    the query), when no value holds a comma (validated photos_uuids never do)."""
    if db.get_bind().dialect.name == "postgresql" and not any("," in value for value in values):
        return column == any_(func.string_to_array(bindparam("values", ",".join(values)), ","))
    return column.in_(values)


def insert_rows(db: DbSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """New rows (every row with the same columns) in one round trip: a binary COPY on
    PostgreSQL (a fifth of the server's cost of one INSERT per row, see bench/ingest.py),
    one executemany elsewhere."""
    connection = db.connection()
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
