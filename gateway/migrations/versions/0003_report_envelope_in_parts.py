"""reports: the DSSE envelope in parts (payload once, payload type, signatures)

Until now ``reports`` held the signed payload twice: in ``payload`` and, base64-encoded, inside
``envelope`` (the whole DSSE JSON), about 40 % of the bytes a verification writes. The envelope
is now kept as ``payload`` + ``payload_type`` + ``signatures`` (the envelope's ``signatures``
JSON), and ``audit.dsse.Envelope.from_parts`` joins them into the same envelope, whose JSON is
byte for byte the one stored before (its digest is in the report's ``report_signed`` leaf).

A row whose ``payload`` differs from its envelope's payload was changed after it was written;
the upgrade stops there and names the report, rather than choose which copy to keep.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 08:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from audit.dsse import Envelope

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_REPORTS = sa.table(
    "reports",
    sa.column("report_id", sa.String),
    sa.column("payload", sa.LargeBinary),
    sa.column("envelope", sa.LargeBinary),
    sa.column("payload_type", sa.String),
    sa.column("signatures", sa.LargeBinary),
)
_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_type", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("signatures", sa.LargeBinary(), nullable=True))
    _split_envelopes()
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("payload_type", existing_type=sa.String(length=128), nullable=False)
        batch_op.alter_column("signatures", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("envelope")


def _split_envelopes() -> None:
    """Fill the new columns from each stored envelope, ``_BATCH`` rows at a time."""
    bind = op.get_bind()
    t = _REPORTS.c
    after = ""
    while True:
        rows = bind.execute(
            sa.select(t.report_id, t.payload, t.envelope)
            .where(t.report_id > after)
            .order_by(t.report_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        updates = [_parts(row.report_id, bytes(row.payload), bytes(row.envelope)) for row in rows]
        bind.execute(
            _REPORTS.update()
            .where(t.report_id == sa.bindparam("b_report_id"))
            .values(payload_type=sa.bindparam("b_type"), signatures=sa.bindparam("b_sigs")),
            updates,
        )
        after = rows[-1].report_id


def _parts(report_id: str, payload: bytes, envelope_json: bytes) -> dict[str, object]:
    envelope = Envelope.from_json(envelope_json)
    if envelope.payload != payload:
        raise RuntimeError(
            f"report {report_id}: reports.payload differs from the payload its envelope signs;"
            " it was changed after it was written. Investigate before upgrading."
        )
    if envelope.to_json() != envelope_json:  # from_parts could not give these bytes back
        raise RuntimeError(f"report {report_id}: its envelope is not in the form hedui writes")
    return {
        "b_report_id": report_id,
        "b_type": envelope.payload_type,
        "b_sigs": envelope.signatures_json(),
    }


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("envelope", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    t = _REPORTS.c
    rows = bind.execute(sa.select(t.report_id, t.payload, t.payload_type, t.signatures)).all()
    for row in rows:
        envelope = Envelope.from_parts(row.payload_type, bytes(row.payload), bytes(row.signatures))
        bind.execute(
            _REPORTS.update()
            .where(t.report_id == row.report_id)
            .values(envelope=envelope.to_json())
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("envelope", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("signatures")
        batch_op.drop_column("payload_type")
