"""Move an install to another database and object store: rows and objects, verified by SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select, text

from image_assistant.db.models import Base
from image_assistant.db.session import upgrade
from image_assistant.errors import ObjectNotFound, OperationRefused
from image_assistant.store.base import ObjectStore

ROW_BATCH = 1000


class MigrationRefused(OperationRefused):
    """The target is not empty, or a copy did not verify."""


@dataclass
class Report:
    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)


Progress = Callable[[str], None]


def copy_rows(source: Engine, target: Engine, progress: Progress) -> dict[str, int]:
    """Every table in dependency order; the target must be migrated and empty."""
    upgrade(target)
    tables = [t for t in Base.metadata.sorted_tables if _exists(target, t.name)]
    with target.connect() as conn:
        for table in tables:
            if conn.execute(select(func.count()).select_from(table)).scalar():
                raise MigrationRefused(f"target table {table.name} is not empty; use an empty database")
    counts: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            if not _exists(source, table.name):
                continue
            copied = 0
            result = src.execution_options(stream_results=True).execute(select(table))
            while rows := result.fetchmany(ROW_BATCH):
                dst.execute(table.insert(), [dict(row._mapping) for row in rows])
                copied += len(rows)
            counts[table.name] = copied
            progress(f"rows: {table.name} {copied}")
    return counts


def _exists(engine: Engine, table: str) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table(table)


def object_keys(engine: Engine) -> Iterator[tuple[str, str | None]]:
    """Every object any row points at (columns named `*_key`), once, with the SHA-256 it is known by.

    A `<name>_key` column's checksum, when the table has one, is `<name>_sha256`; an
    `object_key`'s is `sha256`.
    """
    seen: set[str] = set()
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            keys = [c for c in table.columns if c.name.endswith("_key")]
            if not keys or not _exists(engine, table.name):
                continue
            for row in conn.execute(select(table)):
                values = row._mapping
                for column in keys:
                    key = values[column.name]
                    if key and key not in seen:
                        seen.add(key)
                        yield key, values.get(_checksum_column(column.name))


def _checksum_column(key_column: str) -> str:
    name = key_column.removesuffix("_key")
    return "sha256" if name == "object" else f"{name}_sha256"


class _Hashing:
    """A read-only stream over chunks that hashes what passes."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._rest) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.digest.update(chunk)
            self.size += len(chunk)
            self._rest += chunk
        if size < 0:
            data, self._rest = self._rest, b""
        else:
            data, self._rest = self._rest[:size], self._rest[size:]
        return data


def sha256_of(store: ObjectStore, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in store.open(key):
        digest.update(chunk)
    return digest.hexdigest()


def copy_objects(
    engine: Engine, source: ObjectStore, target: ObjectStore, progress: Progress, report: Report
) -> None:
    """Copy each object, then read it back from the target and compare SHA-256."""
    for key, known in object_keys(engine):
        try:
            info = source.head(key)
        except ObjectNotFound:
            report.missing.append(key)
            continue
        stream = _Hashing(source.open(key))
        target.put(key, stream, content_type=info.content_type)
        copied = stream.digest.hexdigest()
        if known and copied != known:
            raise MigrationRefused(f"{key}: source bytes differ from the recorded SHA-256")
        if sha256_of(target, key) != copied:
            raise MigrationRefused(f"{key}: the copy in the target store does not verify")
        report.objects += 1
        report.bytes += stream.size
        if report.objects % 100 == 0:
            progress(f"objects: {report.objects} ({report.bytes / 1e6:.1f} MB)")


def verify_rows(source: Engine, target: Engine, counts: dict[str, int]) -> None:
    with target.connect() as conn:
        for name, expected in counts.items():
            got = conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar()
            if got != expected:
                raise MigrationRefused(f"table {name}: {got} rows in the target, {expected} in the source")


def migrate(
    *,
    source_engine: Engine,
    target_engine: Engine,
    source_store: ObjectStore,
    target_store: ObjectStore,
    progress: Progress,
) -> Report:
    report = Report()
    report.rows = copy_rows(source_engine, target_engine, progress)
    verify_rows(source_engine, target_engine, report.rows)
    copy_objects(source_engine, source_store, target_store, progress, report)
    return report
