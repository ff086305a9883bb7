"""Secrets never leave the process: responses are scrubbed as they arrive, texts as they leave.

A ``Redactor`` knows the registered auth tokens and masks every *recoverable piece* of one: a
run of at least ``PIECE`` consecutive characters of the token, written

- raw, in any letter case (a hex token echoed upper-case is still the token);
- escaped, one character at a time, in any mix: percent-encoding (``%2F``/``%2f``, and
  ``%252F`` double-encoded), JSON and backslash escapes (``\\/`` as PHP writes it, ``\\u002F``,
  ``\\x2f``, doubled backslashes), HTML character references (``&#47;``, ``&#x2F;``, ``&sol;``);
- hex, in either case, at either nibble alignment (``2 x PIECE`` digits make a piece);
- base64, standard or URL-safe alphabet, padded or not, at any of the 3 byte alignments (the
  token inside ``account:token`` in a Basic header, or any other stream): every run of
  ``b64_window(PIECE)`` base64 characters that encode token bits only is masked, so what
  survives decodes to fewer than ``PIECE`` bytes of the token. The base64 text may itself be
  escaped (``\\/``, ``%2B``).

Why ``PIECE`` = 8: output is judged leak-free when no 10-character piece of the token can be
recovered (tests/test_secret_echo.py); 8 leaves a margin of 2 for partially encoded base64
characters at a mask's edges. Going lower masks ordinary data: hex ids coincide with a
piece of a 32-character hex token about ``(32 - PIECE + 1) / 16**PIECE`` times per character
(6e-9 at 8; 3e-5 at 5), and a masked id would fail the id pattern. Tokens shorter than
``MIN_REMOTE_SECRET`` are accepted only for loopback or in-process targets
(``comms_contract.http.Target.validate``); shorter than ``PIECE`` they are masked whole, and
shorter than ``MIN_SECRET`` not at all (they cannot be told from ordinary text; the run
warns).

Two redactors, two jobs. What the target sends back is scrubbed as it arrives by the run's
own redactor (``for_answers``): a target can echo only the token it was sent, and a token
shorter than ``PIECE`` is left to the output side, because at the ingress a mask alters data
the checks judge (a 5-character token turns up inside ordinary ids and page tokens about once
in a few hundred thousand characters: one run in a few would fail a clause for a mask). Every
text leaving the process goes through ``REDACTOR``, which knows every token registered in the
process: there an extra mask costs only a display. The ingress also leaves out the
``predictable`` pieces of the token (``00000000``, ``12345678``): a page token holding
whole-second nanoseconds, or the suite's own probe fraction ``.123456789``, would otherwise
be masked and sent back altered.

The account id alone is not a secret: it stays visible (``account:[REDACTED]``).
A server that transforms the token (reverses it, hashes it, encrypts it) cannot be caught by
any redactor.
"""

from __future__ import annotations

import base64
import bisect
import html
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

MASK = "[REDACTED]"
PIECE = 8  # characters of a token that make a recoverable piece
MIN_SECRET = 4  # shorter tokens are not masked: they match too much ordinary text
MIN_REMOTE_SECRET = 16  # shortest token accepted for a target beyond loopback

