"""The disabled persons' federation (残联) department: disability certificates (残疾人证).

Not one of the seven built-in sources: it serves the example third-party adapter
(``examples/hedui-disability-adapter``). Certificates derive from each synthetic person's true
``disability_grade`` (:mod:`.population` adds them to the person's records) — a hash of the ID
number picks the type and the issue date, so the population's random draws stay as they were.

``POST /cdpf/v1/certificates:query`` (the shared request) →
``{org, cxrq, data: [{sfzh, cjrz: [{czbh, cjlb "1"…"7", cjdj "1"…"4", fzrq, zt "1"|"0"}]}]}``
with ``cjlb`` the type code of GB/T 26341-2010 (1 visual, 2 hearing, 3 speech, 4 physical,
5 intellectual, 6 mental, 7 multiple) and ``zt`` 1 valid, 0 revoked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from adapters.records import DisabilityRecord, Record

__all__ = ["TYPES", "certificates", "entry"]

#: GB/T 26341-2010 disability type codes.
TYPES = {
    "1": "visual",
    "2": "hearing",
    "3": "speech",
    "4": "physical",
    "5": "intellectual",
    "6": "mental",
    "7": "multiple",
}
_CODES = {name: code for code, name in TYPES.items()}


def certificates(id_number: str, grade: int, reference: date) -> tuple[Record, ...]:
    """The person's certificate when their true disability grade is 1–4 (no RNG is drawn)."""
    if not 1 <= grade <= 4:
        return ()
    digest = hashlib.sha256(f"cdpf:{id_number}".encode()).digest()
    code = str(1 + digest[0] % 7)
    number = f"{id_number}{code}{grade}"
    return (
        DisabilityRecord(
            record_id=number,
            subject_id=id_number,
            certificate_number=number,
            disability_type=TYPES[code],
            grade=grade,
            issued_on=reference - timedelta(days=30 + int.from_bytes(digest[1:3]) % 3000),
            status="valid",
        ),
    )


def entry(id_number: str, records: Sequence[Any]) -> dict[str, Any]:
    """One subject's entry in the 残联 answer."""
    return {
        "sfzh": id_number,
        "cjrz": [
            {
                "czbh": r.certificate_number,
                "cjlb": _CODES[r.disability_type],
                "cjdj": str(r.grade),
                "fzrq": _iso(r.issued_on),
                "zt": "1" if r.status == "valid" else "0",
            }
            for r in records
        ],
    }


def _iso(day: date) -> str:
    return day.isoformat()
