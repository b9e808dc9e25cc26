"""ingest bulk insert: new photos reach the table as COPY's batches again

A BEFORE INSERT row trigger on `photos` (migration 0027: the vector of a row inserted without
one) makes PostgreSQL's COPY insert row by row (`heap_insert`, a WAL record and a page lookup
each) instead of in batches (`heap_multi_insert`), as any BEFORE row trigger does. The same fill
is now an AFTER INSERT row trigger, which COPY batches around: its WHEN clause is checked as each
row is inserted and queues nothing for the ingest path's rows, which bring their vector; a row
inserted without one gets it by an UPDATE at the end of its statement.

`ix_photos_burst` holds only the frames of bursts (WHERE burst_id IS NOT NULL): every query
through it names a burst, and a new photo that is no burst's frame (almost all) no longer adds
an entry. Plain DROP and CREATE INDEX on SQLite too: batch mode would rebuild `photos` there and
lose its word index's triggers.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

FILL_AFTER_INSERT = """
CREATE FUNCTION photos_fill_new_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE photos SET search_vector = photo_search_vector(NEW.search_text) WHERE id = NEW.id;
    RETURN NULL;
END
$$
"""
AFTER_INSERT = (
    "CREATE TRIGGER photos_search_vector_insert AFTER INSERT ON photos FOR EACH ROW"
    " WHEN (NEW.search_vector IS NULL) EXECUTE FUNCTION photos_fill_new_search_vector()"
)
BEFORE_INSERT = (  # migration 0027
    "CREATE TRIGGER photos_search_vector_insert BEFORE INSERT ON photos FOR EACH ROW"
    " WHEN (NEW.search_vector IS NULL) EXECUTE FUNCTION photos_fill_search_vector()"
)


def _burst_index(where: str) -> None:
    op.execute("DROP INDEX ix_photos_burst")
    op.execute(f"CREATE INDEX ix_photos_burst ON photos (user_id, burst_id){where}")


def upgrade() -> None:
    _burst_index(" WHERE burst_id IS NOT NULL")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER photos_search_vector_insert ON photos")
    op.execute(FILL_AFTER_INSERT)
    op.execute(AFTER_INSERT)


def downgrade() -> None:
    _burst_index("")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER photos_search_vector_insert ON photos")
    op.execute("DROP FUNCTION photos_fill_new_search_vector()")
    op.execute(BEFORE_INSERT)
