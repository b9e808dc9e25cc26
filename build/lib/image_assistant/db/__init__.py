"""Database: models, engine/session factory and Alembic migrations."""
