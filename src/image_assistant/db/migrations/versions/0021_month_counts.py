"""month counts: how many photos of each user's library view each UTC month holds

The timeline scrubber's rail (GET /api/photos/months) read every photo to count them; the table
`month_counts` keeps those counts, filled here from the photos already stored and kept in step
by the server (core/months.py). It counts what the library's timeline lists: photos neither
hidden nor removed, a burst once, in the month of its lead frame (a key frame, else the first;
the earliest of those).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# The month of sort_at in UTC, as GET /api/photos/months answers it (SQLite stores UTC text).
MONTH = {
    "postgresql": "to_char(timezone('UTC', sort_at), 'YYYY-MM')",
    "sqlite": "substr(sort_at, 1, 7)",
}
SHOWN = "deleted_at IS NULL AND NOT is_hidden"
FILL = (
    "INSERT INTO month_counts (user_id, month, photo_count)"
    " SELECT user_id, {month}, count(*) FROM ("
    f" SELECT user_id, sort_at FROM photos WHERE {SHOWN} AND burst_id IS NULL"
    " UNION ALL SELECT user_id, sort_at FROM ("
    "  SELECT user_id, sort_at, row_number() OVER"
    "  (PARTITION BY user_id, burst_id ORDER BY burst_key DESC, sort_at, id) AS lead_rank"
    f"  FROM photos WHERE {SHOWN} AND burst_id IS NOT NULL) AS frames WHERE lead_rank = 1"
    ") AS items GROUP BY user_id, {month}"
)


def upgrade() -> None:
    op.create_table(
        "month_counts",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True, nullable=False),
        sa.Column("photo_count", sa.Integer(), nullable=False),
    )
    op.execute(FILL.format(month=MONTH[op.get_bind().dialect.name]))


def downgrade() -> None:
    op.drop_table("month_counts")
