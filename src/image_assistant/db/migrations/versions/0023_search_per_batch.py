"""search: SQLite's word index takes new photos once per batch, not a trigger per row

The FTS5 table `photo_search` was kept in step by three triggers; the one on INSERT made every
new photo an FTS5 write of its own, five times the cost of adding a batch's rows in one
statement (core/search.py `index_new`, called by ingest after its insert). Updates and deletes
keep their triggers. PostgreSQL indexes the column itself: nothing to do there. A later
migration that rebuilds `photos` on SQLite calls 0020's `sqlite_search_index()`, then drops
`photo_search_insert` again.

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

INSERT_TRIGGER = (
    "CREATE TRIGGER photo_search_insert AFTER INSERT ON photos BEGIN"
    " INSERT INTO photo_search(rowid, search_text) VALUES (new.rowid, new.search_text); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS photo_search_insert")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(INSERT_TRIGGER)
