"""Requests for benchmarks: simulator case files as serialised ``SubmitVerificationRequest``s.

The population is built from the same seed the benchmark servers use (the fake sources and the
simulator), so every request is about households the sources know.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.simulator import build_population
from adapters.simulator.casefiles import household_json
from bench._servers import POPULATION_SEED
from gateway.client import request_from_case

__all__ = ["serialised_requests"]


def serialised_requests(households: int = 200) -> list[bytes]:
    """One request per household of the benchmark population, dated today."""
    today = datetime.now(UTC).date()
    population = build_population(POPULATION_SEED, households)
    return [
        request_from_case(household_json(h), today=today).SerializeToString()
        for h in population.households
    ]
