"""Search over a photo's words (title, caption, keywords, people, place, album titles, file
name), and the conditions of the other filters over its facts (a person, a place, a kind).

Each photo keeps those words in `photos.search_text`, folded here (lower case, accents off,
anything but letters and digits a space), rewritten by the ingest path whenever a photo or
an album it is in changes. A query matches photos that have every word of it as the start of
one of theirs. The database indexes that one column: PostgreSQL in the tsvector
`search_vector` (GIN), which holds each word's first 1 to PREFIX_LENGTH letters (migration
0024), so that a query word is one exact lexeme, written here with a new photo (`lexemes`) and
otherwise by a trigger (migration 0027); SQLite with the FTS5 table `photo_search` (`"word"*`).
"""

from __future__ import annotations

import json
import operator
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    TextClause,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.bulk import tsvector_binary
from image_assistant.db.models import Album, AlbumPhoto, Photo
from image_assistant.db.session import rows_changed

PG_VECTOR = "photos.search_vector"  # the lexemes of search_text (migrations 0024, 0027)
PREFIX_LENGTH = 6  # the longest prefix search_vector holds as a lexeme (migration 0024)
# A word's first 1 to PREFIX_LENGTH letters in one C call: a slice past a shorter word's end is
# the word again, which the set of lexemes keeps once.
_PREFIXES_OF = operator.itemgetter(*(slice(0, n) for n in range(1, PREFIX_LENGTH + 1)))
MAX_WORDS = 8
PHOTOS = cast(Table, Photo.__table__)
_NOT_WORD = re.compile(r"[^\w]+|_+")
BATCH = 500
WORD_FIELDS = ("filename", "title", "description", "keywords", "persons", "place")


def fold(value: str) -> str:
    """Lower case, accents off, words apart: "Crème_Brûlée.JPG" → "creme brulee jpg"."""
    bare = value.casefold()
    if not bare.isascii():
        decomposed = unicodedata.normalize("NFKD", bare)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare).split())


def words(query: str) -> list[str]:
    """The words of a query as the index holds them (at most MAX_WORDS)."""
    return fold(query).split()[:MAX_WORDS]


def lexemes(search_text: str) -> list[str]:
    """The lexemes of PostgreSQL's search_vector for this folded text, sorted (by code point,
    as PostgreSQL orders UTF-8 bytes), each once: each word's first 1 to PREFIX_LENGTH letters,
    as the function `photo_search_vector` of migration 0024 makes them."""
    found: set[str] = set()
    for word in search_text.split():
        found.update(_PREFIXES_OF(word))
    return sorted(found)


