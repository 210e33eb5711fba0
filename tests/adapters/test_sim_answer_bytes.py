"""The simulator's prepared answers are byte for byte what building them per request gave."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.simulator import DEPARTMENTS, Simulator

module_loop = pytest.mark.asyncio(loop_scope="module")
AS_OF = date(2025, 6, 30)


def _dumps(doc: Any) -> bytes:
    """How the simulator always serialised: json.dumps, UTF-8 Chinese, default separators."""
    return json.dumps(doc, ensure_ascii=False).encode()


def _fresh(sim: Simulator, department: str, ids: list[str]) -> dict[str, Any] | None:
    holdings = [(i, sim.population.records_of(i)) for i in ids]
    return DEPARTMENTS[department].answer(holdings, AS_OF)


async def _post(
    http: httpx.AsyncClient, sim: Simulator, department: str, ids: list[str]
) -> httpx.Response:
    body = {"request_id": "t", "id_numbers": ids, "as_of": AS_OF.isoformat(),
            "purpose": "APPLICATION", "authorization_ref": "AUTH-1"}  # fmt: skip
    return await http.post(sim.url(department), json=body, timeout=5)


@module_loop
async def test_repeated_answers_are_the_bytes_of_a_fresh_build(sim: Simulator) -> None:
    """Asking twice gives the same bytes, equal to serialising a freshly built answer."""
    async with httpx.AsyncClient() as http:
        answers = [
            (name, ids, await _post(http, sim, name, ids), await _post(http, sim, name, ids))
            for household in sim.population.households[:20]
            for ids in [[m.id_number for m in household.members]]
            for name in DEPARTMENTS
        ]
    for name, ids, first, second in answers:
        doc = _fresh(sim, name, ids)
        expected = _dumps(doc) if doc is not None else _dumps({"error": {
            "code": "NOT_FOUND",
            "message": f"{DEPARTMENTS[name].title}: no record for any of the subjects",
        }})  # fmt: skip
        assert first.content == second.content == expected
        assert first.headers["Content-Type"] == "application/json; charset=utf-8"


@module_loop
async def test_wrong_schema_wraps_the_answer_as_before(sim: Simulator) -> None:
    """wrong_schema sends the bytes of {"errcode": 0, "data": {"rows": [answer]}}."""
    ids = [m.id_number for m in sim.population.households[0].members]
    sim.set_fault("household_registration", "wrong_schema")
    async with httpx.AsyncClient() as http:
        response = await _post(http, sim, "household_registration", ids)
    doc = _fresh(sim, "household_registration", ids)
    assert response.content == _dumps({"errcode": 0, "data": {"rows": [doc]}})
