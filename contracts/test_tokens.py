"""TOKEN-GARBAGE: tokens the server never issued get 4xx, never 5xx, never a page."""

from __future__ import annotations

import base64

import pytest

from comms_contract.judge import judge


def _alter(token: str) -> str:
    mid = len(token) // 2
    return token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1 :]


FORGERIES = {
    "random": lambda t: "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg",
    "one character changed": _alter,
    "truncated": lambda t: t[: max(1, len(t) // 2)],
    "suffix added": lambda t: t + "AAAA",
    "base64 of {}": lambda t: base64.b64encode(b"{}").decode(),
    "forged id": lambda t: (
        base64.urlsafe_b64encode(b'{"pageToken": "comms_operation_01h9krwprkeee8fzqspvwy6nq8"}')
        .decode()
        .rstrip("=")
    ),
    "sql": lambda t: "' OR 1=1 --",
    "null": lambda t: "null",
    "long": lambda t: "A" * 4096,
}


@pytest.mark.clause("TOKEN-GARBAGE", "NO-5XX", "ERROR-BODY")
@pytest.mark.parametrize("kind", list(FORGERIES))
def test_foreign_token_is_refused(comms, kind):
    body = comms.first_page().json()
    issued = (body.get("pagination") or {}).get("next") or (body.get("pagination") or {}).get(
        "self"
    )
    if not isinstance(issued, str) or not issued:
        pytest.skip("the target issued no token to alter (empty result, no self)")
    forged = FORGERIES[kind](issued)
    if forged in comms.issued_tokens:
        pytest.skip(f"{kind}: the forgery equals an issued token")
    judge(comms, comms.get([("pageToken", forged)]))


@pytest.mark.clause("TOKEN-URL-SAFETY")
def test_token_alphabet_is_recorded(comms):
    """FREE for servers: record whether the tokens needed percent-encoding (the suite always
    encodes them, and the client kit checks that SDKs do)."""
    pagination = comms.first_page().json().get("pagination") or {}
    tokens = [t for t in (pagination.get("next"), pagination.get("self")) if isinstance(t, str)]
    if not tokens:
        pytest.skip("the target issued no token on the first page")
    comms.ledger.observe("TOKEN-URL-SAFETY")
    unsafe = sorted({ch for t in tokens for ch in t if not (ch.isalnum() or ch in "-._~")})
    comms.ledger.note(
        "TOKEN-URL-SAFETY",
        f"seen: tokens with URL-unsafe characters {' '.join(unsafe)} (percent-encoded)"
        if unsafe
        else "seen: tokens made of URL-safe characters only",
    )
