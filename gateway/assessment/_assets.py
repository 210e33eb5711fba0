"""Asset tests: deposits per capita, vehicles (depreciated value, exemptions), dwellings.

Thresholds are policy parameters of the region and programme (DESIGN.md "Domain"; seed 000
二.(一).1 生活必须财产豁免). A test whose source did not answer is UNKNOWN, never PASS.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from adapters.base import AnswerStatus
from adapters.records import BankAccount, PropertyRecord, Record, VehicleRecord
from gateway.assessment._outcome import Check, Status
from gateway.assessment._trace import Step, Trace, inputs_of, yuan
from gateway.domain import Member
from gateway.fanout import Answer
from gateway.findings import Facts

__all__ = ["answered", "asset_checks", "depreciated_value"]

Pairs = list[tuple[Answer, Record]]


def answered(facts: Facts, category: str) -> bool:
    """Whether the source of ``category`` answered (OK or NOT_FOUND)."""
    answer = facts.answer(category)
    return answer is not None and answer.status in (AnswerStatus.OK, AnswerStatus.NOT_FOUND)


def _records(facts: Facts, kind: type[Record], members: Sequence[Member]) -> Pairs:
    return [pair for m in members for pair in facts.records(kind, m.id_number)]


def asset_checks(trace: Trace, facts: Facts, members: Sequence[Member]) -> list[Check]:
    """Every asset test for ``members`` (the household, or one member as a 单人户)."""
    return [
        _deposits(trace, facts, members),
        _vehicles(trace, facts, members),
        *_dwellings(trace, facts, members),
    ]


def _deposits(trace: Trace, facts: Facts, members: Sequence[Member]) -> Check:
    months, p_months = trace.int_param("deposit_months")
    standard, p_std = trace.int_param("standard_monthly_fen")
    pairs = _records(facts, BankAccount, members)
    total = sum(r.balance_fen for _, r in pairs if isinstance(r, BankAccount))
    per_capita, limit = total // len(members), months * standard
    explain = (
        f"deposits {yuan(total)} // {len(members)} = {yuan(per_capita)} per capita; limit "
        f"{months} × {yuan(standard)} = {yuan(limit)}"
    )
    trace.add(
        Step(
            "assets.deposits",
            "ASSET_DEPOSITS",
            per_capita,
            explain,
            "",
            (p_months, p_std),
            inputs_of(pairs),
        )
    )
    status = _status(facts, "bank", per_capita <= limit)
    return Check("DEPOSITS", status, p_months.reference, explain, "", inputs_of(pairs))


def depreciated_value(price_fen: int, registered_on: date, day: date, rate_bp: int) -> int:
    """Straight-line value after whole years since registration, never below zero."""
    years = (
        day.year
        - registered_on.year
        - ((day.month, day.day) < (registered_on.month, registered_on.day))
    )
    return price_fen * max(0, 10_000 - rate_bp * max(0, years)) // 10_000


def _vehicles(trace: Trace, facts: Facts, members: Sequence[Member]) -> Check:
    allowed, p_allowed = trace.int_param("vehicles_allowed")
    rate, p_rate = trace.int_param("vehicle_depreciation_bp_per_year")
    floor, p_floor = trace.int_param("vehicle_exempt_value_fen")
    p_types = trace.param("vehicle_exempt_types")
    types = p_types.value if isinstance(p_types.value, tuple) else ()
    counted: Pairs = []
    for answer, r in _records(facts, VehicleRecord, members):
        if not isinstance(r, VehicleRecord) or r.status != "registered":
            continue
        value = depreciated_value(r.purchase_price_fen, r.registered_on, trace.day, rate)
        exempt = r.vehicle_type in types or value <= floor
        why = "exempt type" if r.vehicle_type in types else f"limit {yuan(floor)}"
        trace.add(
            Step(
                "assets.vehicle",
                "ASSET_VEHICLE",
                value,
                f"{r.vehicle_type} bought for {yuan(r.purchase_price_fen)} on "
                f"{r.registered_on}: worth {yuan(value)} ({rate} bp/year); "
                f"{'exempt' if exempt else 'counted'} ({why})",
                r.subject_id,
                (p_rate, p_floor, p_types),
                inputs_of([(answer, r)]),
            )
        )
        if not exempt:
            counted.append((answer, r))
    explain = f"{len(counted)} non-exempt vehicle(s), {allowed} allowed"
    status = _status(facts, "vehicle", len(counted) <= allowed)
    return Check("VEHICLES", status, p_allowed.reference, explain, "", inputs_of(counted))


def _dwellings(trace: Trace, facts: Facts, members: Sequence[Member]) -> list[Check]:
    pairs = [
        (a, r) for a, r in _records(facts, PropertyRecord, members) if isinstance(r, PropertyRecord)
    ]
    homes = [(a, r) for a, r in pairs if r.usage == "residential"]
    other = [(a, r) for a, r in pairs if r.usage != "residential"]
    max_homes, p_homes = trace.int_param("max_dwellings")
    max_area, p_area = trace.int_param("max_floor_area_per_capita_dm2")
    max_other, p_other = trace.int_param("max_non_residential")
    units = {r.record_id.split("/")[0] for _, r in homes}
    area = sum(r.floor_area_dm2 * r.share_percent // 100 for _, r in homes)
    per_capita = area // len(members)
    other_units = {r.record_id.split("/")[0] for _, r in other}
    area_text = f"{area // 100}.{area % 100:02d}"
    explain_area = (
        f"floor area {area_text} m² // {len(members)} = {per_capita} dm² per capita; "
        f"limit {max_area} dm²"
    )
    trace.add(
        Step(
            "assets.dwellings",
            "ASSET_DWELLINGS",
            len(units),
            f"{len(units)} dwelling(s); {explain_area}",
            "",
            (p_homes, p_area),
            inputs_of(homes),
        )
    )
    return [
        Check(
            "DWELLINGS",
            _status(facts, "property", len(units) <= max_homes),
            p_homes.reference,
            f"{len(units)} dwelling(s), {max_homes} allowed",
            "",
            inputs_of(homes),
        ),
        Check(
            "FLOOR_AREA",
            _status(facts, "property", per_capita <= max_area),
            p_area.reference,
            explain_area,
            "",
            inputs_of(homes),
        ),
        Check(
            "NON_RESIDENTIAL",
            _status(facts, "property", len(other_units) <= max_other),
            p_other.reference,
            f"{len(other_units)} non-residential property(ies), {max_other} allowed",
            "",
            inputs_of(other),
        ),
    ]


def _status(facts: Facts, category: str, ok: bool) -> Status:
    if not answered(facts, category):
        return Status.UNKNOWN
    return Status.PASS if ok else Status.FAIL