def with_vectors(db: DbSession, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: give new photo rows their search_vector (binary, for COPY), made here at a
    fraction of the cost of the database's function, which would otherwise fill it (a trigger)."""
    connection = db.connection()
    if connection.dialect.name == "postgresql" and _vector_written(connection):
        for row in rows:
            row["search_vector"] = tsvector_binary(lexemes(row["search_text"]))


_WRITTEN: dict[URL, bool] = {}
_VECTOR_COLUMN = text(
    "SELECT attgenerated = '' FROM pg_attribute"
    " WHERE attrelid = 'photos'::regclass AND attname = 'search_vector' AND NOT attisdropped"
)


def _vector_written(connection: Connection) -> bool:
    """Whether the database takes search_vector from us (since migration 0027; before, the
    column is generated or missing), asked once per database and process."""
    database = connection.engine.url
    written = _WRITTEN.get(database)
    if written is None:
        written = _WRITTEN[database] = bool(connection.execute(_VECTOR_COLUMN).scalar())
    return written


def search_text(photo: Any, album_titles: Iterable[str]) -> str:
    """The folded words of one photo (a Photo or a row with the same names)."""
    return text_of({name: getattr(photo, name) for name in WORD_FIELDS}, album_titles)


def text_of(fields: Mapping[str, Any], album_titles: Iterable[str] = ()) -> str:
    """The folded words of a photo's WORD_FIELDS and the titles of its albums."""
    parts: list[str] = [fields["filename"] or "", fields["title"] or "", fields["description"] or ""]
    for listed in (fields["keywords"], fields["persons"]):
        if listed:  # most photos have none
            parts += map(str, listed)
    place = fields["place"]
    if place and isinstance(place, dict):
        parts += [str(place.get(k) or "") for k in ("name", "city", "country")]
    parts += album_titles
    return fold(" ".join(parts))


def refresh(db: DbSession, photo_ids: Iterable[uuid.UUID]) -> None:
    """Write again the search text of these photos (after they or their albums changed)."""
    ids = list(dict.fromkeys(photo_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        titles: dict[uuid.UUID, list[str]] = defaultdict(list)
        for photo_id, title in db.execute(
            select(AlbumPhoto.photo_id, Album.title)
            .join(Album, Album.id == AlbumPhoto.album_id)
            .where(AlbumPhoto.photo_id.in_(chunk))
        ):
            titles[photo_id].append(title)
        rows = db.execute(
            select(
                Photo.id,
                Photo.filename,
                Photo.title,
                Photo.description,
                Photo.keywords,
                Photo.persons,
                Photo.place,
            ).where(Photo.id.in_(chunk))
        ).all()
        values = [{"b_id": row.id, "b_text": search_text(row, titles.get(row.id, ()))} for row in rows]
        if values:
            db.connection().execute(
                update(PHOTOS)
                .where(PHOTOS.c.id == bindparam("b_id"))
                .values(search_text=bindparam("b_text")),
                values,
            )


# A batch's new rows take the table's last rowids (SQLite gives a new row one more than the
# largest, and the batch holds the write lock from its insert to its commit): reading that range,
# each row checked against the batch's ids, costs a fifth of looking each id up. Rows that got
# another rowid (once the largest possible one is taken) are looked up by id.
_INDEX_LAST = text(
    "INSERT INTO photo_search (rowid, search_text) SELECT rowid, search_text FROM photos"
    " WHERE rowid > (SELECT max(rowid) FROM photos) - :n AND +id IN (SELECT value FROM json_each(:ids))"
)
_INDEX_OTHERS = text(
    "INSERT INTO photo_search (rowid, search_text) SELECT rowid, search_text FROM photos"
    " WHERE rowid <= (SELECT max(rowid) FROM photos) - :n AND id IN (SELECT value FROM json_each(:ids))"
)


def index_new(db: DbSession, photo_ids: list[uuid.UUID]) -> None:
    """Add a batch's new photos, just inserted, to SQLite's word index in one statement (two
    when some rowids are not the last ones; migration 0023: no per-row trigger on insert);
    PostgreSQL's GIN index follows search_vector by itself (`with_vectors`)."""
    if not photo_ids or db.get_bind().dialect.name != "sqlite":
        return
    batch = {"n": len(photo_ids), "ids": json.dumps([photo_id.hex for photo_id in photo_ids])}
    if rows_changed(db.execute(_INDEX_LAST, batch)) < len(photo_ids):
        db.execute(_INDEX_OTHERS, batch)


def matches(db: DbSession, query: str) -> ColumnElement[bool] | TextClause | None:
    """The condition a photo meets when it matches `query` (None: nothing to search for)."""
    found = words(query)
    if not found:
        return None
    if db.get_bind().dialect.name == "postgresql":
        return _pg_matches(found)
    fts = " ".join(f'"{w}"*' for w in found)
    hits = text("SELECT rowid FROM photo_search WHERE photo_search MATCH :fts").bindparams(fts=fts)
    return literal_column("photos.rowid").in_(hits)


def _lexeme(word: str) -> str:
    """A word as a quoted tsquery lexeme, taken as it is (no parser, no dictionary)."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _pg_matches(found: list[str]) -> TextClause:
    """Each word as the exact lexeme of its first PREFIX_LENGTH letters, which the GIN index
    intersects cheaply; a longer word also rechecked whole on search_text, where the words are
    apart by one space (a LIKE pattern needs no escaping: folded words hold no % nor _)."""
    indexed = " & ".join(_lexeme(w[:PREFIX_LENGTH]) for w in found)
    params: dict[str, str] = {"tsq": indexed}
    conditions = [f"{PG_VECTOR} @@ CAST(:tsq AS tsquery)"]
    for i, word in enumerate(w for w in found if len(w) > PREFIX_LENGTH):
        params[f"starts{i}"] = f"% {word}%"
        conditions.append(f"(' ' || photos.search_text) LIKE :starts{i}")
    return text("(" + " AND ".join(conditions) + ")").bindparams(**params)


def _elements(db: DbSession, column: Any) -> Any:
    """The elements of a JSON list column, as a table with a `value` column."""
    if db.get_bind().dialect.name == "postgresql":
        return func.json_array_elements_text(column).table_valued("value")
    return func.json_each(column).table_valued("value")


def _contains(db: DbSession, column: Any, value: str) -> ColumnElement[bool]:
    elements = _elements(db, column)
    return exists(select(1).select_from(elements).where(elements.c.value == value))


def has_person(db: DbSession, name: str) -> ColumnElement[bool]:
    return _contains(db, Photo.persons, name)


def has_subtype(db: DbSession, subtype: str) -> ColumnElement[bool]:
    """Screenshots, selfies…; bursts are photos with a burst, Live ones also by media type."""
    if subtype == "burst":
        return cast(ColumnElement[bool], Photo.burst_id.is_not(None))
    if subtype == "live":
        return (Photo.media_type == "live") | _contains(db, Photo.subtypes, "live")
    return _contains(db, Photo.subtypes, subtype)


def _place_name() -> Any:
    return Photo.place["name"].as_string()


def at_place(name: str) -> ColumnElement[bool]:
    return cast(ColumnElement[bool], _place_name() == name)
