"""The suite's HTTP layer: one client for every check, fuzzed or walked.

It owns what a polite, safe staging client must do in one place: Basic auth, Retry-After on
429/503 (capped), a request budget, a client-side rate limit, clear transport errors, and a
record of every exchange that can be replayed as a curl command without credentials.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import email.utils
import errno
import ipaddress
import json
import math
import os
import re
import shlex
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from comms_contract import OPERATIONS_PATH
from comms_contract.lanes import Lanes
from comms_contract.ledger import (
    BrokenAnswer,
    Finding,
    Ledger,
    Observed,
    TargetError,
)
from comms_contract.redact import (
    MIN_REMOTE_SECRET,
    MIN_SECRET,
    REDACTOR,
    Redactor,
    for_answers,
    redact,
)

EMBEDDED_BASE = "http://embedded.comms-contract.invalid"
Params = Sequence[tuple[str, str]] | Mapping[str, str] | None


class ConfigError(ValueError):
    """A usage or configuration mistake: the runner prints it on one line and exits 2."""


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Target:
    """What to test: a base URL (None for the embedded reference server) and credentials."""

    base_url: str | None
    account_id: str
    auth_token: str = field(repr=False)  # never in a repr: pytest -l prints locals

    @property
    def unredacted_warning(self) -> str | None:
        """Why the token will not be masked in output (None: it will be)."""
        if self.auth_token and len(self.auth_token) < MIN_SECRET:
            return (
                f"the auth token has {len(self.auth_token)} characters: shorter than "
                f"{MIN_SECRET}, it cannot be told from ordinary text and is NOT masked in output "
                "(accepted for loopback and in-process targets only)"
            )
        return None

    @property
    def embedded(self) -> bool:
        return self.base_url is None

    @property
    def root(self) -> str:
        return (self.base_url or EMBEDDED_BASE).rstrip("/")

    @property
    def url(self) -> str:
        return self.root + OPERATIONS_PATH

    def validate(self, *, allow_insecure_http: bool = False) -> None:
        if self.base_url is None:
            return
        REDACTOR.add(self.account_id, self.auth_token)  # before any message quotes the URL
        parts = urlsplit(self.base_url)
        shown = display_url(self.base_url)
        if "@" in parts.netloc:
            # user:token@host would put the secret into every report and replay command
            raise ConfigError(
                "base URL must not carry credentials (user:secret@host); give them with "
                "--account-id and COMMS_AUTH_TOKEN instead"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"base URL {shown!r} is not an http(s) URL; give the API root, "
                "e.g. https://comms.twilio.com"
            )
        if parts.query or parts.fragment:
            raise ConfigError(
                f"base URL {shown!r} must not have a query or fragment (not shown: it may "
                "hold a secret)"
            )
        if parts.path.rstrip("/").endswith(OPERATIONS_PATH) or "/v1" in parts.path.split("/")[-1:]:
            raise ConfigError(
                f"base URL {shown!r} should be the API root: the suite appends "
                f"{OPERATIONS_PATH} itself"
            )
        if not self.account_id or not self.auth_token:
            raise ConfigError(
                "credentials missing: set --account-id/--auth-token or COMMS_ACCOUNT_ID/"
                "COMMS_AUTH_TOKEN"
            )
        if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_http:
            raise ConfigError(
                f"refusing to send credentials over plain http:// to {parts.hostname} (not "
                "loopback); use https:// or pass --allow-insecure-http"
            )
        if len(self.auth_token) < MIN_REMOTE_SECRET and not is_loopback(parts.hostname):
            # pieces of a short token match ordinary output, so it cannot be masked reliably
            raise ConfigError(
                f"the auth token has {len(self.auth_token)} characters: tokens shorter than "
                f"{MIN_REMOTE_SECRET} cannot be kept out of reports reliably and are accepted "
                "only for loopback or in-process targets"
            )
        problem = http_setup_error()
        if problem:
            raise ConfigError(f"cannot set up HTTP for {shown}: {problem}")


# environment variables httpx reads (trust_env): a client built here honours them, as the
# suite's lanes do; named (never quoted: a proxy URL may hold a password) when they are why
PROXY_ENVIRONMENT = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
TLS_ENVIRONMENT = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def _set_in_environment(names: Sequence[str]) -> list[str]:
    """Those of ``names`` set in the environment, in either case (httpx reads both), once."""
    return [n for n in names if os.environ.get(n) or os.environ.get(n.lower())][:3]


def http_setup_error() -> str | None:
    """Why this environment cannot build the suite's HTTP client, in one line; None if it can.

    Checked before the first request: a ``SSL_CERT_FILE`` that does not exist, a SOCKS proxy
    without ``socksio``, a proxy URL httpx cannot parse, or no file descriptor left for an
    event loop had surfaced as INTERNALERROR in the middle of the run (breaker, 2026-11-30)."""
    try:
        client = httpx.AsyncClient(**LANE_CLIENT_OPTIONS)
        del client  # nothing was opened: the pools connect on first use
        for end in socket.socketpair():  # what a lane's event loop needs first
            end.close()
    except Exception as exc:  # whatever the environment breaks, said in one line
        text = " ".join(str(exc).split())[:300] or type(exc).__name__
        if isinstance(exc, ImportError) or "proxy" in text.lower():
            names = _set_in_environment(PROXY_ENVIRONMENT)
        elif isinstance(exc, OSError) and exc.errno not in (errno.EMFILE, errno.ENFILE):
            names = _set_in_environment(TLS_ENVIRONMENT)  # a CA file or folder
        elif isinstance(exc, (ValueError, httpx.InvalidURL)):
            names = _set_in_environment(PROXY_ENVIRONMENT)  # a proxy URL httpx cannot parse
        else:
            names = []
        where = f" (from {', '.join(names)} in the environment)" if names else ""
        return redact(f"{type(exc).__name__}: {text}{where}")
    return None


ECHOED = (
    "the target echoed the credentials in a response: masked as [REDACTED] as it arrived, "
    "so checks and reports saw the masked text"
)


def display_url(url: str) -> str:
    """``url`` as an error message may quote it: no user info, query or fragment (any may hold
    a secret the suite does not know), and the registered tokens masked."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        shown = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else netloc + parts.path
    except ValueError:
        shown = url.partition("?")[0].partition("#")[0].rpartition("@")[2]
    if "?" in url or "#" in url:
        shown += "?..."
    return redact(shown)


