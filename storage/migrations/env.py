"""Alembic environment: migrations run on the connection handed over by storage.migrate."""

from alembic import context

from storage.models import Base, modelled

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `tipline migrate`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=modelled,
)
with context.begin_transaction():
    context.run_migrations()
