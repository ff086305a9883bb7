"""Neutering: is every contract check necessary? (issue 15, "each check is necessary")

A *check* is a contract test function (``contracts/test_*.py``). Neutering a check replaces
its body with a no-op for one run (``pytest_pyfunc_call`` answers for it: the body never
runs, so it observes and credits nothing). A check is *necessary* when some faulty server
(a mutant of ``tests/mutants_core.py``, ``tests/mutants_pagination.py`` or
``tests/mutants_probes.py``) is caught by the
whole suite but goes uncaught once that check is neutered.

Used three ways:
- as a pytest plugin inside a contract run (``-p neuter``): the hooks below;
- by ``tests/test_neutering.py`` (CI): each check against its designated killer (``KILLERS``);
- as a script that writes docs/mutation.md (slow: every mutant under the whole quick suite):
  ``python tests/neuter.py --write docs/mutation.md``.

Stock mutation tools (mutmut, cosmic-ray) mutate the suite's code at random and re-run a
test command per mutation; here the question is narrower (does each named check matter
against real-world faulty servers?) and one run per mutant answers it for all checks at once.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script: the mutant registries live beside it
    sys.path.insert(0, str(HERE))

# ---- the pytest plugin (loaded with ``-p neuter`` into a contract run) --------------------
NEUTERED: set[str] = set()  # check names whose bodies do not run
CAUGHT: dict[str, set[str]] = {}  # check -> clauses its failure named, for the current run


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if pyfuncitem.originalname in NEUTERED:
        return True  # the body does not run: the check observes nothing, finds nothing
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A check caught the target when its test failed the run with a clause finding (an
    internal error is a suite bug, counted apart in the session's errors)."""
    if report.when != "call" or not report.failed:
        return
    named = re.search(r"clauses violated: ([A-Z0-9, -]+)", str(report.longrepr))
    if named:
        check = report.nodeid.split("::")[-1].split("[")[0]
        CAUGHT.setdefault(check, set()).update(c.strip() for c in named[1].split(","))


