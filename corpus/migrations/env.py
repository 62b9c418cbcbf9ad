"""Alembic environment: migrates the connection handed over by `Store.open`, or the configured URL.

The URL comes from `sqlalchemy.url` (set in code) or else from saring's settings (SARING_DATABASE_URL /
SARING_DATA_DIR), never from alembic.ini.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from corpus.store import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)  # the alembic CLI only


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from saring.config import Settings

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.db_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs copy-and-move ALTERs
    )


def run_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate through the given connection (Store.open) or a fresh engine (the alembic CLI)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
