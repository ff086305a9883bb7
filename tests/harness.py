"""Run the contract suite in-process against an ASGI app (a mutant or a variant).

``run_against(app, clauses=[...])`` runs only the checks of those clauses, so a mutant test
stays fast and shows exactly which clause caught it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from comms_contract.catalog import Policy
from comms_contract.cli import run_suite
from comms_contract.http import ClientSettings, Target
from comms_contract.profiles import PROFILES
from comms_contract.server.app import Credentials
from comms_contract.session import ContractSession, RunConfig


@dataclass
class Outcome:
    code: int
    session: ContractSession

    @property
    def statuses(self) -> dict[str, str]:
        return {r.id: r.status for r in self.session.ledger.results()}

    @property
    def failed(self) -> set[str]:
        return {cid for cid, status in self.statuses.items() if status == "fail"}

    @property
    def advisory(self) -> set[str]:
        return {cid for cid, status in self.statuses.items() if status == "advisory"}

    def explain(self) -> str:
        from comms_contract.report import terminal_lines

        return "\n".join(terminal_lines(self.session))


def run_against(
    app: object,
    *,
    clauses: Iterable[str] | None = None,
    profile: str = "quick",
    seed: int = 1,
    strict: bool = False,
    downgrade: Iterable[str] = (),
    probe_methods: bool = False,
    extra_args: Iterable[str] = (),
    **client: float | int | None,
) -> Outcome:
    """``client`` takes ClientSettings fields: max_wait, max_requests, rate_limit, timeout."""
    creds = Credentials()
    config = RunConfig(
        target=Target(None, creds.account_id, creds.auth_token),
        profile=PROFILES[profile],
        seed=seed,
        policy=Policy.build(strict, downgrade),
        selected=frozenset(clauses) if clauses else None,
        client=ClientSettings(**client),  # type: ignore[arg-type]
        probe_methods=probe_methods,
        app=app,
    )
    code, session = run_suite(config, extra_args=list(extra_args))
    assert session is not None, "the contract suite did not start"
    return Outcome(code, session)
