"""Run profiles: how hard each kind of check tries (requests scale with these numbers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    fuzz_examples: int  # schemathesis fuzzing cases (its coverage phase runs in every profile)
    coverage_phase: bool
    walk_examples: int  # hypothesis examples for each whole-walk property


PROFILES = {
    "quick": Profile("quick", fuzz_examples=25, coverage_phase=False, walk_examples=4),
    "ci": Profile("ci", fuzz_examples=100, coverage_phase=True, walk_examples=12),
    "thorough": Profile("thorough", fuzz_examples=600, coverage_phase=True, walk_examples=60),
}
DEFAULT_PROFILE = "ci"