RETRY_AFTER_ABSURD = 86_400.0  # seconds; longer is no usable delay (RFC 9110 sets no bound)
_DELAY_SECONDS = re.compile(r"[0-9]+", re.ASCII)


BACKOFF_FLOOR = 0.05  # seconds before the first repeat of a throttled request, doubling
BACKOFF_FLOOR_MAX = 2.0


def backoff_floor(attempt: int, max_wait: float) -> float:
    """The least the suite waits before repeating a request throttled ``attempt`` times:
    0.05 s, doubling, at most 2 s (and never more than ``max_wait``). Retry-After is a
    minimum (RFC 9110 section 10.2.3); a ``Retry-After: 0`` from a token bucket that refills
    in 50 ms otherwise used up every attempt within milliseconds, and the run ended in
    exit 2 against a conformant server (fresh breaker, 2026-11-30)."""
    return min(BACKOFF_FLOOR * 2 ** (attempt - 1), BACKOFF_FLOOR_MAX, max_wait)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait for a Retry-After value, None if it is not valid (RFC 9110 §10.2.3).

    Strictly ``delay-seconds`` (``1*DIGIT``, ASCII digits only: ``str.isdigit`` would take
    ``²``) or an HTTP-date (a past date means 0). Absurdly long values (hundreds of digits)
    come back as ``math.inf``; the caller caps the wait.
    """
    if value is None:
        return None
    value = value.strip(" \t")
    if _DELAY_SECONDS.fullmatch(value):
        return float(int(value)) if len(value) <= 12 else math.inf
    if not value or not value.isascii() or len(value) > 64:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when is None or when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


MAX_JSON_DEPTH = 64  # nesting levels; the list envelope needs 4
_UNPARSED: Any = object()


class BodyError(ValueError):
    """The body cannot be used as JSON (not JSON, not UTF-8, too deep, undecodable)."""


def _reject_constant(name: str) -> Any:
    raise BodyError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if ``value`` nests containers deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BodyError(
            f"the number {text[:24]}{'...' if len(text) > 24 else ''} is beyond the range of a "
            "double (RFC 8259 section 6: interoperable numbers fit IEEE 754 binary64)"
        )
    return value


def decode_json(body: bytes) -> Any:
    """``body`` as JSON, or ``BodyError`` saying why not; never RecursionError.

    The reason names what is wrong, in the words of RFC 8259: an empty body, bytes that are
    not UTF-8, a syntax error and where, a number no parser can hold (a double overflowing to
    infinity, an integer past CPython's 4,300-digit conversion limit). Deep nesting is refused
    (past ``MAX_JSON_DEPTH``) so no later check, schema validation or message formatting can
    recurse into it."""
    if not body or body.isspace():
        raise BodyError("the body is empty" if not body else "the body is only whitespace")
    if body.startswith(codecs.BOM_UTF8):
        raise BodyError("it starts with a byte order mark (RFC 8259 section 8.1: MUST NOT)")
    try:
        # decoded as UTF-8 here: json.loads(bytes) would also accept UTF-16 and UTF-32, which
        # RFC 8259 section 8.1 rules out for JSON exchanged between systems
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            f"not UTF-8 (RFC 8259 section 8.1): the byte 0x{body[exc.start]:02x} at offset "
            f"{exc.start} is invalid"
        ) from None
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_names,
        )
    except RecursionError:
        raise BodyError("JSON nested too deeply to parse") from None
    except BodyError:
        raise
    except json.JSONDecodeError as exc:
        # the json module's own "Unterminated string starting at" already ends in "at"
        where = "character" if exc.msg.endswith(" at") else "at character"
        raise BodyError(f"not JSON: {exc.msg} {where} {exc.pos}") from None
    except ValueError as exc:  # int(): CPython's integer string conversion limit
        if "digits" in str(exc):
            raise BodyError(
                "an integer with more digits than a parser converts (CPython's limit is 4,300; "
                "RFC 8259 section 6 lets parsers limit the range of numbers)"
            ) from None
        raise BodyError(f"not JSON: {str(exc)[:120]}") from None
    if isinstance(value, (dict, list)) and body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH:
        if _too_deep(value):
            raise BodyError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(body):
        value = _without_lone_surrogates(value)
    return value


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose names are unique, or ``BodyError``: RFC 8259 section 4 says names
    SHOULD be unique, as receivers disagree on which value of a repeated one counts (Python
    and JavaScript take the last, others the first), so a client may see a different page
    than the suite does."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:  # the first name given twice
            if name in seen:
                break
            seen.add(name)
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise BodyError(
            f"an object gives the name {shown!r} more than once (RFC 8259 section 4: names "
            "SHOULD be unique; parsers disagree on which value counts)"
        )
    return value


_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """A lone ``\\uD800``-``\\uDFFF`` escape is valid JSON syntax but no character (RFC 8259
    §8.2): it becomes U+FFFD, so no message, report or terminal line carrying it can fail to
    encode (the checks still see a wrong value). Depth is bounded before this runs."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


@dataclass
class Exchange:
    """One request and its final (non-throttled) response.

    ``body`` is the content after Content-Encoding was undone (at most the client's
    ``max_body`` bytes); ``body_error`` says why it could not be decoded, when it could not.
    """

    method: str
    url: str
    params: list[tuple[str, str]]
    status: int
    headers: httpx.Headers
    body: bytes
    authenticated: bool
    attempts: int = 1
    waited: float = 0.0
    body_error: str | None = None
    size: int = -1  # the body's length as received, once ``compact`` has cut it (else -1)
    _json: Any = field(default=_UNPARSED, repr=False, compare=False)

    KEPT_HEAD = 8192  # bytes of a compacted body kept for evidence (a snippet shows < 1,000)

    @property
    def length(self) -> int:
        """The body's length in bytes as received (after Content-Encoding was undone)."""
        return self.size if self.size >= 0 else len(self.body)

    def compact(self) -> None:
        """Keep only the body's head once it is parsed: a walk holds every page until its
        checks end, and with 20,000 operations the raw bytes beside the parsed pages are tens
        of MB that no evidence shows (a finding quotes a few hundred characters)."""
        if len(self.body) <= self.KEPT_HEAD:
            return
        with contextlib.suppress(BodyError):
            self.json()  # parsed (or its error recorded) before the bytes go
        self.size = len(self.body)
        self.body = self.body[: self.KEPT_HEAD]

    @classmethod
    def received(
        cls,
        method: str,
        url: str,
        params: list[tuple[str, str]],
        status: int,
        headers: httpx.Headers,
        body: bytes,
        authenticated: bool,
        attempts: int = 1,
        waited: float = 0.0,
        body_error: str | None = None,
    ) -> Exchange:
        """The exchange for an answer as ``_Answer.received`` scrubbed it (the ingress point:
        every answer, throttled ones included, is scrubbed there once, as its body is read)."""
        return cls(
            method,
            url,
            params,
            status,
            headers,
            body,
            authenticated,
            attempts,
            waited,
            body_error,
        )

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body as JSON; raises ``BodyError`` (a ValueError) when it is not usable."""
        if self._json is _UNPARSED:
            try:
                if self.body_error:
                    raise BodyError(self.body_error)
                self._json = decode_json(self.body)
            except BodyError as exc:
                self._json = exc
        if isinstance(self._json, BodyError):
            raise BodyError(str(self._json))
        return self._json

    def curl(self) -> str:
        """A replay command; credentials come from the environment, never from the text."""
        auth = ' -u "$COMMS_ACCOUNT_ID:$COMMS_AUTH_TOKEN"' if self.authenticated else ""
        method = "" if self.method == "GET" else f" -X {self.method}"
        return redact(f"curl -sS -i{method}{auth} {shlex.quote(self.full_url)}")

    @property
    def full_url(self) -> str:
        return self.url + ("?" + urlencode(self.params) if self.params else "")

    def __repr__(self) -> str:
        # short and scrubbed: pytest's saferepr cuts long reprs in the middle (--tb=long -l)
        return redact(
            f"Exchange({self.method} {self.full_url} -> {self.status} "
            f"{self.content_type or '(no content type)'}, {self.length} bytes)"
        )

    def line(self) -> str:
        """A one-line summary for evidence: request and status."""
        return redact(f"{self.method} {self.full_url} -> {self.status} ({self.content_type})")

    def observed(self, body_limit: int = 200) -> Observed:
        """This exchange as a finding's structured evidence (scrubbed, body shortened)."""
        return Observed(
            self.method,
            redact(self.full_url),
            self.status,
            redact(self.content_type),
            self.snippet(body_limit),
            self.curl(),
        )

    def snippet(self, limit: int = 300) -> str:
        # redact the whole body first: a cut could leave half a secret the redactor misses;
        # only a bounded head is decoded (the redactor needs a secret's length of overlap)
        head = self.body[: 4 * limit + 4096]
        text = redact(head.decode("utf-8", "replace"))
        more = len(text) > limit or len(head) < self.length
        return text[:limit] + ("..." if more else "")


@dataclass
class ClientSettings:
    timeout: float = 30.0  # seconds for a whole exchange: connect, headers and body together
    max_requests: int | None = None
    rate_limit: float | None = None  # requests per second
    max_wait: float = 60.0  # cap for one Retry-After wait
    # per request, throttled answers included: 10 throttled answers in a row, the most
    # CONTRACT.md section 5 lets a client take before it gives up (a 7 s maintenance window
    # answering 503 with Retry-After: 1 ended a run after 6; fresh breaker, 2026-11-30)
    max_attempts: int = 10
    # a tester's latitude, not an SDK's: while other lanes are answered between its attempts
    # the throttle lets the run through, and an unlucky request tries on, to twice
    # max_attempts (False: the section 5 bound exactly, as the reference driver keeps it)
    persist_while_served: bool = True
    workers: int | None = None  # concurrent lanes; None: 1 in-process, a few against a URL
    connect_timeout: float = 10.0  # an unreachable host must fail fast, whatever --timeout says
    max_body: int = 32 * 1024 * 1024  # bytes after Content-Encoding is undone


class BodyTooLarge(Exception):
    """The decoded body passed ``ClientSettings.max_body``; reading stopped there."""


@dataclass
class _Answer:
    """A response as received: status, headers, decoded body; scrubbed (see ``received``)."""

    status: int
    headers: httpx.Headers
    body: bytes
    body_error: str | None
    masked: bool = False  # the target echoed the credentials; what is kept is masked

    @classmethod
    def received(
        cls,
        status: int,
        headers: httpx.Headers,
        body: bytes,
        body_error: str | None,
        scrub: Redactor,
    ) -> _Answer:
        """The ingress point: every answer, throttled ones included, is scrubbed of every form
        of the run's credentials the moment its body is read, before anything parses, stores,
        cuts or prints it (``scrub``: the run's ``redact.for_answers``; header names and
        values, the body). Masking
        replaces whole (escaped) characters inside a JSON string with ``[REDACTED]``, so a
        JSON body stays JSON; a conformant server never echoes the token, so checks only
        ever see masked text from a server that leaks it. The request, and with it the
        Authorization header, is not kept."""
        fields = [(scrub.scrub_bytes(k), scrub.scrub_bytes(v)) for k, v in headers.raw]
        clean = scrub.scrub_bytes(body)
        masked = clean is not body or fields != list(headers.raw)
        body_error = redact(body_error) if body_error else None
        return cls(status, httpx.Headers(fields), clean, body_error, masked)


class _Inflater:
    """Undo Content-Encoding layers (gzip, deflate) with bounded output per step.

    httpx's own decoders inflate a whole network chunk at once (64 KiB of a gzip bomb is
    64 MiB, and each stacked layer multiplies that); here every layer hands on at most
    ``BLOCK`` bytes at a time, so memory stays bounded whatever the ratio or layering."""

    BLOCK = 64 * 1024

    def __init__(self, encodings: Sequence[str]) -> None:
        self.layers = []
        for enc in reversed(encodings):  # the last-applied coding is undone first
            if enc in ("identity", ""):
                continue
            if enc not in ("gzip", "x-gzip", "deflate"):
                raise ValueError(
                    f"Content-Encoding {enc!r} is not one the suite asked for ({ACCEPT_ENCODING})"
                )
            # 32 + MAX_WBITS reads a gzip or a zlib header, whichever is there
            self.layers.append(zlib.decompressobj(32 + zlib.MAX_WBITS))

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield from self._through(0, data)

    def _through(self, i: int, data: bytes) -> Iterator[bytes]:
        if i == len(self.layers):
            if data:
                yield data
            return
        layer = self.layers[i]
        while data:
            out = layer.decompress(data, self.BLOCK)
            data = layer.unconsumed_tail
            if out:
                yield from self._through(i + 1, out)
            elif layer.eof or not data:
                break


ACCEPT_ENCODING = "gzip, deflate"


# Memory is bounded per run, not only per body: lanes read in parallel (up to 15 threads with
# work sent ahead), and 15 gzip bombs each inflated to the 32 MiB cap held 1.4 GB (CI,
# 2026-11-29). Any page of this API fits in SMALL_BODY (1,000 operations are about 0.5 MB); a
# body growing past it needs LARGE_BODY, held by one read at a time, so a run holds at most
# lanes x SMALL_BODY + one cap. A lane waiting for it stays under its own --timeout.
SMALL_BODY = 2 * 1024 * 1024
LARGE_BODY = threading.Lock()


async def _hold_large_body() -> None:
    """Take ``LARGE_BODY`` without blocking the lane's event loop."""
    while not LARGE_BODY.acquire(blocking=False):
        await asyncio.sleep(0.005)


async def _read_body(response: httpx.Response, cap: int) -> tuple[bytes, str | None]:
    """The decoded body, up to ``cap`` bytes (``BodyTooLarge`` past it), and a decoding error."""
    codings = [c.strip().lower() for c in response.headers.get_list("content-encoding", True)]
    body = bytearray()
    size = 0
    large = False
    try:
        inflater: _Inflater | None = _Inflater([c for c in codings if c])
    except ValueError as exc:
        inflater, error = None, str(exc)
    else:
        error = None
    try:
        # closed explicitly: a generator left open when the cap stops the read would be
        # finalised later by the event loop, which prints "Task was destroyed but it is pending"
        async with contextlib.aclosing(response.aiter_raw()) as raws:
            async for raw in raws:
                for piece in inflater.feed(raw) if inflater is not None else (raw,):
                    size += len(piece)
                    if size > cap:
                        raise BodyTooLarge(f"more than {cap} bytes")
                    if size > SMALL_BODY and not large:
                        await _hold_large_body()
                        large = True
                    body += piece
    except zlib.error as exc:
        error = f"Content-Encoding {', '.join(codings)}: the body does not decode ({exc})"
    except BaseException:
        # the exception's traceback keeps this frame, and so the buffer, alive for as long as
        # the exception is kept (a finding's cause, a future): drop the bytes now
        body.clear()
        raise
    finally:
        if large:
            LARGE_BODY.release()
    return bytes(body), error


class _AppBodyTooLarge(BaseException):
    """Raised inside an in-process app's ``send`` (a BaseException: the ASGI transport must
    not turn it into a 500 with the partial body)."""


def asgi_transport(app: Any, max_body: int) -> httpx.AsyncBaseTransport:
    """An in-process transport for ``app`` that holds the body cap too.

    httpx's ASGITransport collects the whole body before answering, so an app that streams
    without end would fill memory until ``--timeout``; the wrapper counts the bytes the app
    sends and stops it past ``max_body``. An app exception becomes the 500 a server would
    send (NO-5XX), not a Python exception inside a contract test."""

    async def capped(scope: Any, receive: Any, send: Any) -> None:
        sent = 0

        async def counting_send(message: Any) -> None:
            nonlocal sent
            if message.get("type") == "http.response.body":
                sent += len(message.get("body", b""))
                if sent > max_body:
                    raise _AppBodyTooLarge(f"more than {max_body} bytes")
            await send(message)

        await app(scope, receive, counting_send)

    return httpx.ASGITransport(capped, raise_app_exceptions=False)


class _Bytes(httpx.AsyncByteStream):
    """A body already in memory, as a stream (``content=`` would mark it consumed)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body


class _SyncTransportAdapter(httpx.AsyncBaseTransport):
    """Runs a synchronous httpx transport (e.g. ``ASGISyncTransport``) from the async client,
    in a worker thread so its own event loop does not clash with the lane's."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        sync_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )

        def call() -> httpx.Response:
            response = self.inner.handle_request(sync_request)
            response.read()
            return response

        response = await asyncio.to_thread(call)
        return httpx.Response(
            response.status_code, headers=response.headers, stream=_Bytes(response.content)
        )

    async def aclose(self) -> None:
        self.inner.close()


def _quiet_abandoned_tasks(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A lane's loop whose thread was still busy when the run ended (an interrupted run does
    not wait for it) is never run again, and a request cut by the signal is never awaited: the
    tasks then report "Task was destroyed but it is pending!" or "Task exception was never
    retrieved" (with a traceback) on stderr at exit. That is the suite's own loose end, not
    the target's: dropped. Anything else goes to asyncio's default handler."""
    message = str(context.get("message", ""))
    if message.startswith(("Task was destroyed", "Task exception was never retrieved")):
        return
    loop.default_exception_handler(context)


class _Lane:
    """One thread's event loop and async client (an event loop belongs to one thread)."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(_quiet_abandoned_tasks)
        self.http = httpx.AsyncClient(transport=transport, timeout=timeout, **LANE_CLIENT_OPTIONS)

    def cancel_from_outside(self) -> None:
        """Cancel the request this lane's thread is waiting on (called from another thread
        when the run ends: a lane stuck on a stalled target would otherwise keep its thread,
        which the interpreter joins at exit, until ``--timeout``)."""

        def cancel_all() -> None:
            for task in asyncio.all_tasks(self.loop):
                task.cancel()

        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing to stop
            self.loop.call_soon_threadsafe(cancel_all)

    def close(self) -> None:
        if self.loop.is_running():  # another thread's lane, still busy: stop its request
            self.cancel_from_outside()
            raise RuntimeError("the lane's event loop is running")
        # a request a signal cut short is still a task of this loop, holding the signal's
        # RunInterrupted: running the loop again (to close the client) would resume it and
        # raise that again, with its frames, from the clean-up. Cancelled and drained first,
        # as asyncio.run() does on the way out.
        pending = [task for task in asyncio.all_tasks(self.loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(BaseException):
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        closing = self.http.aclose()
        try:
            try:
                self.loop.run_until_complete(closing)
            except RuntimeError:
                closing.close()  # never started: no "never awaited" warning at exit
                raise
            except KeyboardInterrupt:
                return  # the run is ending on a signal already: the rest of the clean-up can go
            # finalise generators a capped or timed-out read left open, here, rather than
            # as "Task was destroyed but it is pending" noise on stderr at exit
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


class ContractClient:
    """Sends GETs to the target and returns ``Exchange`` records; never retries a 500.

    Transport: an ``httpx.AsyncClient`` driven from a private event loop per thread. An async
    client is the one way to bound a *whole* exchange with public APIs: ``asyncio.wait_for``
    cancels connect, header and body reads together, whereas httpx's own timeouts apply per
    read (a server dribbling one header byte a second never trips them). Bodies are streamed
    and inflated by the suite (``_Inflater``) so ``max_body`` holds after decoding.

    Faults: before the target has answered like this API (``established``: set by the
    session's preflight), a transport failure is a ``TargetError`` (exit 2: connection
    trouble); after it, a timeout, an oversized body or a broken connection is a NO-5XX
    finding raised as ``BrokenAnswer``.
    """

    def __init__(
        self,
        target: Target,
        ledger: Ledger,
        *,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        settings: ClientSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
        lanes: Lanes | None = None,
    ) -> None:
        self.target = target
        self.ledger = ledger
        self.settings = settings or ClientSettings()
        self.sleep = sleep
        # budget, rate limit and Retry-After pauses are shared by every lane of the run
        self.lanes = lanes or Lanes(
            1,
            rate_limit=self.settings.rate_limit,
            max_requests=self.settings.max_requests,
            sleep=sleep,
        )
        self.waited = 0.0
        self.throttled = 0
        self._counters = threading.Lock()
        self.established = False  # the target has answered like this API (see the preflight)
        REDACTOR.add(target.account_id, target.auth_token)
        self._scrub = for_answers(target.auth_token)  # what this target was sent, no other
        self._gave_up: str | None = None  # why a request stopped retrying: the run stops
        for clause, code in (("RETRY-AFTER-429", 429), ("RETRY-AFTER-503", 503)):
            # shown only if the clause stays unchecked: the target never throttled this run
            ledger.skip(clause, f"the target never answered {code} in this run")
        timeout = self.settings.timeout
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, self.settings.connect_timeout))
        if isinstance(transport, httpx.BaseTransport):
            transport = _SyncTransportAdapter(transport)
        self._transport = transport
        self._local = threading.local()
        self._lanes: list[_Lane] = []
        self._lock = threading.Lock()
        self._worker: ThreadPoolExecutor | None = None

    @property
    def requests(self) -> int:
        """Requests sent so far by every lane (repeats after 429/503 included)."""
        return self.lanes.sent

    def _lane(self) -> _Lane:
        lane = getattr(self._local, "lane", None)
        if lane is None:
            lane = self._local.lane = _Lane(self._transport, self.timeout)
            with self._lock:
                self._lanes.append(lane)
        return lane

    def _run(self, fetch: Callable[[_Lane], Any]) -> _Answer:
        """Run ``fetch(lane)`` to completion on this thread's lane; from inside a running
        event loop (an async test calling the client) on a worker thread's lane instead."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            lane = self._lane()
            work = fetch(lane)
            try:
                return lane.loop.run_until_complete(work)
            except BaseException:
                # refused before it started (a closed loop at the end of a stopped run): close
                # it, or Python prints "coroutine ... was never awaited" at exit (breaker)
                work.close()
                raise
        with self._lock:
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="comms-contract")
        return self._worker.submit(lambda: self._run(fetch)).result()

    def close(self) -> None:
        with self._lock:
            lanes, self._lanes = self._lanes, []
            worker, self._worker = self._worker, None
        for lane in lanes:  # requests still in flight on other threads (an interrupted run)
            if lane.loop.is_running():
                lane.cancel_from_outside()
        if worker is not None:
            worker.shutdown(wait=True)
        for lane in lanes:
            try:
                lane.close()
            except RuntimeError:  # a lane of another thread still running: let it go
                pass

    def get(
        self,
        params: Params = None,
        *,
        auth: bool | tuple[str, str] = True,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        pairs = [(k, str(v)) for k, v in pairs]
        credentials = (self.target.account_id, self.target.auth_token) if auth is True else auth
        request_headers = dict(headers or {})
        attempts, waited = 0, 0.0
        served = self.lanes.served
        while True:
            if self._gave_up is not None:  # another request gave up: the run stops, no lane
                raise TargetError(self._gave_up)  # keeps knocking (work sent ahead included)
            attempts += 1
            answer = self._send(method, pairs, credentials or None, request_headers)
            if answer.masked:
                self.ledger.notice("AUTH", ECHOED)
            if answer.status not in (429, 503):
                break
            asked = self._throttle_delay(answer, method, pairs, attempts)  # the target's
            delay = max(asked, backoff_floor(attempts, self.settings.max_wait))  # this lane's
            now_served = self.lanes.served
            lifting, served = now_served > served, now_served
            persist = lifting and self.settings.persist_while_served
            if attempts >= self.settings.max_attempts and not (
                persist and attempts < 2 * self.settings.max_attempts
            ):
                # the throttle never lifts: no other lane got an answer since this request's
                # previous attempt. If others did, the throttle lets the run through and this
                # request was unlucky (a limiter refusing every 5th request can land on one
                # lane's repeats six times running; CI, 2026-11-30): it tries on, to twice the
                # attempts
                self._gave_up = (
                    f"the target kept answering {answer.status} after {attempts} attempts "
                    f"(waited {waited:.1f}s): {method} {self._url(pairs, shorten=True)}"
                )
                raise TargetError(self._gave_up)
            self.lanes.pause(asked, own=delay)  # every lane holds off as the target asked
            self.sleep(delay)  # this request, at least its floor too
            waited += delay
            with self._counters:
                self.waited += delay
        if answer.status in (401, 403) and auth is True and method == "GET" and self.established:
            self._check_still_accepted(answer.status, credentials)  # type: ignore[arg-type]
        return Exchange.received(
            method,
            self.target.url,
            pairs,
            answer.status,
            answer.headers,
            answer.body,
            bool(credentials),
            attempts,
            waited,
            answer.body_error,
        )

    def _check_still_accepted(self, status: int, credentials: tuple[str, str]) -> None:
        """A 401/403 to the run's own credentials, after they were accepted: if a plain GET
        is refused too, the token was rotated or revoked mid-run, and nothing after it can
        be judged (exit 2, every lane stops), rather than a flood of "a valid query got 401"
        charged to whichever clauses were running. If the plain GET passes, the refusal was
        the query's (a bad token answered 401 is TOKEN-GARBAGE's): judged as usual."""
        if self._gave_up is not None:
            raise TargetError(self._gave_up)
        plain = self._send("GET", [("pageSize", "1")], credentials, {})
        if plain.status in (401, 403):
            self._gave_up = (
                # "noticed at", not "after": lanes send on while the first refusal is
                # confirmed, so the count includes refused requests (verifier, 2026-11-30)
                f"the target stopped accepting the credentials (noticed at request "
                f"{self.requests}: {status}, and {plain.status} to a plain GET; they were "
                "accepted at the start): was the token rotated or revoked?"
            )
            raise TargetError(self._gave_up)

    def _url(self, pairs: list, *, shorten: bool = False) -> str:
        """The request's URL, scrubbed; ``shorten``: long values (a page token) cut to 40
        characters, for a one-line error (fresh breaker: a 500-character line)."""
        if shorten:  # scrubbed before the cut: a cut must not leave half a token unmasked
            pairs = [(k, redact(v)) for k, v in pairs]
            pairs = [(k, v if len(v) <= 40 else v[:37] + "...") for k, v in pairs]
        return redact(self.target.url + ("?" + urlencode(pairs) if pairs else ""))

    def _check_throttle_body(self, answer: _Answer, method: str, pairs: list) -> None:
        """ERROR-BODY on a throttled answer (retried, so no test ever judges it): a JSON
        object, ``application/json`` or ``application/problem+json``; the media type seen is
        recorded."""
        media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            ok = isinstance(json.loads(answer.body), dict)
        except (ValueError, UnicodeDecodeError):
            ok = False
        self.ledger.observe("ERROR-BODY", by="every throttled answer")
        if media in ("application/json", "application/problem+json") and ok:
            self.ledger.note("ERROR-BODY", f"seen: {answer.status} with an {media} object")
            return
        what = f"Content-Type {media or '(none)'!r}" if ok else "a body that is not a JSON object"
        shown = answer.body[:80].decode("utf-8", "replace")
        self.ledger.record(
            Finding(
                "ERROR-BODY",
                redact(f"{answer.status} (throttled, retried) answered with {what}: {shown!r}"),
                (f"{method} {self._url(pairs)}",),
            )
        )

    def _throttle_delay(self, answer: _Answer, method: str, pairs: list, attempt: int = 1) -> float:
        """How long to wait before repeating; a missing, invalid or absurd Retry-After is
        recorded as a finding.

        Without a usable Retry-After the client still backs off (1 s, 2 s, 4 s... capped), so
        a target that forgets the header is reported, not hammered.
        """
        with self._counters:
            self.throttled += 1
        status = answer.status
        clause = "RETRY-AFTER-429" if status == 429 else "RETRY-AFTER-503"
        self.ledger.mark_checked(clause, "every throttled answer")
        self._check_throttle_body(answer, method, pairs)
        raw = answer.headers.get("retry-after")
        delay = parse_retry_after(raw)
        evidence = (f"{method} {self._url(pairs)}",)
        shown = repr(raw[:40] + ("..." if len(raw) > 40 else "")) if raw is not None else ""
        if delay is None:
            what = "without Retry-After" if raw is None else f"with an invalid Retry-After {shown}"
            self.ledger.record(Finding(clause, redact(f"{status} {what}"), evidence))
            delay = float(2 ** (attempt - 1))
        elif delay > RETRY_AFTER_ABSURD:
            self.ledger.record(
                Finding(
                    clause,
                    redact(
                        f"{status} with Retry-After {shown}: more than a day, no usable delay; "
                        f"the suite waited {self.settings.max_wait:g}s"
                    ),
                    evidence,
                    advisory=True,
                )
            )
        return min(delay, self.settings.max_wait)

    def _send(
        self, method: str, pairs: list, credentials: tuple[str, str] | None, headers: dict
    ) -> _Answer:
        try:
            with self.lanes.request():  # a lane slot, the budget, the rate limit, any pause
                answer = self._run(
                    lambda lane: self._fetch(lane, method, pairs, credentials, headers)
                )
            self.lanes.answered(answer.status)
            return answer
        except (TimeoutError, asyncio.TimeoutError, httpx.TimeoutException):
            problem = (
                f"no complete answer within {self.settings.timeout:g}s (--timeout bounds "
                "connect, headers and body together)"
            )
            if not self.established:
                raise TargetError(
                    f"{self.target.root} did not answer within {self.settings.timeout:g}s "
                    "(check the host and network, or raise --timeout)"
                ) from None
        except (BodyTooLarge, _AppBodyTooLarge) as exc:
            problem = (
                f"the answer's body is too large: {exc} after decoding "
                f"(the suite's cap is {self.settings.max_body} bytes)"
            )
            if not self.established:
                raise TargetError(f"{self.target.root}: {problem}; not this API?") from None
        except httpx.ConnectError as exc:
            if not self.established:
                raise TargetError(_connect_message(self.target, exc)) from None
            problem = f"the connection failed: {redact(' '.join(str(exc).split()))[:200]}"
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError) as exc:
            # InvalidURL is not an HTTPError: httpx raises it building the redirect of a
            # 3xx whose Location it cannot parse (javascript:..., http://[::1) even when it
            # does not follow redirects; a ValueError counts only when the HTTP stack raised
            # it (a header value it cannot decode): one of the suite's own is a suite bug
            if isinstance(exc, ValueError) and not _raised_by_http_stack(exc):
                raise
            text = _error_text(exc)
            if not self.established:
                raise TargetError(f"HTTP error talking to {self.target.root}: {text}") from None
            problem = f"no well-formed HTTP answer ({type(exc).__name__}: {text})"
        raise BrokenAnswer(Finding("NO-5XX", problem, (f"{method} {self._url(pairs)}",)))

    async def _fetch(
        self,
        lane: _Lane,
        method: str,
        pairs: list,
        credentials: tuple[str, str] | None,
        headers: dict,
    ) -> _Answer:
        auth = httpx.BasicAuth(*credentials) if credentials else None

        async def send() -> httpx.Response:
            url = self.target.url
            request = lane.http.build_request(method, url, params=pairs, headers=headers)
            return await lane.http.send(request, auth=auth, stream=True)

        async def exchange() -> tuple[httpx.Response, bytes, str | None]:
            try:
                response = await send()
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                # a kept-alive connection the server closed (RFC 9112 section 9.6 lets it,
                # without "Connection: close") fails the next request before any answer;
                # a GET is then sent once more, on a new connection (section 9.3.1)
                if method != "GET" or not _closed_before_answer(exc):
                    raise
                response = await send()
            shelved = getattr(response, SHELVED_LOCATION, None)
            if shelved is not None:  # the answer as the target sent it
                response.headers["location"] = shelved
            try:
                body, error = await _read_body(response, self.settings.max_body)
            finally:
                await response.aclose()
            return response, body, error

        # wait_for rather than asyncio.timeout (3.11+): the package supports Python 3.10
        response, body, error = await asyncio.wait_for(exchange(), self.settings.timeout)
        return _Answer.received(response.status_code, response.headers, body, error, self._scrub)


_HTTP_STACK = ("httpx", "httpcore", "h11", "h2", "anyio", "ssl", "email")


def _closed_before_answer(exc: httpx.HTTPError) -> bool:
    """True when the connection failed before the answer's headers were complete: the server
    closed it (h11: "Server disconnected without sending a response"), reset it, or the
    write broke. Repeating a GET then is safe (RFC 9112 section 9.3.1: idempotent)."""
    if isinstance(exc, httpx.RemoteProtocolError):
        return "without sending a response" in str(exc)
    return True  # a ReadError/WriteError raised by send(), before the headers were read


def _raised_by_http_stack(exc: BaseException) -> bool:
    """True if the innermost frame of ``exc`` is in the HTTP libraries (reading what the
    target sent), not in the suite's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    parts = Path(tb.tb_frame.f_code.co_filename).parts
    return any(p in _HTTP_STACK or p in (f"{m}.py" for m in _HTTP_STACK) for p in parts[-3:])


