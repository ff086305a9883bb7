"""The clause catalog (contracts/clauses.toml): ids, levels, statements, sources."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from comms_contract.paths import contracts_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Clause:
    id: str
    section: str
    level: str
    statement: str
    source: str
    decision: str = ""
    strict_level: str = ""


@lru_cache(maxsize=1)
def clauses() -> tuple[Clause, ...]:
    data = tomllib.loads((contracts_dir() / "clauses.toml").read_text(encoding="utf-8"))
    items = tuple(Clause(**row) for row in data["clause"])
    ids = [c.id.upper() for c in items]  # ids are matched case-insensitively
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RuntimeError(f"duplicate clause ids in clauses.toml: {sorted(dupes)}")
    return items


def by_id() -> dict[str, Clause]:
    return {c.id: c for c in clauses()}


@lru_cache(maxsize=1)
def _upper_ids() -> dict[str, str]:
    return {c.id.upper(): c.id for c in clauses()}


def canonical(text: str) -> str:
    """The catalog id for ``text`` in any case, or ``text`` unchanged when it is unknown."""
    return _upper_ids().get(text.strip().upper(), text) if isinstance(text, str) else text


def resolve(text: str, *, flag: str = "clause id") -> str:
    """The catalog id a user meant: ids match case-insensitively; an unknown id raises
    ``ValueError`` with the closest ids as a suggestion (difflib)."""
    import difflib

    ids = _upper_ids()
    wanted = text.strip().upper()
    if wanted in ids:
        return ids[wanted]
    # 0.75: "NOPE" is 0.67 like "ENVELOPE", which is no suggestion; "SIZE-RANG" is 0.95
    close = difflib.get_close_matches(wanted, list(ids), n=3, cutoff=0.75)
    hint = f"; did you mean {' or '.join(ids[c] for c in close)}?" if close else ""
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise ValueError(f"{flag}: unknown clause id {shown!r}{hint} (see 'comms-contract clauses')")


def get(clause_id: str) -> Clause:
    try:
        return by_id()[clause_id]
    except KeyError:
        raise KeyError(f"unknown clause id {clause_id!r}") from None


@dataclass(frozen=True)
class Policy:
    """How this run weighs clauses: strict mode and user downgrades of MUST to advisory."""

    strict: bool = False
    downgraded: frozenset[str] = frozenset()

    @classmethod
    def build(cls, strict: bool, downgrade: Iterable[str]) -> Policy:
        ids = {
            resolve(d, flag="downgrade") for item in downgrade for d in item.split(",") if d.strip()
        }
        policy = cls(strict, frozenset())
        for cid in sorted(ids):
            level = policy.level(cid)
            if level != "MUST":
                raise ValueError(
                    f"cannot downgrade {cid}: it is {level}{' in this mode' if strict else ''}, "
                    "not MUST, so it never fails a run"
                )
        return cls(strict, frozenset(ids))

    def level(self, clause_id: str) -> str:
        """The level as written, with strict mode applied (downgrades are reported apart)."""
        c = get(clause_id)
        return c.strict_level if self.strict and c.strict_level else c.level

    def fails_run(self, clause_id: str) -> bool:
        return self.level(clause_id) == "MUST" and clause_id not in self.downgraded
