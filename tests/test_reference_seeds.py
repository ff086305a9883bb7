"""The reference server passes every clause whatever the seeds: no false positives.

30 seeds at profile quick and 3 at the default profile ci (issue: "the reference server
passes every clause under 20 seeds"; the flake-freedom soak asks for 30). The dataset seed
changes the data (ties, statuses, page boundaries); the run seed changes what
the fuzzer and the walk properties draw. A check that fails the reference server under some
seed is a suite bug, so both are varied, under quick, ci and strict.
"""

from __future__ import annotations

import pytest
from harness import assert_clean, run_against

from comms_contract.server import ReferenceServer

QUICK_SEEDS = [(dataset, 100 + dataset * 37) for dataset in range(30)]


@pytest.mark.parametrize(("dataset_seed", "run_seed"), QUICK_SEEDS)
def test_reference_passes_quick(dataset_seed: int, run_seed: int) -> None:
    assert_clean(run_against(ReferenceServer(seed=dataset_seed), seed=run_seed))


@pytest.mark.parametrize(("dataset_seed", "run_seed"), [(31, 7), (47, 1234), (101, 101)])
def test_reference_passes_ci(dataset_seed: int, run_seed: int) -> None:
    assert_clean(run_against(ReferenceServer(seed=dataset_seed), profile="ci", seed=run_seed))


def test_reference_passes_strict() -> None:
    out = run_against(ReferenceServer(seed=52), seed=9, strict=True)
    assert_clean(out)
    assert out.statuses["EXTRA-FIELDS"] == "pass", out.explain()
