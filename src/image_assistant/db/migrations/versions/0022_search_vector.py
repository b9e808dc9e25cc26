"""search vector: each photo's `simple` tsvector stored beside its search text (PostgreSQL)

Migration 0020 indexed the expression `to_tsvector('simple', coalesce(search_text, ''))`: the
index finds the photos holding a word, but a listing that walks the timeline newest first (what
the planner does for a common word) computed that tsvector again for every photo it read. Here
it is a stored generated column `photos.search_vector`, computed once when a photo's search text
is written, and the GIN index is on the column; core/search.py matches on it.

Also a partial index of each user's favorites in timeline order, `ix_photos_favorites`: a search
with `favorite=true` and a date range combined the word's index with every photo of the range
(a quarter of the library); it now combines it with the favorites of the range only. Its
predicate is written as core/gallery.py filters (`is_favorite IS true`), for the planner to
prove it. SQLite (FTS5) is unchanged: a no-op there.

Revision ID: 0022
Revises: 0021
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

VECTOR = "to_tsvector('simple', coalesce(search_text, ''))"
FAVORITES = "(user_id, sort_at, id) WHERE is_favorite IS true"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE photos ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED")
    op.execute("DROP INDEX IF EXISTS ix_photos_search")
    op.execute("CREATE INDEX ix_photos_search ON photos USING gin (search_vector)")
    op.execute(f"CREATE INDEX ix_photos_favorites ON photos {FAVORITES}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_photos_favorites")
    op.execute("DROP INDEX IF EXISTS ix_photos_search")
    op.execute("ALTER TABLE photos DROP COLUMN search_vector")
    op.execute(f"CREATE INDEX ix_photos_search ON photos USING gin ({VECTOR})")
