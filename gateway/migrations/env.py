"""Alembic environment: runs on the connection the gateway hands it (see ``gateway.migrate``)."""

from __future__ import annotations

from alembic import context

from audit.sql import metadata as audit_metadata
from gateway.models import metadata as gateway_metadata

target_metadata = [gateway_metadata, audit_metadata]

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hedui db upgrade` or gateway.migrate.upgrade()")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
