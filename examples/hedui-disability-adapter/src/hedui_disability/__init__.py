"""hedui adapter for the disabled persons' federation (残联): disability certificates (残疾人证)."""

from __future__ import annotations

from hedui_disability.adapter import DisabilityAdapter

__all__ = ["DisabilityAdapter"]
