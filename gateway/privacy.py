"""Salted digests that stand in for resident ID numbers wherever the plain number is not needed."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["subject_digest"]


def subject_digest(salt: bytes, id_number: str) -> str:
    """HMAC-SHA256 of an ID number under the deployment's secret salt (hex)."""
    return hmac.new(salt, id_number.upper().encode(), hashlib.sha256).hexdigest()