# ---- the checks and the mutants -------------------------------------------------------------
def checks() -> list[str]:
    """Every contract test function, in file order."""
    from comms_contract.paths import contracts_dir

    out = []
    for path in sorted(contracts_dir().glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out += [
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        ]
    return out


def mutants() -> dict[str, type]:
    """Every mutant by class name (names are unique across the registries)."""
    import mutants_core
    import mutants_pagination
    import mutants_probes

    found: dict[str, type] = {}
    for cls in [*mutants_core.MUTANTS, *mutants_pagination.MUTANTS, *mutants_probes.MUTANTS]:
        assert cls.__name__ not in found, f"two mutants named {cls.__name__}"
        found[cls.__name__] = cls
    return found


# A check that only reads what the target chose (FREE behaviour) or probes a SHOULD can have
# no killer: no faulty server makes it fail the run. Named here with the reason.
NO_KILLER = {
    "test_other_methods_get_405": "METHODS is a SHOULD: an advisory finding never fails a run",
    "test_token_alphabet_is_recorded": "TOKEN-URL-SAFETY is FREE for servers: it only records",
    "test_unknown_parameters": "UNKNOWN-PARAM is FREE: it only records (NO-5XX has its killers)",
    "test_empty_page_token": "TOKEN-EMPTY is FREE: it only records (NO-5XX has its killers)",
    "test_start_date_beyond_retention": "RETENTION is FREE: it only records",
}

# check -> a mutant that the whole suite catches and that goes uncaught with that check
# neutered (tests/test_neutering.py runs exactly these pairs; the script verifies them)
KILLERS: dict[str, str] = {
    "test_bad_credentials_are_refused": "AcceptsMissingCredentials",
    "test_status_walk": "RarestStatusLosesFilterOnTokenPages",
    "test_window_walk": "LoneEndDateHalfHourOffsetRejected",
    "test_token_with_or_without_filters": "TokenAloneUsesDefaultSize",
    "test_fuzzed_query": "NonAsciiToken500",
    "test_page_size_grammar": "ClampsPageSize",
    "test_status_grammar": "UnknownStatusIgnored",
    "test_date_grammar": "AcceptsDateOnly",
    "test_start_after_end": "SwapsInvertedDates",
    "test_first_page_shape": "TwentyItemPagesStatsAsStrings",
    "test_foreign_token_is_refused": "LongToken500",
    "test_whole_walk": "DeepPagesRepeat",
    "test_default_page_size": "DefaultSizeLostOnTokenPages",
    "test_self_and_reused_tokens": "SelfOfEmptyResultRejected",
    "test_tampered_token_mid_walk": "BadTokenWithFullQueryRestarts",
    "test_repeated_parameters": "RepeatedStatusUnfiltered",
    "test_bounds_around_an_item": "DropsBoundFraction",
    "test_date_edge": "ExtremeDatesOverflow",
    "test_offsets_around_an_item": "OffsetBeyond18HoursIgnored",
    "test_equal_instants_give_identical_results": "ZeroOffsetReadAsLocal",
    "test_tokens_reused_by_independent_routes": "DeepPagesSnapshotClosedAtEnd",
    "test_walk_machine": "PageSizeChangeDropsTokenFilters",
    "test_walk_property": "LoneStartDateLostFromToken",
}

# Checks that catch faulty servers, none of them alone yet (each of their mutants is also
# caught by another check): open work, listed so that the table and CI say so.
WITHOUT_EXCLUSIVE_KILLER: dict[str, str] = {}


# ---- running one mutant ----------------------------------------------------------------------
@dataclass
class Kill:
    mutant: str
    clause: str
    code: int
    caught_by: dict[str, set[str]] = field(default_factory=dict)  # check -> clauses it named
    seconds: float = 0.0
    errors: int = 0  # internal errors of the suite during the run (crash-proofing bugs)

    @property
    def caught(self) -> bool:
        return bool(self.caught_by) or self.code == 1

    def to_json(self) -> str:
        return json.dumps(
            {
                "mutant": self.mutant,
                "clause": self.clause,
                "code": self.code,
                "caught_by": {k: sorted(v) for k, v in sorted(self.caught_by.items())},
                "seconds": round(self.seconds, 1),
                "errors": self.errors,
            }
        )

    @classmethod
    def from_json(cls, line: str) -> Kill:
        d = json.loads(line)
        d["caught_by"] = {k: set(v) for k, v in d["caught_by"].items()}
        return cls(**d)


def run_mutant(
    name: str, *, neutered: Iterable[str] = (), only_clause: bool = False, seed: int = 1
) -> Kill:
    """``name`` under the quick suite (``only_clause``: just its clause's checks) with the
    ``neutered`` checks' bodies replaced by no-ops."""
    import neuter  # the module pytest loads with ``-p neuter`` (not ``__main__``)
    from harness import run_against

    cls = mutants()[name]
    clause = cls.CLAUSE
    neuter.NEUTERED.clear()
    neuter.NEUTERED.update(neutered)
    neuter.CAUGHT.clear()
    started = time.monotonic()
    try:
        out = run_against(
            cls(seed=11),
            clauses=[clause, *getattr(cls, "ALSO", ())] if only_clause else None,
            strict=getattr(cls, "STRICT", False),
            probe_methods=getattr(cls, "PROBE_METHODS", False),
            seed=seed,
            max_wait=0.05,
            extra_args=["-p", "neuter"],
        )
    finally:
        neuter.NEUTERED.clear()
    kill = Kill(name, clause, out.code, {k: set(v) for k, v in neuter.CAUGHT.items()})
    kill.seconds = time.monotonic() - started
    kill.errors = len(out.session.errors)
    return kill


# ---- the table -----------------------------------------------------------------------------
COMMAND = "python tests/neuter.py --write docs/mutation.md"
BEFORE = (
    "Before the neutering work (issue 15): the 69 mutants of the time (identical twins "
    "removed) against the 25 checks of the time caught 67 of 67 MUST mutants, yet only 5 of "
    "20 checks that can fail a run were necessary (`test_bad_credentials_are_refused`, "
    "`test_date_grammar`, `test_page_size_grammar`, `test_start_after_end`, "
    "`test_status_grammar`); the other 15 could be emptied without any mutant going through."
)


def matrix(names: Iterable[str], cache: Path | None = None) -> list[Kill]:
    """Every mutant under the whole quick suite; ``cache`` (JSON lines) keeps finished runs,
    so an interrupted matrix resumes."""
    done: dict[str, Kill] = {}
    if cache is not None and cache.exists():
        for line in cache.read_text(encoding="utf-8").splitlines():
            kill = Kill.from_json(line)
            done[kill.mutant] = kill
    out = []
    for name in names:
        if name in done:
            out.append(done[name])
            continue
        kill = run_mutant(name)
        if cache is not None:
            with cache.open("a", encoding="utf-8") as f:
                f.write(kill.to_json() + "\n")
        print(
            f"{name:40} {'caught' if kill.caught else 'MISSED':7} {kill.seconds:5.1f}s "
            f"by {', '.join(sorted(kill.caught_by)) or '-'}",
            file=sys.stderr,
            flush=True,
        )
        out.append(kill)
    return out


def render(kills: list[Kill], verified: dict[str, bool]) -> str:
    names = checks()
    from comms_contract import catalog

    failing = [k for k in kills if catalog.get(k.clause).level != "SHOULD"]
    caught = [k for k in failing if k.caught]
    only: dict[str, list[str]] = {c: [] for c in names}
    by: dict[str, list[str]] = {c: [] for c in names}
    for k in caught:
        for c in k.caught_by:
            by.setdefault(c, []).append(k.mutant)
        if len(k.caught_by) == 1:
            only.setdefault(next(iter(k.caught_by)), []).append(k.mutant)
    judged = [c for c in names if c not in NO_KILLER]
    needed = [c for c in judged if only.get(c) or verified.get(c)]
    lines = [
        "# Mutation testing of the suite's own checks",
        "",
        f"Generated by `{COMMAND}` (quick profile, run seed 1, mutant dataset seed 11).",
        "Do not edit by hand.",
        "",
        "A *check* is a contract test function; a *mutant* is a faulty server from",
        "`tests/mutants_core.py`, `tests/mutants_pagination.py` or `tests/mutants_probes.py`.",
        "Each mutant runs under the",
        "whole quick suite; a check *catches* it when the check's test fails the run. A check",
        "is *necessary* when some mutant is caught by it alone, so neutering the check (its body",
        "replaced by a no-op) lets that mutant through; `tests/test_neutering.py` re-runs each",
        "check against its designated killer (`tests/neuter.py` `KILLERS`) with the check",
        "neutered, in CI.",
        "",
        "## Scores",
        "",
        f"- mutants caught by the whole suite: **{len(caught)} of {len(failing)}** "
        f"({100 * len(caught) // max(1, len(failing))}%; the {len(kills) - len(failing)} "
        "SHOULD mutants are reported as advisory findings, which never fail a run)",
        f"- necessary checks (a mutant only they catch): **{len(needed)} of {len(judged)}** "
        f"checks that can fail a run ({100 * len(needed) // max(1, len(judged))}%)",
        f"- checks that only record FREE or SHOULD behaviour (no killer possible): "
        f"{len(NO_KILLER)}",
        "",
        BEFORE,
        "",
        "## Checks",
        "",
        "| check | mutants caught | caught by it alone | designated killer |",
        "|---|---:|---|---|",
    ]
    for c in names:
        alone = ", ".join(f"`{m}`" for m in only.get(c, [])) or (
            f"(none: {NO_KILLER[c]})"
            if c in NO_KILLER
            else f"**none**: {WITHOUT_EXCLUSIVE_KILLER[c]}"
            if c in WITHOUT_EXCLUSIVE_KILLER
            else "**none**"
        )
        killer = KILLERS.get(c, "")
        mark = "" if not killer else (" (verified)" if verified.get(c) else " (not exclusive)")
        lines.append(
            f"| `{c}` | {len(by.get(c, []))} | {alone} | {f'`{killer}`' if killer else '-'}{mark} |"
        )
    lines += [
        "",
        "## Mutants",
        "",
        "| mutant | clause | caught by |",
        "|---|---|---|",
    ]
    from comms_contract import catalog

    for k in kills:
        should = catalog.get(k.clause).level == "SHOULD"
        who = ", ".join(f"`{c}`" for c in sorted(k.caught_by)) or (
            "the client (throttled answers)"
            if k.caught
            else "advisory finding (a SHOULD clause never fails a run)"
            if should
            else "**nobody (missed)**"
        )
        lines.append(f"| `{k.mutant}` | {k.clause} | {who} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", metavar="PATH", help="write the markdown table here")
    p.add_argument("--mutant", action="append", default=[], help="only these mutants")
    p.add_argument("--cache", metavar="PATH", help="JSON lines of finished runs (resume)")
    args = p.parse_args(argv)
    names = args.mutant or list(mutants())
    kills = matrix(names, Path(args.cache) if args.cache else None)
    by_name = {k.mutant: k for k in kills}
    verified = {}
    for check, mutant in KILLERS.items():
        k = by_name.get(mutant)
        verified[check] = bool(k and k.caught and set(k.caught_by) == {check})
    text = render(kills, verified)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
