"""The gateway's tables (SQLAlchemy Core). Alembic migrations in ``gateway/migrations`` create them.

Resident ID numbers appear only inside the stored request and the raw answers and report
payloads (which must be kept exactly); lookups by member go through a salted digest.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

__all__ = ["metadata", "report_subjects", "reports", "requests", "source_answers"]

metadata = MetaData()

requests = Table(
    "requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the canonical request
    Column("request_json", LargeBinary, nullable=False),  # canonical JSON (RFC 8785)
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Column("region_code", String(6), nullable=False),
    Column("category", String(32), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("requested_by", String(128), nullable=False, server_default=""),
    Column("report_id", String(36), nullable=True),  # null while in flight
    Column("leaf_index", BigInteger, nullable=False),  # the RequestAccepted leaf
)

source_answers = Table(
    "source_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), ForeignKey("requests.request_id"), nullable=False),
    Column("source", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("department", String(128), nullable=False),
    Column("adapter_version", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=False),
    Column("as_of", Date, nullable=True),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("latency_us", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    # 0002: how resilience answered (report fields; replay reads them back)
    Column("circuit_open", Boolean, nullable=False, server_default=false()),
    Column("throttled", Boolean, nullable=False, server_default=false()),
    Column("raw", LargeBinary, nullable=False),  # the department's exact bytes
    Column("raw_digest", String(71), nullable=False),  # sha256:<hex>
    Column("leaf_index", BigInteger, nullable=False),
    Index("ix_source_answers_request", "request_id"),
)

reports = Table(
    "reports",
    metadata,
    Column("report_id", String(36), primary_key=True),
    Column(
        "request_id", String(64), ForeignKey("requests.request_id"), nullable=False, unique=True
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("region_code", String(6), nullable=False),
    Column("category", String(32), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("finding_count", Integer, nullable=False),
    Column("sources_ok", Integer, nullable=False),
    Column("sources_total", Integer, nullable=False),
    # The DSSE envelope in two parts (migration 0003): the signed bytes once, and beside them
    # the envelope's type and its signatures (``Envelope.from_parts`` joins them again).
    Column("payload", LargeBinary, nullable=False),
    Column("payload_type", String(128), nullable=False),
    Column("signatures", LargeBinary, nullable=False),  # DSSE "signatures" JSON
    Column("leaf_index", BigInteger, nullable=False),  # the ReportSigned leaf
    Index("ix_reports_created", "created_at"),
    Index("ix_reports_region_created", "region_code", "created_at"),
)

report_subjects = Table(
    "report_subjects",
    metadata,
    Column("report_id", String(36), ForeignKey("reports.report_id"), primary_key=True),
    Column("subject_digest", String(64), primary_key=True),  # salted sha256 of an ID number
    Index("ix_report_subjects_digest", "subject_digest"),
)
