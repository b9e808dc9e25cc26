"""Alembic environment: runs on the engine the caller passes in config.attributes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from image_assistant.db.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table (copy, drop, rename): with foreign keys on, dropping
        # the old table would cascade into every table pointing at it. SQLite takes this pragma
        # only outside a transaction.
        connection.execute(text("PRAGMA foreign_keys=OFF"))
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        connection.execute(text("PRAGMA foreign_keys=ON"))
