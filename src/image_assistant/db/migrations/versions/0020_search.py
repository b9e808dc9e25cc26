"""search: every photo's folded words (photos.search_text) and a text index over them

PostgreSQL: a GIN index on the `simple` tsvector of search_text. SQLite: an FTS5 table
`photo_search` over photos.search_text (external content, rowid = photos.rowid), kept in step
by triggers. A later migration that rebuilds the photos table on SQLite (batch mode) drops
these triggers and changes rowids: it must call `sqlite_search_index()` again.

Revision ID: 0020
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from image_assistant.core.search import search_text

revision = "0020"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH = 1000
PG_INDEX = (
    "CREATE INDEX ix_photos_search ON photos USING gin (to_tsvector('simple', coalesce(search_text, '')))"
)
_FORGET = (
    "INSERT INTO photo_search(photo_search, rowid, search_text)"
    " VALUES ('delete', old.rowid, old.search_text);"
)
SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE photo_search USING fts5(search_text, content='photos', content_rowid='rowid',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER photo_search_insert AFTER INSERT ON photos BEGIN"
    " INSERT INTO photo_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    f"CREATE TRIGGER photo_search_delete AFTER DELETE ON photos BEGIN {_FORGET} END",
    f"CREATE TRIGGER photo_search_update AFTER UPDATE OF search_text ON photos BEGIN {_FORGET}"
    " INSERT INTO photo_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
]


def sqlite_search_index() -> None:
    for statement in ("DROP TABLE IF EXISTS photo_search", *SQLITE_INDEX):
        op.execute(statement)
    op.execute("INSERT INTO photo_search(photo_search) VALUES ('rebuild')")


def _backfill() -> None:
    bind = op.get_bind()
    photos = sa.table(
        "photos",
        sa.column("id", sa.Uuid()),
        sa.column("filename", sa.String()),
        sa.column("title", sa.Text()),
        sa.column("description", sa.Text()),
        sa.column("keywords", sa.JSON()),
        sa.column("persons", sa.JSON()),
        sa.column("place", sa.JSON()),
        sa.column("search_text", sa.Text()),
    )
    albums = sa.table("albums", sa.column("id", sa.Uuid()), sa.column("title", sa.String()))
    members = sa.table("album_photos", sa.column("album_id", sa.Uuid()), sa.column("photo_id", sa.Uuid()))
    titles: dict[object, list[str]] = {}
    for photo_id, title in bind.execute(
        sa.select(members.c.photo_id, albums.c.title).join(albums, albums.c.id == members.c.album_id)
    ):
        titles.setdefault(photo_id, []).append(title)
    last = None
    while True:
        query = sa.select(photos).order_by(photos.c.id).limit(BATCH)
        if last is not None:
            query = query.where(photos.c.id > last)
        rows = bind.execute(query).all()
        if not rows:
            return
        bind.execute(
            photos.update()
            .where(photos.c.id == sa.bindparam("b_id"))
            .values(search_text=sa.bindparam("b_text")),
            [{"b_id": r.id, "b_text": search_text(r, titles.get(r.id, ()))} for r in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    op.add_column("photos", sa.Column("search_text", sa.Text(), nullable=True))
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_INDEX)
    else:
        sqlite_search_index()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_photos_search")
    else:
        for name in ("photo_search_insert", "photo_search_delete", "photo_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS photo_search")
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("search_text")