_AUTH_HEADER = re.compile(
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(basic|bearer|digest|token)?\s*[^\s'\",}]+"
)
# one escaped character; every alternative decodes to exactly one character (see _unescape)
_ESCAPE = re.compile(
    r"%(?:25)?[0-9A-Fa-f]{2}"
    r"|\\+(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|[^\\])"
    r"|&#[xX][0-9A-Fa-f]{1,6};|&#[0-9]{1,7};|&[A-Za-z][A-Za-z0-9]{1,31};"
)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ESCAPE_STARTS = ("%", "\\", "&")


def b64_window(piece: int) -> int:
    """Base64 characters to mask so survivors decode to < ``piece`` bytes of the token.

    A surviving run of w-1 fully determined characters carries 6(w-1) bits, and the two
    partially determined characters at its edges up to 4 bits each: 6(w-1) + 8 < 8 * piece.
    """
    return math.ceil((8 * piece - 8) / 6)


def base64_cores(secret: bytes) -> list[tuple[str, int]]:
    """For each byte alignment 0..2, the base64 characters that encode bits of ``secret`` only,
    with the bit of ``secret`` where the first of them starts (to tell which bytes of the
    secret a run of the core encodes).

    Any base64 text of a stream that holds ``secret`` at offset ≡ a (mod 3) contains core a
    (minus its ends where the text stops). Standard alphabet: URL-safe text is matched after
    mapping ``-_`` to ``+/``.
    """
    cores = []
    for a in range(3):
        encoded = base64.b64encode(b"\0" * a + secret + b"\0\0").decode()
        lo, hi = 8 * a, 8 * (a + len(secret))  # the secret's bit range
        first = math.ceil(lo / 6)
        last = hi // 6  # characters [first, last) lie inside [lo, hi)
        if last > first:
            cores.append((encoded[first:last], 6 * first - lo))
    return cores


def predictable(piece: str) -> bool:
    """True for a piece ordinary data produces by its own structure: at most two distinct
    characters (``00000000``, the nanoseconds of a whole second; ``10101010``) or a constant
    step (``12345678``, ``abcdefgh``, ``87654321``). Such a piece of a token says nothing
    about the token when it turns up in an answer."""
    if len(set(piece)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(piece)}
    return len(steps) == 1


def _unescape(unit: str) -> str:
    """The one character an ``_ESCAPE`` match stands for (NUL when it is not one character)."""
    if unit[0] == "%":
        return chr(int(unit[-2:], 16))
    if unit[0] == "\\":
        body = unit.lstrip("\\")
        if body[0] == "u" and len(body) == 5:
            return chr(int(body[1:], 16))
        if body[0] == "x" and len(body) == 3:
            return chr(int(body[1:], 16))
        return body
    text = html.unescape(unit)
    return text if len(text) == 1 else "\0"


@dataclass(frozen=True)
class _Pattern:
    """Every ``width``-character window of ``text``, found through a few seed substrings."""

    windows: frozenset[str]
    seeds: tuple[str, ...]
    width: int
    fold_case: bool

    @classmethod
    def build(
        cls, text: str, width: int, fold_case: bool, keep: Callable[[int], bool] | None = None
    ) -> _Pattern:
        """``keep(i)``: whether the window starting at ``i`` is masked (default: all)."""
        if fold_case:
            text = text.translate(_ASCII_LOWER)
        width = min(width, len(text))
        starts_at = range(len(text) - width + 1)
        windows = frozenset(text[i : i + width] for i in starts_at if keep is None or keep(i))
        # every window [i, i+width) contains the seed at the next multiple of `step`
        size = (width + 1) // 2 + 1 if width > 2 else width
        step = width - size + 1
        starts = range(0, len(text) - size + 1, step)
        seeds = tuple(dict.fromkeys(text[j : j + size] for j in starts))
        return cls(windows, seeds, width, fold_case)

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = []
        w, n = self.width, len(text)
        for seed in self.seeds:
            k = len(seed)
            p = text.find(seed)
            while p != -1:
                for i in range(max(0, p + k - w), min(p, n - w) + 1):
                    if text[i : i + w] in self.windows:
                        found.append((i, i + w))
                p = text.find(seed, p + 1)
        return found


class _Decoded:
    """``text`` with every escaped character decoded, and the way back to original offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] = []  # decoded offset of each escape
        self.spans: list[tuple[int, int]] = []  # its original span
        if not any(c in text for c in _ESCAPE_STARTS) or not _ESCAPE.search(text):
            self.plain = text
            return
        parts, pos, last = [], 0, 0
        for m in _ESCAPE.finditer(text):
            s, e = m.span()
            parts.append(text[last:s])
            pos += s - last
            self.starts.append(pos)
            self.spans.append((s, e))
            parts.append(_unescape(m.group()))
            pos += 1
            last = e
        parts.append(text[last:])
        self.plain = "".join(parts)

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The original span of decoded characters [start, end)."""
        return self._orig(start, False), self._orig(end - 1, True)

    def _orig(self, d: int, end: bool) -> int:
        if not self.starts:
            return d + 1 if end else d
        k = bisect.bisect_right(self.starts, d) - 1
        if k >= 0 and self.starts[k] == d:
            s, e = self.spans[k]
            return e if end else s
        if k < 0:
            return d + 1 if end else d
        # d lies after escape k: offset from that escape's original end
        o = self.spans[k][1] + (d - self.starts[k] - 1)
        return o + 1 if end else o


class Redactor:
    """Masks every recoverable piece of the registered tokens (see the module docstring)."""

    def __init__(self) -> None:
        self._tokens: list[str] = []
        self._patterns: list[_Pattern] = []  # on text with ASCII letters lower-cased
        self._b64_patterns: list[_Pattern] = []  # on text with "-_" mapped to "+/"

    def add(self, account_id: str, auth_token: str, *, skip_predictable: bool = False) -> bool:
        """Register a credential pair; False when the token is too short to be masked.

        Only the token is secret: every form of ``account:token`` holds it.
        ``skip_predictable``: leave out the pieces ordinary data produces (``predictable``),
        raw or in base64; the ingress redactor does, so a mask never alters real data.
        """
        del account_id  # an identifier, like a user name: shown, so reports stay readable
        if not auth_token or len(auth_token) < MIN_SECRET:
            return False
        if auth_token in self._tokens:
            return True
        self._tokens.append(auth_token)
        # surrogateescape: a token read from a non-UTF-8 environment is masked as the bytes it
        # came from (the run itself refuses it with one line, config.build_run_config)
        raw = auth_token.encode("utf-8", "surrogateescape")
        views = {auth_token, raw.decode("latin-1")}  # str and bytes
        for view in views:
            folded, n = view.translate(_ASCII_LOWER), min(PIECE, len(view))

            def raw_keep(i: int, t: str = folded, n: int = n) -> bool:
                return not predictable(t[i : i + n])

            keep = raw_keep if skip_predictable else None
            self._add(self._patterns, _Pattern.build(view, PIECE, fold_case=True, keep=keep))
        secret = raw
        # hex of the token's bytes (a debug dump), either case: every window of 2 x PIECE hex
        # digits is masked, so a survivor holds fewer than PIECE whole bytes at either
        # alignment
        hex_width = 2 * min(PIECE, len(secret))

        def hex_keep(i: int) -> bool:
            return not predictable(secret[(i + 1) // 2 : (i + hex_width) // 2].decode("latin-1"))

        keep = hex_keep if skip_predictable else None
        self._add(self._patterns, _Pattern.build(secret.hex(), hex_width, True, keep=keep))
        width = b64_window(min(PIECE, len(auth_token)))
        for core, bit in base64_cores(secret):
            if len(core) < min(width, 4):
                continue

            def b64_keep(i: int, bit: int = bit) -> bool:
                # the secret's bytes wholly encoded by the run of `width` characters from i
                # (the bits at its edges could come from other bytes: 'a' and 'A' share 5)
                lo, hi = -(-(bit + 6 * i) // 8), (bit + 6 * (i + width)) // 8
                return not predictable(secret[lo:hi].decode("latin-1"))

            keep = b64_keep if skip_predictable else None
            self._add(self._b64_patterns, _Pattern.build(core, width, fold_case=False, keep=keep))
        return True

    @staticmethod
    def _add(patterns: list[_Pattern], pattern: _Pattern) -> None:
        if pattern.windows:  # every piece predictable: nothing to look for
            patterns.append(pattern)

    def __call__(self, text: str) -> str:
        if not isinstance(text, str):
            text = str(text)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
        if not self._patterns and not self._b64_patterns:
            return text
        return self._mask(text)

    def scrub_bytes(self, data: bytes) -> bytes:
        """``data`` with every piece masked; other bytes unchanged (a latin-1 round trip)."""
        if not data or not (self._patterns or self._b64_patterns):
            return data
        text = data.decode("ascii" if data.isascii() else "latin-1")
        masked = self._mask(text)
        return data if masked is text else masked.encode("latin-1")

    def _found(self, decoded: _Decoded) -> list[tuple[int, int]]:
        plain = decoded.plain
        folded = plain.lower() if plain.isascii() else plain.translate(_ASCII_LOWER)
        spans: list[tuple[int, int]] = []
        for pattern in self._patterns:
            spans.extend(pattern.spans(folded))
        if self._b64_patterns:
            std = plain.replace("-", "+").replace("_", "/")  # the URL-safe alphabet
            for pattern in self._b64_patterns:
                spans.extend(pattern.spans(std))
        return spans

    def _mask(self, text: str) -> str:
        decoded = _Decoded(text)
        found = self._found(decoded)
        if not found:
            return text
        spans = sorted(decoded.original(s, e) for s, e in found)
        merged: list[list[int]] = []
        for s, e in spans:
            # a span must not start inside an escape: step back over an odd run of backslashes
            run = 0
            while s - run > 0 and text[s - run - 1] == "\\":
                run += 1
            s -= run % 2
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        out, last = [], 0
        for s, e in merged:
            out.append(text[last:s])
            out.append(MASK)
            last = e
        out.append(text[last:])
        return "".join(out)


REDACTOR = Redactor()


def for_answers(auth_token: str) -> Redactor:
    """The ingress redactor of one run: ``auth_token`` alone, and only when it has at least
    ``PIECE`` characters (see the module docstring). A token registered by another run in the
    same process (the self-tests run hundreds) must never mask this run's data."""
    redactor = Redactor()
    if len(auth_token) >= PIECE:
        redactor.add("", auth_token, skip_predictable=True)
    return redactor


def redact(text: str) -> str:
    """``text`` with every piece of a registered token masked, and any Authorization value."""
    return REDACTOR(text)


def scrub_bytes(data: bytes) -> bytes:
    """``data`` (a response body or header) with every piece of a registered token masked."""
    return REDACTOR.scrub_bytes(data)
