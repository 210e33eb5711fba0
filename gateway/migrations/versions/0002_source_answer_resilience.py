"""source answers: whether the circuit was open and whether the source was throttled

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing answers were given before the resilience layer: neither open nor throttled
    with op.batch_alter_table("source_answers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("circuit_open", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("throttled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("source_answers", schema=None) as batch_op:
        batch_op.drop_column("throttled")
        batch_op.drop_column("circuit_open")
