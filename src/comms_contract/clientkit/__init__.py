"""The client conformance kit (CONTRACT.md section 5): scenarios, recorder, grader, runner.

SDK authors run ``comms-contract check-client -- CMD`` with a small driver program, or use the
``comms_mock`` pytest fixture to test a Python client in-process.
"""

from __future__ import annotations

from comms_contract.clientkit.clauses import client_clause, client_clause_ids, client_clauses
from comms_contract.clientkit.grader import DriverRun, ScenarioResult, grade
from comms_contract.clientkit.recorder import Hit, TrafficLog
from comms_contract.clientkit.runner import KitReport, UsageError, run_kit
from comms_contract.clientkit.scenarios import SCENARIOS, Scenario, ScenarioServer

__all__ = [
    "SCENARIOS",
    "DriverRun",
    "Hit",
    "KitReport",
    "Scenario",
    "ScenarioResult",
    "ScenarioServer",
    "TrafficLog",
    "UsageError",
    "client_clause",
    "client_clause_ids",
    "client_clauses",
    "grade",
    "run_kit",
]
