"""The suite's HTTP layer: one client for every check, fuzzed or walked.

It owns what a polite, safe staging client must do in one place: Basic auth, Retry-After on
429/503 (capped), a request budget, a client-side rate limit, clear transport errors, and a
record of every exchange that can be replayed as a curl command without credentials.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from comms_contract import OPERATIONS_PATH
from comms_contract.ledger import BudgetExhausted, Finding, Ledger, TargetError
from comms_contract.redact import MIN_REMOTE_SECRET, MIN_SECRET, REDACTOR, redact, scrub_bytes

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
        if len(self.auth_token) < MIN_REMOTE_SECRET and not is_loopback(parts.hostname):
            # pieces of a short token match ordinary output, so it cannot be masked reliably
            raise ConfigError(
                f"the auth token has {len(self.auth_token)} characters: tokens shorter than "
                f"{MIN_REMOTE_SECRET} cannot be kept out of reports reliably and are accepted "
                "only for loopback or in-process targets"
            )
        if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_http:
            raise ConfigError(
                f"refusing to send credentials over plain http:// to {parts.hostname} (not "
                "loopback); use https:// or pass --allow-insecure-http"
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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait for a Retry-After value (delay-seconds or HTTP-date), None if invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class Exchange:
    """One request and its final (non-throttled) response."""

    method: str
    url: str
    params: list[tuple[str, str]]
    status: int
    headers: httpx.Headers
    body: bytes
    authenticated: bool
    attempts: int = 1
    waited: float = 0.0
    _json: Any = field(default=None, repr=False)

    @classmethod
    def received(
        cls,
        method: str,
        url: str,
        params: list[tuple[str, str]],
        response: httpx.Response,
        authenticated: bool,
        attempts: int = 1,
        waited: float = 0.0,
    ) -> Exchange:
        """The ingress point: the response, scrubbed of every form of the credentials.

        Header names, values and the body are scrubbed before anything parses, stores or
        prints them (``redact.scrub_bytes``); the request (and its Authorization header) is
        not kept. Masking replaces whole (escaped) characters inside a JSON string with
        ``[REDACTED]``, so a JSON body stays JSON; a conformant server never echoes the token,
        so checks only ever see masked text from a server that leaks it.
        """
        headers = httpx.Headers([(scrub_bytes(k), scrub_bytes(v)) for k, v in response.headers.raw])
        return cls(
            method,
            url,
            params,
            response.status_code,
            headers,
            scrub_bytes(response.content),
            authenticated,
            attempts,
            waited,
        )

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        if self._json is None:
            self._json = json.loads(self.body)
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
            f"{self.content_type or '(no content type)'}, {len(self.body)} bytes)"
        )

    def line(self) -> str:
        """A one-line summary for evidence: request and status."""
        return redact(f"{self.method} {self.full_url} -> {self.status} ({self.content_type})")

    def snippet(self, limit: int = 300) -> str:
        # redact the whole body first: a cut could leave half a secret the redactor misses
        text = redact(self.body.decode("utf-8", "replace"))
        return text[:limit] + ("..." if len(text) > limit else "")


@dataclass
class ClientSettings:
    timeout: float = 30.0
    max_requests: int | None = None
    rate_limit: float | None = None  # requests per second
    max_wait: float = 60.0  # cap for one Retry-After wait
    max_attempts: int = 6  # per request, throttled answers included
    connect_timeout: float = 10.0  # an unreachable host must fail fast, whatever --timeout says


class ContractClient:
    """Sends GETs to the target and returns ``Exchange`` records; never retries a 500."""

    def __init__(
        self,
        target: Target,
        ledger: Ledger,
        *,
        transport: httpx.BaseTransport | None = None,
        settings: ClientSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self.ledger = ledger
        self.settings = settings or ClientSettings()
        self.sleep = sleep
        self.requests = 0
        self.waited = 0.0
        self.throttled = 0
        self._last_sent = 0.0
        REDACTOR.add(target.account_id, target.auth_token)
        for clause, code in (("RETRY-AFTER-429", 429), ("RETRY-AFTER-503", 503)):
            # shown only if the clause stays unchecked: the target never throttled this run
            ledger.skip(clause, f"the target never answered {code} in this run")
        timeout = self.settings.timeout
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, self.settings.connect_timeout)),
            follow_redirects=False,
            headers={"User-Agent": "comms-contract"},
        )

    def close(self) -> None:
        self._http.close()

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
        while True:
            attempts += 1
            response = self._send(method, pairs, credentials or None, request_headers)
            if response.status_code not in (429, 503):
                break
            delay = self._throttle_delay(response, method, pairs, attempts)
            if attempts >= self.settings.max_attempts:
                raise TargetError(
                    f"the target kept answering {response.status_code} after {attempts} attempts "
                    f"(waited {waited:.1f}s): {method} {redact(str(response.request.url))}"
                )
            self.sleep(delay)
            waited += delay
            self.waited += delay
        return Exchange.received(
            method, self.target.url, pairs, response, bool(credentials), attempts, waited
        )

    def _throttle_delay(
        self, response: httpx.Response, method: str, pairs: list, attempt: int = 1
    ) -> float:
        """How long to wait before repeating; a missing Retry-After is recorded as a finding.

        Without a usable Retry-After the client still backs off (1 s, 2 s, 4 s... capped), so
        a target that forgets the header is reported, not hammered.
        """
        self.throttled += 1
        status = response.status_code
        clause = "RETRY-AFTER-429" if status == 429 else "RETRY-AFTER-503"
        self.ledger.mark_checked(clause, "every throttled answer")
        raw = response.headers.get("retry-after")
        delay = parse_retry_after(raw)
        if delay is None:
            url = self.target.url + ("?" + urlencode(pairs) if pairs else "")
            what = "without Retry-After" if raw is None else f"with an invalid Retry-After {raw!r}"
            evidence = (redact(f"{method} {url}"),)
            self.ledger.record(Finding(clause, redact(f"{status} {what}"), evidence))
            delay = float(2 ** (attempt - 1))
        return min(delay, self.settings.max_wait)

    def _send(
        self, method: str, pairs: list, credentials: tuple[str, str] | None, headers: dict
    ) -> httpx.Response:
        if self.settings.max_requests is not None and self.requests >= self.settings.max_requests:
            raise BudgetExhausted(f"request budget of {self.settings.max_requests} spent")
        if self.settings.rate_limit:
            gap = 1.0 / self.settings.rate_limit - (time.monotonic() - self._last_sent)
            if gap > 0:
                self.sleep(gap)
        self._last_sent = time.monotonic()
        self.requests += 1
        try:
            return self._http.request(
                method, self.target.url, params=pairs, auth=credentials, headers=headers
            )
        except httpx.ConnectError as exc:
            raise TargetError(_connect_message(self.target, exc)) from None
        except httpx.TimeoutException:
            raise TargetError(
                f"{self.target.root} did not answer within {self.settings.timeout:g}s "
                "(check the host and network, or raise --timeout)"
            ) from None
        except httpx.HTTPError as exc:
            raise TargetError(
                f"HTTP error talking to {self.target.root}: {redact(str(exc))}"
            ) from None


def _connect_message(target: Target, exc: Exception) -> str:
    text = " ".join(str(exc).split())
    host = urlsplit(target.root).hostname
    if any(marker in text for marker in _DNS_MARKERS):
        return f"cannot resolve host {host!r} (DNS failure); check the host name in --base-url"
    upper = text.upper()
    if "WRONG_VERSION_NUMBER" in upper or "RECORD_LAYER_FAILURE" in upper:
        return (
            f"TLS failure talking to {target.root}: the server does not speak TLS on that port "
            "(a plain-http server?); check the scheme and port of --base-url"
        )
    if "CERTIFICATE" in upper or "SSL" in upper or "TLS" in upper:
        return (
            f"TLS failure talking to {target.root}: {redact(text)}; check the certificate "
            "(SSL_CERT_FILE for a private CA) and the scheme of --base-url"
        )
    return (
        f"cannot connect to {target.root}: {redact(text) or 'connection refused'}; "
        "is the server up and --base-url right?"
    )


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
