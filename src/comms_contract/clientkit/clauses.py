"""The client clause catalog (contracts/client-clauses.toml): CONTRACT.md section 5 as ids."""

from __future__ import annotations

import sys
from functools import lru_cache

from comms_contract.catalog import Clause
from comms_contract.paths import contracts_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@lru_cache(maxsize=1)
def client_clauses() -> tuple[Clause, ...]:
    """Every client clause, in catalog order (the order reports use)."""
    text = (contracts_dir() / "client-clauses.toml").read_text(encoding="utf-8")
    items = tuple(Clause(**row) for row in tomllib.loads(text)["clause"])
    ids = [c.id for c in items]
    if len(set(ids)) != len(ids):
        raise RuntimeError(f"duplicate ids in client-clauses.toml: {sorted(ids)}")
    return items


def client_clause(clause_id: str) -> Clause:
    for c in client_clauses():
        if c.id == clause_id:
            return c
    raise KeyError(f"unknown client clause id {clause_id!r}")


def client_clause_ids() -> list[str]:
    return [c.id for c in client_clauses()]
