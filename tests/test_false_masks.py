"""A mask never alters a verdict: what the target sends is scrubbed of the run's own token
only, and only when that token is long enough to be told from ordinary data.

Seen in CI (808a024): a conformant server failed WALK-EXACTLY-ONCE ("page 18: the server
answered 400 to its own next token") with an AUTH notice that it had echoed the credentials.
It had not: a 4-character token registered by an earlier self-test in the same process
matched a piece of a page token, the ingress masked it, and the walk sent the mangled token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from harness import Outcome, assert_clean, run_against
from starlette.responses import JSONResponse

from comms_contract import http, plugin, redact
from comms_contract.redact import PIECE, Redactor
from comms_contract.server import ReferenceServer
from comms_contract.server.app import ApiError, Credentials

CLAUSES = ["AUTH", "OP-SHAPE", "IDS-UNIQUE", "WALK-EXACTLY-ONCE"]
SEED = 97


@pytest.fixture
def process_redactor(monkeypatch: pytest.MonkeyPatch) -> Iterator[Redactor]:
    """A fresh process-wide redactor for this test: what it registers dies with it."""
    fresh = Redactor()
    for module in (redact, http, plugin):
        monkeypatch.setattr(module, "REDACTOR", fresh)
    yield fresh


def an_id_tail(n: int) -> str:
    """The last ``n`` characters of an operation id of the seeded dataset (random Crockford
    characters: ordinary data that no other dataset holds)."""
    return sorted(ReferenceServer(seed=SEED).dataset.operations)[0][-n:]


def assert_unmasked(out: Outcome) -> None:
    assert_clean(out, skips={"RETRY-AFTER-429", "RETRY-AFTER-503"})
    notices = {r.id: r.notices for r in out.session.ledger.results() if r.notices}
    assert not notices, notices  # nobody echoed anything


def test_another_runs_token_never_masks_this_runs_data(process_redactor: Redactor) -> None:
    """A token known to the process (an earlier run's, a plugin option's) but never sent to
    this target: the target cannot have echoed it, so its data is left alone."""
    foreign = an_id_tail(16)
    process_redactor.add("ACelsewhere", foreign)
    out = run_against(ReferenceServer(seed=SEED), clauses=CLAUSES, seed=3)
    assert_unmasked(out)
    assert foreign not in "\n".join(out.lines)  # still masked in what the run prints


@pytest.mark.parametrize("length", [4, PIECE - 1])
def test_a_short_token_never_masks_ordinary_data(process_redactor: Redactor, length: int) -> None:
    """A short token (loopback and in-process only) that also occurs inside an id: the id is
    judged as sent; the token is still masked in every text the run writes."""
    token = an_id_tail(length)
    creds = Credentials("ACshort", token)
    out = run_against(
        ReferenceServer(seed=SEED, credentials=creds), clauses=CLAUSES, seed=3, credentials=creds
    )
    assert_unmasked(out)
    assert token not in "\n".join(out.lines)


class TokensCarryTheAuthToken(ReferenceServer):
    """Mutant: every page token is ``<auth token>.<real token>`` (a session blob that embeds
    the caller's secret): masked as it arrives, it cannot be sent back."""

    def render_page(self, page):
        response = super().render_page(page)
        body = json.loads(response.body)
        secret = self.credentials.auth_token
        for key in ("next", "self"):
            if body["pagination"][key]:
                body["pagination"][key] = f"{secret}.{body['pagination'][key]}"
        return JSONResponse(body)

    def decode_token(self, token: str):
        secret, _, real = token.rpartition(".")
        if secret != self.credentials.auth_token:
            raise ApiError(400, 20001, "pageToken is not a token issued by this server")
        return super().decode_token(real)


def test_a_walk_cut_by_a_mask_says_so() -> None:
    """The walk cannot follow a next token that held the credentials (it was masked as it
    arrived): the finding says that, not 'the server answered 400 to its own next token'."""
    out = run_against(TokensCarryTheAuthToken(seed=SEED), clauses=["WALK-EXACTLY-ONCE"], seed=3)
    assert out.code == 1
    messages = [f.message for f in out.session.ledger.findings["WALK-EXACTLY-ONCE"]]
    assert any("next token held the credentials, masked as it arrived" in m for m in messages)
    assert not any("to its own next token" in m for m in messages), messages
    assert out.session.ledger.notices.get("AUTH")  # the echo itself is noticed


@pytest.mark.parametrize("token", ["1000000000", "s3cr3tT0kenAbcdefgh12345678"])
def test_predictable_pieces_of_a_token_never_mask_ordinary_data(
    process_redactor: Redactor, token: str
) -> None:
    """Breaker, 2026-11-30: with the token ``1000000000`` a conformant server failed
    WALK-EXACTLY-ONCE (its page tokens, base64 of JSON holding whole-second nanoseconds, were
    masked on the way in); with ``...12345678`` the suite's own probe fraction ``.123456789``
    drew the 'echoed the credentials' notice. Pieces that ordinary data produces by its
    structure (a run of one or two characters, a constant step) are not masked on the way in
    (they are in every text the run writes)."""
    from comms_contract.redact import for_answers

    scrub = for_answers(token)
    for data in ("1795927658000000000", "2024-05-01T12:00:00.123456789Z", "abcdefgh"):
        for pad in range(3):  # every base64 alignment
            text = json.dumps({"n": "x" * pad + data})
            for form in (text, base64.b64encode(text.encode()).decode()):
                assert scrub.scrub_bytes(form.encode()) == form.encode(), (form, token)
    creds = Credentials("ACpredictable", token)
    out = run_against(
        ReferenceServer(seed=SEED, credentials=creds), clauses=CLAUSES, seed=3, credentials=creds
    )
    assert_unmasked(out)


def test_an_echo_is_still_masked_on_the_way_in() -> None:
    """The other side: the token itself, and base64 of ``account:token``, are masked as they
    arrive, whatever predictable pieces they hold."""
    from comms_contract.redact import for_answers

    token = "s3cr3tT0kenAbcdefgh12345678"
    scrub = for_answers(token)
    for form in (token, base64.b64encode(f"AC1:{token}".encode()).decode()):
        masked = scrub.scrub_bytes(form.encode()).decode()
        assert "[REDACTED]" in masked and "s3cr3tT0ken" not in masked, masked
