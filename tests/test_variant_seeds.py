"""Legitimate variations pass under many seeds (no false alarms, whatever the data and draws).

In CI every variation runs under 3 more seeds (each also runs once in its own module); with
``COMMS_SLOW=1`` (``tox -e slow``) under 20 seeds, as the pagination issue asks.
"""

from __future__ import annotations

import os

import pytest
from harness import run_against
from test_core_variants import VARIANTS as CORE_VARIANTS
from test_core_variants import assert_clean
from test_pagination_variants import VARIANTS as PAGINATION_VARIANTS

SLOW = os.environ.get("COMMS_SLOW") == "1"
SEEDS = range(20) if SLOW else range(3)
ALL = [*CORE_VARIANTS, *PAGINATION_VARIANTS]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_variation_passes_under_seeds(cls: type, seed: int) -> None:
    out = run_against(cls(seed=100 + seed), profile="quick", seed=200 + seed, max_wait=0.05)
    assert_clean(out)
