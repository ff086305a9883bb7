"""Run profiles: how hard each kind of check tries (requests scale with these numbers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    fuzz_examples: int  # schemathesis fuzzing cases
    coverage_phase: bool  # schemathesis boundary cases (pageSize 0, 1, 1000, 1001, ...)
    walk_examples: int  # hypothesis examples for each whole-walk property
    walk_pages: int = 170  # most pages one deterministic whole walk may take (else: a window)
    property_pages: int = 25  # most pages one hypothesis-drawn walk may take
    walk_steps: int = 12  # steps of one stateful walk (RuleBasedStateMachine)


PROFILES = {
    "quick": Profile(
        "quick",
        fuzz_examples=25,
        coverage_phase=False,
        walk_examples=4,
        walk_pages=20,
        property_pages=10,
        walk_steps=8,
    ),
    "ci": Profile("ci", fuzz_examples=100, coverage_phase=True, walk_examples=12),
    "thorough": Profile(
        "thorough",
        fuzz_examples=600,
        coverage_phase=True,
        walk_examples=60,
        walk_pages=2000,
        property_pages=60,
        walk_steps=20,
    ),
}
DEFAULT_PROFILE = "ci"
