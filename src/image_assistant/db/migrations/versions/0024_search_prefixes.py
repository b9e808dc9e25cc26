"""search prefixes: the stored search vector holds each word's first letters as lexemes (PostgreSQL)

A query matches photos having a word that begins with each query word. Migration 0022 asked GIN
for `word:*`: a prefix match gathers every photo of every indexed word with that prefix into a
bitmap before any other word narrows it (`mar:*` is 94,000 photos at 1,000,000), and such a
bitmap is never skipped through. Here `photos.search_vector` holds, for each word of
search_text, its prefixes of 1 to PREFIX_LENGTH letters (the word itself when shorter; no
positions), made by the PL/pgSQL function `photo_search_vector` from the same space-separated folded
words the query is split into (core/search.py). A query word of up to PREFIX_LENGTH letters is
then one exact lexeme, and GIN intersects exact lexemes by skipping through the rarer one. A
longer word is asked as its first PREFIX_LENGTH letters and rechecked on search_text.

Revision ID: 0024
Revises: 0023
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

PREFIX_LENGTH = 6  # core/search.py PREFIX_LENGTH: the two must agree
# PL/pgSQL: three times as fast as the same in one SQL statement (unnest, generate_series,
# DISTINCT), which cost 70 µs a photo against to_tsvector's 8; array_to_tsvector drops repeats.
VECTOR_FUNCTION = f"""
CREATE FUNCTION photo_search_vector(search_text text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    word text;
    lexemes text[] := '{{}}';
BEGIN
    FOREACH word IN ARRAY coalesce(string_to_array(search_text, ' '), '{{}}') LOOP
        FOR n IN 1..least(length(word), {PREFIX_LENGTH}) LOOP
            lexemes := lexemes || left(word, n);
        END LOOP;
    END LOOP;
    RETURN array_to_tsvector(lexemes);
END
$$
"""
OLD_VECTOR = "to_tsvector('simple', coalesce(search_text, ''))"  # migration 0022


def _vector_column(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_photos_search")
    op.execute("ALTER TABLE photos DROP COLUMN search_vector")
    generated = f"tsvector GENERATED ALWAYS AS ({expression}) STORED"
    op.execute(f"ALTER TABLE photos ADD COLUMN search_vector {generated}")
    op.execute("CREATE INDEX ix_photos_search ON photos USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(VECTOR_FUNCTION)
    _vector_column("photo_search_vector(search_text)")
    op.execute("ANALYZE photos")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _vector_column(OLD_VECTOR)
    op.execute("DROP FUNCTION photo_search_vector(text)")
