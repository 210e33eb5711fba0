"""The 残联 adapter: ask the federation's certificate registry, decode its answer into records.

The department's API (the hedui simulator serves the same one)::

    POST {base_url}/cdpf/v1/certificates:query
    {"request_id", "id_numbers": [...], "as_of", "purpose", "authorization_ref"}
    → 200 {"org": "中国残疾人联合会", "cxrq": "2025-06-30",
           "data": [{"sfzh": "<ID number>", "cjrz": [{"czbh": "<certificate number>",
                     "cjlb": "4", "cjdj": "2", "fzrq": "2019-03-01", "zt": "1"}]}]}
    → 404 when the federation holds no certificate for any of the subjects

Only :mod:`adapters.base` and :mod:`adapters.records` are used: the public adapter contract.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx

from adapters.base import (
    AdapterConfig,
    AdapterError,
    MalformedAnswer,
    RawAnswer,
    SourceCategory,
    SourceDenied,
    SourceNotFound,
    SourceQuery,
    SourceThrottled,
    SourceTimeout,
)
from adapters.records import DisabilityRecord, Record

__all__ = ["DisabilityAdapter"]

PATH = "/cdpf/v1/certificates:query"
TYPES = {
    "1": "visual",
    "2": "hearing",
    "3": "speech",
    "4": "physical",
    "5": "intellectual",
    "6": "mental",
    "7": "multiple",
}  # GB/T 26341-2010
STATUS = {"1": "valid", "0": "revoked"}


class DisabilityAdapter:
    """残联 disability certificates; the gateway calls ``DisabilityAdapter(config)``."""

    category = SourceCategory.DISABILITY
    department = "中国残疾人联合会"

    def __init__(self, config: AdapterConfig) -> None:
        self.name = config.name
        self._client = httpx.AsyncClient(
            base_url=config.base_url,
            transport=config.options.get("transport"),  # tests may pass an httpx.MockTransport
            headers={"Accept": "application/json"},
        )

    async def fetch(self, query: SourceQuery) -> RawAnswer:
        """POST the query; the exact bytes, or an AdapterError saying what went wrong."""
        if query.timeout_s <= 0:
            raise SourceTimeout(f"{self.department}: no time left to ask")
        try:
            response = await self._client.post(PATH, json=_request(query), timeout=query.timeout_s)
        except httpx.TimeoutException as exc:
            raise SourceTimeout(f"{self.department}: no answer in {query.timeout_s:.3f}s") from exc
        except httpx.HTTPError as exc:
            raise AdapterError(f"{self.department}: unreachable ({exc!r})") from exc
        _raise_for_status(self.department, response)
        return RawAnswer(body=response.content, department=self.department, as_of=query.as_of)

    def decode(self, raw: bytes) -> tuple[Record, ...]:
        """The certificates in the answer; MalformedAnswer for anything else (pure)."""
        try:
            doc = json.loads(raw)
            date.fromisoformat(doc["cxrq"])
            return tuple(_certificate(e["sfzh"], c) for e in doc["data"] for c in e["cjrz"])
        except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
            raise MalformedAnswer(f"{self.department}: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _request(query: SourceQuery) -> dict[str, Any]:
    return {
        "request_id": query.request_id,
        "id_numbers": [s.id_number for s in query.subjects],
        "as_of": query.as_of.isoformat(),
        "purpose": query.purpose,
        "authorization_ref": query.authorization_ref,
    }


def _raise_for_status(department: str, response: httpx.Response) -> None:
    """Translate an HTTP error status into the adapter error tree, with the cause chained."""
    code = response.status_code
    if code < 400:
        return
    what = f"{department}: HTTP {code}"
    error: AdapterError
    if code in (401, 403):
        error = SourceDenied(what)
    elif code == 404:
        error = SourceNotFound(what)
    elif code == 429:
        retry = response.headers.get("retry-after", "")
        error = SourceThrottled(what, float(retry) if retry.isdigit() else None)
    else:
        error = AdapterError(what)
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:  # chain it: the resilience layer retries 502/503/504
        raise error from exc


def _certificate(subject: str, c: dict[str, Any]) -> DisabilityRecord:
    grade = int(c["cjdj"])
    if not isinstance(subject, str) or not 1 <= grade <= 4:
        raise ValueError(f"bad subject or grade: {subject!r}, {grade}")
    return DisabilityRecord(
        record_id=str(c["czbh"]),
        subject_id=subject,
        certificate_number=str(c["czbh"]),
        disability_type=TYPES[c["cjlb"]],
        grade=grade,
        issued_on=date.fromisoformat(c["fzrq"]),
        status=STATUS[c["zt"]],
    )
