"""The department simulator: real HTTP APIs of seven departments over a synthetic population.

Quick start::

    async with run_simulator(seed=7, households=200) as sim:
        sim.base_url                      # http://127.0.0.1:<port>
        sim.case_files(0, 20)             # what households declared (also GET /_sim/households)
        sim.set_fault("bank", "hang")     # also PUT /_sim/departments/bank/faults

* :mod:`.population` — the synthetic, seeded population (truth = typed records per person);
* :mod:`.casefiles` — declarations and planted discrepancies, and their JSON;
* :mod:`.departments` — the seven department APIs' request and answer shapes;
* :mod:`.faults` — latency, error rates and fault modes;
* :mod:`.server` — the aiohttp server and control API; ``serve`` / ``simulator_in_thread``.
"""

from __future__ import annotations

from adapters.simulator._regions import is_valid_id_number
from adapters.simulator._serve import serve, simulator_in_thread
from adapters.simulator.casefiles import KINDS, DeclaredMember, Discrepancy
from adapters.simulator.departments import DEPARTMENTS, Department
from adapters.simulator.faults import DepartmentSettings, FaultMode
from adapters.simulator.population import Household, Person, Population, build_population
from adapters.simulator.server import Simulator, SimulatorSettings, run_simulator

__all__ = [
    "DEPARTMENTS",
    "KINDS",
    "DeclaredMember",
    "Department",
    "DepartmentSettings",
    "Discrepancy",
    "FaultMode",
    "Household",
    "Person",
    "Population",
    "Simulator",
    "SimulatorSettings",
    "build_population",
    "is_valid_id_number",
    "run_simulator",
    "serve",
    "simulator_in_thread",
]
