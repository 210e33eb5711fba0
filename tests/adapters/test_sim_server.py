"""The simulator over HTTP: case files, department APIs, errors and run-time fault modes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.simulator import DEPARTMENTS, Simulator, simulator_in_thread
from adapters.simulator.faults import Action, DepartmentSettings, DepartmentState

module_loop = pytest.mark.asyncio(loop_scope="module")


def _request(ids: list[str], authorization_ref: str = "AUTH-1") -> dict[str, Any]:
    return {"request_id": "t", "id_numbers": ids, "as_of": "2025-06-30",
            "purpose": "APPLICATION", "authorization_ref": authorization_ref}  # fmt: skip


async def _post(sim: Simulator, department: str, body: Any) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(sim.url(department), json=body, timeout=5)


def _ids(sim: Simulator, index: int) -> list[str]:
    return [m.id_number for m in sim.population.households[index].members]


@module_loop
async def test_households_are_served_in_pages(sim: Simulator) -> None:
    """GET /_sim/households pages through the case files with total, offset and limit."""
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        page = (await http.get("/_sim/households", params={"offset": 10, "limit": 5})).json()
        bad = await http.get("/_sim/households", params={"limit": 0})
    assert (page["total"], page["offset"], page["limit"]) == (150, 10, 5)
    assert [h["index"] for h in page["households"]] == [10, 11, 12, 13, 14]
    assert set(page["households"][0]["members"][0]) >= {"id_number", "declared_deposits_fen"}
    assert bad.status_code == 400


@module_loop
async def test_every_department_answers_a_known_household(sim: Simulator) -> None:
    """Asked about everyone, each of the seven APIs answers 200 with its own envelope keys."""
    ids = [i for h in range(len(sim.population)) for i in _ids(sim, h)]
    for name, dept in DEPARTMENTS.items():
        response = await _post(sim, name, _request(ids))
        assert response.status_code == 200, name
        assert set(response.json()) >= set(dept.envelope)


@module_loop
async def test_bad_request_is_400(sim: Simulator) -> None:
    """A request without id_numbers or with a bad as_of is answered 400 with a JSON error."""
    missing = await _post(sim, "vehicle", {"as_of": "2025-06-30"})
    bad_date = await _post(sim, "vehicle", {**_request(_ids(sim, 0)), "as_of": "30/06/2025"})
    assert (missing.status_code, bad_date.status_code) == (400, 400)
    assert missing.json()["error"]["code"] == "BAD_REQUEST"


@module_loop
async def test_bank_refuses_without_authorization(sim: Simulator) -> None:
    """The bank API answers 403 AUTHORIZATION_REQUIRED when authorization_ref is empty."""
    response = await _post(sim, "bank", _request(_ids(sim, 0), authorization_ref=""))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTHORIZATION_REQUIRED"


@module_loop
async def test_unknown_subjects_are_404(sim: Simulator) -> None:
    """A department that holds nothing about any subject answers 404."""
    response = await _post(sim, "household_registration", _request(["11010519491231002X"]))
    assert response.status_code == 404


@module_loop
async def test_faults_are_switched_over_http(sim: Simulator) -> None:
    """PUT …/faults switches a mode on, GET reads it back, and the API then fails so."""
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        put = await http.put(
            "/_sim/departments/funeral/faults", json={"mode": "status_429", "retry_after_s": 4}
        )
        got = (await http.get("/_sim/departments/funeral/faults")).json()
        wrong = await http.put("/_sim/departments/funeral/faults", json={"mode": "sideways"})
        nowhere = await http.get("/_sim/departments/nowhere/faults")
    response = await _post(sim, "funeral", _request(_ids(sim, 0)))
    assert put.status_code == 200
    assert got["mode"] == "status_429"
    assert (wrong.status_code, nowhere.status_code) == (400, 404)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "4")


@module_loop
async def test_body_faults_spoil_the_answer(sim: Simulator) -> None:
    """malformed_json, truncated_body and wrong_schema answer 200 with unusable bodies."""
    ids = _ids(sim, 0)
    bodies = {}
    for mode in ("malformed_json", "truncated_body", "wrong_schema"):
        sim.set_fault("household_registration", mode)
        response = await _post(sim, "household_registration", _request(ids))
        assert response.status_code == 200
        bodies[mode] = response.content
    assert bodies["malformed_json"].startswith(b"<html>")
    assert bodies["truncated_body"].startswith(b'{"department"')
    assert set(httpx.Response(200, content=bodies["wrong_schema"]).json()) == {"errcode", "data"}


def test_flapping_alternates_fail_and_answer() -> None:
    """In flapping mode the first request fails, the second is answered, and so on."""
    state = DepartmentState("bank", DepartmentSettings(), seed=7)
    state.update({"mode": "flapping"})
    actions = [state.plan().action for _ in range(4)]
    assert actions == [Action.HTTP_500, Action.ANSWER, Action.HTTP_500, Action.ANSWER]


def test_latency_and_error_rate_are_deterministic() -> None:
    """Same seed and department give the same delays and errors, request by request."""
    settings = DepartmentSettings(latency_ms=(5, 50), error_rate=0.3)
    first, second = (DepartmentState("vehicle", settings, 7) for _ in range(2))
    plans = [(first.plan(), second.plan()) for _ in range(50)]
    assert all(a == b for a, b in plans)
    assert all(0.005 <= a.delay_s <= 0.05 for a, _ in plans)
    assert 5 < sum(a.action is Action.HTTP_500 for a, _ in plans) < 30


def test_settings_reject_nonsense() -> None:
    """Latency ranges must be ordered and error rates within [0, 1]."""
    with pytest.raises(ValueError, match="latency_ms"):
        DepartmentSettings(latency_ms=(10, 5))
    with pytest.raises(ValueError, match="error_rate"):
        DepartmentState("bank", DepartmentSettings(), 7).update({"error_rate": 2})


def test_simulator_runs_in_a_thread() -> None:
    """simulator_in_thread serves synchronous callers and stops cleanly."""
    with simulator_in_thread(households=5) as sim:
        health = httpx.get(sim.base_url + "/_sim/health", timeout=5).json()
    assert health == {"status": "ok", "seed": 7, "households": 5}
