"""Opaque, tamper-evident, reusable cursor tokens.

A token is standard base64 (so it always holds ``+``, ``/`` and ``=``: clients must
percent-encode it) of a fixed prefix, an HMAC and a JSON cursor. The cursor carries the
walk's filters and page size, so pages reached by token need no filters from the client.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

PREFIX = b"\xfb\xff\xbf"  # encodes to "+/+/": every token contains URL-unsafe characters
MAC_BYTES = 12


class BadToken(ValueError):
    """The token was not issued by this server (or was altered)."""


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after ``anchor`` (None: the first page), with the walk's filters."""

    anchor: tuple[int, str] | None
    filters: Filters
    page_size: int


class TokenCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:MAC_BYTES]

    def encode(self, cursor: Cursor) -> str:
        f = cursor.filters
        body = {
            "a": list(cursor.anchor) if cursor.anchor else None,
            "f": [f.status, f.start_ns, f.end_ns],
            "n": cursor.page_size,
        }
        payload = json.dumps(body, separators=(",", ":")).encode()
        raw = PREFIX + self._mac(payload) + payload
        if len(raw) % 3 == 0:  # force padding, so "=" is always present
            raw += b"\x00"
        return base64.b64encode(raw).decode("ascii")

    def decode(self, token: str) -> Cursor:
        try:
            raw = base64.b64decode(token.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise BadToken("pageToken is not a token issued by this server") from exc
        # base64 ignores the unused low bits of the last character: insist on the canonical form
        if base64.b64encode(raw).decode("ascii") != token or not raw.startswith(PREFIX):
            raise BadToken("pageToken is not a token issued by this server")
        raw = raw.rstrip(b"\x00")
        mac, payload = raw[len(PREFIX) : len(PREFIX) + MAC_BYTES], raw[len(PREFIX) + MAC_BYTES :]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise BadToken("pageToken was altered or was not issued by this server")
        try:
            body = json.loads(payload)
            anchor = tuple(body["a"]) if body["a"] else None
            cursor = Cursor(anchor, Filters(*body["f"]), int(body["n"]))  # type: ignore[arg-type]
        except (ValueError, TypeError, KeyError) as exc:
            raise BadToken("pageToken is not a token issued by this server") from exc
        if self.encode(cursor) != token:  # one spelling per cursor: no equivalent variants
            raise BadToken("pageToken was altered or was not issued by this server")
        return cursor
