"""Alembic migrations of the SQL backends' schema (run through ``SqlStore.migrate``)."""