SHELVED_LOCATION = "_comms_contract_location"


async def _shelve_unusable_location(response: httpx.Response) -> None:
    """httpx builds the redirect request of a 3xx even when it does not follow redirects,
    and a Location it cannot turn into a URL (``javascript:alert(1)``, ``http://[::1``)
    raises from ``send``, losing a complete, well-formed answer. Such a Location is taken off
    before httpx looks (and put back by ``_fetch``), so the 3xx is judged like any other:
    "got 302, not 200" under the check's own clause, not NO-5XX."""
    location = response.headers.get("location")
    if location is None or not response.has_redirect_location:
        return
    try:
        url = httpx.URL(location)
        if url.scheme and not url.host:
            url = url.copy_with(host=response.request.url.host)
        if url.is_relative_url:
            response.request.url.join(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        setattr(response, SHELVED_LOCATION, location)
        del response.headers["location"]


# every lane's httpx client, and the one ``http_setup_error`` builds to try the environment
LANE_CLIENT_OPTIONS: dict[str, Any] = {
    "follow_redirects": False,
    "headers": {"User-Agent": "comms-contract", "Accept-Encoding": ACCEPT_ENCODING},
    "event_hooks": {"response": [_shelve_unusable_location]},
}


def _error_text(exc: Exception) -> str:
    """An HTTP library error as one readable line: scrubbed, whitespace folded, without the
    Python reprs h11 appends (``illegal header line: bytearray(b'X: a\\rb')``), at most 200
    characters."""
    text = " ".join(str(exc).split())
    text = re.split(r":? (?:bytearray\(|b['\"])", text, maxsplit=1)[0]
    return redact(text)[:200] or type(exc).__name__


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from, outermost first (httpx's async ConnectError is
    often empty: the reason is in its cause, an ``EndOfStream`` or an ``OSError``)."""
    chain: list[BaseException] = []
    while exc is not None and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return chain


def _connect_message(target: Target, exc: Exception) -> str:
    chain = _causes(exc)
    text = next((" ".join(str(e).split()) for e in chain if str(e).strip()), "")
    host = urlsplit(target.root).hostname
    if any(marker in text for marker in _DNS_MARKERS):
        return f"cannot resolve host {host!r} (DNS failure); check the host name in --base-url"
    upper = text.upper()
    if "WRONG_VERSION_NUMBER" in upper or "RECORD_LAYER_FAILURE" in upper:
        return (
            f"TLS failure talking to {target.root}: the server does not speak TLS on that port "
            "(a plain-http server?); check the scheme and port of --base-url"
        )
    # a reset while connecting is a handshake cut short: TCP's own connect ends in "refused"
    # (no data is exchanged before it completes), so on https the reset came in TLS's
    reset = any(isinstance(e, ConnectionResetError) for e in chain)
    if "UNEXPECTED_EOF" in upper or "EOF OCCURRED" in upper or (reset and _is_https(target)):
        return (
            f"TLS failure talking to {target.root}: the server closed the connection during "
            "the TLS handshake; check the scheme and port of --base-url"
        )
    if "CERTIFICATE" in upper or "SSL" in upper or "TLS" in upper:
        return (
            f"TLS failure talking to {target.root}: {redact(text)}; check the certificate "
            "(SSL_CERT_FILE for a private CA) and the scheme of --base-url"
        )
    if not text:
        text = "the server closed the connection before answering"
    proxies = _set_in_environment(PROXY_ENVIRONMENT)
    if proxies:  # httpx sends through it: a dead proxy is not a dead server
        return (
            f"cannot connect to {target.root} through the proxy set in "
            f"{', '.join(proxies)}: {redact(text)}; is the proxy up, or should NO_PROXY "
            "name this host?"
        )
    return (
        f"cannot connect to {target.root}: {redact(text)}; is the server up and --base-url right?"
    )


def _is_https(target: Target) -> bool:
    return urlsplit(target.root).scheme.lower() == "https"


_DNS_MARKERS = (
    "Name or service not known",
    "nodename nor servname",
    "getaddrinfo",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "[Errno -2]",
    "[Errno -3]",
    "[Errno -5]",
    "[Errno 11001]",
)
