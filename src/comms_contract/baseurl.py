"""The base URL, parsed in full before any request, and never echoed while it may hold a secret.

A base URL comes from a CI variable or a command line; a mistake in it must stop the run with
one line that says what is wrong. The checks run in an order that protects secrets: length
and control characters first (nothing is shown), then user information (``user:secret@``)
and the query string or fragment (``?auth=...``), which are refused without showing the URL;
only a URL without them is quoted in later messages, and then only as scheme, host, port
and path. Hosts are DNS names or IP literals (IPv6 in brackets, RFC 3986 section 3.2.2);
ports are 1-65535 (RFC 3986 section 3.2.3; port 0 cannot be connected to).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from comms_contract import OPERATIONS_PATH
from comms_contract.http import ConfigError, is_loopback
from comms_contract.redact import redact

MAX_LENGTH = 2048  # the practical limit of browsers and proxies; a longer "root" is a mistake
# a DNS name (internationalised labels allowed: httpx encodes them with IDNA)
_HOST = re.compile(r"[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.?")


def check_base_url(url: str, *, source: str = "--base-url") -> SplitResult:
    """Parse ``url`` (the API root) or raise ``ConfigError`` naming ``source``.

    Returns the parsed URL. Errors never contain the query, fragment or user information.
    """
    if not url.strip():
        raise ConfigError(
            f"{source} is empty; give the API root (e.g. https://comms.twilio.com), or unset "
            "it to test the embedded reference server"
        )
    if len(url) > MAX_LENGTH:
        raise ConfigError(f"{source} is {len(url)} characters long (at most {MAX_LENGTH})")
    bad = next((i for i, ch in enumerate(url) if ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        raise ConfigError(
            f"{source} contains a space or control character (position {bad + 1}, "
            f"U+{ord(url[bad]):04X}); give the API root, e.g. https://comms.twilio.com"
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise ConfigError(f"{source} is not a valid URL ({exc})") from None
    if "@" in url:
        # user:token@host would put the secret into every report and replay command; "@"
        # anywhere counts, since a password holding "/" (user:pa/ss@host) ends urlsplit's
        # netloc early and would otherwise be shown as a bad port or path
        raise ConfigError(
            f"{source} must not carry credentials (user:secret@host); give them with "
            "--account-id and COMMS_AUTH_TOKEN instead"
        )
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise ConfigError(
            f"{source} must not have a query string or fragment (not shown: it may hold a "
            "secret); give the API root, e.g. https://comms.twilio.com"
        )
    shown = redact(f"{parts.scheme}://{parts.netloc}{parts.path}")  # a token in the path
    if not parts.scheme or _SCHEMELESS.fullmatch(url):  # host[:port], //host: no scheme
        raise ConfigError(
            f"{source} {redact(url)!r} has no scheme; write it in full, e.g. "
            f"http://{redact(url).lstrip('/')} or https://comms.twilio.com"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{source} {shown!r} is not an http(s) URL; give the API root, "
            "e.g. https://comms.twilio.com"
        )
    _check_host_and_port(parts, source, shown)
    if parts.path.rstrip("/").endswith(OPERATIONS_PATH) or "/v1" in parts.path.split("/")[-1:]:
        raise ConfigError(
            f"{source} {shown!r} should be the API root: the suite appends {OPERATIONS_PATH} itself"
        )
    return parts


_SCHEMELESS = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]+)?(?:/(?!/).*)?")


def _check_host_and_port(parts: SplitResult, source: str, shown: str) -> None:
    netloc = parts.netloc
    if netloc.startswith("["):
        literal, _, rest = netloc[1:].partition("]")
        try:
            ipaddress.IPv6Address(literal.split("%", 1)[0])
        except ValueError:
            raise ConfigError(f"{source}: [{literal}] is not an IPv6 address") from None
        port_text = rest.removeprefix(":") if rest.startswith(":") else None
        if rest and port_text is None:
            raise ConfigError(f"{source} {shown!r}: unexpected text after the IPv6 address")
    else:
        if netloc.count(":") > 1:
            raise ConfigError(
                f"{source}: an IPv6 address must be in brackets, e.g. http://[::1]:8080"
            )
        host, colon, port_text = netloc.partition(":")
        if not colon:
            port_text = None
        if not _HOST.fullmatch(host):
            raise ConfigError(f"{source} {shown!r}: {host!r} is not a valid host name")
    if port_text is not None:
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(
                f"{source} {shown!r}: port {port_text!r} is not a number from 1 to 65535"
            )


def check_plain_http(parts: SplitResult, *, allow_insecure_http: bool, flag: str) -> None:
    """Credentials over plain http:// only to a loopback host, unless the user allows it."""
    host = parts.hostname or ""
    if parts.scheme == "http" and not is_loopback(host) and not allow_insecure_http:
        raise ConfigError(
            f"refusing to send credentials over plain http:// to {host} (not loopback); use "
            f"https:// or pass {flag}"
        )
