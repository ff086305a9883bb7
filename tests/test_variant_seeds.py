"""Legitimate variations pass under many seeds (no false alarms, whatever the data and draws).

In CI the variations run under 4 more seeds, 5 in all with the run in their own module (issue
15: "5 in CI"): all core variations at once (``AllVariants``) and each pagination and
precision variation (live data included), at profile quick. With ``COMMS_SLOW=1``
(``tox -e slow``) every variation alone under 30 seeds.
"""

from __future__ import annotations

import os

import pytest
from harness import assert_clean, run_against
from test_core_variants import VARIANTS as CORE_VARIANTS
from test_core_variants import AllVariants
from test_pagination_variants import VARIANTS as PAGINATION_VARIANTS
from test_precision_variants import VARIANTS as PRECISION_VARIANTS

SLOW = os.environ.get("COMMS_SLOW") == "1"
SEEDS = range(30) if SLOW else range(4)
ALL = (
    [*CORE_VARIANTS, *PAGINATION_VARIANTS, *PRECISION_VARIANTS]
    if SLOW
    else [AllVariants, *PAGINATION_VARIANTS, *PRECISION_VARIANTS]
)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_variation_passes_under_seeds(cls: type, seed: int) -> None:
    out = run_against(cls(seed=100 + seed), profile="quick", seed=200 + seed, max_wait=0.05)
    assert_clean(out)
